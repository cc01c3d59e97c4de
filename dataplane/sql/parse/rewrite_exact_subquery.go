package parse

// Exact twins of scalar subqueries.
//
// A scalar subquery whose one select-list item is a numeric with a twin
// ((SELECT sum(price) FROM t), also a LATERAL column, which
// rewrite_lateral.go turns into one) is a numeric to the operator pass,
// and its twin is the same subquery selecting the item's twin: the
// outer twin (SELECT sum(price) FROM t) + 0.1 then adds exact decimals.
//
// Invariants:
//   - The twin query selects the row the value came from: a subquery
//     that returns at most one row by its form (pgPass.singleRow: an
//     aggregate without GROUP BY, LIMIT 1, no FROM) is repeated with the
//     twin as its item; any other (without set operations) is wrapped in
//     the same one-row check as the value (oneRowCheck), so the twin
//     raises 21000 where the value does and is otherwise that one row's.
//   - The twin query differs from the rewritten one only in its select
//     item: FROM, WHERE and the correlation are the same tokens, rewritten
//     by the same pass.

// exactSubquery gives the parenthesised query in[i+1:j] (rewritten to
// r) its type and twin when its one item is an integer or a numeric
// with a twin.
func (p *pgPass) exactSubquery(i, j int, r pexpr) pexpr {
	lo := i + 1
	if !isKw(p.in[lo], "select") {
		return r
	}
	// checked: the subquery may return several rows, r raises 21000 then
	// (scalarSubquery); the twin repeats that check.
	checked := !p.singleRow(lo, j)
	if checked && !p.scalarContext(i) {
		return r
	}
	if checked {
		setop := false
		p.depth0(lo, j, func(k int) bool {
			t := p.in[k]
			setop = isKw(t, "union") || isKw(t, "intersect") || isKw(t, "except")
			return !setop
		})
		if setop {
			return r
		}
	}
	a := lo + 1
	if isKw(p.at(a, j), "all") {
		a++
	}
	b := -1
	for k := a; k <= j; k++ {
		t := p.at(k, j)
		if (isOp(t, "(") || isKw(t, "case")) && p.match[k] > k && p.match[k] < j {
			k = p.match[k]
			continue
		}
		if isOp(t, ",") || isKw(t, "distinct") {
			return r
		}
		if k == j || isSelectListEnd(t) {
			b = k
			break
		}
	}
	if b <= a {
		return r
	}
	x, y := p.itemExpr(a, b)
	if x < 0 || (y-x > 1 && p.isPredicate(x, y)) {
		return r
	}
	e, next, err := p.expr(x, y, 0)
	if err != nil || next != y || (e.ex == nil && !e.typ.isInt()) {
		return r
	}
	switch {
	case e.exNum:
		head, err := p.scan(lo, x)
		if err != nil {
			return r
		}
		if checked {
			tail, err := p.scan(b, j)
			if err != nil {
				return r
			}
			at := p.in[i]
			ref := gen(TokQuotedIdent, subqueryColumn, at)
			inner := append(append(append(append([]Token{}, head...), e.ex...), gen(TokIdent, "AS", at), ref), tail...)
			r.typ, r.ex, r.exNum = tNumeric, oneRowCheck(inner, ref, at), true
			return r
		}
		tail, err := p.scan(y, j)
		if err != nil {
			return r
		}
		twin := make([]Token, 0, len(head)+len(e.ex)+len(tail)+2)
		twin = append(append(append(append(twin, p.in[i]), head...), e.ex...), tail...)
		r.typ, r.ex, r.exNum = tNumeric, append(twin, p.in[j]), true
	case e.typ.isInt():
		r.typ, r.ex, r.exNum = e.typ, r.toks, false
	}
	return r
}
