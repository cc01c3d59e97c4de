package pgwire

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the listener's Prometheus metrics, named like the HTTP
// API's (kalamdb_pgwire_*). A nil *Metrics records nothing.
type Metrics struct {
	conns      *prometheus.CounterVec
	open       prometheus.Gauge
	statements *prometheus.HistogramVec
	errors     *prometheus.CounterVec
}

// NewMetrics registers the listener's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		conns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalamdb_pgwire_connections_total",
			Help: "PostgreSQL wire-protocol connections by outcome (accepted, rejected)."}, []string{"outcome"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kalamdb_pgwire_connections_open",
			Help: "Open authenticated PostgreSQL wire-protocol connections."}),
		statements: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kalamdb_pgwire_statement_duration_seconds",
			Help: "Statements run over the PostgreSQL wire protocol, by command.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"command"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kalamdb_pgwire_statement_errors_total",
			Help: "Failed statements over the PostgreSQL wire protocol, by command."}, []string{"command"}),
	}
	reg.MustRegister(m.conns, m.open, m.statements, m.errors)
	return m
}

func (m *Metrics) observeConn(outcome string) {
	if m != nil {
		m.conns.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) connOpen(d float64) {
	if m != nil {
		m.open.Add(d)
	}
}

// commandLabels bounds the command label.
var commandLabels = map[string]bool{"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true,
	"DROP": true, "ALTER": true, "SHOW": true, "WITH": true, "DESCRIBE": true, "SUBSCRIBE": true}

func (m *Metrics) observeStatement(command string, took time.Duration, err error) {
	if m == nil {
		return
	}
	if !commandLabels[command] {
		command = "other"
	}
	m.statements.WithLabelValues(command).Observe(took.Seconds())
	if err != nil {
		m.errors.WithLabelValues(command).Inc()
	}
}
