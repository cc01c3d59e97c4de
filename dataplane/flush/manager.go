// Package flush runs the cold tier: it moves hot rows into Parquet
// segments (flush), merges a scope's segments (compaction), evicts expired
// STREAM rows, deletes orphan objects, and records all of it as jobs in
// the catalog (system.jobs). It also serves the SQL layer the committed
// cold view of a scope.
//
// Invariants (see also packages cold and engine, cold.go):
//   - Commit protocol: write segment objects, then a new immutable
//     manifest version, then propose engine.ColdCommit in the scope's data
//     group; that command atomically moves the pointer (compare-and-set on
//     its version) and deletes the flushed hot rows whose _seq did not
//     change. A crash before the commit leaves the old state plus orphans;
//     after it, the new state. Rows are never lost or duplicated.
//   - One flush or compaction per scope at a time (scope locks); the
//     pointer CAS makes that a performance rule, not a correctness one.
//   - Every goroutine is started by Start and stopped by Close.
package flush

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/defaults"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// Options tune the cold tier.
type Options struct {
	// DataDir resolves relative filesystem base directories.
	DataDir string
	// LocalBase is the base directory of the built-in 'local' storage.
	LocalBase string
	// Tick is how often the scheduler checks flush policies.
	Tick time.Duration
	// Retry bounds every remote storage call; ConnectTimeout connection setup.
	Retry          objstore.RetryPolicy
	ConnectTimeout time.Duration
	// JobAttempts is how often a job retries a failing scope (with
	// JobBackoff, doubling) before it fails visibly.
	JobAttempts int
	JobBackoff  time.Duration
	// CompactSegments triggers automatic compaction of a scope holding more
	// segments than this (0 disables).
	CompactSegments int
	// MaxRowsPerFlush caps the rows one scope flush writes; the rest
	// waits for the next flush (bounds memory).
	MaxRowsPerFlush int
	// MaxBytesPerFlush caps the bytes of hot rows (key and encoded value)
	// one scope flush or one compaction output segment is built from, so
	// that large rows do not make MaxRowsPerFlush a bound of gigabytes;
	// the rest waits for the next flush (next segment).
	MaxBytesPerFlush int64
	// StreamEvictionInterval is how often expired STREAM rows are purged.
	StreamEvictionInterval time.Duration
	// JanitorInterval and OrphanGrace drive orphan object deletion.
	JanitorInterval time.Duration
	OrphanGrace     time.Duration
	// JobRetention is how many finished job records are kept.
	JobRetention int
	// UserDeletionGrace is how long a dropped user's rows are kept before
	// the user_cleanup job purges them; UserCleanupInterval is how often
	// the scheduler looks for such users (usercleanup.go).
	UserDeletionGrace   time.Duration
	UserCleanupInterval time.Duration
	// UserCleanupNext, when set, replaces UserCleanupInterval: it returns
	// the first cleanup time after its argument (a cron schedule, UTC).
	UserCleanupNext func(after time.Time) time.Time
	// SegmentCacheBytes bounds decoded segments kept in memory.
	SegmentCacheBytes int64
	Logger            *slog.Logger
	// Cluster, when set (a replicated node), splits the cold tier's work
	// by Raft group leadership (parts.go): each group's leader flushes,
	// compacts and evicts the scopes of its own group; the meta leader
	// does the catalog-wide work (user cleanup, drop cleanups, the
	// janitor, recovery of interrupted jobs).
	Cluster *Cluster
}

// Cluster is what the cold tier needs to know of Raft leadership.
type Cluster struct {
	// Leads reports whether this node leads the Raft group replicating
	// engine group g.
	Leads func(g uint16) bool
	// ShardName names the Raft group replicating engine group g ("meta",
	// "shared", "u3"): the unit a STORAGE FLUSH is split into.
	ShardName func(g uint16) string
	// Self names this node in job records ("replica 2").
	Self string
}

// leads reports whether this node runs the cluster-wide work (the meta
// group's leader; always on a single node).
func (m *Manager) leads() bool { return m.leadsGroup(keys.GroupMeta) }

// leadsGroup reports whether this node flushes engine group g's scopes.
func (m *Manager) leadsGroup(g uint16) bool {
	return m.opts.Cluster == nil || m.opts.Cluster.Leads(g)
}

// DefaultOptions are production defaults.
func DefaultOptions() Options {
	return Options{
		Tick: 250 * time.Millisecond, Retry: objstore.DefaultRetryPolicy(), ConnectTimeout: 10 * time.Second,
		JobAttempts: 3, JobBackoff: time.Second, CompactSegments: 16, MaxRowsPerFlush: 1_000_000, MaxBytesPerFlush: 256 << 20,
		StreamEvictionInterval: 10 * time.Second, JanitorInterval: 10 * time.Minute, OrphanGrace: time.Hour,
		JobRetention: 1000, SegmentCacheBytes: 256 << 20, Logger: slog.Default(),
	}
}

