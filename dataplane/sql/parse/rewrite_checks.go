package parse

// PostgreSQL's errors for statements SQLite would answer:
//
//   - 21000 cardinality_violation: a scalar subquery that returns more than
//     one row. SQLite takes the first row; the operator pass wraps the
//     subquery as
//     (SELECT CASE WHEN count(*) > 1 THEN kalam_raise('21000', ...)
//     ELSE min(v) END FROM (<subquery with its column named v>)),
//     except where it returns at most one row by its form (an aggregate
//     without GROUP BY, LIMIT 1, no FROM).
//   - 42804 datatype_mismatch: WHERE or HAVING whose whole condition has a
//     known type that is not boolean (WHERE n, WHERE 1).
//   - 42803 grouping_error: a plain column of the outermost select list
//     that is neither grouped nor aggregated (checkGrouping).
//
// Invariants: a check only fires when the types and names involved are
// certain (colTyper's rules); anything it cannot decide is left alone.

import "strings"

// SQLSTATEs of the errors raised here (Error.State).
const (
	StateCardinality = "21000"
	StateGrouping    = "42803"
	StateDatatype    = "42804"
	// StateLimitNegative is invalid_row_count_in_limit_clause (LIMIT -1).
	StateLimitNegative = "2201W"
	// StateOffsetNegative is invalid_row_count_in_result_offset_clause.
	StateOffsetNegative = "2201X"
	// StateInvalidText is invalid_text_representation ('maybe'::boolean).
	StateInvalidText = "22P02"
	// StateInvalidDatetime is invalid_datetime_format ('soon'::date).
	StateInvalidDatetime = "22007"
	// StateDatetimeOverflow is datetime_field_overflow ('2020-02-30'::date).
	StateDatetimeOverflow = "22008"
)

// errState builds an error carrying PostgreSQL's SQLSTATE.
func errState(state string, pos int, format string, args ...any) *Error {
	e := newError(CodeInvalidSQL, pos, format, args...)
	e.State = state
	return e
}

// subqueryColumn is the name the scalar-subquery wrapper gives the
// subquery's column.
const subqueryColumn = `"kalam_scalar_v"`

// notScalarBefore are the words after which "(SELECT" is not a scalar
// subquery (a derived table, IN/EXISTS/ANY/ALL operand, CTE body, set
// operation operand).
var notScalarBefore = toSet("from", "join", "lateral", "in", "exists", "any", "all", "some", "as",
	"union", "intersect", "except", "distinct", "materialized")

// scalarContext reports whether the "(" at i is in expression position.
func (p *pgPass) scalarContext(i int) bool {
	if i == 0 {
		return false
	}
	prev := p.in[i-1]
	if prev.Kind == TokIdent {
		if _, ok := notScalarBefore[prev.Value]; ok {
			return false
		}
	}
	switch {
	case isOp(prev, "("):
		return p.scalarContext(i - 1)
	case isOp(prev, ","):
		return !p.inFromList(i - 1)
	}
	return true
}

// inFromList reports whether the comma at k separates FROM items.
func (p *pgPass) inFromList(k int) bool {
	for k--; k >= 0; k-- {
		t := p.in[k]
		if isOp(t, ")") && p.open[k] >= 0 {
			k = p.open[k]
			continue
		}
		if isOp(t, "(") {
			return false
		}
		if t.Kind != TokIdent {
			continue
		}
		switch t.Value {
		case "from":
			return true
		case "select", "where", "group", "having", "order", "limit", "offset", "values", "window", "by", "set":
			return false
		}
	}
	return false
}

// aggregateNames are the aggregate functions for the single-row and
// grouping rules.
var aggregateNames = toSet("count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every",
	"string_agg", "group_concat", "array_agg", "stddev", "stddev_pop", "stddev_samp", "variance",
	"var_pop", "var_samp", "total")

// hasAggregate reports an aggregate call (not a window function) at the
// top level of in[lo:hi].
func (p *pgPass) hasAggregate(lo, hi int) bool {
	found := false
	p.depth0(lo, hi, func(k int) bool {
		t := p.in[k]
		if t.Kind != TokIdent || !isOp(p.at(k+1, hi), "(") {
			return true
		}
		if _, ok := aggregateNames[t.Value]; !ok || (k > lo && isOp(p.in[k-1], ".")) {
			return true
		}
		end := p.match[k+1]
		if end < 0 || end >= hi {
			return true
		}
		after := end + 1
		if isKw(p.at(after, hi), "filter") && isOp(p.at(after+1, hi), "(") && p.match[after+1] > 0 {
			after = p.match[after+1] + 1
		}
		if !isKw(p.at(after, hi), "over") {
			found = true
			return false
		}
		return true
	})
	return found
}

