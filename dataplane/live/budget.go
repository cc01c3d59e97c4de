package live

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stallAfter: a connection holding bytes whose socket has not accepted
// the frame being written for this long is stalled (shed first).
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
//     subscription with OVERFLOW.
//   - Who is shed is decided by the sockets, never by how long a
//     connection waited for the server's own writers: under CPU load a
//     reading client can wait its turn behind hundreds of others, and
//     then looks exactly like a stalled one by "nothing written lately".
//     First the stalled connections (the socket has not accepted the
//     frame being written for stallAfter), the ones holding the most
//     first; then the ones whose socket write is blocked now, longest
//     blocked first; then those whose kernel send queue holds bytes the
//     client has not acknowledged (Outbox.SetSendQueue; a reading
//     client's queue empties within a round trip), the fullest first;
//     only then connections whose sockets keep up, the one whose last
//     frame was written longest ago first. So a reading client is not
//     shed while a non-reading one holds bytes.
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
		// blocked is how long the socket write in progress has waited
		// (0: no write in progress).
		blocked time.Duration
		// unsent is what the kernel send queue holds unacknowledged.
		unsent  int
		stalled bool
	}
	var all []held
	now := time.Now()
	b.m.mu.Lock()
	for o := range b.m.outboxes {
		if n := o.Held(); n > 0 {
			var blocked time.Duration
			if ws := o.writeSince.Load(); ws != 0 {
				blocked = max(now.Sub(time.Unix(0, ws)), 1)
			}
			all = append(all, held{o: o, n: n, drained: o.drained.Load(), blocked: blocked, stalled: blocked >= stallAfter})
		}
	}
	b.m.mu.Unlock()
	// The kernel is asked outside the manager's lock (a syscall each;
	// shed rounds are rare).
	for i := range all {
		if !all[i].stalled && all[i].blocked == 0 {
			all[i].unsent = all[i].o.unsentBytes()
		}
	}
	rank := func(h held) int {
		switch {
		case h.stalled:
			return 0
		case h.blocked > 0:
			return 1
		case h.unsent > 0:
			return 2
		}
		return 3
	}
	slices.SortFunc(all, func(x, y held) int {
		if c := cmp.Compare(rank(x), rank(y)); c != 0 {
			return c
		}
		switch rank(x) {
		case 0:
			return cmp.Compare(y.n, x.n)
		case 1:
			return cmp.Compare(y.blocked, x.blocked)
		case 2:
			return cmp.Compare(y.unsent, x.unsent)
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
				"held_bytes", h.n, "stalled", h.stalled, "write_blocked", h.blocked, "unsent_bytes", h.unsent, "budget_bytes", b.limit, "self", h.o == caller)
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

// shared is the reference count of one encoded change (the row objects
// of one event for one projection and kind) held by many queues: an event
// fanned out to N subscribers is encoded once (worker.encode) and every
// outbox that queues it holds the same bytes. The node-wide budget counts
// those bytes once, while any queue holds them: the first reference
// reserves them, the last one refunds them. Each connection's own budget
// still charges them in full (it bounds what one client can pin).
type shared struct {
	n    int // bytes: len(row) + len(old)
	refs atomic.Int32
}

// acquire takes a reference, reserving the bytes on the first one; false
// when they do not fit under the limit.
func (s *shared) acquire(b *queueBudget) bool {
	for {
		r := s.refs.Load()
		if r > 0 {
			if s.refs.CompareAndSwap(r, r+1) {
				return true
			}
			continue
		}
		if !b.reserve(s.n) {
			return false
		}
		if s.refs.CompareAndSwap(0, 1) {
			return true
		}
		b.release(s.n) // another holder took the first reference meanwhile
	}
}

// drop releases a reference; the last one refunds the bytes.
func (s *shared) drop(b *queueBudget) {
	if s.refs.Add(-1) == 0 {
		b.release(s.n)
	}
}

// counting reports whether b charges anything (an outbox not attached to
// a Manager, or a node without a global bound, charges nothing).
func (b *queueBudget) counting() bool { return b != nil && b.limit > 0 }

// charge takes what it holds against b: an unshared item its own bytes,
// a shared one a reference.
func (b *queueBudget) charge(it *outItem) bool {
	if !b.counting() {
		return true
	}
	if it.sh != nil {
		return it.sh.acquire(b)
	}
	return b.reserve(it.size())
}

// refund gives back what charge took.
func (b *queueBudget) refund(it *outItem) {
	if !b.counting() || it.control {
		return
	}
	if it.sh != nil {
		it.sh.drop(b)
		return
	}
	b.release(it.size())
}

// force charges n bytes even over the limit: the per-connection copies a
// writer has taken (Outbox.TakeUpTo) exist whether or not they fit, and
// the next push then finds the budget exhausted and sheds.
func (b *queueBudget) force(n int) {
	if b.counting() {
		b.used.Add(int64(n))
	}
}
