package live

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// ErrClosed is returned once the manager is shutting down.
var ErrClosed = errors.New("live: shutting down")

// Manager owns live queries on one node: the subscription index, the
// dispatch workers and the registry of connections. It implements
// kalamsql.LiveRegistry.
type Manager struct {
	eng  *kalamsql.Engine
	db   *pebble.DB
	opts Options

	idx      *index
	workers  []*worker
	matchers chan *kalamsql.LiveMatcher

	planMu sync.Mutex
	plans  map[planKey]*planEntry

	mu       sync.Mutex
	conns    map[string]*Conn
	userSubs map[string]int
	// userSubBytes is what each user's subscriptions cost in the index
	// (subscriptionCost), bounded by MaxSubBytesPerUser.
	userSubBytes map[string]int64
	loading      map[*Subscription]struct{}
	// clockSubs are the subscriptions re-evaluated over time (clock.go).
	clockSubs map[*Subscription]struct{}
	outboxes  map[*Outbox]struct{} // every attached connection, authenticated or not
	detached  chan struct{}        // signalled on every Detach (Shutdown waits)

	connSeq atomic.Uint64
	closed  atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup

	// authCheck re-verifies open connections (SetAuthCheck).
	authCheck atomic.Pointer[AuthCheck]

	// overflows counts subscriptions ended with OVERFLOW (metrics).
	overflows atomic.Int64

	// budget bounds the bytes held for all connections (budget.go).
	budget queueBudget

	// inline brackets an inline dispatch (SetInlineWriter).
	inline atomic.Pointer[InlineWriter]
}

// planKey identifies a compiled plan: the text and the session shape it
// was resolved for.
type planKey struct {
	user string
	role auth.Role
	sql  string
}

// planEntry is a shared plan with its reference count.
type planEntry struct {
	key     planKey
	plan    *kalamsql.LivePlan
	projKey string
	refs    int
}

// New starts a manager: one dispatch worker per Options.Workers, each with
// its own matcher connection, plus a janitor. Register m.Observe with the
// executor and stop it with Shutdown.
func New(eng *kalamsql.Engine, db *pebble.DB, opts Options) (*Manager, error) {
	opts.fill()
	m := &Manager{eng: eng, db: db, opts: opts, idx: newIndex(), plans: map[planKey]*planEntry{},
		conns: map[string]*Conn{}, userSubs: map[string]int{}, userSubBytes: map[string]int64{}, loading: map[*Subscription]struct{}{},
		clockSubs: map[*Subscription]struct{}{},
		outboxes:  map[*Outbox]struct{}{}, detached: make(chan struct{}, 1), stop: make(chan struct{})}
	m.budget = queueBudget{m: m, limit: opts.MaxQueuedBytesTotal}
	// Matchers for subscribe-time work (resume replay), separate from the
	// workers' so a replay never waits for dispatch.
	m.matchers = make(chan *kalamsql.LiveMatcher, 2)
	cleanup := func() {
		for _, w := range m.workers {
			w.matcher.Close()
		}
		for len(m.matchers) > 0 {
			(<-m.matchers).Close()
		}
	}
	for range cap(m.matchers) {
		mt, err := eng.NewLiveMatcher()
		if err != nil {
			cleanup()
			return nil, err
		}
		m.matchers <- mt
	}
	for range opts.Workers {
		mt, err := eng.NewLiveMatcher()
		if err != nil {
			cleanup()
			return nil, err
		}
		m.workers = append(m.workers, &worker{m: m, wake: make(chan struct{}, 1), matcher: mt, out: map[*Subscription][]pendingChange{}})
	}
	for _, w := range m.workers {
		m.wg.Go(func() { w.run(m.stop) })
	}
	m.wg.Go(m.janitor)
	m.wg.Go(m.clockLoop)
	return m, nil
}

