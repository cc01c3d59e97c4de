package sql

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// rowModule ("kalam_row") is a one-row virtual table whose row is held in
// Go by a LiveMatcher: USING kalam_row(<matcher id>, <table id>, <schema
// version>). It declares exactly the columns of the storage vtab (see
// connectTable in vtab.go) and returns the same values for them, so a
// live query's WHERE evaluated over it agrees with the same WHERE
// evaluated by a SELECT over the table.
var rowModule = connectModule(connectRowTable)

type rowTable struct {
	m     *LiveMatcher
	table *catalog.Table
}

var (
	rowModuleOnce sync.Once
	rowModuleErr  error
	matcherSeq    atomic.Uint64
	// matchers maps a matcher id (an argument of every kalam_row vtab) to
	// its state, as liveConns does for pool connections.
	matchers sync.Map
)

func connectRowTable(ctx vtab.Context, args []string) (vtab.Table, error) {
	if len(args) < 6 {
		return nil, fmt.Errorf("kalam_row vtab: want (matcher, table, version), got %v", args)
	}
	v, ok := matchers.Load(strings.TrimSpace(args[3]))
	if !ok {
		return nil, fmt.Errorf("kalam_row vtab: unknown matcher %s", args[3])
	}
	m := v.(*LiveMatcher)
	t, err := vtabTable(m.e.cat, "kalam_row", args[4])
	if err != nil {
		return nil, err
	}
	// Same declaration as connectTable (vtab.go): same names, same
	// declared types, same hidden _seq.
	if err := declareTable(ctx, "kalam_row", t, m.e.opts.SelectStarSystemColumns); err != nil {
		return nil, err
	}
	return &rowTable{m: m, table: t}, nil
}

func (t *rowTable) BestIndex(info *vtab.IndexInfo) error {
	for i := range info.Constraints {
		info.Constraints[i].ArgIndex = -1
	}
	info.EstimatedCost, info.EstimatedRows = 1, 1
	info.IdxFlags = vtab.IndexScanUnique
	return nil
}

func (t *rowTable) Open() (vtab.Cursor, error) { return &rowCursor{t: t}, nil }
func (t *rowTable) Disconnect() error          { return nil }
func (t *rowTable) Destroy() error             { return nil }

type rowCursor struct {
	t   *rowTable
	eof bool
}

func (c *rowCursor) Filter(int, string, []vtab.Value) error {
	m := c.t.m
	c.eof = m.cur == nil || m.curTable != c.t.table.ID
	return nil
}

func (c *rowCursor) Next() error { c.eof = true; return nil }
func (c *rowCursor) Eof() bool   { return c.eof }

func (c *rowCursor) Column(i int) (vtab.Value, error) {
	m := c.t.m
	cols := c.t.table.Columns
	if v, ok := sysColumn(i, len(cols), m.seq, false); ok {
		return v, nil
	}
	if i < 0 || i > len(cols) {
		return nil, fmt.Errorf("kalam_row vtab: column %d out of range", i)
	}
	if m.offs[i] < 0 {
		return toSQLite(cols[i].Type, m.proj.Fill(i, m.ver)), nil
	}
	return toSQLite(cols[i].Type, rowcodec.DecodeAt(m.cur, m.offs[i], true)), nil
}

func (c *rowCursor) Rowid() (int64, error) { return 1, nil }
func (c *rowCursor) Close() error          { return nil }

// maxMatcherStmts bounds the prepared conditions one matcher keeps; the
// least recently used are closed first (re-preparing costs tens of µs).
const maxMatcherStmts = 2048

// LiveMatcher evaluates live-query conditions against single rows on a
// dedicated SQLite connection. It is not safe for concurrent use: each
// dispatch goroutine owns one.
type LiveMatcher struct {
	e     *Engine
	id    string
	dc    driver.Conn
	vtabs map[string]vtabVersion
	stmts map[string]*list.Element // filter SQL -> element of lru
	lru   *list.List               // of *matcherStmt, most recent first
	dest  []driver.Value

	// The row under evaluation (read by rowCursor).
	cur      []byte
	curTable uint32
	seq      uint64
	offs     []int32
	// vals holds the row's values for the native evaluation (by position).
	vals []any
	// ver and proj project columns the row predates (catalog.Projection).
	ver  uint32
	proj *catalog.Projection
}

type matcherStmt struct {
	sql string
	st  driver.Stmt
}