// singleRow reports whether the query in[lo:hi] returns at most one row
// by its form: no set operation, and no FROM, or an aggregate select list
// without GROUP BY, or LIMIT 1.
func (p *pgPass) singleRow(lo, hi int) bool {
	if !isKw(p.in[lo], "select") {
		return false
	}
	var from, group, setop, limit1 = -1, false, false, false
	p.depth0(lo, hi, func(k int) bool {
		switch t := p.in[k]; {
		case isKw(t, "limit") && (p.at(k+1, hi).Text == "1" || p.at(k+1, hi).Text == "0"):
			limit1 = true
		case isKw(t, "from") && from < 0:
			from = k
		case isKw(t, "group"):
			group = true
		case isKw(t, "union"), isKw(t, "intersect"), isKw(t, "except"):
			setop = true
		}
		return true
	})
	if setop {
		return false
	}
	if limit1 || from < 0 {
		return true
	}
	return !group && p.hasAggregate(lo+1, from)
}

// scalarSubquery rewrites the scalar subquery "(" in[i+1:j] ")" with the
// one-row check; ok is false when it is left as it is.
func (p *pgPass) scalarSubquery(i, j int) (pexpr, bool, error) {
	lo := i + 1
	if !isKw(p.in[lo], "select") || !p.scalarContext(i) || p.singleRow(lo, j) {
		return pexpr{}, false, nil
	}
	at := p.in[i]
	inner, ref, ok, err := p.namedSubquery(lo, j, false)
	if err != nil || !ok {
		return pexpr{}, false, err
	}
	return pexpr{toks: oneRowCheck(inner, ref, at)}, true, nil
}

// oneRowCheck wraps query inner, whose one column is ref, in the scalar
// subquery that raises 21000 when it returns more than one row.
func oneRowCheck(inner []Token, ref, at Token) []Token {
	kw := func(s string) Token { return gen(TokIdent, s, at) }
	op := func(s string) Token { return gen(TokOp, s, at) }
	out := []Token{op("("), kw("SELECT"), kw("CASE"), kw("WHEN"), kw("count"), op("("), op("*"), op(")"), op(">"),
		gen(TokNumber, "1", at), kw("THEN")}
	out = append(out, call("kalam_raise", at, []Token{strTok(StateCardinality, at)},
		[]Token{strTok("more than one row returned by a subquery used as an expression", at)})...)
	out = append(out, kw("ELSE"), kw("min"), op("("), ref, op(")"), kw("END"), kw("FROM"), op("("))
	out = append(out, inner...)
	return append(out, op(")"), op(")"))
}

// namedSubquery rewrites the query in[lo:hi] with its one column named,
// and returns the name to refer to it: the column's own alias unless
// fresh is set, else subqueryColumn (column1 for a VALUES list). ok is
// false for several columns or a *.
func (p *pgPass) namedSubquery(lo, hi int, fresh bool) (inner []Token, ref Token, ok bool, err error) {
	at := p.in[lo]
	if isKw(p.in[lo], "values") {
		inner, err = p.scan(lo, hi)
		return inner, gen(TokIdent, "column1", at), err == nil, err
	}
	if !isKw(p.in[lo], "select") {
		return nil, Token{}, false, nil
	}
	// The select list of the first (or only) SELECT: one item.
	start := lo + 1
	for isKw(p.at(start, hi), "distinct") || isKw(p.at(start, hi), "all") {
		start++
	}
	end := -1
	multi := false
	p.depth0(start, hi, func(k int) bool {
		t := p.in[k]
		if isOp(t, ",") {
			multi = true
			return false
		}
		if isSelectListEnd(t) {
			end = k
			return false
		}
		return true
	})
	if end < 0 {
		end = hi
	}
	if multi || end <= start || isOp(p.in[end-1], "*") {
		return nil, Token{}, false, nil
	}
	exprEnd := end
	switch {
	case end-start >= 3 && isKw(p.in[end-2], "as") && isNameTok(p.in[end-1]):
		ref, exprEnd = p.in[end-1], end-2
	case end-start >= 2 && isNameTok(p.in[end-1]) && endsExpr(p.in[end-2]) && !isKw(p.in[end-1], "end") &&
		!(p.in[end-1].Kind == TokIdent && isKeyword(p.in[end-1].Value)):
		ref, exprEnd = p.in[end-1], end-1
	}
	var alias []Token
	if fresh || ref.Kind != TokIdent && ref.Kind != TokQuotedIdent {
		ref = gen(TokQuotedIdent, subqueryColumn, at)
		alias = []Token{gen(TokIdent, "AS", at), ref}
	} else {
		exprEnd = end
	}
	head, err := p.scan(lo, exprEnd)
	if err != nil {
		return nil, Token{}, false, err
	}
	tail, err := p.scan(end, hi)
	if err != nil {
		return nil, Token{}, false, err
	}
	inner = append(append(append([]Token{}, head...), alias...), tail...)
	ref.Pos, ref.End = at.Pos, at.Pos
	return inner, ref, true, nil
}