// Shutdown refuses new connections, tells every connection the server is
// going away, waits (bounded by ctx) for their handlers to detach, then
// stops the workers. The engine observer becomes a no-op.
func (m *Manager) Shutdown(ctx context.Context) {
	if m.closed.Swap(true) {
		return
	}
	m.mu.Lock()
	for o := range m.outboxes {
		o.PushControl(ErrorMessage(SubIDProtocol, CodeShutdown, "the server is shutting down"))
		o.Close(CloseGoingAway, "server shutting down")
	}
	m.mu.Unlock()
wait:
	for {
		m.mu.Lock()
		n := len(m.outboxes)
		m.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-m.detached:
		case <-ctx.Done():
			m.opts.Logger.Warn("live: connections still open at shutdown", "count", n)
			break wait
		}
	}
	close(m.stop)
	m.wg.Wait()
	for _, w := range m.workers {
		w.matcher.Close()
	}
	// Matchers still leased are closed by returnMatcher.
	for {
		select {
		case mt := <-m.matchers:
			mt.Close()
		default:
			return
		}
	}
}

// Attach reserves a connection slot for a new WebSocket; false means the
// node is shutting down or at max_connections. Detach must follow.
func (m *Manager) Attach(out *Outbox) bool {
	if m.closed.Load() {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.outboxes) >= m.opts.MaxConnections {
		return false
	}
	// Before the outbox is shared: nothing is queued yet.
	out.maxBytes = m.opts.MaxQueuedBytesPerConn
	out.budget = &m.budget
	m.outboxes[out] = struct{}{}
	return true
}

// Detach releases the slot of a closed WebSocket and whatever it still
// held against the queue budgets.
func (m *Manager) Detach(out *Outbox) {
	m.mu.Lock()
	delete(m.outboxes, out)
	m.mu.Unlock()
	out.Release()
	select {
	case m.detached <- struct{}{}:
	default:
	}
}

// Open registers a connection authenticated with the (verified) token
// claims tok, whose messages go to out. The connection is ended with
// TOKEN_EXPIRED when the token expires (at its exp claim; the verifier's
// clock-skew leeway applies only when a token is presented).
func (m *Manager) Open(tok auth.Claims, out *Outbox) (*Conn, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	c := &Conn{m: m, ID: "c" + strconv.FormatUint(m.connSeq.Add(1), 36), UserID: tok.Subject, Role: tok.Role,
		tok: tok, out: out, subs: map[string]*Subscription{}}
	c.Touch()
	m.mu.Lock()
	m.conns[c.ID] = c
	m.mu.Unlock()
	if !tok.ExpiresAt.IsZero() {
		c.expiry = time.AfterFunc(time.Until(tok.ExpiresAt), func() {
			c.kick(CodeTokenExpired, "the access token expired; log in again (or refresh) and reconnect")
		})
	}
	return c, nil
}

// AuthCheck reports whether a connection's token still belongs to an
// active user (exists, same role, not locked out, not revoked): the check
// the HTTP API makes on every request.
type AuthCheck func(tok auth.Claims) bool

// SetAuthCheck installs the check the janitor applies to every open
// connection each second, so revocations the catalog does not carry (an
// account lockout) end connections too. Call it before serving.
func (m *Manager) SetAuthCheck(f AuthCheck) { m.authCheck.Store(&f) }

// recheckAuth ends the connections whose token no longer passes the
// installed AuthCheck.
func (m *Manager) recheckAuth() {
	f := m.authCheck.Load()
	if f == nil {
		return
	}
	m.mu.Lock()
	conns := make([]*Conn, 0, len(m.conns))
	for _, c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	for _, c := range conns {
		if !c.ended.Load() && !(*f)(c.tok) {
			c.kick(CodeAuthRevoked, revokedMsg)
		}
	}
}

const revokedMsg = "the user's credentials changed, it was locked or dropped, or it logged out; log in again"

func (m *Manager) removeConn(c *Conn) {
	m.mu.Lock()
	delete(m.conns, c.ID)
	m.mu.Unlock()
}

// subscriptionOverhead is what a subscription costs in the index
// besides its SQL text and id (its Subscription, filter group slot,
// equality-index entry and connection map entry: ~880 bytes measured at
// 1M subscriptions, docs/benchmarks.md), rounded up.
const subscriptionOverhead = 1024

