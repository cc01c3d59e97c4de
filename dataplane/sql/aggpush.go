package sql

import (
	"sync/atomic"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Aggregate pushdown.
//
// `SELECT count(*) | count(c) | sum(c) | min(c) | max(c) | avg(c) [AS a], ...
// FROM <table> [WHERE c op v AND ...]` is answered in Go over the merged
// hot+cold scan of the caller's scope, without SQLite's per-row
// virtual-table calls (which dominate such queries). Cold segments that no
// hot row, tombstone or other segment touches are aggregated column by
// column, or from their manifest statistics when every aggregate allows it
// (count(*), count(c), min/max) and the predicate covers the whole segment.
//
// Invariants:
//   - The answer equals the SQLite path's (names, types, values, NULLs);
//     TestAggregatePushdownMatchesSQLite compares both over many shapes.
//   - Only exact shapes apply: sum/avg over integer and boolean columns,
//     min/max over integer, boolean and TEXT columns (BINARY order),
//     predicates (compiled by package expr, compared by its evaluator) a
//     conjunction of = < <= > >= and BETWEEN comparing integer columns
//     with integers and TEXT columns with strings. GROUP BY of one column, ORDER BY its key and LIMIT
//     follow aggpush_group.go; an indexed equality reads the index
//     (aggpush_index.go). Anything else (DISTINCT, expressions, casts,
//     other types, STREAM tables) goes to SQLite, and so does a sum that
//     overflows (SQLite reports the error).

// aggPushdownOff disables the pushdown (tests compare with SQLite).
var aggPushdownOff atomic.Bool

// aggPushdowns counts queries answered by the pushdown (tests).
var aggPushdowns atomic.Int64

// AggregatePushdowns reports how many queries the aggregate pushdown has
// answered in this process (tests check that a shape took it).
func AggregatePushdowns() int64 { return aggPushdowns.Load() }

// SetAggregatePushdown turns aggregate pushdown on or off for every engine
// of the process (equivalence tests force the SQLite path with it).
func SetAggregatePushdown(on bool) { aggPushdownOff.Store(!on) }

type aggKind int

const (
	aggCountStar aggKind = iota
	aggCount
	aggSum
	aggMin
	aggMax
	aggAvg
	// aggKey outputs the group key (a bare column equal to GROUP BY's).
	aggKey
)

// sqlName is the aggregate's function name ("" for the group key).
func (k aggKind) sqlName() string {
	switch k {
	case aggCountStar, aggCount:
		return "count"
	case aggSum:
		return "sum"
	case aggMin:
		return "min"
	case aggMax:
		return "max"
	case aggAvg:
		return "avg"
	}
	return ""
}

// aggSpec is one select-list item; col is a column position (-1 for *).
type aggSpec struct {
	kind aggKind
	col  int
	name string
}

// aggPred is `column op value` with value an int64 or a string; op is
// eop spelled for segment statistics.
type aggPred struct {
	col int
	op  string
	eop expr.Op
	v   any
}

type aggQuery struct {
	table *catalog.Table
	aggs  []aggSpec
	preds []aggPred
	// group is the GROUP BY column position (-1: none); see aggpush_group.go.
	group int
	// desc orders groups by descending key (ORDER BY key DESC).
	desc bool
	// ordered: the query says ORDER BY key (NULLs then sort as in
	// PostgreSQL; without it, as SQLite's GROUP BY emits them).
	ordered bool
	// limit caps the groups returned (-1: no LIMIT clause).
	limit int64
	// indexCol is the position of an equality predicate's column with a
	// ready index (-1: none): the scan reads only its index entries.
	indexCol int
}

// aggValueOK reports whether kind k's values compute identically in Go.
func aggValueOK(k aggKind, t datatype.Type) bool {
	switch k {
	case aggCountStar, aggCount:
		return true
	case aggSum, aggAvg:
		return t.IsInteger() || t.Kind == datatype.Boolean
	case aggMin, aggMax:
		return t.IsInteger() || t.Kind == datatype.Boolean || t.Kind == datatype.Text
	case aggKey:
		return groupable(t)
	}
	return false
}

// matchAggQuery recognises the pushdown shape in a SELECT (text and its tokens).
func (e *Engine) matchAggQuery(sess *Session, text string, toks []parse.Token, params []any) (*aggQuery, bool) {
	if aggPushdownOff.Load() || len(toks) < 7 {
		return nil, false
	}
	i := 0
	isKW := func(t parse.Token, kw string) bool { return t.Kind == parse.TokIdent && t.Value == kw }
	isOp := func(t parse.Token, op string) bool { return t.Kind == parse.TokOp && t.Value == op }
	if !isKW(toks[i], "select") {
		return nil, false
	}
	i++
	type rawAgg struct {
		kind aggKind
		col  string
		name string
	}
	var items []rawAgg
	for {
		fn := toks[i]
		if fn.Kind != parse.TokIdent {
			return nil, false
		}
		var it rawAgg
		if !isOp(toks[i+1], "(") {
			// A bare column: only valid as the GROUP BY key (checked below).
			it = rawAgg{kind: aggKey, col: fn.Value}
			i++
		} else {
			switch fn.Value {
			case "count":
				it.kind = aggCount
			case "sum":
				it.kind = aggSum
			case "min":
				it.kind = aggMin
			case "max":
				it.kind = aggMax
			case "avg":
				it.kind = aggAvg
			default:
				return nil, false
			}
			i += 2
			switch a := toks[i]; {
			case isOp(a, "*") && it.kind == aggCount:
				it.kind = aggCountStar
			case a.Kind == parse.TokIdent && !isKW(a, "distinct") && !isKW(a, "all"):
				it.col = a.Value
			default:
				return nil, false
			}
			i++
			if !isOp(toks[i], ")") {
				return nil, false
			}
			it.name = text[fn.Pos:toks[i].End]
			i++
		}
		if isKW(toks[i], "as") {
			a := toks[i+1]
			switch a.Kind {
			case parse.TokIdent:
				it.name = a.Text
			case parse.TokQuotedIdent:
				it.name = a.Value
			default:
				return nil, false
			}
			i += 2
		}
		items = append(items, it)
		if isOp(toks[i], ",") {
			i++
			continue
		}
		break
	}
	if !isKW(toks[i], "from") {
		return nil, false
	}
	i++
	t1 := toks[i]
	if t1.Kind != parse.TokIdent {
		return nil, false
	}
	i++
	ns, name := sess.Namespace, t1.Value
	if isOp(toks[i], ".") {
		t2 := toks[i+1]
		if t2.Kind != parse.TokIdent {
			return nil, false
		}
		ns, name = t1.Value, t2.Value
		i += 2
	}
	t, ok := e.cat.Table(ns, name)
	if !ok || t.PrimaryKey == "" || t.Type == catalog.TableStream || readsAllUsers(sess, t) {
		return nil, false // STREAM rows expire by TTL: the cursor hides them
	}
	q := &aggQuery{table: t, group: -1, limit: -1, indexCol: -1}
	for _, it := range items {
		s := aggSpec{kind: it.kind, col: -1, name: it.name}
		if it.kind != aggCountStar {
			s.col = t.ColumnIndex(it.col)
			if s.col < 0 || !aggValueOK(it.kind, t.Columns[s.col].Type) {
				return nil, false
			}
			if it.kind == aggKey && s.name == "" {
				s.name = t.Columns[s.col].Name // SQLite names a bare column by its declaration
			}
		}
		q.aggs = append(q.aggs, s)
	}
	if isKW(toks[i], "where") {
		cond, n, ok := compileWhere(t, toks[i+1:], params)
		if !ok {
			return nil, false
		}
		i += 1 + n
		if q.preds, ok = aggPreds(t, cond); !ok {
			return nil, false
		}
	}
	n, ok := q.matchGroupTail(toks[i:])
	if !ok {
		return nil, false
	}
	i += n
	if isOp(toks[i], ";") {
		i++
	}
	if toks[i].Kind != parse.TokEOF {
		return nil, false
	}
	q.indexCol = q.indexedEquality()
	return q, true
}

// aggPreds turns a compiled condition into the pushdown's predicates: a
// conjunction of `column op value` (op = < <= > >=) and `column BETWEEN a
// AND b` terms comparing an integer column with integers or a TEXT column
// with strings, the shapes whose key ranges, index lookups and segment
// statistics the pushdown can use.
func aggPreds(t *catalog.Table, cond *expr.Node) ([]aggPred, bool) {
	var preds []aggPred
	for _, c := range expr.Conjuncts(cond) {
		var ops []expr.Op
		switch {
		case c.Kind == expr.Cmp && c.Op != expr.Ne:
			ops = []expr.Op{c.Op}
		case c.Kind == expr.Between && !c.Neg && !c.Symmetric:
			ops = []expr.Op{expr.Ge, expr.Le}
		default:
			return nil, false
		}
		for i, op := range ops {
			v := c.Vals[i]
			switch v.(type) {
			case int64:
				if !c.Type.IsInteger() {
					return nil, false
				}
			case string:
				if c.Type.Kind != datatype.Text {
					return nil, false
				}
			default:
				return nil, false
			}
			preds = append(preds, aggPred{col: c.Col, op: aggOpText[op], eop: op, v: v})
		}
	}
	return preds, true
}

// aggOpText spells an operator for segment statistics (cold.MayMatch).
var aggOpText = [...]string{expr.Eq: "=", expr.Ne: "<>", expr.Lt: "<", expr.Le: "<=", expr.Gt: ">", expr.Ge: ">="}

// pkBounds turns the predicates on the primary key into an encoded key
// range [lo, hi) (nil = open) and returns the other predicates. The range
// is exact: a key inside it satisfies every primary-key predicate.
func (q *aggQuery) pkBounds() (lo, hi []byte, rest []aggPred, empty bool) {
	pk := q.table.PKIndex()
	for _, p := range q.preds {
		if p.col != pk {
			rest = append(rest, p)
			continue
		}
		k, err := keys.EncodePK(p.v)
		if err != nil {
			rest = append(rest, p)
			continue
		}
		next := append(append([]byte(nil), k...), 0) // smallest key after k
		var l, h []byte
		switch p.op {
		case "=", "==":
			l, h = k, next
		case ">":
			l = next
		case ">=":
			l = k
		case "<":
			h = k
		case "<=":
			h = next
		}
		if l != nil && (lo == nil || string(l) > string(lo)) {
			lo = l
		}
		if h != nil && (hi == nil || string(h) < string(hi)) {
			hi = h
		}
	}
	empty = lo != nil && hi != nil && string(lo) >= string(hi)
	return lo, hi, rest, empty
}

// match evaluates the predicate on a value as SQLite computes with it
// (after toSQLite), with the expr layer's comparison. sure=false means the
// types differ: the caller gives up.
func (p aggPred) match(v any) (ok, sure bool) {
	r := expr.CompareTruth(v, p.eop, p.v)
	return r == expr.True, r != expr.Undecided
}
