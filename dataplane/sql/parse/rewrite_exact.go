package parse

import (
	"strconv"
	"strings"
)

// Exact NUMERIC result columns ("twins").
//
// NUMERIC values travel through SQLite as doubles, so they compare, sort
// and group numerically everywhere; a double cannot carry PostgreSQL's
// display scale (sum(price) is 100.00) nor more than ~16 significant
// digits (avg(n) is 11.9259259259259259). For each result column of the
// outermost select list whose value is a numeric, Rewrite appends a
// hidden column, its twin: the same expression computed with the exact
// kalam_x_* functions (pgfn/exact.go), whose value is decimal text with
// PostgreSQL's scale. The result encoder prints the twin's text in the
// column's place and drops the twin (Rewritten.Exact).
//
// Invariants:
//   - A twin is never compared, sorted, grouped or filtered on: it is an
//     extra select-list item after the user's ones, so ORDER BY/GROUP BY
//     positions, DISTINCT and set operations are unaffected (statements
//     with DISTINCT, set operations or grouping sets get no twins).
//   - pexpr.ex exists only where every leaf is exact: integer-typed
//     expressions (exact in SQLite), numeric literals (as written),
//     DECIMAL(p,s) columns (their declared scale restored), and + - * / %
//     unary minus, ::numeric and the aggregates sum/avg/min/max/stddev/
//     variance over those. Anything else has no twin and prints as before.
//   - An aggregate over an argument of unknown type (a derived table's
//     column) gets an integers-only twin (kalam_xi_*): NULL unless every
//     input is an integer, and a NULL twin leaves the ordinary value.

// ColumnScaleResolver is implemented by a ColumnTypeResolver that knows
// the declared precision and scale of its DECIMAL(p,s) columns.
type ColumnScaleResolver interface {
	// ColumnNumeric returns the precision and scale of numeric column col
	// of virtual table vtab; ok is false when unknown.
	ColumnNumeric(vtab, col string) (precision, scale int, ok bool)
}

// ExactDoubleDigits is how many significant decimal digits a double
// carries exactly: a DECIMAL(p,s) column with p above it reaches twins
// through its stored text (ExactColumnName), not through the double.
const ExactDoubleDigits = 15

// ExactColumnName is the hidden virtual-table column holding the stored
// text of DECIMAL column col (declared for columns wider than
// ExactDoubleDigits).
func ExactColumnName(col string) string { return "__kalam_exact_" + col }

// twinMarker wraps a twin item in the token stream: the operator pass
// replaces the call by its argument's twin.
const twinMarker = "kalam_exact_twin"

// TwinColumn is the prefix of the hidden twin columns' names.
const TwinColumn = "__kalam_exact_"

// exactAggs are the aggregates with exact twins; true for those whose
// result is a numeric over any numeric or integer argument.
var exactAggs = map[string]bool{
	"sum": false, "min": false, "max": false, "avg": true,
	"stddev": true, "stddev_samp": true, "stddev_pop": true,
	"variance": true, "var_samp": true, "var_pop": true,
}

// numericAggregate reports whether aggregate name over an argument of
// type arg (argNumeric: the argument is a numeric with a twin) is a
// numeric with an exact twin: any twinned aggregate of a numeric, and
// avg/stddev/variance of integers and sum of an int8 (PostgreSQL's
// numeric results).
func numericAggregate(name string, arg pgType, argNumeric bool) bool {
	numResult, ok := exactAggs[name]
	return ok && (argNumeric || (numResult && arg.isInt()) || (name == "sum" && arg == tInt8))
}

// AggregateResult is the rewriter's rule for the result of aggregate
// name (lower case) over a column of PostgreSQL type arg (as
// ColumnTypeResolver names types): the type Rewritten.Columns reports for
// it ("timestamp", "date", "boolean" or ""), and whether the result is a
// numeric printed through an exact twin (Rewritten.Exact). Paths that
// answer aggregates without SQLite (the aggregate pushdown) type their
// results with it, so they cannot drift from the rewritten statement's.
func AggregateResult(name, arg string) (column string, numeric bool) {
	t := pgType(arg)
	return reportedType(callType(name, t)), numericAggregate(name, t, t == tNumeric)
}

// callType is the result type of name(arg): min and max keep their
// argument's type, other functions have funcTypes' or none.
func callType(name string, arg pgType) pgType {
	if name == "min" || name == "max" {
		return arg
	}
	return funcTypes[name]
}

// reportedType is the Rewritten.Columns entry of a result of type t.
func reportedType(t pgType) string {
	switch t {
	case tBool, tTimestamp, tDate:
		return string(t)
	}
	return ""
}

