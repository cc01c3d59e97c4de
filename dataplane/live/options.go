package live

import (
	"log/slog"
	"runtime"
	"time"
)

// Options configure a Manager.
type Options struct {
	// MaxConnections caps WebSocket connections (slots) on this node.
	MaxConnections int
	// MaxSubsPerConn and MaxSubsPerUser cap subscriptions.
	MaxSubsPerConn int
	MaxSubsPerUser int
	// QueueSize bounds each connection's outbox and each loading
	// subscription's buffer of changes.
	QueueSize int
	// DefaultBatchSize and MaxBatchSize bound initial-data pages.
	DefaultBatchSize int
	MaxBatchSize     int
	// InitialDataTimeout ends subscriptions whose initial data is not fully
	// fetched in time (they pin a storage snapshot).
	InitialDataTimeout time.Duration
	// Workers is the number of dispatch goroutines (0: GOMAXPROCS).
	Workers int
	// WorkerQueue bounds the row changes waiting in one worker's queue.
	WorkerQueue int
	// TimeFilterRecheck is how often subscriptions whose condition reads
	// the clock are re-evaluated (0: one second; clock.go).
	TimeFilterRecheck time.Duration
	// NodeID is reported in system.live.
	NodeID int64
	Logger *slog.Logger
}

// DefaultOptions mirrors the [websocket] config defaults.
func DefaultOptions() Options {
	return Options{
		MaxConnections: 25000, MaxSubsPerConn: 100, MaxSubsPerUser: 1000, QueueSize: 4096,
		DefaultBatchSize: 1000, MaxBatchSize: 5000, InitialDataTimeout: time.Minute,
		WorkerQueue: 1 << 18, Logger: slog.Default(),
	}
}

func (o *Options) fill() {
	d := DefaultOptions()
	if o.MaxConnections <= 0 {
		o.MaxConnections = d.MaxConnections
	}
	if o.MaxSubsPerConn <= 0 {
		o.MaxSubsPerConn = d.MaxSubsPerConn
	}
	if o.MaxSubsPerUser <= 0 {
		o.MaxSubsPerUser = d.MaxSubsPerUser
	}
	if o.QueueSize <= 0 {
		o.QueueSize = d.QueueSize
	}
	if o.DefaultBatchSize <= 0 {
		o.DefaultBatchSize = d.DefaultBatchSize
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = d.MaxBatchSize
	}
	if o.InitialDataTimeout <= 0 {
		o.InitialDataTimeout = d.InitialDataTimeout
	}
	if o.Workers <= 0 {
		o.Workers = min(runtime.GOMAXPROCS(0), 8)
	}
	if o.WorkerQueue <= 0 {
		o.WorkerQueue = d.WorkerQueue
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}
