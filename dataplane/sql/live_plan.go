package sql

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/jsonstr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Live-query error codes (WebSocket protocol, reference §4). The SQL layer
// returns them from PlanLive so the WebSocket layer can pass them through.
const (
	CodeLiveUnsupported = "UNSUPPORTED"
	CodeLiveInvalidSQL  = "INVALID_SQL"
)

// LivePlan is a compiled live query: SELECT cols FROM one table [WHERE
// cond], resolved for one session. It is immutable and shared by every
// subscription with the same text and session shape.
//
// The WHERE clause is rewritten once, and that same SQLite text is used
// for the initial data (a SELECT over the storage vtab, with primary-key
// pushdown), for resume replay and for every change event (one-row
// evaluation in a LiveMatcher). Both vtabs declare identical columns and
// hand SQLite identical values, so a row matches in the initial data
// exactly when the same row would match as a change.
type LivePlan struct {
	// Table is the table definition the plan was built against.
	Table *catalog.Table
	// SQL is the subscription text as given.
	SQL string
	// Where is the raw condition text ("" when absent).
	Where string
	// Schema describes the encoded row objects: the projected columns, the
	// primary key when not projected, then _seq.
	Schema []Field
	// FilterKey identifies the compiled condition (table, schema version,
	// rewritten text): plans with equal keys match exactly the same rows,
	// so a change is evaluated once per key. "" when there is no WHERE.
	FilterKey string
	// Group and Scope locate the subscriber's rows: the user group and
	// user scope for USER/STREAM tables, the shared group for SHARED ones.
	Group   uint16
	UserID  string
	PerUser bool

	sess    Session
	vtab    string
	cols    []int    // table positions of the encoded columns
	keyJSON [][]byte // `"name":` for each encoded column
	pkCol   int      // index into cols of the primary key, -1 without one
	// selectAll marks a SELECT * subscription: its change rows carry
	// _deleted, as the original project's do (EncodeChange).
	selectAll bool
	posByID   []int32
	filterSQL string // SELECT 1 FROM "ns.t" ... WHERE cond (one-row vtab)
	firstPage string // initial data, first page
	nextPage  string // initial data, pages after ?1
	lastRows  string // the newest N rows by _seq

	// proj supplies columns added after a row was stored.
	proj *catalog.Projection
	// eq is the condition's indexable equality (live_eq.go).
	eq liveEq
	// clock is set when the condition reads the clock (live_eq.go).
	clock bool
	// cond is the typed condition (live_fast.go), nil when no part of it
	// is typed; condCols are the table positions it reads.
	cond     *expr.Node
	condCols []int
}

// ProjectionKey identifies how rows are encoded: plans with equal keys
// produce identical row objects for the same row.
func (p *LivePlan) ProjectionKey() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d", p.Table.ID, p.Table.SchemaVersion)
	for _, c := range p.cols {
		fmt.Fprintf(&b, ",%d", c)
	}
	return b.String()
}

// HasFilter reports whether the plan has a WHERE clause.
func (p *LivePlan) HasFilter() bool { return p.filterSQL != "" }

// HasPK reports whether rows are identified by a primary key.
func (p *LivePlan) HasPK() bool { return p.pkCol >= 0 }

// liveError builds a live-query planning error with a protocol code.
func liveError(code, format string, args ...any) *Error {
	return errf(code, http.StatusBadRequest, format, args...)
}

// PlanLive compiles a subscription query for sess. Errors are *Error with
// the WebSocket codes INVALID_SQL, NOT_FOUND, UNAUTHORIZED (as
// PERMISSION_DENIED) or UNSUPPORTED. On a replicated node a NOT_FOUND is
// answered only once the node has caught up with the meta group (a table
// just created through another replica may not be applied here yet);
// ctx bounds that wait.
func (e *Engine) PlanLive(ctx context.Context, sess Session, text string) (*LivePlan, error) {
	var p *LivePlan
	err := e.caughtUp(ctx, func() (err error) {
		p, err = e.planLive(sess, text)
		return err
	})
	return p, err
}

