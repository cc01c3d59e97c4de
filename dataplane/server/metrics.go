package server

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// httpMetrics instruments every request: a counter by route and status and
// a latency histogram by route. Routes are the mux patterns, never raw
// paths, so label cardinality stays bounded.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
	// wsSent counts WebSocket messages written to clients (ws.go).
	wsSent prometheus.Counter
	// slow counts statement batches logged as slow.
	slow prometheus.Counter
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "kalamdb", Name: "http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "kalamdb", Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "kalamdb", Name: "http_requests_in_flight", Help: "HTTP requests being served.",
		}),
	}
	m.wsSent = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "kalamdb", Name: "live_messages_sent_total", Help: "WebSocket messages (frames) written to live-query clients.",
	})
	m.slow = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "kalamdb", Name: "slow_queries_total", Help: "SQL requests slower than logging.slow_query_threshold_ms.",
	})
	reg.MustRegister(m.requests, m.latency, m.inflight, m.wsSent, m.slow)
	return m
}

// Registry returns the server's metrics registry, for other components
// (engine, storage, live queries) to register their collectors.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// instrument wraps the mux with metrics and one structured log line per
// request (debug level for probes and metrics scrapes).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inflight.Inc()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		ri := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))
		next.ServeHTTP(rw, r)
		s.metrics.inflight.Dec()
		_, route := s.mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(rw.status)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(took.Seconds())
		level := slog.LevelInfo
		switch route {
		case "GET /healthz", "GET /readyz", "GET /metrics", "GET /health", "GET /v1/api/healthcheck":
			level = slog.LevelDebug
		}
		// Checked first: building the attributes allocates, and most
		// servers log requests at warn.
		if s.log.Enabled(r.Context(), level) {
			s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", rw.status,
				"took_ms", float64(took.Microseconds())/1000, "user", ri.user, "remote", r.RemoteAddr, "bytes", rw.bytes)
		}
	})
}

// statusWriter records the status code and size of a response. It keeps
// the optional interfaces WebSocket upgrades and streaming need.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack supports WebSocket upgrades.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: response writer cannot hijack")
	}
	w.status, w.wrote = http.StatusSwitchingProtocols, true
	return h.Hijack()
}

// Flush supports streaming responses.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
}

// reqInfo carries what handlers learn about a request back to the
// request log line (the authenticated user).
type reqInfo struct{ user string }

type reqInfoKey struct{}

// setRequestUser records the authenticated user for the request log.
func setRequestUser(r *http.Request, user string) {
	if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		ri.user = user
	}
}

// logSlow writes the slow-query log line: a statement batch that took at
// least logging.slow_query_threshold_ms, successful or not. The SQL text
// is truncated; parameters are never logged (they may hold secrets).
func (s *Server) logSlow(user, sql string, took time.Duration, err error) {
	if s.opts.SlowQueryLog <= 0 || took < s.opts.SlowQueryLog {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = kalamsql.AsError(err).Code
	}
	s.metrics.slow.Inc()
	s.log.Warn("slow query", "user", user, "took_ms", float64(took.Microseconds())/1000,
		"threshold_ms", s.opts.SlowQueryLog.Milliseconds(), "outcome", outcome, "sql", truncate(sql, 500))
}
