package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// Conn is one authenticated WebSocket connection as the live-query layer
// sees it. Its methods are called by the connection's reader goroutine
// (package server); deliveries from dispatch workers go through its
// outbox.
type Conn struct {
	m      *Manager
	ID     string
	UserID string
	Role   auth.Role
	out    *Outbox
	// tok is the token the connection authenticated with (iat in ms,
	// expiry), checked on revocation and by the janitor.
	tok auth.Claims
	// expiry ends the connection when its token expires.
	expiry *time.Timer
	// ended is set once the connection has been told it must go
	// (TOKEN_EXPIRED, AUTH_REVOKED), so it is told once.
	ended atomic.Bool

	mu     sync.Mutex
	subs   map[string]*Subscription
	closed bool

	lastPing atomic.Int64
	// pendingBytes is what the connection's loading subscriptions buffer
	// (Subscription.bufferLocked): bounded, with what its outbox holds, by
	// the per-connection budget.
	pendingBytes atomic.Int64
}

// SubscribeOptions are the options of a subscribe message.
type SubscribeOptions struct {
	// BatchSize is the initial-data page size (0: server default).
	BatchSize int
	// LastRows > 0 sends only the newest N rows (by _seq), in one batch.
	LastRows int
	// From resumes after this _seq: only keys changed since are sent.
	From *uint64
}

// MaxSubscriptionIDLen bounds client-chosen subscription ids.
const MaxSubscriptionIDLen = 128

// Touch records client activity (application or protocol ping) for
// system.live.
func (c *Conn) Touch() { c.lastPing.Store(time.Now().UnixMilli()) }

func (c *Conn) sendError(subID, code, msg string) { c.out.PushControl(ErrorMessage(subID, code, msg)) }

func validSubID(id string) bool {
	if id == "" || len(id) > MaxSubscriptionIDLen || !utf8.ValidString(id) {
		return false
	}
	blank := true
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
		if r != ' ' && r != '\t' {
			blank = false
		}
	}
	return !blank
}

// Subscribe registers subscription id with the given SQL and sends its
// ack and first initial-data page (or an error) through the outbox.
func (c *Conn) Subscribe(ctx context.Context, id, sqlText string, o SubscribeOptions) {
	m := c.m
	if !validSubID(id) {
		c.sendError(SubIDInvalid, CodeInvalidSubscription, fmt.Sprintf("subscription id must be 1..%d printable characters and not blank", MaxSubscriptionIDLen))
		return
	}
	if o.BatchSize == 0 {
		o.BatchSize = m.opts.DefaultBatchSize
	}
	switch {
	case o.BatchSize < 0 || o.BatchSize > m.opts.MaxBatchSize:
		c.sendError(id, CodeInvalidSQL, fmt.Sprintf("batch_size must be 1..%d", m.opts.MaxBatchSize))
		return
	case o.LastRows < 0 || o.LastRows > o.BatchSize:
		c.sendError(id, CodeInvalidSQL, fmt.Sprintf("last_rows must be 0..batch_size (%d)", o.BatchSize))
		return
	case o.LastRows > 0 && o.From != nil:
		c.sendError(id, CodeInvalidSQL, "last_rows and from cannot be combined")
		return
	}
	sess := kalamsql.Session{UserID: c.UserID, Role: c.Role}
	entry, err := m.plan(ctx, sess, sqlText)
	if err != nil {
		code, msg := planErrorCode(err)
		c.sendError(id, code, msg)
		return
	}
	s := &Subscription{conn: c, id: id, idJSON: jsonString(id), plan: entry.plan, entry: entry,
		batchSize: int32(o.BatchSize), lastRows: int32(o.LastRows), created: time.Now().UnixMilli(), state: stateLoading,
		cost: int32(subscriptionCost(id, sqlText))}
	if o.From != nil {
		s.from, s.hasFrom = *o.From, true
	}
	if s.clock = newClockState(entry.plan); s.clock != nil && o.From != nil {
		// A resume reports keys changed since from; rows that entered or
		// left a time-dependent result while the client was away did not
		// change, so it would leave a silent gap (clock.go).
		m.releasePlan(entry)
		c.sendError(id, CodeResumeUnavailable, "a subscription whose condition reads the clock (NOW(), CURRENT_TIMESTAMP, ...) cannot resume; subscribe without from")
		return
	}
	if code, msg := c.addSub(s); code != "" {
		m.releasePlan(entry)
		c.sendError(id, code, msg)
		return
	}
	if s.clock != nil {
		m.clockAdd(s)
		if s.ended() { // ended before it was registered: finish already ran
			m.clockRemove(s)
		}
	}
	// Index first, snapshot second: every change committed after the
	// snapshot is seen by the index (see the package invariants).
	m.idx.add(s)
	if s.ended() {
		// Killed or revoked between addSub and add: finish ran before s was
		// indexed, so unindex it here.
		m.idx.remove(s)
		return
	}
	snap := m.db.NewSnapshot()
	pos, horizon, err := scopeState(snap, s.plan)
	if err != nil {
		snap.Close()
		s.end(CodeSubscriptionFailed, "could not read the table's position: "+err.Error())
		return
	}
	if o.From != nil {
		from := *o.From
		var reason string
		switch {
		case from > pos:
			reason = fmt.Sprintf("from %d is ahead of this server's position %d for this table", from, pos)
		case from < horizon:
			reason = fmt.Sprintf("changes before _seq %d are no longer held by the server (moved to cold storage); resubscribe without from to get a fresh snapshot", horizon)
		}
		if reason != "" {
			snap.Close()
			s.end(CodeResumeUnavailable, reason)
			return
		}
	}
	s.mu.Lock()
	s.minSeq = pos
	s.mu.Unlock()
	s.loadMu.Lock()
	s.load = &loadState{snap: snap, pos: pos, batchSize: o.BatchSize, lastRows: o.LastRows,
		resume: o.From != nil, deadline: time.Now().Add(m.opts.InitialDataTimeout)}
	if o.From != nil {
		s.load.from = *o.From
	}
	m.loadingAdd(s)
	// The first page is read before the ack, whose batch_control is that
	// page's (as upstream: has_more false and status ready when the
	// initial data fits in one batch, an empty result included).
	rows, deleted, more, err := m.page(ctx, s, s.load)
	if err != nil {
		s.releaseLoadLocked()
		s.loadMu.Unlock()
		s.end(CodeBatchFetchFailed, "could not read the initial data: "+err.Error())
		return
	}
	if !c.out.push(outItem{raw: ackMessage(id, pos, more, m.eng.WireSchema(s.plan.Schema))}, true) {
		s.releaseLoadLocked()
		s.loadMu.Unlock()
		s.end(CodeOverflow, "the connection's queue is full (the client reads too slowly)")
		return
	}
	c.sendFetchedLocked(s, rows, deleted, more)
	s.loadMu.Unlock()
}

