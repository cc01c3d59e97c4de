package live

import (
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// Subscription states.
const (
	stateLoading = iota + 1 // initial data being pulled; changes are buffered
	stateLive               // changes go straight to the outbox
	stateEnded
)

// pendingChange is a change buffered while the initial data loads.
type pendingChange struct {
	seq  uint64
	item outItem
	// pk is the row's primary key for subscriptions with a clock (they
	// track which rows the client holds); "" otherwise.
	pk string
}

// Subscription is one live query of one connection. It is kept small:
// a node holds up to millions (docs/benchmarks.md); what system.live
// shows is derived on demand.
type Subscription struct {
	conn    *Conn
	id      string
	idJSON  []byte // id as a JSON string, for frames
	plan    *kalamsql.LivePlan
	entry   *planEntry
	created int64 // ms
	// The subscribe options, for system.live.
	from                uint64
	batchSize, lastRows int32
	hasFrom             bool
	// cost is what s is charged in its user's index budget
	// (subscriptionCost).
	cost int32

	// group and pos locate s in the index (guarded by index.mu).
	group *filterGroup
	pos   int

	mu      sync.Mutex
	state   int
	minSeq  uint64 // changes at or below it are in the initial data
	pending []pendingChange
	// pendingBytes is the size of pending (counted in the connection's
	// pendingBytes).
	pendingBytes int

	// load is the initial-data cursor: owned by the connection's reader
	// while loadMu is held; released by whoever ends the subscription.
	loadMu sync.Mutex
	load   *loadState

	changes    atomic.Int64
	lastUpdate atomic.Int64

	// clock is set for conditions that read the clock (clock.go).
	clock *clockState
}

// loadState is what paging the initial data (or a resume replay) needs.
type loadState struct {
	snap      *pebble.Snapshot
	pos       uint64 // group's last _seq in snap
	batchSize int
	// rowBytes is the average row size of the previous page (0: none
	// yet); later pages are sized to max_batch_bytes with it.
	rowBytes int
	lastRows int
	from     uint64
	resume   bool
	cursor   any // LivePage cursor
	batchNum int
	deadline time.Time
	replay   *replayCursor
}

func (l *loadState) release() {
	if l.replay != nil {
		l.replay.close()
		l.replay = nil
	}
	if l.snap != nil {
		l.snap.Close()
		l.snap = nil
	}
}

// releaseLoadLocked drops the snapshot; the caller holds loadMu.
func (s *Subscription) releaseLoadLocked() {
	if s.load != nil {
		s.load.release()
		s.load = nil
	}
}

func (s *Subscription) status() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateLoading {
		return "loading"
	}
	return "active"
}

func (s *Subscription) ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateEnded
}

// deliver hands the changes of one command (already filtered and
// encoded, in _seq order) to s. It never blocks. It returns true when they
// did not all fit: s is then marked ended with OVERFLOW, after the ones
// that fit, and the caller must call finish once it holds no index lock.
func (s *Subscription) deliver(changes []pendingChange, queueSize int) (overflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(changes) > 0 && changes[0].seq <= s.minSeq {
		changes = changes[1:]
	}
	if len(changes) == 0 {
		return false
	}
	switch s.state {
	case stateLoading:
		if !s.bufferLocked(changes, queueSize) {
			s.endLocked(CodeOverflow, "too many changes while the initial data was being fetched; resubscribe (with from) and fetch the batches faster")
			return true
		}
	case stateLive:
		n := s.conn.out.pushBatch(changes)
		if n > 0 {
			s.changes.Add(int64(n))
			s.lastUpdate.Store(time.Now().UnixMilli())
		}
		if n < len(changes) {
			s.endLocked(CodeOverflow, "the connection's queue is full (the client reads too slowly); resubscribe with from = the last _seq received")
			return true
		}
	}
	return false
}

