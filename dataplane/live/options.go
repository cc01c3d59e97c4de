package live

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/defaults"
)

// Options configure a Manager.
type Options struct {
	// MaxConnections caps WebSocket connections (slots) on this node.
	MaxConnections int
	// MaxSubsPerConn and MaxSubsPerUser cap subscriptions.
	MaxSubsPerConn int
	MaxSubsPerUser int
	// MaxSubBytesPerUser bounds what one user's subscriptions hold in the
	// live-query index, in bytes (subscriptionCost: their SQL text and
	// id plus a fixed overhead per subscription); 0: no byte bound.
	MaxSubBytesPerUser int
	// QueueSize bounds each connection's outbox and each loading
	// subscription's buffer of changes.
	QueueSize int
	// MaxQueuedBytesPerConn bounds the bytes queued or in flight on one
	// connection (and buffered by one loading subscription); a change that
	// does not fit ends its subscription with OVERFLOW.
	MaxQueuedBytesPerConn int
	// MaxQueuedBytesTotal bounds them over all connections of the node;
	// when exhausted, the connections holding the most are shed
	// (OVERLOADED, close 1013). 0 disables the global bound.
	MaxQueuedBytesTotal int64
	// MaxBatchBytes bounds the rows of one initial-data page (a row larger
	// than it still goes alone).
	MaxBatchBytes int
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
		MaxConnections: 25000, MaxSubsPerConn: 100, MaxSubsPerUser: 1000, MaxSubBytesPerUser: 16 << 20, QueueSize: 4096,
		MaxQueuedBytesPerConn: 8 << 20, MaxQueuedBytesTotal: 256 << 20, MaxBatchBytes: 1 << 20,
		DefaultBatchSize: 1000, MaxBatchSize: 5000, InitialDataTimeout: time.Minute,
		WorkerQueue: 1 << 18, Logger: slog.Default(),
	}
}

func (o *Options) fill() {
	d := DefaultOptions()
	defaults.Positive(&o.MaxConnections, d.MaxConnections)
	defaults.Positive(&o.MaxSubsPerConn, d.MaxSubsPerConn)
	defaults.Positive(&o.MaxSubsPerUser, d.MaxSubsPerUser)
	if o.MaxSubBytesPerUser < 0 {
		o.MaxSubBytesPerUser = 0
	}
	defaults.Positive(&o.QueueSize, d.QueueSize)
	defaults.Positive(&o.MaxQueuedBytesPerConn, d.MaxQueuedBytesPerConn)
	defaults.Positive(&o.MaxBatchBytes, d.MaxBatchBytes)
	defaults.Positive(&o.DefaultBatchSize, d.DefaultBatchSize)
	defaults.Positive(&o.MaxBatchSize, d.MaxBatchSize)
	defaults.Positive(&o.InitialDataTimeout, d.InitialDataTimeout)
	defaults.Positive(&o.Workers, min(runtime.GOMAXPROCS(0), 8))
	defaults.Positive(&o.WorkerQueue, d.WorkerQueue)
	defaults.Ptr(&o.Logger, slog.Default())
}
