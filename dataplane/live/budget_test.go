package live

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// budgetManager is the part of a Manager the budgets use: the registry
// of attached outboxes and the options.
func budgetManager(perConn int, total int64) *Manager {
	m := &Manager{outboxes: map[*Outbox]struct{}{}, opts: Options{MaxConnections: 100, MaxQueuedBytesPerConn: perConn, Logger: slog.New(slog.DiscardHandler)}}
	m.budget = queueBudget{m: m, limit: total}
	return m
}

func rowOf(n int) []byte { return []byte(`{"v":"` + strings.Repeat("x", n-8) + `"}`) }

func TestOutboxByteBudgetCountsFramesInFlight(t *testing.T) {
	m := budgetManager(1000, 0)
	o := NewOutbox(1000, 100)
	if !m.Attach(o) {
		t.Fatal("attach")
	}
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	for i := range 3 {
		if !o.push(outItem{sub: a, kind: changeInsert, row: rowOf(300)}, true) {
			t.Fatalf("row %d did not fit", i)
		}
	}
	if o.push(outItem{sub: a, kind: changeInsert, row: rowOf(300)}, true) {
		t.Fatal("1200 bytes fit a 1000-byte budget")
	}
	// Taken but not written: still charged.
	if frames, _, _, _, _ := o.Take(nil, nil); len(frames) != 1 {
		t.Fatalf("%d frames", len(frames))
	}
	if o.Held() != 900 || o.push(outItem{sub: a, kind: changeInsert, row: rowOf(300)}, true) {
		t.Fatalf("held %d after Take; a row fit while the writer still holds the frames", o.Held())
	}
	o.Sent()
	if o.Held() != 0 || !o.push(outItem{sub: a, kind: changeInsert, row: rowOf(300)}, true) {
		t.Fatalf("held %d after Sent", o.Held())
	}
	m.Detach(o)
	if o.Held() != 0 {
		t.Fatalf("held %d after Detach", o.Held())
	}
}

func TestGlobalBudgetShedsTheLargestHolder(t *testing.T) {
	m := budgetManager(4000, 5000)
	var outs []*Outbox
	aborted := map[*Outbox]bool{}
	for range 3 {
		o := NewOutbox(1000, 100)
		o.SetAbort(func() { aborted[o] = true })
		if !m.Attach(o) {
			t.Fatal("attach")
		}
		outs = append(outs, o)
	}
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	push := func(o *Outbox, n int) bool { return o.push(outItem{sub: a, kind: changeInsert, row: rowOf(n)}, true) }
	// outs[0] holds 3000, outs[1] 1500: 4500 of 5000.
	for range 3 {
		if !push(outs[0], 1000) {
			t.Fatal("outs[0]")
		}
	}
	if !push(outs[1], 1500) {
		t.Fatal("outs[1]")
	}
	// 1000 more do not fit globally: the largest holder (outs[0]) is shed,
	// then the push goes through. Nobody waited.
	if !push(outs[2], 1000) {
		t.Fatal("the push after shedding failed")
	}
	if !aborted[outs[0]] || aborted[outs[1]] || aborted[outs[2]] {
		t.Fatalf("aborted %v", aborted)
	}
	if got, want := m.budget.used.Load(), int64(2500); got != want {
		t.Fatalf("used %d, want %d", got, want)
	}
	if m.Stats().Shed != 1 {
		t.Fatalf("shed %d", m.Stats().Shed)
	}
	// The shed connection is told why, then closed with 1013.
	frames, _, closing, code, _ := outs[0].Take(nil, nil)
	if len(frames) != 1 || !strings.Contains(string(frames[0]), `"code":"OVERLOADED"`) || !closing || code != CloseTryAgainLater {
		t.Fatalf("shed outbox: %q closing %v code %d", frames, closing, code)
	}
	if push(outs[0], 10) {
		t.Fatal("a shed outbox took a push")
	}
	for _, o := range outs {
		m.Detach(o)
	}
	if got := m.budget.used.Load(); got != 0 {
		t.Fatalf("used %d after every connection detached", got)
	}
}

func TestGlobalBudgetShedsStalledBeforeDraining(t *testing.T) {
	m := budgetManager(4000, 5000)
	drain := NewOutbox(1000, 100)
	stall := NewOutbox(1000, 100)
	other := NewOutbox(1000, 100)
	for _, o := range []*Outbox{drain, stall, other} {
		o.SetAbort(func() {})
		if !m.Attach(o) {
			t.Fatal("attach")
		}
	}
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	push := func(o *Outbox, n int) bool { return o.push(outItem{sub: a, kind: changeInsert, row: rowOf(n)}, true) }
	// The draining connection holds the most, but was written to just now;
	// the stalled one's socket has not accepted a frame for longer than
	// stallAfter.
	if !push(drain, 3000) || !push(stall, 1500) {
		t.Fatal("push")
	}
	stall.drained.Store(time.Now().Add(-2 * stallAfter).UnixNano())
	stall.writeSince.Store(time.Now().Add(-2 * stallAfter).UnixNano())
	drain.Progress()
	if !push(other, 1000) {
		t.Fatal("the push after shedding failed")
	}
	if !stall.Closing() || drain.Closing() || other.Closing() {
		t.Fatalf("shed: stalled %v, draining %v, other %v", stall.Closing(), drain.Closing(), other.Closing())
	}
	// Shedding the stalled one (1500) brought the 5500 wanted under
	// 3/4 of the limit before the push: nobody else was shed.
	if got := m.Stats().Shed; got != 1 {
		t.Fatalf("shed %d connections, want 1", got)
	}
}