// subscriptionCost is what s is charged against MaxSubBytesPerUser. A
// plan shared by identical SQL is charged to each subscription: the
// bound must hold whatever the user subscribes to.
func subscriptionCost(id, sqlText string) int64 {
	return int64(subscriptionOverhead + len(id) + len(sqlText))
}

// reserveUserSub takes one of user's subscription slots and cost bytes
// of its index budget; it returns the limit that refused, if any.
func (m *Manager) reserveUserSub(user string, cost int64) (refused string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.userSubs[user] >= m.opts.MaxSubsPerUser {
		return fmt.Sprintf("at most %d subscriptions per user", m.opts.MaxSubsPerUser)
	}
	if max := int64(m.opts.MaxSubBytesPerUser); max > 0 && m.userSubBytes[user]+cost > max {
		return fmt.Sprintf("the user's subscriptions would hold more than %d bytes in the live-query index (websocket.max_subscription_bytes_per_user; each costs its SQL text plus %d bytes)", max, subscriptionOverhead)
	}
	m.userSubs[user]++
	m.userSubBytes[user] += cost
	return ""
}

func (m *Manager) releaseUserSub(user string, cost int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.userSubs[user]--; m.userSubs[user] <= 0 {
		delete(m.userSubs, user)
	}
	if m.userSubBytes[user] -= cost; m.userSubBytes[user] <= 0 {
		delete(m.userSubBytes, user)
	}
}

func (m *Manager) loadingAdd(s *Subscription) {
	m.mu.Lock()
	m.loading[s] = struct{}{}
	m.mu.Unlock()
}

func (m *Manager) unloading(s *Subscription) {
	m.mu.Lock()
	delete(m.loading, s)
	m.mu.Unlock()
}

// janitor ends subscriptions whose initial data was not fetched in time
// (each pins a storage snapshot).
func (m *Manager) janitor() {
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-tk.C:
			var late []*Subscription
			m.mu.Lock()
			for s := range m.loading {
				if s.loadMu.TryLock() {
					if s.load != nil && now.After(s.load.deadline) {
						late = append(late, s)
					}
					s.loadMu.Unlock()
				}
			}
			m.mu.Unlock()
			for _, s := range late {
				s.end(CodeBatchFetchFailed, fmt.Sprintf("the initial data was not fetched within %s (send next_batch until status is ready)", m.opts.InitialDataTimeout))
			}
			m.recheckAuth()
		}
	}
}

// plan returns a (possibly shared) compiled plan for sql in sess.
func (m *Manager) plan(ctx context.Context, sess kalamsql.Session, sql string) (*planEntry, error) {
	k := planKey{user: sess.UserID, role: sess.Role, sql: sql}
	m.planMu.Lock()
	if e := m.plans[k]; e != nil {
		if cur, ok := m.eng.Catalog().TableByID(e.plan.Table.ID); ok && cur == e.plan.Table {
			e.refs++
			m.planMu.Unlock()
			return e, nil
		}
	}
	m.planMu.Unlock()
	p, err := m.eng.PlanLive(ctx, sess, sql)
	if err != nil {
		return nil, err
	}
	e := &planEntry{key: k, plan: p, projKey: p.ProjectionKey(), refs: 1}
	m.planMu.Lock()
	m.plans[k] = e
	m.planMu.Unlock()
	return e, nil
}

func (m *Manager) releasePlan(e *planEntry) {
	m.planMu.Lock()
	defer m.planMu.Unlock()
	if e.refs--; e.refs <= 0 && m.plans[e.key] == e {
		delete(m.plans, e.key)
	}
}

