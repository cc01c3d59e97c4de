package sql

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	sqlite "modernc.org/sqlite"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// connState is what one SQLite connection knows: which virtual tables it
// has declared, its prepared statements, and the session and snapshot of
// the statement it is running now. A connection runs one statement at a
// time (it is leased from the pool), so these fields need no lock.
type connState struct {
	id     string
	eng    *Engine
	dc     driver.Conn
	vtabs  map[string]vtabVersion // vtab name -> what it was declared from
	stmts  map[string]*cachedStmt
	sess   *Session
	snap   *pebble.Snapshot
	params []any
	// noPrefilter disables Go-side constraint checks for a statement whose
	// comparisons may use a non-BINARY collation.
	noPrefilter bool
}

type vtabVersion struct {
	id      uint32
	version uint32
	// indexes changes when the table's usable indexes do: statements
	// planned before must be re-planned (vtab_index.go).
	indexes uint32
}

const maxCachedStmts = 256

var (
	registerOnce sync.Once
	registerErr  error
	connSeq      atomic.Uint64
	// liveConns maps a connection id (an argument of every CREATE VIRTUAL
	// TABLE) to its state, so module callbacks find their connection.
	liveConns sync.Map
)

// registerSQLite installs the virtual-table modules and UDFs once per process.
func registerSQLite(db *stdsql.DB) error {
	registerOnce.Do(func() {
		if registerErr = vtab.RegisterModule(db, "kalam", tableModule); registerErr != nil {
			return
		}
		if registerErr = vtab.RegisterModule(db, "kalam_system", systemModule); registerErr != nil {
			return
		}
		registerErr = registerUDFs()
	})
	return registerErr
}

// pool hands out SQLite connections with their state.
type pool struct {
	db     *stdsql.DB
	mu     sync.Mutex
	states map[driver.Conn]*connState
	eng    *Engine
}

func newPool(eng *Engine, size int) (*pool, error) {
	_ = sqlite.Driver{}
	db, err := stdsql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := registerSQLite(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("while registering sqlite modules: %w", err)
	}
	return &pool{db: db, states: map[driver.Conn]*connState{}, eng: eng}, nil
}

// with leases a connection, runs fn with its state, and returns it.
func (p *pool) with(ctx context.Context, fn func(cs *connState) error) error {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("while leasing a sqlite connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c := dc.(driver.Conn)
		p.mu.Lock()
		cs := p.states[c]
		if cs == nil {
			cs = &connState{
				id:    strconv.FormatUint(connSeq.Add(1), 10),
				eng:   p.eng,
				dc:    c,
				vtabs: map[string]vtabVersion{},
				stmts: map[string]*cachedStmt{},
			}
			p.states[c] = cs
			liveConns.Store(cs.id, cs)
		}
		p.mu.Unlock()
		return fn(cs)
	})
}

func (p *pool) close() error {
	p.mu.Lock()
	for _, cs := range p.states {
		for _, st := range cs.stmts {
			st.Close()
		}

		liveConns.Delete(cs.id)
	}
	p.mu.Unlock()
	return p.db.Close()
}

func (cs *connState) exec(ctx context.Context, q string) error {
	ex, ok := cs.dc.(driver.ExecerContext)
	if !ok {
		return fmt.Errorf("sqlite driver does not support ExecContext")
	}
	_, err := ex.ExecContext(ctx, q, nil)
	return err
}

// cachedStmt is a prepared statement plus the result column types derived
// from its declared types (computed on first use).
type cachedStmt struct {
	driver.Stmt
	names []string
	types []datatype.Type
	typed []bool
}

// prepare returns a cached prepared statement for q.
func (cs *connState) prepare(ctx context.Context, q string) (*cachedStmt, error) {
	if st, ok := cs.stmts[q]; ok {
		return st, nil
	}
	pc, ok := cs.dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver does not support PrepareContext")
	}
	dst, err := pc.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	st := &cachedStmt{Stmt: dst}
	if len(cs.stmts) >= maxCachedStmts {
		for k, old := range cs.stmts {
			old.Close()
			delete(cs.stmts, k)
			if len(cs.stmts) < maxCachedStmts/2 {
				break
			}
		}
	}
	cs.stmts[q] = st
	return st, nil
}

// dropStmts forgets every cached statement (after schema changes).
func (cs *connState) dropStmts() {
	for k, st := range cs.stmts {
		st.Close()
		delete(cs.stmts, k)
	}
}

// ensureVTab declares the virtual table for t on this connection, replacing
// an older declaration when the table was altered or re-created.
func (cs *connState) ensureVTab(ctx context.Context, name string, t *catalog.Table) error {
	want := vtabVersion{id: t.ID, version: t.SchemaVersion, indexes: indexSignature(t)}
	have, ok := cs.vtabs[name]
	if ok && have == want {
		return nil
	}
	if ok {
		cs.dropStmts()
		if err := cs.exec(ctx, "DROP TABLE temp."+quoteIdent(name)); err != nil {
			return fmt.Errorf("while dropping stale vtab %s: %w", name, err)
		}
		delete(cs.vtabs, name)
	}
	all := 0
	if strings.HasSuffix(name, allUsersSuffix) {
		all = 1
	}
	q := fmt.Sprintf("CREATE VIRTUAL TABLE temp.%s USING kalam(%s, %d, %d, %d)", quoteIdent(name), cs.id, t.ID, t.SchemaVersion, all)
	if err := cs.exec(ctx, q); err != nil {
		return fmt.Errorf("while declaring vtab %s: %w", name, err)
	}
	cs.vtabs[name] = want
	return nil
}

// ensureSystemVTab declares a system view on this connection.
func (cs *connState) ensureSystemVTab(ctx context.Context, name, view string) error {
	if _, ok := cs.vtabs[name]; ok {
		return nil
	}
	q := fmt.Sprintf("CREATE VIRTUAL TABLE temp.%s USING kalam_system(%s, %s)", quoteIdent(name), cs.id, view)
	if err := cs.exec(ctx, q); err != nil {
		return fmt.Errorf("while declaring system view %s: %w", name, err)
	}
	cs.vtabs[name] = vtabVersion{}
	return nil
}

func quoteIdent(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

func lookupConn(id string) (*connState, error) {
	v, ok := liveConns.Load(id)
	if !ok {
		return nil, fmt.Errorf("kalam vtab: unknown connection %s", id)
	}
	return v.(*connState), nil
}
