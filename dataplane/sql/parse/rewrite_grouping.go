package parse

// GROUPING(...) in statements with grouping sets.
//
// rewriteGroupingSets turns ROLLUP, CUBE and GROUPING SETS into a UNION
// ALL of one plain GROUP BY per grouping set; in each branch GROUPING(a,
// b, ...) is a constant: a bit per argument, the first argument the most
// significant, set when the argument is not grouped in that branch
// (PostgreSQL's definition). It is replaced by that integer in the
// branch's select list and HAVING clause.
//
// Invariants:
//   - Every argument must be one of the statement's plain grouping
//     columns; another argument raises 42803, as PostgreSQL does.
//   - GROUPING in the statement's ORDER BY (which follows the UNION ALL)
//     is not rewritten: the statement is left for SQLite to refuse, never
//     answered wrongly.

// groupingValues copies toks[lo:hi] with every GROUPING(args) replaced by
// its value in the branch grouping the columns in, plain naming the
// grouping columns (all: those of every set). name is set when the whole
// range is one GROUPING call (a select-list item without alias), so the
// caller can keep PostgreSQL's column name.
func groupingValues(toks []Token, lo, hi int, plain func(a, b int) (string, bool), all, in map[string]bool) (out []Token, whole bool) {
	out = make([]Token, 0, hi-lo)
	for k := lo; k < hi; k++ {
		t := toks[k]
		if !isKw(t, "grouping") || k+1 >= hi || !isOp(toks[k+1], "(") || (k > lo && isOp(toks[k-1], ".")) {
			out = append(out, t)
			continue
		}
		end := matchParen(toks, k+1)
		if end < 0 || end >= hi {
			out = append(out, t)
			continue
		}
		value := 0
		var bad bool
		for _, a := range splitDepth0(toks, k+2, end) {
			name, ok := plain(a[0], a[1])
			if !ok || !all[name] {
				bad = true
				break
			}
			value <<= 1
			if !in[name] {
				value |= 1
			}
		}
		if bad || end == k+2 {
			out = append(out, call("kalam_raise", t, []Token{strTok(StateGrouping, t)},
				[]Token{strTok("arguments to GROUPING must be grouping expressions of the associated query level", t)})...)
		} else {
			out = append(out, numTok(value, t)...)
		}
		whole = k == lo && end == hi-1
		k = end
	}
	return out, whole
}

// hasGroupingCall reports a GROUPING( call in toks[lo:hi].
func hasGroupingCall(toks []Token, lo, hi int) bool {
	for k := lo; k+1 < hi; k++ {
		if isKw(toks[k], "grouping") && isOp(toks[k+1], "(") && (k == lo || !isOp(toks[k-1], ".")) {
			return true
		}
	}
	return false
}