// quantifiedSubquery rewrites "l op ANY|SOME|ALL (query)" for the
// operators SQLite lacks (< <= > >= with ANY or ALL, = ALL, <> ANY) as an
// aggregate over the per-row comparisons with PostgreSQL's NULL rules:
// ANY is true when one comparison is, else NULL when one is NULL, else
// false (an empty query: false); ALL is false when one is false, else
// NULL when one is NULL, else true. "= ANY" and "<> ALL" are IN and NOT
// IN (the rewriter). ok is false when the form is not one of these.
func (p *pgPass) quantifiedSubquery(l pexpr, opAt, hi int) (pexpr, int, bool, error) {
	t, q := p.in[opAt], p.at(opAt+1, hi)
	if !isKw(q, "any") && !isKw(q, "some") && !isKw(q, "all") || !isOp(p.at(opAt+2, hi), "(") {
		return pexpr{}, opAt, false, nil
	}
	j := p.match[opAt+2]
	if j < 0 || j >= hi || !isQueryKw(p.at(opAt+3, hi)) {
		return pexpr{}, opAt, false, nil
	}
	all := isKw(q, "all")
	ne := t.Value == "<>" || t.Value == "!="
	if (t.Value == "=" && !all) || (ne && all) {
		return pexpr{}, opAt, false, nil
	}
	inner, ref, ok, err := p.namedSubquery(opAt+3, j, true)
	if err != nil || !ok {
		return pexpr{}, opAt, false, err
	}
	kw := func(s string) Token { return gen(TokIdent, s, t) }
	op := func(s string) Token { return gen(TokOp, s, t) }
	num := func(s string) Token { return gen(TokNumber, s, t) }
	c := gen(TokQuotedIdent, `"kalam_quantified_c"`, t)
	agg, decisive, otherwise := "max", "1", "0"
	if all {
		agg, decisive, otherwise = "min", "0", "1"
	}
	out := []Token{op("("), kw("SELECT"), kw("CASE"), kw("WHEN"), kw(agg), op("("), c, op(")"), op("="), num(decisive),
		kw("THEN"), num(decisive), kw("WHEN"), kw("count"), op("("), op("*"), op(")"), op(">"), kw("count"), op("("), c, op(")"),
		kw("THEN"), kw("NULL"), kw("ELSE"), num(otherwise), kw("END"), kw("FROM"), op("("), kw("SELECT"), op("(")}
	out = append(out, l.toks...)
	out = append(out, t, ref, op(")"), kw("AS"), c, kw("FROM"), op("("))
	out = append(out, inner...)
	out = append(out, op(")"), op(")"), op(")"))
	return pexpr{toks: out, typ: tBool}, j + 1, true, nil
}

// clauseEnd reports whether token t ends a WHERE or HAVING condition.
func clauseEnd(t Token) bool {
	if t.Kind == TokEOF || isOp(t, ")") || isOp(t, ";") {
		return true
	}
	if t.Kind != TokIdent {
		return false
	}
	switch t.Value {
	case "group", "having", "order", "limit", "offset", "window", "union", "intersect", "except", "fetch", "for", "returning":
		return true
	}
	return false
}