// planLive is PlanLive without the catch-up.
func (e *Engine) planLive(sess Session, text string) (*LivePlan, error) {
	q, err := parse.ParseLiveQuery(text)
	if err != nil {
		ae := AsError(err)
		if ae.Code == CodeInvalidInput {
			ae.Code = CodeLiveInvalidSQL
		}
		return nil, ae
	}
	ns := q.Table.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	if ns == "" {
		ns = "default"
	}
	if ns == "system" {
		return nil, liveError(CodeLiveUnsupported, "system tables are computed views and cannot be subscribed to")
	}
	t, ok := e.cat.Table(ns, q.Table.Name)
	if !ok {
		return nil, notFound("table '%s.%s' not found", ns, q.Table.Name)
	}
	if err := canRead(sess.Role, t); err != nil {
		return nil, err
	}
	sess.Namespace = ns
	p := &LivePlan{Table: t, SQL: text, Where: q.Where, sess: sess, vtab: t.QualifiedName(), pkCol: -1, PerUser: t.Type.PerUser()}
	if p.PerUser {
		p.Group, p.UserID = keys.UserGroup(sess.UserID), sess.UserID
	} else {
		p.Group = keys.GroupShared
	}
	pk := t.PKIndex()
	if q.Columns == nil {
		p.selectAll = true
		for i := range t.Columns {
			if !t.Columns[i].Hidden {
				p.cols = append(p.cols, i)
			}
		}
		// A hidden row identity still identifies rows in change events.
		if pk >= 0 && t.Columns[pk].Hidden {
			p.cols = append(p.cols, pk)
		}
	} else {
		seen := map[int]bool{}
		for _, name := range q.Columns {
			if n := strings.ToLower(name); n == "_seq" || n == "_deleted" {
				return nil, liveError(CodeLiveInvalidSQL, "%s may not be selected in a live query: every row carries _seq", name)
			}
			i := t.ColumnIndex(name)
			if i < 0 {
				return nil, notFound("column '%s' not found in table %s", name, t.QualifiedName())
			}
			if seen[i] {
				return nil, liveError(CodeLiveInvalidSQL, "column '%s' selected more than once", name)
			}
			seen[i] = true
			p.cols = append(p.cols, i)
		}
		// The primary key identifies rows in change events: always send it.
		if pk >= 0 && !seen[pk] {
			p.cols = append(p.cols, pk)
		}
	}
	for j, i := range p.cols {
		c := t.Columns[i]
		if i == pk {
			p.pkCol = j
		}
		p.keyJSON = append(p.keyJSON, append(jsonstr.Append(nil, c.Name), ':'))
		p.Schema = append(p.Schema, Field{Name: c.Name, DataType: c.Type.String(), Index: j})
	}
	p.Schema = append(p.Schema, Field{Name: "_seq", DataType: datatype.Type{Kind: datatype.BigInt}.String(), Index: len(p.cols)})
	maxID := uint32(0)
	for _, c := range t.Columns {
		maxID = max(maxID, c.ID)
	}
	p.posByID = make([]int32, maxID+1)
	for i := range p.posByID {
		p.posByID[i] = -1
	}
	for i, c := range t.Columns {
		p.posByID[c.ID] = int32(i)
	}
	p.proj = catalog.NewProjection(t)
	if err := e.compileLive(p); err != nil {
		return nil, err
	}
	if p.Where != "" {
		// One lexing serves both analyses of the condition; a text that
		// does not lex gets neither (SQLite reports the error).
		if toks, err := parse.Lex(p.Where); err == nil {
			p.scanClock(toks)
			p.compileCond(toks)
		}
	}
	// Prepare the page statement now, so an unknown column or function is
	// an INVALID_SQL answer to subscribe rather than a failed first batch.
	err = e.pool.with(context.Background(), func(cs *connState) error {
		if err := cs.ensureVTab(context.Background(), p.vtab, t); err != nil {
			return err
		}
		_, err := cs.prepare(context.Background(), p.firstPage)
		return err
	})
	if err != nil {
		return nil, liveError(CodeLiveInvalidSQL, "%s", cleanSQLiteMessage(err.Error()))
	}
	return p, nil
}

