package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Observer is told about every applied command, in apply order per group,
// after it is durable. It must not block for long: it runs on the group's
// apply goroutine (live queries hand events to their own queues).
type Observer func(cmd *Command, res *Result)

// Options configure an Executor.
type Options struct {
	// Sync makes every commit fsync the WAL before acknowledging.
	Sync bool
	// MaxBatch bounds how many queued commands one group commit applies.
	MaxBatch int
	// QueueSize is the per-group proposal queue length.
	QueueSize int
	Logger    *slog.Logger
}

// DefaultOptions returns production defaults: durable commits, group commit
// of up to 512 commands.
func DefaultOptions() Options {
	return Options{Sync: true, MaxBatch: 512, QueueSize: 4096, Logger: slog.Default()}
}

// Executor applies commands to the hot tier, one goroutine per group.
type Executor struct {
	db       *pebble.DB
	cat      *catalog.Cache
	opts     Options
	groups   map[uint16]*group
	obsMu    sync.RWMutex
	obs      []Observer
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closeMu  sync.RWMutex
	isClosed bool
}

type proposal struct {
	cmd  *Command
	res  Result
	err  error
	done chan struct{}
}

type group struct {
	id      uint16
	ch      chan *proposal
	applied uint64
	lastSeq uint64
}

// Open starts an executor over db, loading each group's state.
func Open(db *pebble.DB, cat *catalog.Cache, opts Options) (*Executor, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Executor{db: db, cat: cat, opts: opts, groups: map[uint16]*group{}, cancel: cancel}
	for _, g := range keys.AllGroups() {
		st := &group{id: g, ch: make(chan *proposal, opts.QueueSize)}
		v, closer, err := db.Get(keys.GroupState(g))
		switch err {
		case nil:
			if len(v) >= 16 {
				st.applied = binary.BigEndian.Uint64(v[0:8])
				st.lastSeq = binary.BigEndian.Uint64(v[8:16])
			}
			closer.Close()
		case pebble.ErrNotFound:
		default:
			cancel()
			return nil, fmt.Errorf("while loading state of group %d: %w", g, err)
		}
		e.groups[g] = st
	}
	for _, st := range e.groups {
		e.wg.Add(1)
		go e.run(ctx, st)
	}
	return e, nil
}

// AddObserver registers an observer of applied commands.
func (e *Executor) AddObserver(o Observer) {
	e.obsMu.Lock()
	defer e.obsMu.Unlock()
	e.obs = append(e.obs, o)
}

// AppliedIndex returns a group's durable applied index, read from storage.
func (e *Executor) AppliedIndex(g uint16) uint64 {
	v, closer, err := e.db.Get(keys.GroupState(g))
	if err != nil {
		return 0
	}
	defer closer.Close()
	return binary.BigEndian.Uint64(v[0:8])
}

// Propose applies cmd and waits until it is durable. The returned error is
// an *Error for deterministic command failures, or a storage error.
func (e *Executor) Propose(ctx context.Context, cmd *Command) (Result, error) {
	e.closeMu.RLock()
	if e.isClosed {
		e.closeMu.RUnlock()
		return Result{}, ErrClosed
	}
	st := e.groups[cmd.Group]
	if st == nil {
		e.closeMu.RUnlock()
		return Result{}, applyErr(ErrInvalid, "unknown group %d", cmd.Group)
	}
	p := &proposal{cmd: cmd, done: make(chan struct{})}
	select {
	case st.ch <- p:
	case <-ctx.Done():
		e.closeMu.RUnlock()
		return Result{}, ctx.Err()
	}
	e.closeMu.RUnlock()
	// Once queued, the command will be applied even if ctx ends: wait for it
	// so the caller never reports failure for a write that became durable.
	<-p.done
	return p.res, p.err
}

// Close stops the apply loops after draining queued proposals.
func (e *Executor) Close() {
	e.closeMu.Lock()
	if e.isClosed {
		e.closeMu.Unlock()
		return
	}
	e.isClosed = true
	e.closeMu.Unlock()
	for _, st := range e.groups {
		close(st.ch)
	}
	e.wg.Wait()
	e.cancel()
}

func (e *Executor) run(ctx context.Context, st *group) {
	defer e.wg.Done()
	pending := make([]*proposal, 0, e.opts.MaxBatch)
	for {
		p, ok := <-st.ch
		if !ok {
			return
		}
		pending = append(pending[:0], p)
	drain:
		for len(pending) < e.opts.MaxBatch {
			select {
			case p, ok := <-st.ch:
				if !ok {
					break drain
				}
				pending = append(pending, p)
			default:
				break drain
			}
		}
		e.commit(ctx, st, pending)
	}
}

// commit applies a round of proposals in one batch and one fsync.
func (e *Executor) commit(_ context.Context, st *group, ps []*proposal) {
	a := applier{db: e.db, group: st.id, lastSeq: st.lastSeq}
	if st.id == keys.GroupMeta {
		a.b = e.db.NewIndexedBatch()
	} else {
		a.b = e.db.NewBatch()
		a.overlay = map[string][]byte{}
	}
	b := a.b
	defer b.Close()
	applied := st.applied
	var catalogChanges []*proposal
	for _, p := range ps {
		before := a.lastSeq
		res, err := a.apply(p.cmd)
		if err != nil {
			// A failed command wrote nothing; it must not consume _seq values.
			a.lastSeq = before
			p.err = err
			continue
		}
		applied++
		res.Index = applied
		p.res = res
		if p.cmd.Catalog != nil {
			catalogChanges = append(catalogChanges, p)
		}
	}
	lastSeq := a.lastSeq
	var state [16]byte
	binary.BigEndian.PutUint64(state[0:8], applied)
	binary.BigEndian.PutUint64(state[8:16], lastSeq)
	err := b.Set(keys.GroupState(st.id), state[:], nil)
	if err == nil {
		wo := pebble.NoSync
		if e.opts.Sync {
			wo = pebble.Sync
		}
		err = b.Commit(wo)
	}
	if err != nil {
		err = fmt.Errorf("while committing group %d: %w", st.id, err)
		e.opts.Logger.Error("commit failed", "group", st.id, "err", err)
		for _, p := range ps {
			if p.err == nil {
				p.err = err
			}
			close(p.done)
		}
		return
	}
	st.applied, st.lastSeq = applied, lastSeq
	for _, p := range catalogChanges {
		e.installCatalog(p.cmd.Catalog, &p.res)
	}
	e.obsMu.RLock()
	obs := e.obs
	e.obsMu.RUnlock()
	for _, p := range ps {
		if p.err == nil {
			for _, o := range obs {
				o(p.cmd, &p.res)
			}
		}
		close(p.done)
	}
}

// installCatalog mirrors a durable catalog change into the cache.
func (e *Executor) installCatalog(cw *CatalogWrite, res *Result) {
	if res.Skipped {
		return
	}
	switch cw.Op {
	case CatCreateNamespace:
		e.cat.SetNamespace(cw.Namespace)
	case CatDropNamespace:
		for _, t := range res.Dropped {
			e.cat.DeleteTable(t)
		}
		e.cat.DeleteNamespace(cw.Namespace.Name)
	case CatCreateTable, CatAlterTable:
		e.cat.SetTable(res.Table)
	case CatRestoreTable:
		e.cat.SetTable(res.Table)
	case CatSetNamespaceRestoring:
		e.cat.SetNamespace(cw.Namespace)
	case CatDropTable:
		for _, t := range res.Dropped {
			e.cat.DeleteTable(t)
		}
	case CatCreateUser, CatUpdateUser:
		e.cat.SetUser(cw.User)
	}
}
