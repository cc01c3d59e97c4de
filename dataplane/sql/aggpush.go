package sql

import (
	"cmp"
	"encoding/json"
	"strconv"
	"sync/atomic"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
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
//     predicates comparing integer columns with integers and TEXT columns
//     with strings. GROUP BY of one column, ORDER BY its key and LIMIT
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

// aggSpec is one select-list item; col is a column position (-1 for *).
type aggSpec struct {
	kind aggKind
	col  int
	name string
}

// aggPred is `column op value` with value an int64 or a string.
type aggPred struct {
	col int
	op  string
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
		i++
		for {
			c := toks[i]
			if c.Kind != parse.TokIdent {
				return nil, false
			}
			col := t.ColumnIndex(c.Value)
			if col < 0 {
				return nil, false
			}
			i++
			ct := t.Columns[col].Type
			if isKW(toks[i], "between") {
				lo, n, ok := aggLiteral(toks[i+1:], params, ct)
				if !ok || !isKW(toks[i+1+n], "and") {
					return nil, false
				}
				i += 2 + n
				hi, n2, ok := aggLiteral(toks[i:], params, ct)
				if !ok {
					return nil, false
				}
				i += n2
				q.preds = append(q.preds, aggPred{col, ">=", lo}, aggPred{col, "<=", hi})
			} else {
				op := toks[i]
				if op.Kind != parse.TokOp {
					return nil, false
				}
				switch op.Value {
				case "=", "==", "<", "<=", ">", ">=":
				default:
					return nil, false
				}
				v, n, ok := aggLiteral(toks[i+1:], params, ct)
				if !ok {
					return nil, false
				}
				i += 1 + n
				q.preds = append(q.preds, aggPred{col, op.Value, v})
			}
			if isKW(toks[i], "and") {
				i++
				continue
			}
			break
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

// aggLiteral reads a comparison value for a column of type ct: an integer
// (optionally negated) or integer parameter for integer columns, a string
// or string parameter for TEXT columns. n is the number of tokens used.
func aggLiteral(toks []parse.Token, params []any, ct datatype.Type) (v any, n int, ok bool) {
	neg := false
	if toks[0].Kind == parse.TokOp && toks[0].Value == "-" {
		neg, n = true, 1
	}
	t := toks[n]
	n++
	switch t.Kind {
	case parse.TokNumber:
		x, err := strconv.ParseInt(t.Text, 10, 64)
		if err != nil {
			return nil, 0, false
		}
		if neg {
			x = -x
		}
		v = x
	case parse.TokString:
		if neg {
			return nil, 0, false
		}
		v = t.Value
	case parse.TokParam:
		if neg {
			return nil, 0, false
		}
		k, err := strconv.Atoi(t.Value)
		if err != nil || k < 1 || k > len(params) {
			return nil, 0, false
		}
		switch p := params[k-1].(type) {
		case json.Number:
			x, err := p.Int64()
			if err != nil {
				return nil, 0, false
			}
			v = x
		case int64, string:
			v = p
		default:
			return nil, 0, false
		}
	default:
		return nil, 0, false
	}
	// A literal followed by an operator (`= 5 * 2`) is an expression.
	if nt := toks[n]; nt.Kind == parse.TokOp && nt.Value != ";" {
		return nil, 0, false
	}
	switch v.(type) {
	case int64:
		ok = ct.IsInteger()
	case string:
		ok = ct.Kind == datatype.Text
	}
	return v, n, ok
}

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
// (after toSQLite). sure=false means the types differ: the caller gives up.
func (p aggPred) match(v any) (ok, sure bool) {
	switch x := v.(type) {
	case nil:
		return false, true
	case int64:
		w, isInt := p.v.(int64)
		if !isInt {
			return false, false
		}
		return cmpOp(p.op, cmp.Compare(x, w)), true
	case string:
		w, isStr := p.v.(string)
		if !isStr {
			return false, false
		}
		return cmpOp(p.op, cmp.Compare(x, w)), true
	}
	return false, false
}

func cmpOp(op string, c int) bool {
	switch op {
	case "=", "==":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}