// compileLive rewrites the statements a plan runs. The user's condition is
// inserted verbatim in parentheses: parse.ParseLiveQuery guarantees it is
// one balanced expression without subqueries.
func (e *Engine) compileLive(p *LivePlan) error {
	t := p.Table
	from := quoteIdent(t.Namespace) + "." + quoteIdent(t.Name)
	var sel strings.Builder
	sel.WriteString("SELECT ")
	for _, i := range p.cols {
		sel.WriteString(quoteIdent(t.Columns[i].Name))
		sel.WriteString(", ")
	}
	sel.WriteString("_seq FROM ")
	sel.WriteString(from)
	cond := "(true)"
	if p.Where != "" {
		cond = "(" + p.Where + ")"
	}
	order := "_seq"
	if pk := t.PKIndex(); pk >= 0 {
		order = quoteIdent(t.Columns[pk].Name)
	}
	rewrite := func(q string) (string, error) {
		r := newResolver(e, &p.sess)
		rw, err := parse.Rewrite(q, r, parse.RewriteOptions{CurrentUser: p.sess.UserID, CurrentRole: string(p.sess.Role)})
		if err != nil {
			ae := AsError(err)
			if ae.Code == CodeInvalidInput {
				ae.Code = CodeLiveInvalidSQL
			}
			return "", ae
		}
		if len(r.tables) != 1 || len(r.views) != 0 {
			return "", liveError(CodeLiveUnsupported, "a live query reads exactly one table")
		}
		if rw.NumParams > 0 {
			return "", liveError(CodeLiveInvalidSQL, "parameters ($N) are not supported in live queries")
		}
		return rw.SQL, nil
	}
	var err error
	if p.Where != "" {
		if p.filterSQL, err = rewrite("SELECT 1 FROM " + from + " WHERE " + cond); err != nil {
			return err
		}
		p.FilterKey = fmt.Sprintf("%d/%d/%s", t.ID, t.SchemaVersion, p.filterSQL)
	}
	base := sel.String() + " WHERE " + cond
	// LIMIT values are parameters so one prepared statement serves every
	// batch size; ?1 is the resume point of keyset pagination.
	if p.firstPage, err = rewrite(base + " ORDER BY " + order + " LIMIT 2147483647"); err != nil {
		return err
	}
	if p.nextPage, err = rewrite(base + " AND " + order + " > 0 ORDER BY " + order + " LIMIT 2147483647"); err != nil {
		return err
	}
	if p.lastRows, err = rewrite(base + " ORDER BY _seq DESC LIMIT 2147483647"); err != nil {
		return err
	}
	// Swap the placeholders for parameters after rewriting: the rewriter
	// only sees literals, so it cannot mistake them for user text.
	p.firstPage = replaceLast(p.firstPage, "LIMIT 2147483647", "LIMIT ?1")
	p.lastRows = replaceLast(p.lastRows, "LIMIT 2147483647", "LIMIT ?1")
	p.nextPage = replaceLast(p.nextPage, "LIMIT 2147483647", "LIMIT ?2")
	p.nextPage = replaceLast(p.nextPage, order+" > 0 ORDER BY", order+" > ?1 ORDER BY")
	if !strings.Contains(p.firstPage, "LIMIT ?1") || !strings.Contains(p.lastRows, "LIMIT ?1") ||
		!strings.Contains(p.nextPage, "> ?1 ORDER BY") || !strings.Contains(p.nextPage, "LIMIT ?2") {
		return errf(CodeInternal, http.StatusInternalServerError, "live query: unexpected rewrite of the page query")
	}
	return nil
}

func replaceLast(s, old, repl string) string {
	i := strings.LastIndex(s, old)
	if i < 0 {
		return s
	}
	return s[:i] + repl + s[i+len(old):]
}

// LiveRow is one encoded row of initial data or replay.
type LiveRow struct {
	// JSON is the row object: encoded columns plus "_seq" (a string).
	JSON []byte
	Seq  uint64
	// PK is the primary key's wire text ("" without a primary key), as
	// KeyPK returns it for the row's storage key.
	PK string
}

