package node

import (
	"context"
	"sync"
	"time"
)

// shutdown is the graceful stop sequence, each step bounded:
//  1. /readyz answers 503 and the listener closes (no new requests or
//     WebSocket upgrades); in-flight HTTP requests, i.e. running
//     statements, finish within server.shutdown_timeout_seconds.
//  2. At the same time every WebSocket gets error SHUTDOWN and a close
//     with 1001 (going away).
//  3. Tables with a flush policy and unflushed rows are flushed to the
//     cold tier, within server.shutdown_timeout_seconds.
//  4. The cold tier, SQL engine and executor stop; Pebble flushes its
//     memtables, closes (releasing its LOCK) and the data dir is marked
//     clean.
//
// Acknowledged writes are durable before step 1 (they were fsynced);
// the sequence only makes the next start faster and the cold tier
// current.
func (n *Node) shutdown() {
	n.srv.SetReady(false)
	n.stopPostgresWire()
	n.cancel()
	var wg sync.WaitGroup
	wg.Go(n.stopLive)
	<-n.stopped
	wg.Wait()
	timeout := time.Duration(n.cfg.Server.ShutdownTimeoutSeconds) * time.Second
	if n.cold != nil && timeout > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		count, err := n.cold.FlushPending(ctx)
		cancel()
		if err != nil {
			n.log.Warn("shutdown flush incomplete; unflushed rows stay in the hot tier", "tables", count, "err", err)
		} else if count > 0 {
			n.log.Info("shutdown flush done", "tables", count, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	n.clean = true
	n.closeStorage()
}

// closeStore closes Pebble: cleanly (flush, close, marker) after a
// graceful shutdown, plainly after a failed start.
func (n *Node) closeStore() {
	if !n.clean {
		n.store.Close()
		return
	}
	if err := n.store.CloseClean(); err != nil {
		n.log.Error("closing storage", "err", err)
	}
}