// leaseMatcher borrows a subscribe-time matcher.
func (m *Manager) leaseMatcher(ctx context.Context) (*kalamsql.LiveMatcher, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	select {
	case mt := <-m.matchers:
		return mt, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *Manager) returnMatcher(mt *kalamsql.LiveMatcher) {
	if m.closed.Load() {
		mt.Close()
		return
	}
	m.matchers <- mt
}

// revoke closes the connections of a user whose tokens no longer hold:
// the user was dropped, its role changed, or its tokens were revoked
// (validAfterMs is tokens_valid_after in ms, compared with the token's
// iat_ms exactly as the HTTP API does).
func (m *Manager) revoke(user, role string, deleted bool, validAfterMs int64) {
	m.mu.Lock()
	var victims []*Conn
	for _, c := range m.conns {
		if c.UserID == user && (deleted || string(c.Role) != role || c.tok.IssuedAtMs < validAfterMs) {
			victims = append(victims, c)
		}
	}
	m.mu.Unlock()
	for _, c := range victims {
		c.kick(CodeAuthRevoked, revokedMsg)
	}
}

// Stats is a point-in-time count of live-query state.
type Stats struct {
	Connections   int // authenticated connections
	Attached      int // WebSocket connections, authenticated or not
	Subscriptions int
	// Overflowed counts subscriptions ended with OVERFLOW since start.
	Overflowed int64
	// QueuedBytes is what all connections hold against the global queue
	// budget (QueueBudget); Shed counts connections shed since start.
	QueuedBytes int64
	QueueBudget int64
	Shed        int64
}

// Stats returns current counts.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Stats{Connections: len(m.conns), Attached: len(m.outboxes), Overflowed: m.overflows.Load(),
		QueuedBytes: m.budget.used.Load(), QueueBudget: m.budget.limit, Shed: m.budget.shedConn.Load()}
	for _, n := range m.userSubs {
		st.Subscriptions += n
	}
	return st
}

// LiveSubscriptions implements kalamsql.LiveRegistry (system.live).
func (m *Manager) LiveSubscriptions() []kalamsql.LiveInfo {
	m.mu.Lock()
	conns := make([]*Conn, 0, len(m.conns))
	for _, c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	var out []kalamsql.LiveInfo
	for _, c := range conns {
		c.mu.Lock()
		subs := make([]*Subscription, 0, len(c.subs))
		for _, s := range c.subs {
			subs = append(subs, s)
		}
		c.mu.Unlock()
		for _, s := range subs {
			t := s.plan.Table
			out = append(out, kalamsql.LiveInfo{LiveID: s.liveID(), ConnectionID: c.ID, SubscriptionID: s.id,
				Namespace: t.Namespace, Table: t.Name, UserID: c.UserID, Query: s.plan.SQL, Options: s.optionsJSON(),
				Status: s.status(), CreatedAtMs: s.created, LastUpdateMs: s.lastUpdate.Load(), Changes: s.changes.Load(),
				NodeID: m.opts.NodeID, LastPingAtMs: c.lastPing.Load()})
		}
	}
	return out
}

// KillLive implements kalamsql.LiveRegistry: it ends the subscription
// "<user>-<connection>-<subscription>". User and subscription ids may
// contain '-', connection ids never do, so each split is tried.
func (m *Manager) KillLive(liveID, byUser string, admin bool) bool {
	for i := 0; i < len(liveID); i++ {
		if liveID[i] != '-' {
			continue
		}
		user, rest := liveID[:i], liveID[i+1:]
		j := strings.IndexByte(rest, '-')
		if j < 0 {
			return false
		}
		m.mu.Lock()
		c := m.conns[rest[:j]]
		m.mu.Unlock()
		if c == nil || c.UserID != user {
			continue
		}
		s := c.sub(rest[j+1:])
		if s == nil || (!admin && byUser != user) {
			return false
		}
		s.end(CodeKilled, "killed by KILL LIVE QUERY")
		return true
	}
	return false
}

// InlineWriter lets the transport write the frames of a small dispatch on
// the goroutine that committed the change (one goroutine hand-off less on
// the latency path). Begin is called before an inline dispatch pushes to
// outboxes, End after it (without dispatch locks held). End must never
// block on a client: it may only write what the socket accepts at once.
type InlineWriter struct {
	Begin func()
	End   func()
}

// SetInlineWriter installs w (call before serving).
func (m *Manager) SetInlineWriter(w InlineWriter) { m.inline.Store(&w) }