// NewLiveMatcher opens a matcher connection. Close it when done.
func (e *Engine) NewLiveMatcher() (*LiveMatcher, error) {
	rowModuleOnce.Do(func() {
		// Registration reaches connections opened afterwards, which is all
		// matcher connections; pool connections never need the module.
		rowModuleErr = vtab.RegisterModule(e.pool.db, "kalam_row", rowModule)
	})
	if rowModuleErr != nil {
		return nil, fmt.Errorf("while registering kalam_row: %w", rowModuleErr)
	}
	dc, err := e.pool.db.Driver().Open(":memory:")
	if err != nil {
		return nil, fmt.Errorf("while opening a matcher connection: %w", err)
	}
	m := &LiveMatcher{e: e, id: "m" + strconv.FormatUint(matcherSeq.Add(1), 10), dc: dc,
		vtabs: map[string]vtabVersion{}, stmts: map[string]*list.Element{}, lru: list.New(), dest: make([]driver.Value, 1)}
	matchers.Store(m.id, m)
	// LIKE is the driver-wide like() of udf_pg.go (PostgreSQL's rules),
	// the same as on the query pool: no PRAGMA case_sensitive_like, which
	// would reinstate SQLite's built-in like().
	return m, nil
}

// Close releases the matcher's connection.
func (m *LiveMatcher) Close() {
	for e := m.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*matcherStmt).st.Close()
	}
	m.lru.Init()
	clear(m.stmts)
	matchers.Delete(m.id)
	m.dc.Close()
}

func (m *LiveMatcher) exec(ctx context.Context, q string) error {
	ex, ok := m.dc.(driver.ExecerContext)
	if !ok {
		return fmt.Errorf("sqlite driver does not support ExecContext")
	}
	_, err := ex.ExecContext(ctx, q, nil)
	return err
}

// ensureVTab declares the one-row vtab for t, replacing a declaration for
// an older version or a dropped table of the same name.
func (m *LiveMatcher) ensureVTab(ctx context.Context, name string, t *catalog.Table) error {
	want := vtabVersion{id: t.ID, version: t.SchemaVersion}
	have, ok := m.vtabs[name]
	if ok && have == want {
		return nil
	}
	if ok {
		// Statements compiled against the old declaration must go.
		m.dropStmts()
		if err := m.exec(ctx, "DROP TABLE temp."+quoteIdent(name)); err != nil {
			return fmt.Errorf("while dropping stale row vtab %s: %w", name, err)
		}
		delete(m.vtabs, name)
	}
	q := fmt.Sprintf("CREATE VIRTUAL TABLE temp.%s USING kalam_row(%s, %d, %d)", quoteIdent(name), m.id, t.ID, t.SchemaVersion)
	if err := m.exec(ctx, q); err != nil {
		return fmt.Errorf("while declaring row vtab %s: %w", name, err)
	}
	m.vtabs[name] = want
	return nil
}

func (m *LiveMatcher) dropStmts() {
	for e := m.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*matcherStmt).st.Close()
	}
	m.lru.Init()
	clear(m.stmts)
}

func (m *LiveMatcher) stmt(ctx context.Context, q string) (driver.Stmt, error) {
	if el, ok := m.stmts[q]; ok {
		m.lru.MoveToFront(el)
		return el.Value.(*matcherStmt).st, nil
	}
	pc, ok := m.dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver does not support PrepareContext")
	}
	st, err := pc.PrepareContext(ctx, q)
	if err != nil {
		return nil, sqliteError(err)
	}
	for m.lru.Len() >= maxMatcherStmts {
		old := m.lru.Back()
		ms := old.Value.(*matcherStmt)
		ms.st.Close()
		delete(m.stmts, ms.sql)
		m.lru.Remove(old)
	}
	m.stmts[q] = m.lru.PushFront(&matcherStmt{sql: q, st: st})
	return st, nil
}

// Match reports whether the stored row raw (hot-tier encoding, _seq seq)
// satisfies the plan's condition. A plan without WHERE matches every row.
// Errors are evaluation errors of the condition (SQLite runtime errors).
func (m *LiveMatcher) Match(ctx context.Context, p *LivePlan, raw []byte, seq uint64) (bool, error) {
	if p.filterSQL == "" {
		return true, nil
	}
	n := len(p.Table.Columns)
	if cap(m.offs) < n {
		m.offs = make([]int32, n)
	}
	m.offs = m.offs[:n]
	h, err := rowcodec.Index(raw, p.posByID, m.offs)
	if err != nil {
		return false, fmt.Errorf("while decoding a row of %s: %w", p.Table.QualifiedName(), err)
	}
	if p.cond != nil && liveFastEnabled {
		if cap(m.vals) < n {
			m.vals = make([]any, n)
		}
		if ok, decided := p.condMatch(m.vals[:n], raw, m.offs, h.SchemaVersion); decided {
			return ok, nil
		}
	}
	if err := m.ensureVTab(ctx, p.vtab, p.Table); err != nil {
		return false, err
	}
	st, err := m.stmt(ctx, p.filterSQL)
	if err != nil {
		return false, err
	}
	m.ver, m.proj = h.SchemaVersion, p.proj
	m.cur, m.curTable, m.seq = raw, p.Table.ID, seq
	defer func() { m.cur = nil }()
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, nil)
	if err != nil {
		return false, sqliteError(err)
	}
	err = rows.Next(m.dest)
	cerr := rows.Close()
	switch {
	case err == io.EOF:
		return false, cerr
	case err != nil:
		return false, sqliteError(err)
	}
	return true, cerr
}