// numericOf returns the declared precision and scale of a numeric
// column reference.
func (c *colTyper) numericOf(toks []Token) (prec, scale int, ok bool) {
	if c == nil {
		return 0, 0, false
	}
	sr, ok := c.r.(ColumnScaleResolver)
	if !ok {
		return 0, 0, false
	}
	qual, col := "", ""
	switch len(toks) {
	case 1:
		col = toks[0].Value
	case 3, 5:
		qual, col = toks[len(toks)-3].Value, toks[len(toks)-1].Value
	default:
		return 0, 0, false
	}
	col = asciiLower(col)
	vtabs := c.vtabs
	if qual != "" {
		vtabs = c.byAlias[asciiLower(qual)]
	}
	prec, scale = -1, -1
	for _, vt := range vtabs {
		typ, _ := c.r.ColumnPGType(vt, col)
		if typ == "" {
			continue
		}
		p, s, ok := sr.ColumnNumeric(vt, col)
		if !ok || (scale >= 0 && (s != scale || p != prec)) {
			return 0, 0, false
		}
		prec, scale = p, s
	}
	return prec, scale, scale >= 0
}

// exactColumn is the twin of a DECIMAL(p,s) column reference: its stored
// text when the double cannot carry p digits and the statement lets the
// hidden column be named (colTyper.storedText), else the double.
func (c *colTyper) exactColumn(toks []Token) ([]Token, bool) {
	prec, scale, ok := c.numericOf(toks)
	if !ok {
		return nil, false
	}
	at := toks[0]
	ref := toks
	if prec > ExactDoubleDigits {
		if !c.storedText {
			return nil, false
		}
		last := toks[len(toks)-1]
		name := ExactColumnName(last.Value)
		ref = append(append([]Token{}, toks[:len(toks)-1]...), Token{Kind: TokQuotedIdent, Text: `"` + name + `"`, Value: name, Pos: last.Pos, End: last.Pos})
	}
	return call("kalam_x_col", at, ref, numTok(scale, at)), true
}

func numTok(n int, at Token) []Token { return []Token{gen(TokNumber, strconv.Itoa(n), at)} }

// exactPrimary gives a literal or a typed column reference its twin.
func (p *pgPass) exactPrimary(e pexpr) pexpr {
	if e.ex != nil || len(e.toks) == 0 {
		return e
	}
	at := e.toks[0]
	if len(e.toks) == 1 && at.Kind == TokNumber {
		switch {
		case e.typ.isInt():
			e.ex = e.toks
		case e.typ == tNumeric && !strings.HasPrefix(strings.ToLower(at.Text), "0x"):
			// As numeric input reads it: 1e3 is 1000, 1.50 keeps its scale.
			e.ex, e.exNum = call("kalam_x_cast", at, []Token{strTok(at.Text, at)}, numTok(0, at), numTok(0, at)), true
		}
		return e
	}
	if !e.simple || !isNameTok(at) {
		return e
	}
	if e.typ.isInt() {
		// An integer-typed call (count(*), length(x), ...) is exact.
		e.ex = e.toks
		return e
	}
	for k, t := range e.toks {
		if (k%2 == 0 && !isNameTok(t)) || (k%2 == 1 && !isOp(t, ".")) {
			return e
		}
	}
	switch {
	case e.typ.isInt():
		e.ex = e.toks
	case e.typ == tNumeric:
		if ex, ok := p.typer.exactColumn(e.toks); ok {
			e.ex, e.exNum = ex, true
		}
	}
	return e
}

// exactSign gives +e and -e (rewritten to r) their twins.
func exactSign(t Token, e, r pexpr) pexpr {
	if e.ex == nil {
		return r
	}
	switch {
	case t.Value == "+":
		r.ex, r.exNum = e.ex, e.exNum
	case r.typ.isInt():
		r.ex = r.toks
	case e.exNum:
		r.ex, r.exNum = call("kalam_x_neg", t, e.ex), true
	}
	return r
}

// exactCast gives e::numeric[(p,s)] (rewritten to r) its twin; casts to
// an integer type keep the (exact) integer.
func exactCast(e pexpr, name string, params []int64, r pexpr, at Token) pexpr {
	if r.typ.isInt() {
		r.ex, r.exNum = r.toks, false
		return r
	}
	if name != "numeric" && name != "decimal" {
		return r
	}
	src := e.ex
	if src == nil && e.lit {
		src = e.toks
	}
	if src == nil {
		return r
	}
	prec, scale := int64(0), int64(0)
	if len(params) > 0 {
		prec = params[0]
	}
	if len(params) > 1 {
		scale = params[1]
	}
	r.ex = call("kalam_x_cast", at, src, numTok(int(prec), at), numTok(int(scale), at))
	r.exNum = true
	return r
}