// LivePage reads up to limit rows of the plan's current result from snap,
// in primary-key order (in _seq order for tables without a primary key),
// starting after the cursor returned by the previous page (nil for the
// first page). more reports whether rows remain; next is the cursor to
// pass for the following page. The rows are read through the same SQL
// path as a SELECT, so pushdown and the cold tier apply.
func (e *Engine) LivePage(ctx context.Context, p *LivePlan, snap *pebble.Snapshot, after any, limit int) (rows []LiveRow, next any, more bool, err error) {
	q, params := p.firstPage, []any{int64(limit + 1)}
	if after != nil {
		q, params = p.nextPage, []any{after, int64(limit + 1)}
	}
	raw, err := e.liveQuery(ctx, p, snap, q, params, limit+1)
	if err != nil {
		return nil, nil, false, err
	}
	if len(raw) > limit {
		more = true
		raw = raw[:limit]
	}
	rows = make([]LiveRow, 0, len(raw))
	for _, vals := range raw {
		rows = append(rows, p.encodeValues(vals))
	}
	if len(raw) > 0 {
		last := raw[len(raw)-1]
		if p.pkCol >= 0 {
			next = last[p.pkCol]
		} else {
			next = last[len(p.cols)]
		}
	}
	return rows, next, more, nil
}

// LiveLastRows returns the newest n rows of the plan's result (by _seq),
// oldest first.
func (e *Engine) LiveLastRows(ctx context.Context, p *LivePlan, snap *pebble.Snapshot, n int) ([]LiveRow, error) {
	raw, err := e.liveQuery(ctx, p, snap, p.lastRows, []any{int64(n)}, n)
	if err != nil {
		return nil, err
	}
	rows := make([]LiveRow, len(raw))
	for i, vals := range raw {
		rows[len(raw)-1-i] = p.encodeValues(vals)
	}
	return rows, nil
}

// liveQuery runs one of the plan's statements over the given snapshot.
func (e *Engine) liveQuery(ctx context.Context, p *LivePlan, snap *pebble.Snapshot, q string, params []any, maxRows int) ([][]any, error) {
	var out [][]any
	err := e.pool.with(ctx, func(cs *connState) error {
		if err := cs.ensureVTab(ctx, p.vtab, p.Table); err != nil {
			return err
		}
		sess := p.sess
		cs.sess, cs.snap = &sess, snap
		defer func() { cs.sess, cs.snap = nil, nil }()
		var err error
		out, err = cs.queryRaw(ctx, q, params, maxRows)
		return err
	})
	return out, err
}

// encodeValues encodes one result row of a page statement: the encoded
// columns as SQLite returned them, then _seq.
func (p *LivePlan) encodeValues(vals []any) LiveRow {
	seq, _ := vals[len(p.cols)].(int64)
	b := make([]byte, 0, 32*len(p.cols)+32)
	b = append(b, '{')
	for j, i := range p.cols {
		b = append(b, p.keyJSON[j]...)
		b = appendWire(b, p.Table.Columns[i].Type, vals[j])
		b = append(b, ',')
	}
	b = appendSeq(b, uint64(seq))
	r := LiveRow{JSON: append(b, '}'), Seq: uint64(seq)}
	if p.pkCol >= 0 {
		r.PK = string(appendWire(nil, p.Table.Columns[p.cols[p.pkCol]].Type, vals[p.pkCol]))
	}
	return r
}

