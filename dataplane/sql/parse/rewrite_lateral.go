package parse

// SQLite has no LATERAL: a subquery in FROM cannot see the FROM items
// before it, only a subquery in an expression can. rewriteLateral turns the
// LATERAL shapes that yield exactly one row per outer row (or at most one,
// padded by a LEFT JOIN) into correlated scalar subqueries, one per
// referenced column, substituted for alias.column in the enclosing query:
//
//   - an aggregate without GROUP BY, HAVING, LIMIT or OFFSET (always one
//     row), after a comma, CROSS JOIN, [INNER] JOIN ... ON true or LEFT
//     JOIN ... ON true;
//   - a one-column query ending in LIMIT 1 (at most one row): after LEFT
//     JOIN ... ON true no row gives NULL, as the join's padding does; after
//     a comma, CROSS JOIN or [INNER] JOIN ... ON true the level's WHERE
//     also gets EXISTS (SELECT 1 FROM ...), dropping the outer rows the
//     join drops.
//
// One column only for LIMIT 1: two scalar subqueries could pick different
// rows among ties. Every other LATERAL is refused with a clear error, never
// rewritten into a different answer. References must be qualified
// (alias.column): a bare name equal to a LATERAL column is refused too, as
// it may name an outer column instead.

// maxLateralTokens bounds the statement rewriteLateral produces.
const maxLateralTokens = 1 << 16

// rewriteLateral rewrites every supported LATERAL of the statement.
func rewriteLateral(toks []Token) ([]Token, error) {
	for guard := 0; guard < 64; guard++ {
		at := -1
		for i, t := range toks {
			if isKw(t, "lateral") {
				at = i
				break
			}
		}
		if at < 0 {
			return toks, nil
		}
		out, err := rewriteOneLateral(toks, at)
		if err != nil {
			return nil, err
		}
		if len(out) > maxLateralTokens {
			// Each reference copies its subquery: LATERALs referring to
			// each other would grow the statement exponentially.
			return nil, lateralRefuse(toks[at], "the rewritten statement is too large")
		}
		toks = out
	}
	return nil, errSQL(-1, "LATERAL: too many LATERAL subqueries in one statement")
}

// lateralRefuse is the error for a LATERAL shape the rewrite cannot keep
// faithful.
func lateralRefuse(t Token, why string) error {
	return newError(CodeInvalidSQL, t.Pos, "LATERAL is supported only for an aggregate subquery without GROUP BY or a one-column subquery ending in LIMIT 1, after a comma, CROSS JOIN or [LEFT] JOIN ... ON true, with its columns referenced as alias.column: %s", why)
}