// TestGlobalBudgetSparesWaitingReader: the budget fills up before anyone
// is stalled (a burst). A reading client that merely waits for the
// server's writers (nothing written to it lately, its socket never
// refused a frame) is not shed while connections whose socket writes are
// blocked hold bytes, even though those were written to more recently.
func TestGlobalBudgetSparesWaitingReader(t *testing.T) {
	m := budgetManager(4000, 5000)
	reader := NewOutbox(1000, 100)
	b1 := NewOutbox(1000, 100)
	b2 := NewOutbox(1000, 100)
	other := NewOutbox(1000, 100)
	for _, o := range []*Outbox{reader, b1, b2, other} {
		o.SetAbort(func() {})
		if !m.Attach(o) {
			t.Fatal("attach")
		}
	}
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	push := func(o *Outbox, n int) bool { return o.push(outItem{sub: a, kind: changeInsert, row: rowOf(n)}, true) }
	if !push(reader, 1500) || !push(b1, 1500) || !push(b2, 1500) {
		t.Fatal("push")
	}
	now := time.Now()
	reader.drained.Store(now.Add(-stallAfter / 2).UnixNano())
	for i, o := range []*Outbox{b1, b2} {
		o.drained.Store(now.Add(-stallAfter / 10).UnixNano())
		o.writeSince.Store(now.Add(-stallAfter/10 + time.Duration(i)*time.Millisecond).UnixNano())
	}
	if !push(other, 1500) {
		t.Fatal("the push after shedding failed")
	}
	// Shedding b1 (blocked longest) brought the 6000 wanted under 3/4
	// of the limit.
	if reader.Closing() || other.Closing() || !b1.Closing() || b2.Closing() {
		t.Fatalf("shed: reader %v, blocked %v %v, other %v", reader.Closing(), b1.Closing(), b2.Closing(), other.Closing())
	}
}

// TestGlobalBudgetShedsUnreadSendQueueFirst: with no socket write blocked
// yet, the connection whose kernel send queue holds unread bytes goes
// before a reader whose queue is empty, however long ago the reader was
// last written to.
func TestGlobalBudgetShedsUnreadSendQueueFirst(t *testing.T) {
	m := budgetManager(4000, 5000)
	reader := NewOutbox(1000, 100)
	slow := NewOutbox(1000, 100)
	other := NewOutbox(1000, 100)
	for _, o := range []*Outbox{reader, slow, other} {
		o.SetAbort(func() {})
		if !m.Attach(o) {
			t.Fatal("attach")
		}
	}
	reader.SetSendQueue(func() int { return 0 })
	slow.SetSendQueue(func() int { return 128 << 10 })
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	push := func(o *Outbox, n int) bool { return o.push(outItem{sub: a, kind: changeInsert, row: rowOf(n)}, true) }
	if !push(reader, 2000) || !push(slow, 2000) {
		t.Fatal("push")
	}
	reader.drained.Store(time.Now().Add(-stallAfter / 2).UnixNano())
	slow.Progress()
	if !push(other, 2000) {
		t.Fatal("the push after shedding failed")
	}
	if reader.Closing() || !slow.Closing() || other.Closing() {
		t.Fatalf("shed: reader %v, slow %v, other %v", reader.Closing(), slow.Closing(), other.Closing())
	}
}

