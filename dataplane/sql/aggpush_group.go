package sql

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// GROUP BY pushdown.
//
// `SELECT <key | aggregate> [AS a], ... FROM t [WHERE ...] GROUP BY key
// [ORDER BY key [ASC|DESC]] [LIMIT n]` with one key column (integer,
// timestamp, boolean or TEXT) is aggregated in Go per key value, over the
// same scan as the scalar pushdown (or the index scan, aggpush_index.go).
//
// Invariants:
//   - With ORDER BY key [DESC], groups come out in PostgreSQL's order
//     (NULL last ascending, first descending), which the rewriter also
//     gives the SQLite path (NULLS LAST/FIRST on every ORDER BY term).
//     Without ORDER BY they come out as SQLite's GROUP BY emits them (key
//     ascending, NULL first), so a LIMIT returns the same groups on both
//     paths; SQL promises no order there.
//   - No matching row gives no group (zero rows), unlike the scalar form.
//   - The key column reports its declared type (as SQLite's decltype does),
//     aggregates the dynamic type of their first non-NULL value.
//   - The server's default and maximum query limits apply as on the SQLite
//     path. Anything else (HAVING, OFFSET, several keys, expressions,
//     ORDER BY an aggregate, an alias shadowing the key) goes to SQLite.

// groupable reports whether a column can be a pushed-down GROUP BY key:
// its values are NULL, int64 or string after toSQLite, compared as SQLite
// compares them (integers numerically, TEXT by BINARY).
func groupable(t datatype.Type) bool {
	return t.IsInteger() || t.Kind == datatype.Boolean || t.Kind == datatype.Text
}

// matchGroupTail reads `[GROUP BY c [ORDER BY c|alias|n [ASC|DESC]]
// [LIMIT n]]` and checks that every bare column of the select list is the
// key. n is the number of tokens used.
func (q *aggQuery) matchGroupTail(toks []parse.Token) (n int, ok bool) {
	isKW := func(t parse.Token, kw string) bool { return t.Kind == parse.TokIdent && t.Value == kw }
	t := q.table
	i := 0
	if isKW(toks[0], "group") {
		if !isKW(toks[1], "by") || toks[2].Kind != parse.TokIdent {
			return 0, false
		}
		name := toks[2].Value
		col := t.ColumnIndex(name)
		if col < 0 || !groupable(t.Columns[col].Type) {
			return 0, false
		}
		for _, s := range q.aggs {
			if s.kind != aggKey && strings.EqualFold(s.name, name) {
				return 0, false // an alias named like the key: let SQLite resolve it
			}
		}
		q.group = col
		i = 3
	}
	for _, s := range q.aggs {
		if s.kind == aggKey && (q.group < 0 || s.col != q.group) {
			return 0, false // a bare column that is not the key
		}
	}
	if q.group < 0 {
		return i, true
	}
	if isKW(toks[i], "order") {
		q.ordered = true
		if !isKW(toks[i+1], "by") {
			return 0, false
		}
		o := toks[i+2]
		switch o.Kind {
		case parse.TokIdent:
			// SQLite resolves an ORDER BY name as a result alias first.
			alias := false
			for _, s := range q.aggs {
				if strings.EqualFold(s.name, o.Value) {
					if s.kind != aggKey {
						return 0, false
					}
					alias = true
				}
			}
			if !alias && t.ColumnIndex(o.Value) != q.group {
				return 0, false
			}
		case parse.TokNumber:
			k, err := strconv.Atoi(o.Text)
			if err != nil || k < 1 || k > len(q.aggs) || q.aggs[k-1].kind != aggKey {
				return 0, false
			}
		default:
			return 0, false
		}
		i += 3
		switch {
		case isKW(toks[i], "desc"):
			q.desc = true
			i++
		case isKW(toks[i], "asc"):
			i++
		}
	}
	if isKW(toks[i], "limit") {
		l := toks[i+1]
		if l.Kind != parse.TokNumber {
			return 0, false
		}
		v, err := strconv.ParseInt(l.Text, 10, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		q.limit = v
		i += 2
	}
	return i, true
}

// aggGroup holds the accumulators of one key value.
type aggGroup struct {
	key  any
	rows int64
	accs []acc
}

// groupOf returns the group of key k (nil, int64 or string), creating it.
func (r *aggRun) groupOf(k any) *aggGroup {
	if g, ok := r.groups[k]; ok {
		return g
	}
	if s, ok := k.(string); ok {
		k = strings.Clone(s) // row values may alias a Pebble buffer
	}
	g := &aggGroup{key: k, accs: make([]acc, len(r.accs))}
	copy(g.accs, r.accs) // the specs, zero state
	r.groups[k] = g
	return g
}

// compareKeys orders group keys: integers numerically or strings by
// bytes (a key column holds one of the two), NULL last when nullsLast,
// else first.
func compareKeys(a, b any, nullsLast bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if nullsLast {
			return 1
		}
		return -1
	case b == nil:
		if nullsLast {
			return -1
		}
		return 1
	}
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
		return -1 // numbers sort before text
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
		return 1
	}
	return 0
}

