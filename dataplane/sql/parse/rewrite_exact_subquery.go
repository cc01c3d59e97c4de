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
//   - Only subqueries that return at most one row by their form
//     (pgPass.singleRow: an aggregate without GROUP BY, LIMIT 1, no FROM)
//     get a twin, so the twin query selects the row the value came from.
//   - The twin query differs from the rewritten one only in its select
//     item: FROM, WHERE and the correlation are the same tokens, rewritten
//     by the same pass.

// exactSubquery gives the parenthesised query in[i+1:j] (rewritten to
// r) its type and twin when its one item is an integer or a numeric
// with a twin.
func (p *pgPass) exactSubquery(i, j int, r pexpr) pexpr {
	lo := i + 1
	if !isKw(p.in[lo], "select") || !p.singleRow(lo, j) {
		return r
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