func rewriteOneLateral(toks []Token, at int) ([]Token, error) {
	lat := toks[at]
	g := indexGroups(toks, false)
	// The join before LATERAL: its first token is where the cut starts.
	cut, left, needOn := at-1, false, false
	switch {
	case cut >= 0 && isOp(toks[cut], ","):
	case cut >= 0 && isKw(toks[cut], "join"):
		needOn = true
		switch p := cut - 1; {
		case p >= 0 && isKw(toks[p], "cross"):
			cut, needOn = p, false
		case p >= 0 && isKw(toks[p], "inner"):
			cut = p
		case p >= 1 && isKw(toks[p], "outer") && isKw(toks[p-1], "left"):
			cut, left = p-1, true
		case p >= 0 && isKw(toks[p], "left"):
			cut, left = p, true
		case p >= 0 && (isKw(toks[p], "right") || isKw(toks[p], "full") || isKw(toks[p], "outer")):
			return nil, lateralRefuse(lat, "RIGHT and FULL joins cannot be LATERAL")
		}
	default:
		return nil, lateralRefuse(lat, "LATERAL must follow a comma or a JOIN")
	}
	open := at + 1
	if open >= len(toks) || !isOp(toks[open], "(") || !isKw(toks[open+1], "select") {
		return nil, lateralRefuse(lat, "only a LATERAL (SELECT ...) subquery")
	}
	cl := g.match[open]
	if cl < 0 {
		return nil, errSQL(toks[open].Pos, "unbalanced parenthesis")
	}
	k := cl + 1
	if k < len(toks) && isKw(toks[k], "as") {
		k++
	}
	if k >= len(toks) || !isNameTok(toks[k]) || toks[k].Kind == TokIdent && isKeyword(toks[k].Value) {
		return nil, lateralRefuse(lat, "the subquery needs an alias")
	}
	alias := toks[k]
	k++
	if k < len(toks) && isOp(toks[k], "(") {
		return nil, lateralRefuse(lat, "a column list on a LATERAL alias")
	}
	if needOn || left {
		if k+1 >= len(toks) || !isKw(toks[k], "on") || !isKw(toks[k+1], "true") {
			return nil, lateralRefuse(lat, "the join condition must be ON true")
		}
		k += 2
		if k < len(toks) && (toks[k].Kind != TokEOF && !isOp(toks[k], ",") && !isOp(toks[k], ")") && !isClauseWord(toks[k])) {
			return nil, lateralRefuse(lat, "the join condition must be ON true")
		}
	}
	end := k // toks[cut:end] is the LATERAL join, removed from FROM

	cols, exprs, rest, err := lateralColumns(toks, g, open, cl)
	if err != nil {
		return nil, err
	}
	aggregate, top1 := lateralShape(toks, g, open, cl, exprs)
	switch {
	case aggregate:
	case top1 && len(cols) == 1:
	case top1:
		return nil, lateralRefuse(lat, "a LIMIT 1 subquery with more than one column")
	default:
		return nil, lateralRefuse(lat, "the subquery may yield several rows per outer row")
	}

	// The enclosing query level: the parentheses around the LATERAL.
	// At the statement level the EOF token ends the level: it is copied
	// last, never emitted before the level's added WHERE.
	lo, hi := 0, len(toks)
	if hi > 0 && toks[hi-1].Kind == TokEOF {
		hi--
	}
	if p := g.parent[cut]; p >= 0 {
		if lo, hi = p+1, g.match[p]; hi < 0 {
			return nil, errSQL(toks[p].Pos, "unbalanced parenthesis")
		}
	}
	var out []Token
	emit := func(from, to int) error {
		for m := from; m < to; m++ {
			t := toks[m]
			if m+2 < to && isNameTok(t) && t.Value == alias.Value && isOp(toks[m+1], ".") && (m == 0 || !isOp(toks[m-1], ".")) {
				c := toks[m+2]
				idx := -1
				for j, name := range cols {
					if isNameTok(c) && c.Value == name {
						idx = j
					}
				}
				if idx < 0 {
					return lateralRefuse(c, "reference "+alias.Value+"."+c.Text+" is not a column of the subquery")
				}
				out = append(out, gen(TokOp, "(", c), gen(TokIdent, "SELECT", c))
				out = append(out, exprs[idx]...)
				out = append(out, rest...)
				out = append(out, gen(TokOp, ")", c))
				if selectItem(toks, g, lo, m, m+3) {
					// The item keeps PostgreSQL's column name.
					out = append(out, gen(TokIdent, "AS", c), quotedIdent(cols[idx], c))
				}
				m += 2
				continue
			}
			if isOp(t, "*") && m > 0 && (isKw(toks[m-1], "select") || isKw(toks[m-1], "distinct") || isOp(toks[m-1], ",")) {
				return lateralRefuse(t, "SELECT * over a LATERAL subquery (name its columns as alias.column)")
			}
			if isNameTok(t) && (m == 0 || !isOp(toks[m-1], ".") && !isKw(toks[m-1], "as")) && (m+1 >= len(toks) || !isOp(toks[m+1], ".") && !isOp(toks[m+1], "(")) {
				for _, name := range cols {
					if t.Value == name {
						return lateralRefuse(t, "unqualified reference "+t.Text+" to a LATERAL column")
					}
				}
			}
			out = append(out, t)
		}
		return nil
	}
	// Tokens of the statement before the enclosing level are copied as they
	// are; the level's own tokens get the references substituted.
	out = append(out, toks[:lo]...)
	if err := emit(lo, cut); err != nil {
		return nil, err
	}
	if aggregate || left {
		if err := emit(end, hi); err != nil {
			return nil, err
		}
		out = append(out, toks[hi:]...)
		return out, nil
	}
	// LIMIT 1 after a comma or an inner join: an outer row without a
	// subquery row is dropped, so the level's WHERE gets
	// EXISTS (SELECT 1 FROM ...) (a filter on the rows joined so far,
	// which later inner or LEFT joins keep; RIGHT/FULL ones would not).
	where, clauseEnd, outerJoin := -1, hi, false
	g.depth0(end, hi, func(m int) bool {
		t := toks[m]
		switch {
		case isKw(t, "right") || isKw(t, "full"):
			outerJoin = true
			return false
		case isKw(t, "where"):
			where = m
		case isKw(t, "group") || isKw(t, "having") || isKw(t, "order") || isKw(t, "limit") || isKw(t, "window") ||
			isKw(t, "union") || isKw(t, "intersect") || isKw(t, "except") || isKw(t, "offset") || isKw(t, "fetch"):
			clauseEnd = m
			return false
		}
		return true
	})
	if outerJoin {
		return nil, lateralRefuse(lat, "a LIMIT 1 subquery after an inner join followed by a RIGHT or FULL join")
	}
	exists := []Token{gen(TokIdent, "EXISTS", lat), gen(TokOp, "(", lat), gen(TokIdent, "SELECT", lat), gen(TokNumber, "1", lat)}
	exists = append(exists, rest...)
	exists = append(exists, gen(TokOp, ")", lat))
	if where >= 0 {
		if err := emit(end, where+1); err != nil {
			return nil, err
		}
		out = append(out, exists...)
		out = append(out, gen(TokIdent, "AND", lat), gen(TokOp, "(", lat))
		if err := emit(where+1, clauseEnd); err != nil {
			return nil, err
		}
		out = append(out, gen(TokOp, ")", lat))
	} else {
		if err := emit(end, clauseEnd); err != nil {
			return nil, err
		}
		out = append(out, gen(TokIdent, "WHERE", lat))
		out = append(out, exists...)
	}
	if err := emit(clauseEnd, hi); err != nil {
		return nil, err
	}
	out = append(out, toks[hi:]...)
	return out, nil
}

