package sql

import (
	"context"
	"errors"
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Point-lookup fast path.
//
// `SELECT <columns | *> FROM <table> WHERE <pk> = <value> [AND ...] [LIMIT n]`
// is the most frequent query of an OLTP app and needs no SQL engine: it is
// answered with one Pebble get, skipping SQLite's prepare/step machinery.
//
// Invariants:
//   - The answer is identical to the SQLite path's (names, types, values);
//     TestFastPathMatchesSQLite compares both over many shapes.
//   - The condition is compiled by package expr (the one typed predicate
//     layer). It applies only when the whole condition is typed and a
//     top-level conjunct compares the key exactly in key order: integer
//     keys with integers, text keys with text. The other conjuncts are
//     evaluated on the row found by expr's evaluator; a row it cannot
//     decide goes back to SQLite (errNotFastPath). Any other shape (casts,
//     functions, UUID or timestamp keys, aliases, joins) is SQLite's.

// errNotFastPath sends a matched query back to the SQLite path.
var errNotFastPath = errors.New("not a fast-path query")

// fastPathEnabled lets tests compare against the SQLite path.
var fastPathEnabled = true

type pointQuery struct {
	table  *catalog.Table
	cols   []int    // positions; -1 = _seq
	names  []string // as the SQLite path reports them (lowercased)
	value  any
	limit0 bool
	// filter is the rest of the condition, checked on the row found
	// (nil: the key equality is the whole condition).
	filter *expr.Node
}

// compileWhere compiles the WHERE clause starting at toks[0] (the token
// after WHERE) for table t and returns the number of tokens it spans: up
// to LIMIT, GROUP, ORDER, ";" or the end at parenthesis depth 0. ok is
// false when some part of it is not typed (the caller leaves the query to
// SQLite) or a literal does not coerce (the rewriter reports it).
func compileWhere(t *catalog.Table, toks []parse.Token, params []any) (*expr.Node, int, bool) {
	depth, n := 0, 0
scan:
	for ; n < len(toks); n++ {
		switch tk := &toks[n]; {
		case tk.Kind == parse.TokEOF:
			break scan
		case tk.Kind == parse.TokOp && tk.Value == "(":
			depth++
		case tk.Kind == parse.TokOp && tk.Value == ")":
			depth--
		case depth == 0 && tk.Kind == parse.TokOp && tk.Value == ";":
			break scan
		case depth == 0 && tk.Kind == parse.TokIdent && (tk.Value == "limit" || tk.Value == "group" || tk.Value == "order"):
			break scan
		}
	}
	cond, err := expr.Compile(toks[:n], tableSchema{t}, params)
	if err != nil || expr.HasOpaque(cond) {
		return nil, 0, false
	}
	return cond, n, true
}

// pointKey finds a top-level `pk = value` conjunct of cond whose value
// compares exactly in key order (an integer for an integer key, a string
// for a TEXT key) and returns the value and the other conjuncts.
func pointKey(cond *expr.Node, pk int, typ datatype.Type) (v any, rest *expr.Node, ok bool) {
	if cond.Kind != expr.And { // the common `pk = v`, without allocating
		v, ok = keyValue(cond, pk, typ)
		return v, nil, ok
	}
	terms := expr.Conjuncts(cond)
	for i, c := range terms {
		if v, ok = keyValue(c, pk, typ); !ok {
			continue
		}
		others := append(terms[:i:i], terms[i+1:]...)
		rest = others[0]
		if len(others) > 1 {
			rest = &expr.Node{Kind: expr.And, Kids: others}
		}
		return v, rest, true
	}
	return nil, nil, false
}

// keyValue is the key of a `pk = value` term that compares exactly in key
// order.
func keyValue(c *expr.Node, pk int, typ datatype.Type) (any, bool) {
	if c.Kind != expr.Cmp || c.Op != expr.Eq || c.Col != pk {
		return nil, false
	}
	switch c.Vals[0].(type) {
	case int64:
		return c.Vals[0], typ.Kind != datatype.Text
	case string:
		return c.Vals[0], typ.Kind == datatype.Text
	}
	return nil, false
}

// matchPointQuery recognises the fast-path shape in a SELECT's tokens.
func (e *Engine) matchPointQuery(sess *Session, toks []parse.Token, params []any) (*pointQuery, bool) {
	if !fastPathEnabled || len(toks) < 8 {
		return nil, false
	}
	i := 0
	next := func() parse.Token { t := toks[i]; i++; return t }
	isKW := func(t parse.Token, kw string) bool { return t.Kind == parse.TokIdent && t.Value == kw }
	isOp := func(t parse.Token, op string) bool { return t.Kind == parse.TokOp && t.Value == op }
	if !isKW(next(), "select") {
		return nil, false
	}
	var sel []parse.Token
	star := false
	if isOp(toks[i], "*") {
		star = true
		i++
	} else {
		for {
			t := next()
			if t.Kind != parse.TokIdent {
				return nil, false
			}
			sel = append(sel, t)
			if isOp(toks[i], ",") {
				i++
				continue
			}
			break
		}
	}
	if !isKW(next(), "from") {
		return nil, false
	}
	t1 := next()
	if t1.Kind != parse.TokIdent {
		return nil, false
	}
	ns, name := "", t1.Value
	if isOp(toks[i], ".") {
		i++
		t2 := next()
		if t2.Kind != parse.TokIdent {
			return nil, false
		}
		ns, name = t1.Value, t2.Value
	}
	if ns == "" {
		ns = sess.Namespace
	}
	t, ok := e.cat.Table(ns, name)
	if !ok || t.PrimaryKey == "" || t.Type == catalog.TableStream || readsAllUsers(sess, t) {
		return nil, false // STREAM rows expire by TTL: the cursor hides them
	}
	pk := t.Columns[t.PKIndex()]
	switch pk.Type.Kind {
	case datatype.SmallInt, datatype.Int, datatype.BigInt, datatype.Text:
	default:
		return nil, false
	}
	if !isKW(next(), "where") {
		return nil, false
	}
	cond, n, ok := compileWhere(t, toks[i:], params)
	if !ok {
		return nil, false
	}
	i += n
	q := &pointQuery{table: t}
	if q.value, q.filter, ok = pointKey(cond, t.PKIndex(), pk.Type); !ok {
		return nil, false
	}
	if isKW(toks[i], "limit") {
		i++
		l := next()
		n, err := strconv.ParseInt(l.Text, 10, 64)
		if l.Kind != parse.TokNumber || err != nil || n < 0 {
			return nil, false
		}
		q.limit0 = n == 0
	}
	if isOp(toks[i], ";") {
		i++
	}
	if toks[i].Kind != parse.TokEOF {
		return nil, false
	}
	if star && e.opts.SelectStarSystemColumns {
		return nil, false // SQLite expands * with _seq and _deleted
	}
	if star {
		for p, c := range t.Columns {
			if !c.Hidden {
				q.cols, q.names = append(q.cols, p), append(q.names, c.Name)
			}
		}
	} else {
		for _, s := range sel {
			p := t.ColumnIndex(s.Value)
			if s.Value == "_seq" {
				p = -1
			} else if p < 0 {
				return nil, false // let SQLite report the unknown column
			}
			q.cols, q.names = append(q.cols, p), append(q.names, s.Value)
		}
	}
	return q, true
}

// runPointQuery answers a matched point query through the read path's
// point get: without cold segments one get needs no snapshot (a single key
// read is atomic on its own); with them, the hot get and the cold lookup
// read one snapshot, so a flush in between cannot hide the row.
func (e *Engine) runPointQuery(sess *Session, q *pointQuery) (*Result, error) {
	if err := canRead(sess.Role, q.table); err != nil {
		return nil, err
	}
	res := &Result{Schema: make([]Field, len(q.cols))}
	for i, p := range q.cols {
		dt := "BIGINT"
		if p >= 0 {
			dt = q.table.Columns[p].Type.String()
		}
		res.Schema[i] = Field{Name: q.names[i], DataType: dt, Index: i}
	}
	if q.limit0 {
		return res, nil
	}
	pk, err := keys.EncodePK(q.value)
	if err != nil {
		return res, nil
	}
	ctx := context.Background()
	src, err := e.readSource(ctx, e.db, sess, q.table)
	if err != nil {
		return nil, err
	}
	if !src.Cold.Empty() {
		snap := e.db.NewSnapshot()
		defer snap.Close()
		if src, err = e.readSource(ctx, snap, sess, q.table); err != nil {
			return nil, err
		}
	}
	e.stats.pointGets.Add(1)
	found, ok, err := src.Get(ctx, pk, q.value, nil)
	if err != nil || !ok {
		return res, err
	}
	e.stats.rowsRead.Add(1)
	t := q.table
	pr := pointRow{t: t, found: found}
	var offs []int32 // hot: rowcodec.Index offsets by position (kept apart: it stays on the stack)
	if found.Hot() {
		offs = make([]int32, len(t.Columns))
		posByID := make([]int32, t.NextColumnID+1)
		for i := range posByID {
			posByID[i] = -1
		}
		for i, c := range t.Columns {
			if int(c.ID) < len(posByID) {
				posByID[c.ID] = int32(i)
			}
		}
		if pr.h, err = rowcodec.Index(found.Value, posByID, offs); err != nil {
			return nil, err
		}
	}
	if q.filter != nil {
		vals := make([]any, len(t.Columns))
		for _, p := range expr.Columns(q.filter, nil) {
			if vals[p], err = pr.value(p, offs); err != nil {
				return nil, err
			}
		}
		match, decided := expr.Match(q.filter, vals)
		if !decided {
			return nil, errNotFastPath
		}
		if !match {
			return res, nil
		}
	}
	row := make([]any, len(q.cols))
	for i, p := range q.cols {
		v, err := pr.value(p, offs)
		if err != nil {
			return nil, err
		}
		if p >= 0 {
			v = wireValue(t.Columns[p].Type, true, v)
		}
		row[i] = v
	}
	res.Rows, res.RowCount = [][]any{row}, 1
	return res, nil
}

// pointRow is the row a point lookup found, hot or cold.
type pointRow struct {
	t     *catalog.Table
	found read.Row
	h     rowcodec.Header
}

// value reads the column at position p (-1: _seq) as SQLite sees it; offs
// are the hot row's rowcodec.Index offsets by position.
func (r *pointRow) value(p int, offs []int32) (any, error) {
	t := r.t
	if r.found.Hot() {
		if p < 0 {
			return strconv.FormatUint(r.h.Seq, 10), nil
		}
		if offs[p] < 0 {
			// A column added after the row was stored (rare: projected).
			return toSQLite(t.Columns[p].Type, catalog.NewProjection(t).Fill(p, r.h.SchemaVersion)), nil
		}
		return toSQLite(t.Columns[p].Type, rowcodec.DecodeAt(r.found.Value, offs[p], false)), nil
	}
	f, i := r.found.File, r.found.Index
	if p < 0 {
		return strconv.FormatUint(f.Seq(i), 10), nil
	}
	if ci := f.ColumnIndex(t.Columns[p].ID); ci >= 0 {
		v, err := f.ValueErr(i, ci)
		return toSQLite(t.Columns[p].Type, v), err
	}
	return toSQLite(t.Columns[p].Type, catalog.NewProjection(t).Fill(p, f.Meta.SchemaVersion)), nil
}