// groupResult builds the rows of a grouped query: ordered, limited, typed
// as the SQLite path types them. maxRows is the server-wide cap and
// defLimit the LIMIT added when the query has none (0: none).
func (r *aggRun) groupResult(defLimit, maxRows int) (*Result, error) {
	q := r.q
	gs := make([]*aggGroup, 0, len(r.groups))
	for _, g := range r.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *aggGroup) int {
		// PostgreSQL: NULL is the largest key (last ascending, first
		// descending); SQLite's unordered GROUP BY: the smallest.
		if q.desc {
			return compareKeys(b.key, a.key, q.ordered)
		}
		return compareKeys(a.key, b.key, q.ordered)
	})
	limit := q.limit
	truncated, capName, capN := false, "", 0
	if limit < 0 && defLimit > 0 {
		limit = int64(defLimit)
		if int64(len(gs)) > limit {
			truncated, capName, capN = true, "limits.default_query_limit (the query has no LIMIT)", defLimit
		}
	}
	if limit >= 0 && int64(len(gs)) > limit {
		gs = gs[:limit]
	}
	if maxRows > 0 && len(gs) > maxRows {
		gs = gs[:maxRows]
		truncated, capName, capN = true, "limits.max_query_limit", maxRows
	}
	keyType, keyTyped := datatype.FromSQLiteDecl(q.table.Columns[q.group].Type.SQLiteDecl())
	res := &Result{Schema: make([]Field, len(q.aggs)), Truncated: truncated} // Rows stays nil when empty, as on the SQLite path
	if truncated {
		res.Message = truncatedMessage(capN, capName)
	}
	firstKind := make([]string, len(q.aggs))
	for _, g := range gs {
		row := make([]any, len(q.aggs))
		for i := range g.accs {
			a := &g.accs[i]
			var v any
			if a.spec.kind == aggKey {
				v = g.key
				row[i] = wireValue(keyType, keyTyped, v)
			} else {
				if a.spec.kind == aggCountStar {
					a.n = g.rows
				}
				var err error
				if v, err = a.result(a.spec.col >= 0 && isTextCol(q.table, a.spec.col)); err != nil {
					return nil, err
				}
				row[i] = wireValue(datatype.Type{}, false, v)
			}
			if firstKind[i] == "" && v != nil {
				firstKind[i] = dynamicTypeName(v)
			}
		}
		res.Rows = append(res.Rows, row)
	}
	for i, s := range q.aggs {
		dt := firstKind[i]
		switch {
		case s.kind == aggKey && keyTyped:
			dt = keyType.String()
		case dt == "":
			dt = "NULL"
		}
		res.Schema[i] = Field{Name: s.name, DataType: dt, Index: i}
	}
	res.RowCount = len(res.Rows)
	return res, nil
}