// NextBatch sends the next initial-data page of subscription id.
func (c *Conn) NextBatch(ctx context.Context, id string) {
	s := c.sub(id)
	if s == nil {
		c.sendError(id, CodeInvalidSubscription, "no such subscription on this connection")
		return
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.load == nil {
		if !s.ended() {
			c.sendError(id, CodeBatchFetchFailed, "the initial data is complete; no more batches")
		}
		return
	}
	c.sendPageLocked(ctx, s)
}

// Unsubscribe ends subscription id (no acknowledgement, as upstream).
func (c *Conn) Unsubscribe(id string) {
	if s := c.sub(id); s != nil {
		s.end("", "")
	}
}

// sendPageLocked sends the next page of s; the caller holds s.loadMu.
func (c *Conn) sendPageLocked(ctx context.Context, s *Subscription) {
	l := s.load
	if s.ended() {
		s.releaseLoadLocked()
		return
	}
	rows, deleted, more, err := c.m.page(ctx, s, l)
	if err != nil {
		s.releaseLoadLocked()
		s.end(CodeBatchFetchFailed, "could not read the initial data: "+err.Error())
		return
	}
	c.sendFetchedLocked(s, rows, deleted, more)
}

// sendFetchedLocked sends a page read by page; the caller holds s.loadMu.
func (c *Conn) sendFetchedLocked(s *Subscription, rows, deleted [][]byte, more bool) {
	l := s.load
	msg := batchMessage(s.idJSON, rows, deleted, l.resume, l.batchNum, more, l.pos)
	l.batchNum++
	if more {
		if !c.out.push(outItem{raw: msg}, true) {
			s.releaseLoadLocked()
			s.end(CodeOverflow, "the connection's queue is full (the client reads too slowly)")
		}
		if s.ended() {
			s.releaseLoadLocked()
		}
		return
	}
	pos := l.pos
	s.releaseLoadLocked()
	c.m.unloading(s)
	if !s.goLive(msg, pos) {
		s.finish()
	}
}

func (c *Conn) sub(id string) *Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subs[id]
}

// addSub reserves the per-connection and per-user slots for s.
func (c *Conn) addSub(s *Subscription) (code, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return CodeSubscriptionFailed, "connection is closing"
	}
	if _, dup := c.subs[s.id]; dup {
		return CodeInvalidSubscription, fmt.Sprintf("subscription id %q is already in use on this connection", s.id)
	}
	if len(c.subs) >= c.m.opts.MaxSubsPerConn {
		return CodeSubscriptionLimit, fmt.Sprintf("at most %d subscriptions per connection", c.m.opts.MaxSubsPerConn)
	}
	if refused := c.m.reserveUserSub(c.UserID, int64(s.cost)); refused != "" {
		return CodeSubscriptionLimit, refused
	}
	c.subs[s.id] = s
	return "", ""
}

// removeSub forgets s; it reports whether s was still registered.
func (c *Conn) removeSub(s *Subscription) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[s.id] != s {
		return false
	}
	delete(c.subs, s.id)
	return true
}

// Close ends every subscription of the connection and unregisters it.
// The WebSocket handler calls it once its goroutines have stopped.
func (c *Conn) Close() {
	c.mu.Lock()
	c.closed = true
	subs := make([]*Subscription, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	for _, s := range subs {
		s.end("", "")
	}
	c.m.removeConn(c)
}

// kick tells the client why its connection ends (once) and closes it with
// a policy violation; the handler then calls Close.
func (c *Conn) kick(code, msg string) {
	if c.ended.Swap(true) {
		return
	}
	c.out.PushControl(ErrorMessage(SubIDProtocol, code, msg))
	c.out.Close(ClosePolicyViolation, code)
}

// SubscriptionCount returns the number of subscriptions (tests, metrics).
func (c *Conn) SubscriptionCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs)
}

// planErrorCode maps a planning error to a WebSocket error code.
func planErrorCode(err error) (string, string) {
	var ae *kalamsql.Error
	if !errors.As(err, &ae) {
		return CodeSubscriptionFailed, err.Error()
	}
	switch ae.Code {
	case kalamsql.CodePermissionDenied:
		return CodeUnauthorized, ae.Message
	case kalamsql.CodeNotFound:
		return CodeNotFound, ae.Message
	case kalamsql.CodeLiveUnsupported:
		return CodeUnsupported, ae.Message
	case kalamsql.CodeInvalidSQL, kalamsql.CodeInvalidInput:
		return CodeInvalidSQL, ae.Message
	}
	return CodeSubscriptionFailed, ae.Message
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
