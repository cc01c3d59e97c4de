package live

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stallAfter: a connection holding bytes that had nothing written for
// this long is stalled (shed first).
const stallAfter = 500 * time.Millisecond

// queueBudget is the node-wide bound on bytes held for WebSocket
// connections (queued plus in flight, Outbox.Held), so that a few clients
// that stop reading cannot exhaust the pod's memory: per-connection
// budgets alone grow with the number of connections.
//
// Invariants:
//   - used is the sum of every attached outbox's held bytes; an outbox
//     charges before it queues (reserve) and refunds what it drops,
//     writes or sheds (release), always under its own lock.
//   - Producers never wait on the budget. A push that does not fit sheds
//     connections (shed) until used is back under three quarters of the
//     limit, then tries once more; what still does not fit ends its
//     subscription with OVERFLOW. Stalled connections go first (holding
//     bytes, no frame written for stallAfter), the ones holding the most
//     first; then the others, the one whose last frame was written
//     longest ago first: a fast client momentarily holding a large frame
//     is not shed for the slow ones.
type queueBudget struct {
	m     *Manager
	limit int64
	used  atomic.Int64
	// shedding serialises shed rounds; a push that finds one running
	// just retries (the round frees room for it too).
	shedding sync.Mutex
	shedConn atomic.Int64 // connections shed since start
}

// reserve charges n bytes if they fit under the limit.
func (b *queueBudget) reserve(n int) bool {
	if b == nil || b.limit <= 0 {
		return true
	}
	if b.used.Add(int64(n)) > b.limit {
		b.used.Add(-int64(n))
		return false
	}
	return true
}

// release refunds n bytes.
func (b *queueBudget) release(n int) {
	if b != nil && b.limit > 0 {
		b.used.Add(-int64(n))
	}
}

// shed aborts the connections holding the most until the budget is back
// under 3/4 of its limit. It reports whether the caller should retry its
// push (false when there is no global budget).
func (b *queueBudget) shed(caller *Outbox) bool {
	if b == nil || b.limit <= 0 {
		return false
	}
	if !b.shedding.TryLock() {
		return true
	}
	defer b.shedding.Unlock()
	target := b.limit * 3 / 4
	if b.used.Load() <= target {
		return true
	}
	type held struct {
		o       *Outbox
		n       int64
		drained int64
		stalled bool
	}
	var all []held
	stale := time.Now().Add(-stallAfter).UnixNano()
	b.m.mu.Lock()
	for o := range b.m.outboxes {
		if n := o.Held(); n > 0 {
			d := o.drained.Load()
			all = append(all, held{o, n, d, d < stale})
		}
	}
	b.m.mu.Unlock()
	slices.SortFunc(all, func(x, y held) int {
		switch {
		case x.stalled && y.stalled:
			return cmp.Compare(y.n, x.n)
		case x.stalled != y.stalled:
			if x.stalled {
				return -1
			}
			return 1
		}
		return cmp.Compare(x.drained, y.drained)
	})
	for _, h := range all {
		if b.used.Load() <= target {
			break
		}
		reason := fmt.Sprintf("the server's queue budget for WebSocket connections (%d bytes) is exhausted and this connection was among those holding the most (%d bytes) without reading; reconnect and resubscribe with from = the last _seq received", b.limit, h.n)
		if h.o.Abort(reason) {
			b.shedConn.Add(1)
			b.m.opts.Logger.Warn("live: shed a WebSocket connection (global queue budget exhausted)",
				"held_bytes", h.n, "stalled", h.stalled, "budget_bytes", b.limit, "self", h.o == caller)
		}
	}
	return true
}

// QueueClasses splits what connections hold by class (metrics):
// draining connections hold less than half of their per-connection
// budget, backlogged ones at least half.
type QueueClasses struct {
	Draining, Backlogged           int
	DrainingBytes, BackloggedBytes int64
}

// QueuedByClass scans the attached connections (one scrape's work).
func (m *Manager) QueuedByClass() QueueClasses {
	var q QueueClasses
	half := int64(m.opts.MaxQueuedBytesPerConn / 2)
	m.mu.Lock()
	defer m.mu.Unlock()
	for o := range m.outboxes {
		switch n := o.Held(); {
		case n == 0:
		case n < half:
			q.Draining++
			q.DrainingBytes += n
		default:
			q.Backlogged++
			q.BackloggedBytes += n
		}
	}
	return q
}
