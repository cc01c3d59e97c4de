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
		MaxConnections:     w.MaxConnections,
		MaxSubsPerConn:     w.MaxSubscriptionsPerConnection,
		MaxSubsPerUser:     w.MaxSubscriptionsPerUser,
		QueueSize:          w.QueueSize,
		DefaultBatchSize:   w.DefaultBatchSize,
		MaxBatchSize:       w.MaxBatchSize,
		InitialDataTimeout: time.Duration(w.InitialDataTimeoutSeconds) * time.Second,
		TimeFilterRecheck:  time.Duration(w.TimeFilterRecheckMS) * time.Millisecond,
		NodeID:             int64(n.store.NodeID),
		Logger:             n.log,
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
	)
	return nil
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