// Executor is what the manager needs of the write path.
type Executor interface {
	engine.Proposer
	AddObserver(engine.Observer)
}

// Manager owns the cold tier's background work.
type Manager struct {
	db     *pebble.DB
	cat    *catalog.Cache
	exec   Executor
	opts   Options
	log    *slog.Logger
	reader *cold.Reader
	stores storeCache
	now    func() time.Time

	mu sync.Mutex
	// pending counts hot writes per scope since its last flush.
	pending map[scopeID]int64
	// lastFlush is when each table was last flushed (interval policy).
	lastFlush map[uint32]time.Time
	// mine holds the ids of unfinished jobs this process runs, which a
	// recovery after gaining leadership must not fail.
	mine sync.Map
	// active counts a table's queued and running jobs per job type;
	// queued names the one job of a type queued and not yet started.
	active map[activeKey]int
	queued map[activeKey]string
	// coldTables holds tables that have (or had) cold data (table id ->
	// struct{}); read lock-free on every scan.
	coldTables sync.Map
	scopeMu    map[scopeID]*sync.Mutex

	// onJob is told about every finished job (metrics); see SetJobObserver.
	onJob atomic.Pointer[func(j *catalog.Job)]

	// dropping holds the drop cleanups running in the background, by
	// table id (dropqueue.go).
	dropMu   sync.Mutex
	dropping map[uint32]*dropCleanup
	// dropRetry is when the meta leader may try a failed cleanup again
	// (replicated nodes; parts.go).
	dropRetry map[uint32]time.Time

	// parents holds the unfinished jobs split into per-group parts, by
	// id; partRunning the part ids queued or running here (parts.go).
	parents     map[string]*catalog.Job
	partRunning map[string]bool

	// janitorPause holds orphan deletion while backups run (janitor_pause.go).
	janitorPause janitorPause

	queue  chan *task
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	jobSeq uint64
}

type scopeID struct {
	table uint32
	user  string
}

type activeKey struct {
	table uint32
	typ   string
}

// New builds a manager; call Start to run background work.
func New(db *pebble.DB, cat *catalog.Cache, ex Executor, opts Options) *Manager {
	d := DefaultOptions()
	defaults.Positive(&opts.Tick, d.Tick)
	if opts.Retry.Attempts == 0 {
		opts.Retry = d.Retry
	}
	defaults.Positive(&opts.JobAttempts, d.JobAttempts)
	defaults.Positive(&opts.MaxRowsPerFlush, d.MaxRowsPerFlush)
	defaults.Positive(&opts.MaxBytesPerFlush, d.MaxBytesPerFlush)
	defaults.Positive(&opts.StreamEvictionInterval, d.StreamEvictionInterval)
	defaults.Positive(&opts.JanitorInterval, d.JanitorInterval)
	defaults.Positive(&opts.UserDeletionGrace, DefaultUserDeletionGrace)
	defaults.Positive(&opts.UserCleanupInterval, DefaultUserCleanupInterval)
	defaults.Positive(&opts.JobRetention, d.JobRetention)
	defaults.Ptr(&opts.Logger, slog.Default())
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		db: db, cat: cat, exec: ex, opts: opts, log: opts.Logger, reader: cold.NewReader(opts.SegmentCacheBytes),
		stores: storeCache{m: map[string]storeEntry{}}, now: time.Now,
		pending: map[scopeID]int64{}, lastFlush: map[uint32]time.Time{}, active: map[activeKey]int{}, queued: map[activeKey]string{}, dropping: map[uint32]*dropCleanup{},
		dropRetry: map[uint32]time.Time{}, parents: map[string]*catalog.Job{}, partRunning: map[string]bool{},
		scopeMu: map[scopeID]*sync.Mutex{},
		queue:   make(chan *task, 1024), ctx: ctx, cancel: cancel,
	}
	ex.AddObserver(m.observe)
	return m
}

// Reader exposes the segment reader (stats for tests and benchmarks).
func (m *Manager) Reader() *cold.Reader { return m.reader }

// Start recovers state left by a previous process and starts the worker
// and the scheduler.
func (m *Manager) Start(ctx context.Context) error {
	if err := m.recoverJobs(ctx); err != nil {
		return err
	}
	if err := m.loadParents(); err != nil {
		return err
	}
	if err := m.loadColdTables(); err != nil {
		return err
	}
	m.countPending()
	m.wg.Add(2)
	go m.worker()
	go m.scheduler()
	return nil
}

// Close stops the scheduler and waits for the running job to finish its
// current step (jobs are cancelled through their context).
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