// exactExtract gives EXTRACT(field FROM x) (rewritten by fn to r) its
// twin for the fields PostgreSQL answers with a fractional numeric.
func exactExtract(fn, field string, x, r pexpr, at Token) pexpr {
	switch field {
	case "second", "seconds", "sec", "milliseconds", "millisecond", "ms", "epoch", "julian":
	default:
		return r
	}
	switch fn {
	case "kalam_extract", "kalam_extract_interval":
		r.ex = call("kalam_x_"+strings.TrimPrefix(fn, "kalam_"), at, []Token{strTok(field, at)}, x.toks)
		r.exNum = true
	}
	return r
}

// exactCombine gives l op r (rewritten to c) its twin.
func exactCombine(op string, l, r, c pexpr, at Token) pexpr {
	if l.ex == nil || r.ex == nil {
		return c
	}
	if op == "^" {
		// numeric ^ numeric is numeric power (integers alone: float8).
		if l.exNum || r.exNum {
			c.typ, c.ex, c.exNum = tNumeric, call("kalam_x_power", at, l.ex, r.ex), true
		}
		return c
	}
	name := map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}[op]
	switch {
	case name == "":
	case c.typ.isInt():
		c.ex = c.toks
	case c.typ == tNumeric && (l.exNum || r.exNum):
		c.ex, c.exNum = call("kalam_x_"+name, at, l.ex, r.ex), true
	}
	return c
}

// exactCall gives an aggregate call name(arg) (rewritten to c, "(" at j,
// ")" at end, next after any FILTER/OVER) its twin, and replaces the
// twin marker by its argument's twin.
func (p *pgPass) exactCall(i, j, end, next int, c pexpr) pexpr {
	t := p.in[i]
	if j != i+1 || t.Kind != TokIdent {
		return c
	}
	name := strings.ToLower(t.Value)
	if name == twinMarker {
		a, n, err := p.expr(j+1, end, 0)
		if err != nil || n != end || a.ex == nil {
			return pexpr{toks: []Token{gen(TokIdent, "NULL", t)}}
		}
		return pexpr{toks: a.ex}
	}
	if name == "round" || name == "trunc" {
		return p.exactRound(name, j, end, c)
	}
	if m, ok := p.exactMath(name, j, end, c); ok {
		return m
	}
	numResult, ok := exactAggs[name]
	if !ok || next != end+1 || isKw(p.at(j+1, end), "distinct") || isKw(p.at(j+1, end), "all") {
		return c
	}
	a, n, err := p.expr(j+1, end, 0)
	if err != nil || n != end {
		return c
	}
	switch {
	case a.ex != nil && numericAggregate(name, a.typ, a.exNum):
		c.typ, c.ex, c.exNum = tNumeric, call("kalam_x_"+name, t, a.ex), true
	case a.ex != nil && a.typ.isInt():
		// sum/min/max of int2/int4 (and min/max of int8) are integers.
		c.ex = c.toks
	case a.ex == nil && a.typ == tUnknown && p.derivedLiteralTwin(name, a.toks) != nil:
		c.typ, c.ex, c.exNum = tNumeric, call("kalam_x_"+name, t, p.derivedLiteralTwin(name, a.toks)), true
	case a.ex == nil && a.typ == tUnknown && numResult:
		c.ex, c.exNum = call("kalam_xi_"+name, t, a.toks), true
	}
	return c
}

// isStoredText reports whether twin ex reads a hidden stored-text column.
func isStoredText(ex []Token) bool {
	for _, t := range ex {
		if t.Kind == TokQuotedIdent && strings.HasPrefix(t.Value, ExactColumnName("")) {
			return true
		}
	}
	return false
}

// exactRound gives round(x[, n]) and trunc(x[, n]) of a numeric x (the
// call rewritten to c, "(" at j, ")" at end) its twin.
func (p *pgPass) exactRound(name string, j, end int, c pexpr) pexpr {
	comma := -1
	for k := j + 1; k < end; k++ {
		if (isOp(p.in[k], "(") || isKw(p.in[k], "case")) && p.match[k] > k {
			k = p.match[k]
			continue
		}
		if isOp(p.in[k], ",") {
			if comma >= 0 {
				return c
			}
			comma = k
		}
	}
	xEnd := end
	if comma >= 0 {
		xEnd = comma
	}
	x, next, err := p.expr(j+1, xEnd, 0)
	if err != nil || next != xEnd || !x.exNum {
		return c
	}
	places := numTok(0, p.in[j])
	if comma >= 0 {
		n, next, err := p.expr(comma+1, end, 0)
		if err != nil || next != end || !n.typ.isInt() || n.ex == nil {
			return c
		}
		places = n.ex
	}
	c.ex, c.exNum = call("kalam_x_"+name, p.in[j], x.ex, places), true
	return c
}