// TestGlobalBudgetCountsSharedChangesOnce: a change fanned out to many
// connections is one set of bytes held by reference; the node's budget
// counts it once while any queue holds it, each connection's budget in
// full, and a writer's own copy (taken, not yet written) per connection.
func TestGlobalBudgetCountsSharedChangesOnce(t *testing.T) {
	const conns, size = 50, 1000
	m := budgetManager(4*size, 10*size) // 50 full charges would be 5x the limit
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	row := rowOf(size)
	sh := &shared{n: len(row)}
	var outs []*Outbox
	for i := range conns {
		o := NewOutbox(100, 100)
		if !m.Attach(o) {
			t.Fatal("attach")
		}
		if !o.push(outItem{sub: a, kind: changeInsert, row: row, sh: sh}, true) {
			t.Fatalf("connection %d: a shared change did not fit", i)
		}
		outs = append(outs, o)
	}
	if used := m.budget.used.Load(); used != size {
		t.Fatalf("node budget charged %d bytes for one %d-byte change held by %d queues", used, size, conns)
	}
	for i, o := range outs {
		if o.Held() != size {
			t.Fatalf("connection %d holds %d, want %d", i, o.Held(), size)
		}
	}
	// Connection budgets still bound each client: 4 of them per connection.
	for range 3 {
		if !outs[0].push(outItem{sub: a, kind: changeInsert, row: row, sh: sh}, true) {
			t.Fatal("a 2nd-4th reference did not fit the connection's budget")
		}
	}
	if outs[0].push(outItem{sub: a, kind: changeInsert, row: row, sh: sh}, true) {
		t.Fatal("a 5th reference fit a 4-change connection budget")
	}
	// A writer's take becomes its own copy, charged on top.
	frames, _, _, _, _ := outs[1].Take(nil, nil)
	if len(frames) != 1 {
		t.Fatalf("%d frames", len(frames))
	}
	if used := m.budget.used.Load(); used != 2*size {
		t.Fatalf("after one take: node budget %d, want %d (shared + one copy)", used, 2*size)
	}
	outs[1].Sent()
	if used := m.budget.used.Load(); used != size {
		t.Fatalf("after Sent: node budget %d, want %d", used, size)
	}
	// The shared bytes are refunded with the last reference.
	for i, o := range outs {
		if i == len(outs)-1 {
			if used := m.budget.used.Load(); used != size {
				t.Fatalf("before the last holder goes: node budget %d", used)
			}
		}
		m.Detach(o)
	}
	if used := m.budget.used.Load(); used != 0 || sh.refs.Load() != 0 {
		t.Fatalf("all gone: node budget %d, references %d", used, sh.refs.Load())
	}
	// Distinct changes are counted each: the 11th does not fit 10x.
	o := NewOutbox(100, 100)
	m.opts.MaxQueuedBytesPerConn = 100 * size
	if !m.Attach(o) {
		t.Fatal("attach")
	}
	for i := range 10 {
		if !o.push(outItem{sub: a, kind: changeInsert, row: row, sh: &shared{n: len(row)}}, true) {
			t.Fatalf("distinct change %d did not fit", i)
		}
	}
	if o.push(outItem{sub: a, kind: changeInsert, row: row, sh: &shared{n: len(row)}}, true) {
		t.Fatal("an 11th distinct change fit a 10-change node budget")
	}
}

// TestLoadingBufferIsBounded: changes buffered while a subscription's
// initial data loads count against the connection's byte budget (with
// its queue and its other loading subscriptions) and, shared, once in the
// node's; ending the subscription refunds them.
func TestLoadingBufferIsBounded(t *testing.T) {
	const size = 1000
	m := budgetManager(3*size, 100*size)
	o := NewOutbox(100, 100)
	if !m.Attach(o) {
		t.Fatal("attach")
	}
	c := &Conn{m: m, out: o}
	a := &Subscription{conn: c, id: "a", idJSON: []byte(`"a"`), state: stateLoading}
	b := &Subscription{conn: c, id: "b", idJSON: []byte(`"b"`), state: stateLoading}
	row := rowOf(size)
	change := func(sh *shared, s *Subscription, seq uint64) []pendingChange {
		return []pendingChange{{seq: seq, item: outItem{sub: s, kind: changeInsert, row: row, sh: sh}}}
	}
	sh1, sh2 := &shared{n: len(row)}, &shared{n: len(row)}
	if a.deliver(change(sh1, a, 1), 100) || b.deliver(change(sh1, b, 1), 100) || a.deliver(change(sh2, a, 2), 100) {
		t.Fatal("three changes did not fit a three-change connection budget")
	}
	if got := c.pendingBytes.Load(); got != 3*size {
		t.Fatalf("connection buffers %d bytes, want %d", got, 3*size)
	}
	if used := m.budget.used.Load(); used != 2*size {
		t.Fatalf("node budget %d, want %d (two distinct changes)", used, 2*size)
	}
	// The fourth overflows b (the connection's budget is shared by its
	// loading subscriptions).
	if !b.deliver(change(&shared{n: len(row)}, b, 3), 100) {
		t.Fatal("a fourth change fit a three-change connection budget")
	}
	// (deliver ended b; finish, which leaves the index, is the caller's.)
	if got := c.pendingBytes.Load(); got != 2*size {
		t.Fatalf("after b ended: connection buffers %d, want %d", got, 2*size)
	}
	a.mu.Lock()
	a.endLocked("", "")
	a.mu.Unlock()
	if c.pendingBytes.Load() != 0 || m.budget.used.Load() != 0 || sh1.refs.Load() != 0 || sh2.refs.Load() != 0 {
		t.Fatalf("after both ended: buffered %d, node budget %d, refs %d/%d", c.pendingBytes.Load(), m.budget.used.Load(), sh1.refs.Load(), sh2.refs.Load())
	}
}