// goLive queues the last initial-data page, then the buffered changes
// past the snapshot, and switches s to live delivery. Returns false when s
// ended (or overflowed doing this).
func (s *Subscription) goLive(final []byte, pos uint64) (ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateLoading {
		return false
	}
	if !s.conn.out.push(outItem{raw: final}, true) {
		s.endLocked(CodeOverflow, "the connection's queue is full (the client reads too slowly)")
		return false
	}
	s.minSeq = pos
	var rest []pendingChange
	for i, p := range s.pending {
		if p.seq > pos { // the earlier ones are part of the initial data
			rest = s.pending[i:]
			break
		}
	}
	s.clock.applyAll(rest)
	if n := s.conn.out.pushBatch(rest); n < len(rest) {
		s.endLocked(CodeOverflow, "the connection's queue is full (the client reads too slowly); resubscribe with from = the last _seq received")
		return false
	}
	s.changes.Add(int64(len(rest)))
	s.dropPendingLocked()
	s.state = stateLive
	return true
}

// bufferLocked holds changes arriving while the initial data loads
// (until goLive), within the subscription's queue size, the
// connection's byte budget (what its outbox holds plus what all its
// loading subscriptions buffer) and the node's budget (the buffered
// changes are shared with the other queues holding them). false: they do
// not fit and nothing was buffered. The caller holds s.mu.
func (s *Subscription) bufferLocked(changes []pendingChange, queueSize int) bool {
	c := s.conn
	n := 0
	for i := range changes {
		n += changes[i].item.size()
	}
	if len(s.pending)+len(changes) > queueSize ||
		c.pendingBytes.Load()+c.out.Held()+int64(n) > int64(c.m.opts.MaxQueuedBytesPerConn) {
		return false
	}
	b := c.out.budget
	for i := range changes {
		if !b.charge(&changes[i].item) {
			for j := range i {
				b.refund(&changes[j].item)
			}
			return false
		}
	}
	s.pending = append(s.pending, changes...)
	s.pendingBytes += n
	c.pendingBytes.Add(int64(n))
	return true
}

// dropPendingLocked releases the buffered changes (delivered or not).
// The caller holds s.mu.
func (s *Subscription) dropPendingLocked() {
	b := s.conn.out.budget
	for i := range s.pending {
		b.refund(&s.pending[i].item)
	}
	s.conn.pendingBytes.Add(-int64(s.pendingBytes))
	s.pending, s.pendingBytes = nil, 0
}

// endLocked marks s ended and queues the error telling the client why
// (code "" ends silently: unsubscribe, connection close). The caller
// holds s.mu and must call finish afterwards without it.
func (s *Subscription) endLocked(code, msg string) bool {
	if s.state == stateEnded {
		return false
	}
	s.state = stateEnded
	s.dropPendingLocked()
	if code == CodeOverflow {
		s.conn.m.overflows.Add(1)
	}
	if code != "" {
		s.conn.out.PushControl(ErrorMessage(s.id, code, msg))
	}
	return true
}

// end ends s with an error code (or silently) and releases it.
func (s *Subscription) end(code, msg string) {
	s.mu.Lock()
	first := s.endLocked(code, msg)
	s.mu.Unlock()
	if first {
		s.finish()
	}
}

// finish releases an ended subscription: index, limits, connection map,
// plan reference and (if the reader is not paging right now) its snapshot.
// It is idempotent.
func (s *Subscription) finish() {
	m := s.conn.m
	m.idx.remove(s)
	if s.clock != nil {
		m.clockRemove(s)
	}
	if s.loadMu.TryLock() {
		s.releaseLoadLocked()
		s.loadMu.Unlock()
	}
	if s.conn.removeSub(s) {
		m.releaseUserSub(s.conn.UserID, int64(s.cost))
		m.releasePlan(s.entry)
		m.unloading(s)
	}
}

// liveID is "<user>-<connection>-<subscription>" (KILL LIVE QUERY).
func (s *Subscription) liveID() string { return s.conn.UserID + "-" + s.conn.ID + "-" + s.id }

// optionsJSON renders the subscribe options for system.live.
func (s *Subscription) optionsJSON() string {
	m := map[string]any{"batch_size": s.batchSize}
	if s.lastRows > 0 {
		m["last_rows"] = s.lastRows
	}
	if s.hasFrom {
		m["from"] = strconv.FormatUint(s.from, 10)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