// checkCondition raises 42804 when the condition after WHERE/HAVING at kw
// is one expression of a known non-boolean type.
func (p *pgPass) checkCondition(kw, hi int) error {
	if !p.startsOperand(kw+1, hi) {
		return nil
	}
	e, next, err := p.expr(kw+1, hi, 0)
	if err != nil || next == kw+1 || !clauseEnd(p.at(next, hi)) {
		return nil
	}
	if e.typ == tUnknown || e.typ == tBool || p.isPredicate(kw+1, next) {
		return nil
	}
	name := map[pgType]string{tInt2: "smallint", tInt4: "integer", tInt8: "bigint", tFloat: "double precision", tBpchar: "character"}[e.typ]
	if name == "" {
		name = string(e.typ)
	}
	return errState(StateDatatype, p.in[kw+1].Pos, "argument of %s must be type boolean, not type %s", strings.ToUpper(p.in[kw].Value), name)
}

// checkGrouping raises 42803 when a plain column of the outermost select
// list is neither in GROUP BY nor aggregated, in a query that groups (has
// GROUP BY or an aggregate). It only decides when GROUP BY lists plain
// columns or positions and no grouped column is a table's primary key
// (PostgreSQL then allows the table's other columns).
func checkGrouping(p *pgPass, kr KeyResolver) error {
	if p.typer == nil {
		return nil
	}
	n := len(p.in)
	start := -1
	p.depth0(0, n, func(k int) bool {
		if isKw(p.in[k], "select") {
			start = k + 1
			return false
		}
		return true
	})
	if start < 0 {
		return nil
	}
	for isKw(p.at(start, n), "all") {
		start++
	}
	if isKw(p.at(start, n), "distinct") {
		return nil
	}
	// Select items, FROM and GROUP BY of this level.
	var items [][2]int
	lo, listEnd, groupAt, groupEnd := start, -1, -1, -1
	p.depth0(start, n, func(k int) bool {
		t := p.in[k]
		switch {
		case listEnd < 0 && isOp(t, ","):
			items = append(items, [2]int{lo, k})
			lo = k + 1
		case listEnd < 0 && isSelectListEnd(t):
			items = append(items, [2]int{lo, k})
			listEnd = k
		case isKw(t, "group") && isKw(p.at(k+1, n), "by"):
			groupAt = k + 2
		case groupAt >= 0 && groupEnd < 0 && k > groupAt && clauseEnd(t):
			groupEnd = k
		case isKw(t, "union"), isKw(t, "intersect"), isKw(t, "except"):
			if groupAt >= 0 && groupEnd < 0 {
				groupEnd = k
			}
			return false
		}
		return true
	})
	if listEnd < 0 {
		items = append(items, [2]int{lo, n})
		listEnd = n
	}
	if groupAt >= 0 && groupEnd < 0 {
		groupEnd = n
	}
	grouped := map[string]bool{}
	if groupAt >= 0 {
		for _, g := range splitTop(p, groupAt, groupEnd) {
			switch {
			case g[1]-g[0] == 1 && p.in[g[0]].Kind == TokNumber:
				pos := p.in[g[0]].Text
				k := 0
				for _, c := range pos {
					k = k*10 + int(c-'0')
				}
				if k < 1 || k > len(items) {
					return nil
				}
				it := items[k-1]
				if col, ok := plainColumn(p.in[it[0]:itemExprEnd(p, it[0], it[1])]); ok {
					grouped[col] = true
				}
			case g[1]-g[0] == 1 && isNameTok(p.in[g[0]]):
				grouped[asciiLower(p.in[g[0]].Value)] = true
			case g[1]-g[0] == 3 && isOp(p.in[g[0]+1], ".") && isNameTok(p.in[g[0]+2]):
				grouped[asciiLower(p.in[g[0]+2].Value)] = true
			default:
				return nil // expressions, ROLLUP, ...: not decided here
			}
		}
	} else {
		agg := false
		for _, it := range items {
			if p.hasAggregate(it[0], it[1]) {
				agg = true
			}
		}
		if !agg {
			return nil
		}
	}
	if kr != nil {
		for _, vt := range p.typer.vtabs {
			if k := kr.KeyColumn(vt); k != "" && grouped[k] {
				return nil
			}
		}
	}
	for _, it := range items {
		e := itemExprEnd(p, it[0], it[1])
		col, ok := plainColumn(p.in[it[0]:e])
		if !ok || grouped[col] {
			continue
		}
		toks := p.in[it[0]:e]
		if p.typer.nameType(toks) == tUnknown {
			continue
		}
		return errState(StateGrouping, p.in[it[0]].Pos, "column %q must appear in the GROUP BY clause or be used in an aggregate function", col)
	}
	return nil
}