func appendSeq(b []byte, seq uint64) []byte {
	b = append(b, `"_seq":"`...)
	b = appendUint(b, seq)
	return append(b, '"')
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// RowEncoder encodes stored rows of one plan's table. It keeps scratch
// space, so it is not safe for concurrent use; one per goroutine.
type RowEncoder struct {
	offs  []int32
	marks []int
}

// EncodeStored appends the row object of a stored row (hot-tier encoding)
// with the given _seq. Values go through the same conversion as the vtab
// (what SQLite would return for the column) and then appendWire, so the
// object equals what the initial data would hold for the same row.
func (p *LivePlan) EncodeStored(enc *RowEncoder, dst, raw []byte, seq uint64) ([]byte, error) {
	dst, err := p.encodeStored(enc, dst, raw)
	if err != nil {
		return nil, err
	}
	dst = appendSeq(dst, seq)
	return append(dst, '}'), nil
}

// EncodeChange is EncodeStored for the row of an insert or a delete event:
// a SELECT * subscription's row also carries "_deleted" (true for a
// delete), which the original project's clients read to tell deletes
// apart. Initial data rows never do (no deleted row is ever in them).
func (p *LivePlan) EncodeChange(enc *RowEncoder, dst, raw []byte, seq uint64, deleted bool) ([]byte, error) {
	dst, err := p.encodeStored(enc, dst, raw)
	if err != nil {
		return nil, err
	}
	dst = appendSeq(p.appendDeleted(dst, deleted), seq)
	return append(dst, '}'), nil
}

// appendDeleted writes `"_deleted":v,` for a SELECT * subscription.
func (p *LivePlan) appendDeleted(dst []byte, v bool) []byte {
	switch {
	case !p.selectAll:
		return dst
	case v:
		return append(dst, `"_deleted":true,`...)
	}
	return append(dst, `"_deleted":false,`...)
}

// encodeStored writes `{"col":v,...,` and records in enc.marks where each
// column's value starts and ends (for deltas).
func (p *LivePlan) encodeStored(enc *RowEncoder, dst, raw []byte) ([]byte, error) {
	n := len(p.Table.Columns)
	if cap(enc.offs) < n {
		enc.offs = make([]int32, n)
	}
	offs := enc.offs[:n]
	h, err := rowcodec.Index(raw, p.posByID, offs)
	if err != nil {
		return nil, fmt.Errorf("while decoding a row of %s: %w", p.Table.QualifiedName(), err)
	}
	enc.marks = enc.marks[:0]
	dst = append(dst, '{')
	for j, i := range p.cols {
		typ := p.Table.Columns[i].Type
		dst = append(dst, p.keyJSON[j]...)
		start := len(dst)
		v := rowcodec.DecodeAt(raw, offs[i], true)
		if offs[i] < 0 {
			v = p.proj.Fill(i, h.SchemaVersion)
		}
		dst = appendWire(dst, typ, toSQLite(typ, v))
		enc.marks = append(enc.marks, start, len(dst))
		dst = append(dst, ',')
	}
	return dst, nil
}

// EncodeUpdate encodes an update: newRow is the full new row object and
// oldDelta holds the primary key, the old _seq and the old values of the
// encoded columns that changed (the reference's update delta).
func (p *LivePlan) EncodeUpdate(enc *RowEncoder, newRaw []byte, newSeq uint64, oldRaw []byte, oldSeq uint64) (newRow, oldDelta []byte, err error) {
	newRow, err = p.encodeStored(enc, make([]byte, 0, len(newRaw)+64), newRaw)
	if err != nil {
		return nil, nil, err
	}
	newMarks := append([]int(nil), enc.marks...)
	newRow = append(appendSeq(p.appendDeleted(newRow, false), newSeq), '}')
	oldFull, err := p.encodeStored(enc, make([]byte, 0, len(oldRaw)+64), oldRaw)
	if err != nil {
		return nil, nil, err
	}
	oldDelta = append(make([]byte, 0, 64), '{')
	for j := range p.cols {
		ov := oldFull[enc.marks[2*j]:enc.marks[2*j+1]]
		nv := newRow[newMarks[2*j]:newMarks[2*j+1]]
		if j == p.pkCol || string(ov) != string(nv) {
			oldDelta = append(oldDelta, p.keyJSON[j]...)
			oldDelta = append(oldDelta, ov...)
			oldDelta = append(oldDelta, ',')
		}
	}
	oldDelta = append(appendSeq(oldDelta, oldSeq), '}')
	return newRow, oldDelta, nil
}

// EncodeKey encodes a row identified only by its hot-tier key (a deleted
// row in resume replay: tombstones carry no values): the primary key and
// _seq.
func (p *LivePlan) EncodeKey(scopeLen int, key []byte, seq uint64) []byte {
	b := append(make([]byte, 0, 64), '{')
	if p.pkCol >= 0 && len(key) >= scopeLen {
		c := p.Table.Columns[p.cols[p.pkCol]]
		if v, ok := decodePK(c.Type, key[scopeLen:]); ok {
			b = append(b, p.keyJSON[p.pkCol]...)
			b = appendWire(b, c.Type, toSQLite(c.Type, v))
			b = append(b, ',')
		}
	}
	b = appendSeq(b, seq)
	return append(b, '}')
}

// decodePK inverts keys.EncodePK for a primary-key column of type t.
func decodePK(t datatype.Type, b []byte) (any, bool) {
	switch {
	case t.IsInteger():
		return keys.DecodeIntPK(b)
	case t.Kind == datatype.Boolean:
		if len(b) != 1 {
			return nil, false
		}
		return b[0] == 1, true
	case t.Kind == datatype.Bytes:
		return append([]byte(nil), b...), true
	}
	return string(b), true
}
