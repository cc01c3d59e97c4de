package sql

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Point-lookup fast path.
//
// `SELECT <columns | *> FROM <table> WHERE <pk> = <value> [LIMIT n]` is the
// most frequent query of an OLTP app and needs no SQL engine: it is answered
// with one Pebble get, skipping SQLite's prepare/step machinery.
//
// Invariants:
//   - The answer is identical to the SQLite path's (names, types, values);
//     TestFastPathMatchesSQLite compares both over many shapes.
//   - It only applies where the value comparison is exact in both worlds:
//     integer PKs compared with integers (or integral reals), text PKs with
//     text. Any other shape (casts, bools, strings for integer keys, UUID or
//     timestamp keys, aliases, joins) falls back to SQLite.

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
	if c := next(); c.Kind != parse.TokIdent || c.Value != pk.Name {
		return nil, false
	}
	if !isOp(next(), "=") {
		return nil, false
	}
	vt := next()
	var v any
	switch vt.Kind {
	case parse.TokNumber:
		n, err := strconv.ParseInt(vt.Text, 10, 64)
		if err != nil {
			return nil, false
		}
		v = n
	case parse.TokString:
		v = vt.Value
	case parse.TokParam:
		n, err := strconv.Atoi(vt.Value)
		if err != nil || n < 1 || n > len(params) {
			return nil, false
		}
		switch p := params[n-1].(type) {
		case json.Number:
			x, err := p.Int64()
			if err != nil {
				return nil, false
			}
			v = x
		case string, int64:
			v = p
		default:
			return nil, false
		}
	default:
		return nil, false
	}
	// Only exact comparisons: integers with integer keys, text with text.
	switch v.(type) {
	case int64:
		if pk.Type.Kind == datatype.Text {
			return nil, false
		}
	case string:
		if pk.Type.Kind != datatype.Text {
			return nil, false
		}
	}
	q := &pointQuery{table: t, value: v}
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
	row := make([]any, len(q.cols))
	if found.Hot() {
		val := found.Value
		offs := make([]int32, len(t.Columns))
		posByID := make([]int32, t.NextColumnID+1)
		for i := range posByID {
			posByID[i] = -1
		}
		for i, c := range t.Columns {
			if int(c.ID) < len(posByID) {
				posByID[c.ID] = int32(i)
			}
		}
		h, err := rowcodec.Index(val, posByID, offs)
		if err != nil {
			return nil, err
		}
		for i, p := range q.cols {
			if p < 0 {
				row[i] = strconv.FormatUint(h.Seq, 10)
				continue
			}
			v := rowcodec.DecodeAt(val, offs[p], false)
			if offs[p] < 0 {
				// A column added after the row was stored (rare: projected).
				v = catalog.NewProjection(t).Fill(p, h.SchemaVersion)
			}
			row[i] = wireValue(t.Columns[p].Type, true, toSQLite(t.Columns[p].Type, v))
		}
	} else {
		f, r := found.File, found.Index
		for i, p := range q.cols {
			if p < 0 {
				row[i] = strconv.FormatUint(f.Seq(r), 10)
				continue
			}
			var v any
			if ci := f.ColumnIndex(t.Columns[p].ID); ci < 0 {
				v = catalog.NewProjection(t).Fill(p, f.Meta.SchemaVersion)
			} else if v, err = f.ValueErr(r, ci); err != nil {
				return nil, err
			}
			row[i] = wireValue(t.Columns[p].Type, true, toSQLite(t.Columns[p].Type, v))
		}
	}
	res.Rows, res.RowCount = [][]any{row}, 1
	return res, nil
}