// splitTop splits in[lo:hi] at top-level commas.
func splitTop(p *pgPass, lo, hi int) [][2]int {
	var out [][2]int
	s := lo
	p.depth0(lo, hi, func(k int) bool {
		if isOp(p.in[k], ",") {
			out = append(out, [2]int{s, k})
			s = k + 1
		}
		return true
	})
	return append(out, [2]int{s, hi})
}

// itemExprEnd is the end of a select item's expression (without its alias).
func itemExprEnd(p *pgPass, lo, hi int) int {
	switch {
	case hi-lo >= 3 && isKw(p.in[hi-2], "as"):
		return hi - 2
	case hi-lo >= 2 && isNameTok(p.in[hi-1]) && endsExpr(p.in[hi-2]) && !isKw(p.in[hi-1], "end"):
		return hi - 1
	}
	return hi
}

// plainColumn returns the lower-case column name of a "col" or "t.col"
// item.
func plainColumn(toks []Token) (string, bool) {
	switch {
	case len(toks) == 1 && isNameTok(toks[0]) && !(toks[0].Kind == TokIdent && (isKeyword(toks[0].Value) || toks[0].Value == "true" || toks[0].Value == "false" || toks[0].Value == "null")):
		return asciiLower(toks[0].Value), true
	case len(toks) == 3 && isNameTok(toks[0]) && isOp(toks[1], ".") && isNameTok(toks[2]):
		return asciiLower(toks[2].Value), true
	}
	return "", false
}

// comparison handles "l <cmp> r" where l (already parsed, ending at
// token next) and r are typed temporal values that SQLite would compare
// in different units: a date with a timestamp (the date becomes its
// midnight in microseconds), and a computed date or timestamp with a
// string literal (the literal becomes a typed one; a bare column with a
// literal is the rewriter's literal coercion). ok is false when nothing
// changes; the caller then scans on.
func (p *pgPass) comparison(l pexpr, next, hi int) (pexpr, int, bool, error) {
	t := p.at(next, hi)
	if t.Kind != TokOp {
		return pexpr{}, next, false, nil
	}
	switch t.Value {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
	default:
		return pexpr{}, next, false, nil
	}
	if e, after, ok, err := p.quantifiedSubquery(l, next, hi); ok || err != nil {
		return e, after, ok, err
	}
	temporal := func(e pexpr) bool { return e.typ == tDate || e.typ == tTimestamp }
	// A parameter stands for a literal (literals are auto-parameterised
	// before rewriting); it is converted at run time.
	param := func(e pexpr) bool { return len(e.toks) == 1 && e.toks[0].Kind == TokParam }
	if !temporal(l) && !l.lit && !param(l) {
		return pexpr{}, next, false, nil
	}
	if !p.startsOperand(next+1, hi) {
		return pexpr{}, next, false, nil
	}
	r, after, err := p.expr(next+1, hi, 0)
	if err != nil || after == next+1 {
		return pexpr{}, next, false, err
	}
	toMicros := func(e pexpr) pexpr {
		return pexpr{toks: call("kalam_mul", t, e.toks, []Token{gen(TokNumber, "86400000000", t)}), typ: tTimestamp}
	}
	typed := func(lit, other pexpr) pexpr {
		if param(lit) {
			fn := "kalam_cast_date"
			if other.typ == tTimestamp {
				fn = "kalam_cast_timestamp"
			}
			return pexpr{toks: call(fn, lit.toks[0], lit.toks), typ: other.typ}
		}
		kw := "DATE"
		if other.typ == tTimestamp {
			kw = "TIMESTAMP"
		}
		return pexpr{toks: []Token{gen(TokIdent, kw, lit.toks[0]), lit.toks[0]}, typ: other.typ}
	}
	bare := func(e pexpr) bool {
		return len(e.toks) == 1 || (len(e.toks) == 3 && isOp(e.toks[1], ".")) || (len(e.toks) == 2 && (isKw(e.toks[0], "date") || isKw(e.toks[0], "timestamp")))
	}
	switch {
	case l.typ == tDate && r.typ == tTimestamp:
		l = toMicros(l)
	case l.typ == tTimestamp && r.typ == tDate:
		r = toMicros(r)
	case temporal(l) && (r.lit || param(r)) && !bare(l):
		r = typed(r, l)
	case (l.lit || param(l)) && temporal(r) && !bare(r):
		l = typed(l, r)
	default:
		return pexpr{}, next, false, nil
	}
	out := append(append(append([]Token{}, l.toks...), t), r.toks...)
	return pexpr{toks: out, typ: tBool}, after, true, nil
}
