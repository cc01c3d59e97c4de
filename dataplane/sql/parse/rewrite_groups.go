package parse

// Token groups: the one parenthesis (and CASE ... END) matching that the
// passes walking a clause at one nesting level share — the operator pass
// (pgPass), LATERAL, table alias column lists and twins — instead of each
// keeping its own depth counter.
//
// Invariants:
//   - A closer matches the innermost open group only when it is of the
//     same kind (")" a "(", END a CASE); any other closer, and an opener
//     never closed, keeps -1: unbalanced input is left for the rewriter
//     to report, never guessed at.
//   - Built once per token slice in linear time; lookups are O(1).

// groupIndex is the group structure of one token slice.
type groupIndex struct {
	// match is, for an opener ("(", or CASE when cases are grouped), the
	// index of its closer; -1 otherwise.
	match []int
	// open is, for a closer, the index of its opener; -1 otherwise.
	open []int
	// parent is the innermost opener whose group holds the token (an
	// opener never closed holds everything after it); -1 at top level.
	parent []int
}

// indexGroups matches the parentheses of toks, and CASE ... END as well
// when withCase is set.
func indexGroups(toks []Token, withCase bool) groupIndex {
	g := groupIndex{match: make([]int, len(toks)), open: make([]int, len(toks)), parent: make([]int, len(toks))}
	var stack []int
	for i, t := range toks {
		g.match[i], g.open[i], g.parent[i] = -1, -1, -1
		if k := len(stack) - 1; k >= 0 {
			g.parent[i] = stack[k]
		}
		opener := isOp(t, "(") || withCase && isKw(t, "case")
		closer := isOp(t, ")") || withCase && isKw(t, "end")
		switch {
		case opener:
			stack = append(stack, i)
		case closer:
			if k := len(stack) - 1; k >= 0 && isOp(t, ")") == isOp(toks[stack[k]], "(") {
				g.match[stack[k]] = i
				g.open[i] = stack[k]
				stack = stack[:k]
			}
		}
	}
	return g
}

// depth0 calls fn for each token index of [lo, hi) outside the groups
// that open in it (an opener and its closer are visited, what lies
// between them is not); fn returns false to stop.
func (g groupIndex) depth0(lo, hi int, fn func(k int) bool) {
	for k := lo; k < hi; k++ {
		if !fn(k) {
			return
		}
		if m := g.match[k]; m > k && m < hi {
			k = m - 1
		}
	}
}

// balanced reports whether every opener of toks has its closer and every
// closer its opener.
func (g groupIndex) balanced(toks []Token, withCase bool) bool {
	for i, t := range toks {
		opener := isOp(t, "(") || withCase && isKw(t, "case")
		closer := isOp(t, ")") || withCase && isKw(t, "end")
		if opener && g.match[i] < 0 || closer && g.open[i] < 0 {
			return false
		}
	}
	return true
}