// lateralColumns splits the subquery toks[open+1:cl] into its output column
// names, each column's expression, and the text from FROM to its end.
func lateralColumns(toks []Token, g groupIndex, open, cl int) (cols []string, exprs [][]Token, rest []Token, err error) {
	from := -1
	start := open + 2
	if isKw(toks[start], "distinct") || isKw(toks[start], "all") {
		return nil, nil, nil, lateralRefuse(toks[start], "DISTINCT in the subquery")
	}
	item := start
	var items [][2]int
	g.depth0(start, cl, func(m int) bool {
		switch {
		case isOp(toks[m], ","):
			items = append(items, [2]int{item, m})
			item = m + 1
		case isKw(toks[m], "from"):
			from = m
			return false
		}
		return true
	})
	if from < 0 {
		return nil, nil, nil, lateralRefuse(toks[open], "the subquery has no FROM")
	}
	items = append(items, [2]int{item, from})
	for _, it := range items {
		a, b := it[0], it[1]
		switch {
		case b-a >= 3 && isKw(toks[b-2], "as") && isNameTok(toks[b-1]):
			cols = append(cols, toks[b-1].Value)
			exprs = append(exprs, toks[a:b-2])
		case b-a == 1 && isNameTok(toks[a]):
			cols = append(cols, toks[a].Value)
			exprs = append(exprs, toks[a:b])
		case b-a == 3 && isNameTok(toks[a]) && isOp(toks[a+1], ".") && isNameTok(toks[a+2]):
			cols = append(cols, toks[a+2].Value)
			exprs = append(exprs, toks[a:b])
		default:
			return nil, nil, nil, lateralRefuse(toks[a], "every column of the subquery needs a name (expr AS name)")
		}
	}
	return cols, exprs, toks[from:cl], nil
}

// lateralShape classifies the subquery toks[open+1:cl]: aggregate (no
// GROUP BY, HAVING, LIMIT, OFFSET, set operation or window; every column
// aggregates) or top1 (ends in LIMIT 1, no OFFSET or set operation).
func lateralShape(toks []Token, g groupIndex, open, cl int, exprs [][]Token) (aggregate, top1 bool) {
	limit, other := -1, false
	g.depth0(open+1, cl, func(m int) bool {
		t := toks[m]
		switch {
		case isKw(t, "limit"):
			limit = m
		case isKw(t, "group") || isKw(t, "having") || isKw(t, "offset") || isKw(t, "union") ||
			isKw(t, "intersect") || isKw(t, "except") || isKw(t, "window") || isKw(t, "fetch"):
			other = true
		}
		return true
	})
	if other {
		return false, false
	}
	if limit >= 0 {
		return false, limit+2 == cl && toks[limit+1].Kind == TokNumber && toks[limit+1].Value == "1"
	}
	for _, e := range exprs {
		agg := false
		for m, t := range e {
			if isKw(t, "over") || isKw(t, "select") {
				return false, false
			}
			if _, ok := aggregateNames[t.Value]; ok && t.Kind == TokIdent && m+1 < len(e) && isOp(e[m+1], "(") {
				agg = true
			}
		}
		if !agg {
			return false, false
		}
	}
	return true, false
}

// selectItem reports whether toks[a:b] is a whole item of the select list
// of the query level starting at lo: it follows SELECT, DISTINCT or a comma
// and is followed by a comma or FROM, before the level's first FROM.
func selectItem(toks []Token, g groupIndex, lo, a, b int) bool {
	if a == 0 || b >= len(toks) {
		return false
	}
	if p := toks[a-1]; !isKw(p, "select") && !isKw(p, "distinct") && !isOp(p, ",") {
		return false
	}
	if n := toks[b]; !isOp(n, ",") && !isKw(n, "from") {
		return false
	}
	if g.parent[a] != lo-1 {
		return false // nested in the level (lo is 0 or just after its "(")
	}
	fromSeen := false
	g.depth0(lo, a, func(m int) bool {
		fromSeen = isKw(toks[m], "from")
		return !fromSeen
	})
	return !fromSeen
}

// isClauseWord reports a word that may follow a FROM item's join condition.
func isClauseWord(t Token) bool {
	switch {
	case isKw(t, "where"), isKw(t, "group"), isKw(t, "having"), isKw(t, "order"), isKw(t, "limit"),
		isKw(t, "offset"), isKw(t, "window"), isKw(t, "union"), isKw(t, "intersect"), isKw(t, "except"),
		isKw(t, "join"), isKw(t, "left"), isKw(t, "right"), isKw(t, "full"), isKw(t, "inner"),
		isKw(t, "cross"), isKw(t, "natural"), isKw(t, "fetch"):
		return true
	}
	return false
}
