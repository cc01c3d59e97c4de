package node

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
)

// liveShutdownTimeout bounds how long Close waits for WebSocket clients
// to receive the going-away close.
const liveShutdownTimeout = 5 * time.Second

// startLive starts the live-query manager, feeds it from the executor and
// enables GET /v1/ws, system.live and KILL LIVE QUERY.
func (n *Node) startLive() error {
	w := n.cfg.WebSocket
	m, err := live.New(n.eng, n.store.DB, live.Options{
		MaxConnections:        w.MaxConnections,
		MaxSubsPerConn:        w.MaxSubscriptionsPerConnection,
		MaxSubsPerUser:        w.MaxSubscriptionsPerUser,
		MaxSubBytesPerUser:    w.MaxSubscriptionBytesPerUser,
		QueueSize:             w.QueueSize,
		MaxQueuedBytesPerConn: w.MaxQueuedBytesPerConnection,
		MaxQueuedBytesTotal:   int64(w.MaxQueuedBytesTotal),
		MaxBatchBytes:         w.MaxBatchBytes,
		DefaultBatchSize:      w.DefaultBatchSize,
		MaxBatchSize:          w.MaxBatchSize,
		InitialDataTimeout:    time.Duration(w.InitialDataTimeoutSeconds) * time.Second,
		TimeFilterRecheck:     time.Duration(w.TimeFilterRecheckMS) * time.Millisecond,
		NodeID:                int64(n.store.NodeID),
		Logger:                n.log,
	})
	if err != nil {
		return err
	}
	n.live = m
	n.exec.AddObserver(m.Observe)
	n.eng.SetLive(m)
	n.srv.SetLive(m, server.WSOptions{
		AuthTimeout:          time.Duration(w.AuthTimeoutSeconds) * time.Second,
		IdleTimeout:          time.Duration(w.IdleTimeoutSeconds) * time.Second,
		WriteTimeout:         time.Duration(w.WriteTimeoutSeconds) * time.Second,
		MaxMessageBytes:      w.MaxMessageBytes,
		MaxMessagesPerSecond: w.MaxMessagesPerSecond,
		QueueSize:            w.QueueSize,
		MaxSubsPerConn:       w.MaxSubscriptionsPerConnection,
		SocketSendBuffer:     w.SocketSendBufferBytes,
		AllowedOrigins:       w.AllowedOrigins,
		PublicOrigin:         n.cfg.Server.PublicOrigin,
	})
	gauge := func(name, help string, f func(live.Stats) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kalamdb", Name: name, Help: help},
			func() float64 { return float64(f(m.Stats())) })
	}
	n.srv.Registry().MustRegister(
		gauge("live_websocket_connections", "Open WebSocket connections (authenticated or not).", func(s live.Stats) int { return s.Attached }),
		gauge("live_subscriptions", "Active live-query subscriptions.", func(s live.Stats) int { return s.Subscriptions }),
		gauge("live_queue_budget_bytes", "Global budget for bytes queued to WebSocket connections (websocket.max_queued_bytes_total; 0 = none).",
			func(s live.Stats) int { return int(s.QueueBudget) }),
		gauge("live_queue_budget_used_bytes", "Bytes counted against the global WebSocket queue budget: distinct queued events (a change shared by many queues counts once) plus each writer's copy of what it is writing.",
			func(s live.Stats) int { return int(s.QueuedBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kalamdb", Name: "live_connections_shed_total",
			Help: "WebSocket connections shed (OVERLOADED, close 1013) because the global queue budget was exhausted."},
			func() float64 { return float64(m.Stats().Shed) }),
		&queuedBytesCollector{m: m},
	)
	return nil
}

// queuedBytesCollector reports the bytes held for WebSocket connections
// (queued plus being written) and the number of connections, by class:
// "draining" connections hold less than half of their per-connection
// budget, "backlogged" ones at least half (their clients read too slowly
// and are the ones that overflow or get shed).
type queuedBytesCollector struct{ m *live.Manager }

var (
	queuedBytesDesc = prometheus.NewDesc("kalamdb_live_queued_bytes", "Bytes queued or being written to WebSocket connections, by connection class (draining, backlogged).", []string{"class"}, nil)
	queuedConnsDesc = prometheus.NewDesc("kalamdb_live_queued_connections", "WebSocket connections holding queued bytes, by connection class (draining, backlogged).", []string{"class"}, nil)
)

// Describe implements prometheus.Collector.
func (c *queuedBytesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queuedBytesDesc
	ch <- queuedConnsDesc
}

// Collect implements prometheus.Collector.
func (c *queuedBytesCollector) Collect(ch chan<- prometheus.Metric) {
	q := c.m.QueuedByClass()
	for _, cl := range []struct {
		name  string
		bytes int64
		conns int
	}{{"draining", q.DrainingBytes, q.Draining}, {"backlogged", q.BackloggedBytes, q.Backlogged}} {
		ch <- prometheus.MustNewConstMetric(queuedBytesDesc, prometheus.GaugeValue, float64(cl.bytes), cl.name)
		ch <- prometheus.MustNewConstMetric(queuedConnsDesc, prometheus.GaugeValue, float64(cl.conns), cl.name)
	}
}

// stopLive closes every WebSocket (going away) and stops dispatch. It is
// idempotent and runs before the HTTP server and storage shut down.
func (n *Node) stopLive() {
	if n.live == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveShutdownTimeout)
	defer cancel()
	n.live.Shutdown(ctx)
}

// Live exposes the live-query manager (tests).
func (n *Node) Live() *live.Manager { return n.live }