// observe counts hot writes per scope (rows policy) and notes committed
// cold pointers. It runs on apply goroutines: it must stay cheap.
func (m *Manager) observe(cmd *engine.Command, res *engine.Result) {
	if cw := cmd.Catalog; cw != nil && cw.Op == engine.CatPurgeUser && !res.Skipped && cw.User != nil {
		// The purged record leaves the mirror (usercleanup.go).
		m.cat.DeleteUserIfDropped(cw.User.UserID)
		return
	}
	if cw := cmd.Catalog; cw != nil && cw.Op == engine.CatPutJob && cw.Job != nil {
		m.noteJob(cw.Job)
		return
	}
	if cmd.Cold != nil {
		if cmd.Cold.Pointer != nil {
			if t, _, ok := keys.ParseColdPointer(cmd.Cold.Pointer); ok {
				m.coldTables.Store(t, struct{}{})
			}
		}
		// The purged rows leave the pending counts on every replica, so
		// whichever node leads the group next sees the same backlog.
		if res.Purged > 0 && len(cmd.Cold.Purge) > 0 {
			if t, ok := keys.TableOfRow(cmd.Cold.Purge[0].Key); ok {
				id := scopeOfKey(m.cat, t, cmd.Cold.Purge[0].Key)
				m.mu.Lock()
				m.pending[id] = max(0, m.pending[id]-int64(res.Purged))
				m.mu.Unlock()
			}
		}
		return
	}
	if len(cmd.Rows) == 0 || cmd.Group == keys.GroupMeta {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range cmd.Rows {
		if w.Op == engine.OpDropTableData || len(w.Key) < 7 {
			continue
		}
		m.pending[scopeOfKey(m.cat, w.Table, w.Key)]++
	}
}

// scopeOfKey extracts the scope of a row key.
func scopeOfKey(cat *catalog.Cache, table uint32, key []byte) scopeID {
	t, ok := cat.TableByID(table)
	if !ok || !t.Type.PerUser() {
		return scopeID{table: table}
	}
	rest := key[7:]
	if i := bytes.IndexByte(rest, 0); i >= 0 {
		return scopeID{table: table, user: string(rest[:i])}
	}
	return scopeID{table: table}
}

func (m *Manager) loadColdTables() error {
	for _, g := range keys.AllDataGroups() {
		p := keys.ColdPointerPrefix(g, 0, true)
		it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			if t, _, ok := keys.ParseColdPointer(it.Key()); ok {
				m.coldTables.Store(t, struct{}{})
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return nil
}

// countPending counts hot rows per scope of tables with a flush policy,
// so the rows trigger survives restarts.
func (m *Manager) countPending() {
	for _, t := range m.cat.Tables("") {
		if t.FlushPolicy == "" || t.Type == catalog.TableStream {
			continue
		}
		for _, s := range m.hotScopes(t) {
			m.pending[scopeID{t.ID, s.user}] += s.rows
		}
	}
}

func (m *Manager) scopeLock(id scopeID) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.scopeMu[id]
	if l == nil {
		l = &sync.Mutex{}
		m.scopeMu[id] = l
	}
	return l
}

// ScopeView returns a scope's committed cold state as of snapshot r, or
// nil when the table has never had cold data (the hot-only fast path).
func (m *Manager) ScopeView(ctx context.Context, r pebble.Reader, t *catalog.Table, userID string) (*cold.View, error) {
	if t.Type == catalog.TableStream {
		return nil, nil
	}
	if _, has := m.coldTables.Load(t.ID); !has {
		return nil, nil
	}
	_, ptrKey := pointerKey(t, userID)
	p, err := engine.ReadColdPointer(r, ptrKey)
	if err != nil {
		return nil, err
	}
	v := &cold.View{Version: p.Version, Reader: m.reader, StorageID: p.StorageID}
	if p.Manifest == "" {
		return v, nil
	}
	st, _, err := m.Store(p.StorageID)
	if err != nil {
		return nil, err
	}
	v.Store = st
	if v.Manifest, err = m.reader.Manifest(ctx, st, p.StorageID, p.Manifest); err != nil {
		return nil, err
	}
	return v, nil
}

// pointerKey returns the group and manifest pointer key of a scope.
func pointerKey(t *catalog.Table, userID string) (uint16, []byte) {
	if t.Type.PerUser() {
		g := keys.UserGroup(userID)
		return g, keys.ColdPointer(g, t.ID, userID, true)
	}
	return keys.GroupShared, keys.ColdPointer(keys.GroupShared, t.ID, "", false)
}

// PointerKey is exported for the SQL layer's DML guard.
func PointerKey(t *catalog.Table, userID string) []byte {
	_, k := pointerKey(t, userID)
	return k
}

func (m *Manager) nowMs() int64 { return m.now().UnixMilli() }
