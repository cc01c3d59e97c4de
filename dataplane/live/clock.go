package live

import (
	"context"
	"sort"
	"sync/atomic"
	"time"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Subscriptions whose condition reads the clock (NOW(), CURRENT_TIMESTAMP,
// ...) can gain or lose rows with no change to the rows: a row leaves
// `created_at > NOW() - INTERVAL '1 hour'` an hour after it was written.
// For them the server tracks which rows the client holds (primary key ->
// last row object sent) and:
//
//   - decides the kind of each change by what the client holds, not by
//     re-evaluating the old version at the current time (an update of a
//     held row is an update even if the old version no longer matches now;
//     a held row that stops matching is deleted);
//   - every websocket.time_filter_recheck_ms re-reads the subscription's
//     current result on the dispatch worker of its group and sends an
//     insert for each row that entered and a delete for each row that left.
//
// Invariant (gap-free, exactly once): the re-evaluation runs on the worker
// that dispatches the group's changes, so every change up to pos (the last
// _seq the worker processed for the group) is reflected in held. It takes
// a snapshot after reading pos, so the snapshot holds every processed
// change and possibly later ones, whose events are still to be processed:
// rows whose current version is newer than pos are left to those events.
// A held row missing from the result is deleted at once: if a pending
// event is what removed or changed it, that event then finds the row not
// held and reports it as an insert (it matches) or not at all.
//
// Subscriptions on tables without a primary key are not re-evaluated
// (rows could not be told apart); docs/websocket.md states both limits.

// defaultTimeFilterRecheck applies when Options.TimeFilterRecheck is 0.
const defaultTimeFilterRecheck = time.Second

// clockState is what a subscription with a clock tracks; guarded by the
// subscription's mu.
type clockState struct {
	held     map[string][]byte
	scopeLen int
	// queued is set while a re-evaluation is queued on the worker.
	queued atomic.Bool
}

func newClockState(p *kalamsql.LivePlan) *clockState {
	if !p.UsesClock() || !p.HasPK() {
		return nil
	}
	return &clockState{held: map[string][]byte{}, scopeLen: len(keys.ScopePrefix(p.Group, p.Table.ID, p.UserID, p.PerUser))}
}

// holdRows records initial-data rows sent to the client.
func (c *clockState) holdRows(s *Subscription, rs []kalamsql.LiveRow) {
	if c == nil {
		return
	}
	s.mu.Lock()
	for _, r := range rs {
		if r.PK != "" {
			c.held[r.PK] = r.JSON
		}
	}
	s.mu.Unlock()
}

// apply records a change sent to the client; the caller holds s.mu.
func (c *clockState) apply(pc *pendingChange) {
	if c == nil || pc.pk == "" {
		return
	}
	if pc.item.kind == changeDelete {
		delete(c.held, pc.pk)
	} else {
		c.held[pc.pk] = pc.item.row
	}
}

// applyAll records the buffered changes going out at the end of the
// initial data; the caller holds s.mu.
func (c *clockState) applyAll(pcs []pendingChange) {
	if c == nil {
		return
	}
	for i := range pcs {
		c.apply(&pcs[i])
	}
}

// deliverClock delivers one change to a subscription with a clock. While
// the initial data loads, the kind is the one evaluated (as for every
// subscription) and the change is buffered with its key; once live, what
// the client holds decides. Overflows and failures are ended after the
// caller drops the index lock (w.victims).
func (w *worker) deliverClock(s *Subscription, ev *rowEvent, newMatch, oldMatch bool, oldSeq uint64) {
	c := s.clock
	pk, ok := s.plan.KeyPK(c.scopeLen, ev.key)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.seq <= s.minSeq {
		return
	}
	held := false
	switch s.state {
	case stateLive:
		_, held = c.held[pk]
	case stateLoading:
		held = oldMatch
	default:
		return
	}
	var kind changeKind
	switch {
	case newMatch && held && ev.old != nil:
		kind = changeUpdate
	case newMatch:
		kind = changeInsert
	case held && ev.old != nil:
		kind = changeDelete
	default:
		if held && s.state == stateLive {
			delete(c.held, pk) // cannot happen: a held row has a previous version
		}
		return
	}
	enc, err := w.encode(s, ev, kind, oldSeq)
	if err != nil {
		if s.endLocked(CodeSubscriptionFailed, "could not encode a changed row: "+err.Error()) {
			w.victims = append(w.victims, s)
		}
		return
	}
	pc := pendingChange{seq: ev.seq, item: outItem{sub: s, kind: kind, row: enc.row, old: enc.old, sh: enc.sh}, pk: pk}
	if s.state == stateLoading {
		if !s.bufferLocked([]pendingChange{pc}, w.m.opts.QueueSize) {
			if s.endLocked(CodeOverflow, "too many changes while the initial data was being fetched; resubscribe (with from) and fetch the batches faster") {
				w.victims = append(w.victims, s)
			}
			return
		}
		return
	}
	c.apply(&pc)
	if s.conn.out.pushBatch([]pendingChange{pc}) < 1 {
		if s.endLocked(CodeOverflow, "the connection's queue is full (the client reads too slowly); resubscribe with from = the last _seq received") {
			w.victims = append(w.victims, s)
		}
		return
	}
	s.changes.Add(1)
	s.lastUpdate.Store(time.Now().UnixMilli())
}

// clockAdd registers a subscription with a clock for re-evaluation.
func (m *Manager) clockAdd(s *Subscription) {
	m.mu.Lock()
	m.clockSubs[s] = struct{}{}
	m.mu.Unlock()
}

func (m *Manager) clockRemove(s *Subscription) {
	m.mu.Lock()
	delete(m.clockSubs, s)
	m.mu.Unlock()
}

// clockLoop queues a re-evaluation of every live subscription with a
// clock every interval, on the worker of its group (at most one queued
// per subscription, so a slow one does not pile up).
func (m *Manager) clockLoop() {
	d := m.opts.TimeFilterRecheck
	if d <= 0 {
		d = defaultTimeFilterRecheck
	}
	tk := time.NewTicker(d)
	defer tk.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tk.C:
		}
		m.mu.Lock()
		subs := make([]*Subscription, 0, len(m.clockSubs))
		for s := range m.clockSubs {
			subs = append(subs, s)
		}
		m.mu.Unlock()
		for _, s := range subs {
			if s.clock.queued.Swap(true) {
				continue
			}
			w := m.workers[int(s.plan.Group)%len(m.workers)]
			w.control(func() {
				s.clock.queued.Store(false)
				w.recheckClock(s)
			})
		}
	}
}

