package replication

// Coalesced ReadIndex (issue 20). Every linearizable read runs a ReadIndex
// on the shards it reads: a heartbeat round through a quorum. Concurrent
// readers of one shard on one node share ReadIndex calls, under one rule
// that keeps each of them linearizable:
//
//	a request may share a ReadIndex only if that ReadIndex started after
//	the request arrived.
//
// A ReadIndex started at t0 returns an index at least as high as every
// write acknowledged before t0, so it is a valid barrier for any request
// that arrived before t0, and not for one that arrived after (a write
// acknowledged between t0 and the request's arrival may be missing). So a
// shard has at most one ReadIndex in flight and one batch waiting: a
// request that arrives while one is in flight joins the waiting batch,
// which starts when the in-flight one ends. Under load this bounds the
// ReadIndex rate per shard by the round-trip time instead of the request
// rate; a lone reader pays exactly one ReadIndex, as before. dragonboat
// itself folds the requests that reach a step-worker round into one
// heartbeat round (node.go handleReadIndex) but pipelines rounds, so what
// this adds is the cap on heartbeat rounds in flight; the throughput of 8
// concurrent readers on loopback measured the same either way
// (docs/benchmarks.md).
//
// A shared ReadIndex runs on a goroutine of its own with the Host's
// lifetime (it ends within ProposalTimeout, or when the NodeHost closes),
// so one caller going away does not fail the others; each caller waits
// for the batch it joined or for its own context.

import (
	"context"
	"sync"
)

// readBatch is one ReadIndex shared by the requests that joined it before
// it started. done closes when it ended; err is then its outcome.
type readBatch struct {
	done chan struct{}
	err  error
}

// shardReads is one shard's coalescing state.
type shardReads struct {
	inflight bool       // a batch's ReadIndex is running
	next     *readBatch // requests waiting for the next ReadIndex, or nil
}

// readCoalescer shares ReadIndex calls between concurrent readers of a
// shard. run performs one ReadIndex; wg tracks the goroutines running it.
type readCoalescer struct {
	run    func(ctx context.Context, shard uint64) error
	ctx    context.Context // the Host's lifetime: not a caller's
	wg     sync.WaitGroup
	mu     sync.Mutex
	shards map[uint64]*shardReads
	// started counts ReadIndex calls (tests and metrics).
	started uint64
}

func newReadCoalescer(ctx context.Context, run func(ctx context.Context, shard uint64) error) *readCoalescer {
	return &readCoalescer{run: run, ctx: ctx, shards: map[uint64]*shardReads{}}
}

// read returns once a ReadIndex on shard that started after this call
// arrived has completed (nil) or failed (its error), or ctx ended.
func (c *readCoalescer) read(ctx context.Context, shard uint64) error {
	return c.readAll(ctx, []uint64{shard})
}

// readAll is read on several shards at once, in parallel: it joins (or
// starts) every shard's batch under one lock and then waits for them, so
// a barrier on k shards costs k ReadIndex goroutines, no more. It returns
// the first failure.
func (c *readCoalescer) readAll(ctx context.Context, shards []uint64) error {
	batches := make([]*readBatch, len(shards))
	c.mu.Lock()
	for i, shard := range shards {
		s := c.shards[shard]
		if s == nil {
			s = &shardReads{}
			c.shards[shard] = s
		}
		if s.next == nil {
			s.next = &readBatch{done: make(chan struct{})}
		}
		batches[i] = s.next
		if !s.inflight {
			c.startLocked(shard, s)
		}
	}
	c.mu.Unlock()
	var first error
	for _, b := range batches {
		select {
		case <-b.done:
			if b.err != nil && first == nil {
				first = b.err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

// startLocked starts the waiting batch of s. c.mu is held: no request can
// join the batch once it left s.next, so every member arrived before its
// ReadIndex starts.
func (c *readCoalescer) startLocked(shard uint64, s *shardReads) {
	b := s.next
	s.next, s.inflight = nil, true
	c.started++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		b.err = c.run(c.ctx, shard)
		close(b.done)
		c.mu.Lock()
		defer c.mu.Unlock()
		s.inflight = false
		if s.next != nil {
			c.startLocked(shard, s)
		}
	}()
}

// wait blocks until no ReadIndex goroutine is left (Host.Close, after the
// NodeHost closed: each then ends at once).
func (c *readCoalescer) wait() { c.wg.Wait() }

// startedCount returns how many ReadIndex calls were started.
func (c *readCoalescer) startedCount() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}
