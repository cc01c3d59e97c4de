package live

import (
	"context"
	"sync"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// rowEvent is one durable row write of a subscribed table.
type rowEvent struct {
	table uint32
	op    engine.RowOp
	key   []byte
	row   []byte // new encoded row (its _seq field is not stamped; see seq)
	old   []byte // previous live row, nil if none
	seq   uint64
	group uint16
}

// workItem is a unit of a worker's queue: row events of one command, a
// "lost" marker (the queue overflowed) or a control function.
type workItem struct {
	events []rowEvent
	lost   map[indexKey]bool
	ctl    func()
}

// worker matches and fans out the changes of the groups assigned to it.
type worker struct {
	m *Manager
	// procMu is held while changes are matched and delivered, by the
	// worker goroutine or by an inline dispatch (tryInline).
	procMu  sync.Mutex
	mu      sync.Mutex
	queue   []workItem
	queued  int // row events in queue
	wake    chan struct{}
	matcher *kalamsql.LiveMatcher
	enc     kalamsql.RowEncoder
	cache   []encoded
	// out collects one command's deliveries per subscription, so each
	// subscription gets them in one outbox operation (and one frame).
	out     map[*Subscription][]pendingChange
	outList []*Subscription
	// direct delivers each match at once (single-change commands).
	direct  bool
	one     [1]pendingChange
	victims []*Subscription
	// groups is scratch space for the candidate groups of one change.
	groups []*filterGroup
	// pos is the last _seq processed per group (clock re-evaluation).
	pos map[uint16]uint64
}

// encoded is a change encoded for one projection.
type encoded struct {
	key      string
	kind     changeKind
	row, old []byte
	// sh counts the queues holding row and old (budget.go).
	sh *shared
}

// Observe is the engine observer (engine.Observer): it runs on a group's
// apply goroutine after each durable command and must not block. It only
// copies the writes of subscribed tables into the group's worker queue.
func (m *Manager) Observe(cmd *engine.Command, res *engine.Result) {
	if m.closed.Load() {
		return
	}
	if cmd.Catalog != nil {
		m.observeCatalog(cmd, res)
		return
	}
	var evs []rowEvent
	for i := range cmd.Rows {
		w := &cmd.Rows[i]
		if w.Op == engine.OpDropTableData || i >= len(res.Seqs) {
			continue
		}
		if _, ok := m.idx.subscribedTable(w.Table); !ok {
			continue
		}
		if evs == nil {
			evs = make([]rowEvent, 0, len(cmd.Rows)-i)
		}
		evs = append(evs, rowEvent{table: w.Table, op: w.Op, key: w.Key, row: w.Row, old: res.Old[i], seq: res.Seqs[i], group: cmd.Group})
	}
	if len(evs) > 0 {
		w := m.workers[int(cmd.Group)%len(m.workers)]
		if !w.tryInline(evs) {
			w.enqueue(evs)
		}
	}
}

// observeCatalog ends subscriptions of dropped tables and connections of
// users whose tokens were revoked. The work runs on a worker, not on the
// meta group's apply goroutine.
func (m *Manager) observeCatalog(cmd *engine.Command, res *engine.Result) {
	cw := cmd.Catalog
	switch {
	case len(res.Dropped) > 0:
		ids := map[uint32]bool{}
		for _, t := range res.Dropped {
			ids[t.ID] = true
		}
		m.workers[0].control(func() {
			for _, s := range m.idx.subsOfTables(ids) {
				s.end(CodeNotFound, "the table was dropped")
			}
		})
	case cw.Op == engine.CatAlterTable && res.Table != nil && !res.Skipped:
		m.endForSchemaChange(res.Table)
	case (cw.Op == engine.CatUpdateUser || cw.Op == engine.CatCreateUser) && cw.User != nil && !res.Skipped:
		u := *cw.User
		m.workers[0].control(func() { m.revoke(u.UserID, u.Role, u.DeletedAt != 0, u.TokensValidAfter) })
	}
}

func (w *worker) enqueue(evs []rowEvent) {
	w.mu.Lock()
	if w.queued+len(evs) > w.m.opts.WorkerQueue {
		// The dispatcher cannot keep up. Dropping the changes silently
		// would leave subscribers with a gap, so remember whom they were
		// for and end those subscriptions when the marker is processed.
		var lost map[indexKey]bool
		if n := len(w.queue); n > 0 && w.queue[n-1].lost != nil {
			lost = w.queue[n-1].lost
		} else {
			lost = map[indexKey]bool{}
			w.queue = append(w.queue, workItem{lost: lost})
		}
		for _, ev := range evs {
			k := indexKey{table: ev.table}
			if meta, ok := w.m.idx.subscribedTable(ev.table); ok && meta.perUser {
				k.user, _ = keyUser(ev.key)
			}
			lost[k] = true
		}
	} else {
		w.queue = append(w.queue, workItem{events: evs})
		w.queued += len(evs)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) control(fn func()) {
	w.mu.Lock()
	w.queue = append(w.queue, workItem{ctl: fn})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run is the worker loop; it returns when stop is closed.
func (w *worker) run(stop <-chan struct{}) {
	var batch []workItem
	for {
		select {
		case <-stop:
			return
		case <-w.wake:
		}
		// procMu is taken before the queue is swapped out, so an inline
		// dispatch (tryInline) can never overtake events taken here.
		w.procMu.Lock()
		w.mu.Lock()
		batch, w.queue = w.queue, batch[:0]
		w.queued = 0
		w.mu.Unlock()
		for i := range batch {
			w.handle(&batch[i])
			batch[i] = workItem{}
		}
		w.procMu.Unlock()
	}
}

func (w *worker) handle(it *workItem) {
	switch {
	case it.ctl != nil:
		it.ctl()
	case it.lost != nil:
		w.endLost(it.lost)
	default:
		// A single change is delivered as it is matched; the changes of a
		// multi-row command are collected per subscription first, so each
		// gets them in one frame.
		w.direct = len(it.events) == 1
		for j := range it.events {
			w.process(&it.events[j])
		}
		w.flush()
		if n := len(it.events); n > 0 {
			if w.pos == nil {
				w.pos = map[uint16]uint64{}
			}
			w.pos[it.events[n-1].group] = it.events[n-1].seq
		}
	}
}

// inlineMaxDeliveries bounds the work tryInline does on the goroutine
// committing the engine round.
const inlineMaxDeliveries = 32

// tryInline dispatches a small change on the calling (committing) goroutine
// when the worker is idle, saving a goroutine hand-off on the latency
// path. It never waits: if the worker is busy, has queued work, or the
// change would reach more than inlineMaxDeliveries subscriptions, it
// returns false and the change is queued as usual. Order is kept because
// inline dispatch only happens with nothing queued or in progress.
func (w *worker) tryInline(evs []rowEvent) bool {
	if len(evs) > 4 || !w.procMu.TryLock() {
		return false
	}
	w.mu.Lock()
	idle := len(w.queue) == 0
	w.mu.Unlock()
	if !idle || w.deliveriesFor(evs) > inlineMaxDeliveries {
		w.procMu.Unlock()
		return false
	}
	iw := w.m.inline.Load()
	if iw != nil {
		iw.Begin()
	}
	it := workItem{events: evs}
	w.handle(&it)
	w.procMu.Unlock()
	if iw != nil {
		iw.End()
	}
	return true
}

// deliveriesFor bounds how many subscriptions the events can reach.
func (w *worker) deliveriesFor(evs []rowEvent) int {
	ix := w.m.idx
	n := 0
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for i := range evs {
		ev := &evs[i]
		k := indexKey{table: ev.table}
		if meta, ok := ix.subscribedTable(ev.table); ok && meta.perUser {
			k.user, _ = keyUser(ev.key)
		}
		if b := ix.buckets[k]; b != nil {
			w.groups = b.candidates(&w.enc, ev, w.groups[:0])
			for _, g := range w.groups {
				n += len(g.subs)
			}
		}
	}
	clear(w.groups)
	return n
}

func (w *worker) endLost(lost map[indexKey]bool) {
	ix := w.m.idx
	var victims []*Subscription
	ix.mu.RLock()
	for k := range lost {
		if b := ix.buckets[k]; b != nil {
			for _, g := range b.list {
				victims = append(victims, g.subs...)
			}
		}
	}
	ix.mu.RUnlock()
	for _, s := range victims {
		s.end(CodeOverflow, "the server could not keep up with the change rate; resubscribe with from = the last _seq received")
	}
}

// process matches one change against the subscriptions of its (table,
// user) and delivers it.
func (w *worker) process(ev *rowEvent) {
	m := w.m
	meta, ok := m.idx.subscribedTable(ev.table)
	if !ok {
		return
	}
	k := indexKey{table: ev.table}
	if meta.perUser {
		if k.user, ok = keyUser(ev.key); !ok {
			return
		}
	}
	var oldSeq uint64
	if ev.old != nil {
		if h, err := rowcodec.ReadHeader(ev.old); err == nil {
			oldSeq = h.Seq
		}
	}
	var failed []*Subscription
	var failMsg string
	w.cache = w.cache[:0]
	ctx := context.Background()
	m.idx.mu.RLock()
	b := m.idx.buckets[k]
	if b == nil {
		m.idx.mu.RUnlock()
		return
	}
	w.groups = b.candidates(&w.enc, ev, w.groups[:0])
	for _, g := range w.groups {
		if len(g.subs) == 0 {
			continue
		}
		newMatch, oldMatch := false, false
		var err error
		if ev.op != engine.OpDelete {
			newMatch, err = w.matcher.Match(ctx, g.plan, ev.row, ev.seq)
		}
		if err == nil && ev.old != nil {
			oldMatch, err = w.matcher.Match(ctx, g.plan, ev.old, oldSeq)
		}
		if err != nil {
			failed = append(failed, g.subs...)
			failMsg = "the subscription's condition failed on a changed row: " + err.Error()
			continue
		}
		if g.plan.UsesClock() && g.plan.HasPK() {
			// What the client holds decides the kind (clock.go).
			for _, s := range g.subs {
				if s.clock != nil {
					w.deliverClock(s, ev, newMatch, oldMatch, oldSeq)
				}
			}
			continue
		}
		var kind changeKind
		switch {
		case newMatch && oldMatch:
			kind = changeUpdate
		case newMatch:
			kind = changeInsert // an insert, or an update entering the result
		case oldMatch:
			kind = changeDelete // a delete, or an update leaving the result
		default:
			continue
		}
		for _, s := range g.subs {
			enc, err := w.encode(s, ev, kind, oldSeq)
			if err != nil {
				failed = append(failed, s)
				failMsg = "could not encode a changed row: " + err.Error()
				continue
			}
			pc := pendingChange{seq: ev.seq, item: outItem{sub: s, kind: kind, row: enc.row, old: enc.old, sh: enc.sh}}
			if w.direct {
				w.one[0] = pc
				if s.deliver(w.one[:], m.opts.QueueSize) {
					w.victims = append(w.victims, s)
				}
				continue
			}
			if _, ok := w.out[s]; !ok {
				w.outList = append(w.outList, s)
			}
			w.out[s] = append(w.out[s], pc)
		}
	}
	m.idx.mu.RUnlock()
	clear(w.groups)
	for _, s := range w.victims {
		s.finish()
	}
	clear(w.victims)
	w.victims = w.victims[:0]
	for _, s := range failed {
		s.end(CodeSubscriptionFailed, failMsg)
	}
}

// flush delivers what process collected for one command.
func (w *worker) flush() {
	for _, s := range w.outList {
		if s.deliver(w.out[s], w.m.opts.QueueSize) {
			s.finish()
		}
		delete(w.out, s)
	}
	clear(w.outList)
	w.outList = w.outList[:0]
}

// encode returns the change encoded for s's projection, encoding it once
// per projection and kind per change (one change can be an insert for one
// condition and a delete or update for another).
func (w *worker) encode(s *Subscription, ev *rowEvent, kind changeKind, oldSeq uint64) (encoded, error) {
	key := s.entry.projKey
	for _, e := range w.cache {
		if e.key == key && e.kind == kind {
			return e, nil
		}
	}
	p := s.plan
	e := encoded{key: key, kind: kind}
	var err error
	switch kind {
	case changeInsert:
		e.row, err = p.EncodeChange(&w.enc, make([]byte, 0, len(ev.row)+64), ev.row, ev.seq, false)
	case changeUpdate:
		e.row, e.old, err = p.EncodeUpdate(&w.enc, ev.row, ev.seq, ev.old, oldSeq)
	case changeDelete:
		// The old values, stamped with the _seq of the change that removed
		// the row from the result (the client's resume point).
		e.old, err = p.EncodeChange(&w.enc, make([]byte, 0, len(ev.old)+64), ev.old, ev.seq, true)
	}
	if err != nil {
		return encoded{}, err
	}
	e.sh = &shared{n: len(e.row) + len(e.old)}
	w.cache = append(w.cache, e)
	return e, nil
}