// recheckPage is the page size of a re-evaluation's read.
const recheckPage = 1000

// recheckClock re-reads s's result and sends the rows that entered or
// left it since the client's state was last updated (see the invariant at
// the top of this file). It runs on the worker, between changes.
func (w *worker) recheckClock(s *Subscription) {
	m := w.m
	s.mu.Lock()
	live := s.state == stateLive
	s.mu.Unlock()
	if !live {
		return
	}
	processed := w.pos[s.plan.Group]
	snap := m.db.NewSnapshot()
	defer snap.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cur := map[string]kalamsql.LiveRow{}
	var after any
	for {
		rows, next, more, err := m.eng.LivePage(ctx, s.plan, snap, after, recheckPage)
		if err != nil {
			s.end(CodeSubscriptionFailed, "could not re-evaluate the time-dependent condition: "+err.Error())
			return
		}
		for _, r := range rows {
			cur[r.PK] = r
		}
		if !more {
			break
		}
		after = next
	}
	s.mu.Lock()
	if s.state != stateLive {
		s.mu.Unlock()
		return
	}
	c := s.clock
	var out []pendingChange
	for pk, row := range c.held {
		if _, ok := cur[pk]; !ok {
			out = append(out, pendingChange{seq: seqOf(row), item: outItem{sub: s, kind: changeDelete, old: row}, pk: pk})
		}
	}
	for pk, r := range cur {
		if _, ok := c.held[pk]; !ok && r.Seq <= processed {
			out = append(out, pendingChange{seq: r.Seq, item: outItem{sub: s, kind: changeInsert, row: r.JSON}, pk: pk})
		}
	}
	if len(out) == 0 {
		s.mu.Unlock()
		return
	}
	// Deletes first, then inserts, each in primary-key text order: a
	// stable order for clients and tests.
	sort.Slice(out, func(i, j int) bool {
		if out[i].item.kind != out[j].item.kind {
			return out[i].item.kind == changeDelete
		}
		return out[i].pk < out[j].pk
	})
	c.applyAll(out)
	n := s.conn.out.pushBatch(out)
	s.changes.Add(int64(n))
	s.lastUpdate.Store(time.Now().UnixMilli())
	overflow := n < len(out) && s.endLocked(CodeOverflow, "the connection's queue is full (the client reads too slowly); resubscribe with from = the last _seq received")
	s.mu.Unlock()
	if overflow {
		s.finish()
	}
}

// seqOf reads the "_seq" of an encoded row object (its last member,
// `"_seq":"123"}`).
func seqOf(row []byte) uint64 {
	end := len(row) - 2 // the closing quote
	if end < 1 {
		return 0
	}
	i := end - 1
	for i >= 0 && row[i] >= '0' && row[i] <= '9' {
		i--
	}
	var v uint64
	for _, ch := range row[i+1 : end] {
		v = v*10 + uint64(ch-'0')
	}
	return v
}