// noTwinWords are the keywords (outside parentheses) of statements that
// get no twins: their
// select lists do not map one to one onto result columns, or an added
// column would change which rows come back.
var noTwinWords = toSet("distinct", "union", "intersect", "except", "grouping", "rollup", "cube", "values", "lateral")

// addTwins appends a twin item for every outermost result column whose
// value is a numeric and that is not a bare column (those print with
// their declared type). It returns the new token stream and, per result
// column, the position of its twin (-1: none); exact is nil when no
// column gets one.
//
// p is the pass over toks that resultTypes reads too (its memo keeps the
// select items parsed once).
func addTwins(p *pgPass, toks []Token) ([]Token, []int) {
	typer := p.typer
	if typer == nil {
		return toks, nil
	}
	depth := 0
	for _, t := range toks {
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
		case depth == 0 && t.Kind == TokIdent:
			if _, ok := noTwinWords[t.Value]; ok {
				return toks, nil
			}
		}
	}
	items, end := p.selectItems()
	if items == nil {
		return toks, nil
	}
	// The hidden stored-text columns can be named where every name is a
	// base table's column: one SELECT, no WITH, no subquery.
	selects := 0
	for _, t := range toks {
		if isKw(t, "select") || isKw(t, "with") {
			selects++
		}
	}
	// Kept for the twinned rewrite of toks (the marker's pass).
	typer.storedText = selects == 1
	var exact []int
	var extra []Token
	for k, it := range items {
		lo, hi := p.itemExpr(it[0], it[1])
		if lo < 0 || (hi-lo > 1 && p.isPredicate(lo, hi)) {
			continue
		}
		e, next, err := p.expr(lo, hi, 0)
		if err != nil || next != hi || e.ex == nil || !e.exNum {
			continue
		}
		if e.simple && isNameTok(toks[hi-1]) && !isStoredText(e.ex) {
			// A bare column prints exactly with its declared type.
			continue
		}
		if exact == nil {
			exact = make([]int, len(items))
			for x := range exact {
				exact[x] = -1
			}
		}
		at := toks[lo]
		exact[k] = 0 // numbered below
		extra = append(extra, gen(TokOp, ",", at))
		extra = append(extra, call(twinMarker, at, toks[lo:hi])...)
		extra = append(extra, gen(TokIdent, "AS", at), gen(TokQuotedIdent, `"`+TwinColumn+strconv.Itoa(k)+`"`, at))
	}
	if exact == nil {
		return toks, nil
	}
	// Number the twins in order after the user's columns.
	next := len(items)
	for k := range exact {
		if exact[k] >= 0 {
			exact[k] = next
			next++
		}
	}
	out := make([]Token, 0, len(toks)+len(extra))
	out = append(out, toks[:end]...)
	out = append(out, extra...)
	return append(out, toks[end:]...), exact
}

// selectItems splits the outermost select list (after DISTINCT [ON (...)]
// or ALL) into items [lo, hi); end is the index just after the list.
// items is nil for a * item or no list (VALUES).
func (p *pgPass) selectItems() (items [][2]int, end int) {
	n := len(p.in)
	start := -1
	for k := 0; k < n; k++ {
		if isOp(p.in[k], "(") || isKw(p.in[k], "case") {
			if p.match[k] > k {
				k = p.match[k]
			}
			continue
		}
		if isKw(p.in[k], "select") {
			start = k + 1
			break
		}
		if isKw(p.in[k], "values") {
			return nil, 0
		}
	}
	if start < 0 {
		return nil, 0
	}
	for isKw(p.at(start, n), "distinct") || isKw(p.at(start, n), "all") {
		start++
		if isKw(p.at(start, n), "on") && isOp(p.at(start+1, n), "(") && p.match[start+1] > start {
			start = p.match[start+1] + 1
		}
	}
	lo := start
	for k := start; ; k++ {
		t := p.at(k, n)
		if (isOp(t, "(") || isKw(t, "case")) && p.match[k] > k {
			k = p.match[k]
			continue
		}
		if !(k >= n || isOp(t, ",") || isSelectListEnd(t)) {
			continue
		}
		if lo >= k || (isOp(p.in[k-1], "*") && (k-1 == lo || isOp(p.in[k-2], "."))) {
			return nil, 0
		}
		items = append(items, [2]int{lo, k})
		if !isOp(t, ",") {
			return items, k
		}
		lo = k + 1
	}
}

// itemExpr drops a select-list item's alias: the expression's range.
func (p *pgPass) itemExpr(lo, hi int) (int, int) {
	switch {
	case hi-lo >= 3 && isKw(p.in[hi-2], "as"):
		hi -= 2
	case hi-lo >= 2 && isNameTok(p.in[hi-1]) && endsExpr(p.in[hi-2]) && !isKw(p.in[hi-1], "end"):
		hi--
	}
	if lo >= hi {
		return -1, -1
	}
	return lo, hi
}
