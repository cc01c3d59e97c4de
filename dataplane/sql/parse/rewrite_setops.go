package parse

// INTERSECT ALL and EXCEPT ALL: SQLite has only the set forms. A query
// level "A INTERSECT ALL B [ORDER BY ...] [LIMIT ...]" becomes
//
//	SELECT k1, ..., kn FROM (
//	  SELECT k1, ..., kn, row_number() OVER (PARTITION BY k1, ..., kn) FROM (A)
//	  INTERSECT
//	  SELECT k1, ..., kn, row_number() OVER (PARTITION BY k1, ..., kn) FROM (B)
//	) [ORDER BY ...] [LIMIT ...]
//
// with the columns of A and B named k1..kn by a column list (WITH
// kalam_a(k1, ...) AS (A)): numbering equal rows makes the m-th copy of a
// row a distinct row, so the set operation keeps min(m, n) copies
// (INTERSECT) or max(m - n, 0) (EXCEPT), PostgreSQL's bag semantics.
// PARTITION BY groups NULLs together, as set operations compare them.
//
// Invariants: only a level with exactly one set operator, and operands
// whose select lists can be counted (no *), is rewritten; result columns
// keep A's names when A's items are plain columns or aliased, so ORDER BY
// by name still works. Generated "(" tokens take the position of a
// distinct source token, so every query level keeps its own scope key.

import "strconv"

// rewriteSetOpsAll applies the rewrite to every query level of toks (a
// slice ending in EOF).
func rewriteSetOpsAll(toks []Token) []Token {
	return rewriteEach(toks, 64, func(toks []Token, i int) bool {
		return (isKw(toks[i], "intersect") || isKw(toks[i], "except")) && i+1 < len(toks) && isKw(toks[i+1], "all")
	}, rewriteOneSetOp)
}

// rewriteEach applies rewrite at the first token where found holds, again
// on its output, at most limit times or until found matches nothing or
// rewrite declines (ok false: the statement is left for SQLite to refuse).
func rewriteEach(toks []Token, limit int, found func(toks []Token, i int) bool, rewrite func(toks []Token, k int) ([]Token, bool)) []Token {
	for guard := 0; guard < limit; guard++ {
		k := -1
		for i := range toks {
			if found(toks, i) {
				k = i
				break
			}
		}
		if k < 0 {
			return toks
		}
		out, ok := rewrite(toks, k)
		if !ok {
			return toks
		}
		toks = out
	}
	return toks
}

// rewriteOneSetOp rewrites the level of the set operator at k.
func rewriteOneSetOp(toks []Token, k int) ([]Token, bool) {
	lo, hi := levelBounds(toks, k)
	depth := 0
	// Operands: A from the first SELECT at depth 0 of the level, B up to
	// ORDER BY/LIMIT/OFFSET/FETCH at depth 0.
	aStart, bEnd, setops := -1, hi, 0
	for i := lo; i < hi; i++ {
		t := toks[i]
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
		case depth != 0:
		case isKw(t, "select") && aStart < 0:
			aStart = i
		case isKw(t, "union"), isKw(t, "intersect"), isKw(t, "except"):
			setops++
		case i > k && bEnd == hi && (isKw(t, "order") || isKw(t, "limit") || isKw(t, "offset") || isKw(t, "fetch")):
			bEnd = i
		}
	}
	if setops != 1 || aStart < 0 || aStart > k {
		return nil, false
	}
	bStart := k + 2
	names, n := selectNames(toks, aStart, k)
	if n == 0 {
		return nil, false
	}
	if _, m := selectNames(toks, bStart, bEnd); m != n {
		return nil, false
	}
	opTok := toks[k]
	at := func(s string, ref Token) Token { return gen(TokIdent, s, ref) }
	op := func(s string, ref Token) Token { return gen(TokOp, s, ref) }
	col := func(j int) Token { return gen(TokQuotedIdent, `"kalam_k`+strconv.Itoa(j+1)+`"`, opTok) }
	cols := func(ref Token) []Token {
		var out []Token
		for j := 0; j < n; j++ {
			if j > 0 {
				out = append(out, op(",", ref))
			}
			out = append(out, col(j))
		}
		return out
	}
	// operand builds "WITH kalam_x(k1..kn) AS (X) SELECT k1..kn,
	// row_number() OVER (PARTITION BY k1..kn) FROM kalam_x" inside
	// parentheses positioned at X's first token.
	operand := func(name string, x []Token) []Token {
		ref := x[0]
		out := []Token{op("(", ref), at("WITH", ref), at(name, ref), op("(", ref)}
		out = append(out, cols(ref)...)
		out = append(out, op(")", ref), at("AS", ref), op("(", ref))
		out = append(out, x...)
		out = append(out, op(")", ref), at("SELECT", ref))
		out = append(out, cols(ref)...)
		out = append(out, op(",", ref), at("row_number", ref), op("(", ref), op(")", ref), at("OVER", ref), op("(", ref),
			at("PARTITION", ref), at("BY", ref))
		out = append(out, cols(ref)...)
		out = append(out, op(")", ref), at("FROM", ref), at(name, ref), op(")", ref))
		return out
	}
	var out []Token
	out = append(out, toks[:lo]...)
	// Tokens of the level before A (a WITH clause) stay in front.
	out = append(out, toks[lo:aStart]...)
	out = append(out, at("SELECT", opTok))
	for j := 0; j < n; j++ {
		if j > 0 {
			out = append(out, op(",", opTok))
		}
		out = append(out, col(j))
		if names[j].Kind != TokEOF {
			out = append(out, at("AS", opTok), names[j])
		}
	}
	out = append(out, at("FROM", opTok), op("(", opTok), at("SELECT", opTok), op("*", opTok), at("FROM", opTok))
	out = append(out, operand("kalam_a", toks[aStart:k])...)
	out = append(out, opTok)
	out = append(out, at("SELECT", toks[k+1]), op("*", toks[k+1]), at("FROM", toks[k+1]))
	out = append(out, operand("kalam_b", toks[bStart:bEnd])...)
	out = append(out, op(")", opTok))
	out = append(out, toks[bEnd:]...)
	return out, true
}

// selectNames counts the items of the select list of the SELECT at
// toks[lo] (up to hi) and returns each item's output name (an alias or a
// plain column's name; an EOF token when it has none). n is 0 when the
// list has a * or is not a plain SELECT.
func selectNames(toks []Token, lo, hi int) (names []Token, n int) {
	if lo >= hi || !isKw(toks[lo], "select") {
		return nil, 0
	}
	start := lo + 1
	if isKw(toks[start], "distinct") || isKw(toks[start], "all") {
		start++
	}
	depth, itemLo := 0, start
	end := hi
	var items [][2]int
	for i := start; i < hi; i++ {
		t := toks[i]
		switch {
		case isOp(t, "(") || isKw(t, "case"):
			depth++
		case isOp(t, ")") || isKw(t, "end"):
			depth--
		case depth == 0 && isOp(t, ","):
			items = append(items, [2]int{itemLo, i})
			itemLo = i + 1
		case depth == 0 && isSelectListEnd(t):
			end = i
		}
		if end != hi {
			break
		}
	}
	items = append(items, [2]int{itemLo, end})
	for _, it := range items {
		a, b := it[0], it[1]
		if a >= b || isOp(toks[b-1], "*") {
			return nil, 0
		}
		name := Token{Kind: TokEOF}
		switch {
		case b-a >= 2 && isKw(toks[b-2], "as") && isNameTok(toks[b-1]):
			name = toks[b-1]
		case b-a >= 2 && isNameTok(toks[b-1]) && endsExpr(toks[b-2]) && !isKw(toks[b-1], "end"):
			name = toks[b-1]
		case b-a == 1 && isNameTok(toks[a]) && !(toks[a].Kind == TokIdent && isKeyword(toks[a].Value)):
			name = toks[a]
		case b-a == 3 && isOp(toks[a+1], ".") && isNameTok(toks[a+2]):
			name = toks[a+2]
		}
		names = append(names, name)
	}
	return names, len(names)
}

// rewriteParenOperands turns a parenthesised query that is an operand of
// UNION/INTERSECT/EXCEPT, "(SELECT ... ORDER BY ... LIMIT n)", into
// "SELECT * FROM (SELECT ...)": PostgreSQL accepts the parenthesised
// form, SQLite only a plain SELECT as a compound's operand.
func rewriteParenOperands(toks []Token) []Token {
	isSetOp := func(t Token) bool { return isKw(t, "union") || isKw(t, "intersect") || isKw(t, "except") }
	var out []Token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !isOp(t, "(") || i+1 >= len(toks) || !isQueryKw(toks[i+1]) {
			out = append(out, t)
			continue
		}
		j := matchParen(toks, i)
		if j < 0 {
			out = append(out, t)
			continue
		}
		prev := Token{Kind: TokEOF}
		if i > 0 {
			prev = toks[i-1]
		}
		if isKw(prev, "all") || isKw(prev, "distinct") {
			if i > 1 {
				prev = toks[i-2]
			}
		}
		next := toks[j+1]
		before := i == 0 || isOp(prev, "(") || isSetOp(prev)
		after := isSetOp(next)
		if !(before && after) && !(isSetOp(prev) && i > 0) {
			out = append(out, t)
			continue
		}
		out = append(out, gen(TokIdent, "SELECT", t), gen(TokOp, "*", t), gen(TokIdent, "FROM", t), t)
	}
	return out
}

// rewriteAliasColumns turns a derived table with a column list,
// "(query) AS v(x, y)", into "(WITH kalam_v(x, y) AS (query) SELECT *
// FROM kalam_v) AS v": SQLite names columns only in WITH lists.
func rewriteAliasColumns(toks []Token) []Token {
	for guard := 0; guard < 64; guard++ {
		done := true
		for i := 0; i+3 < len(toks); i++ {
			// ")" [AS] name "(" name, ... ")" where the first ")" closes a query.
			if !isOp(toks[i], ")") {
				continue
			}
			k := i + 1
			if isKw(toks[k], "as") {
				k++
			}
			if !isNameTok(toks[k]) || (toks[k].Kind == TokIdent && isKeyword(toks[k].Value)) || !isOp(toks[k+1], "(") {
				continue
			}
			open := -1
			for d, m := 0, i; m >= 0; m-- {
				if isOp(toks[m], ")") {
					d++
				} else if isOp(toks[m], "(") {
					if d--; d == 0 {
						open = m
						break
					}
				}
			}
			if open < 0 || !isQueryKw(toks[open+1]) {
				continue
			}
			end := matchParen(toks, k+1)
			if end < 0 {
				continue
			}
			ok := true
			for m := k + 2; m < end; m++ {
				if (m-k)%2 == 0 && !isNameTok(toks[m]) || (m-k)%2 == 1 && !isOp(toks[m], ",") {
					ok = false
				}
			}
			if !ok {
				continue
			}
			name, at := toks[k], toks[open]
			cte := gen(TokIdent, "kalam_cols_"+asciiLower(name.Value), at)
			var out []Token
			out = append(out, toks[:open+1]...)
			out = append(out, gen(TokIdent, "WITH", at), cte)
			out = append(out, toks[k+1:end+1]...)
			out = append(out, gen(TokIdent, "AS", at), gen(TokOp, "(", toks[open+1]))
			out = append(out, toks[open+1:i]...)
			out = append(out, gen(TokOp, ")", toks[i]), gen(TokIdent, "SELECT", at), gen(TokOp, "*", at), gen(TokIdent, "FROM", at), cte)
			out = append(out, toks[i:k+1]...)
			out = append(out, toks[end+1:]...)
			toks, done = out, false
			break
		}
		if done {
			return toks
		}
	}
	return toks
}

// levelBounds returns the query level around token k: from after the
// enclosing "(" (or 0) to its ")" (or the EOF token).
func levelBounds(toks []Token, k int) (lo, hi int) {
	depth := 0
	for i := k - 1; i >= 0; i-- {
		if isOp(toks[i], ")") {
			depth++
		} else if isOp(toks[i], "(") {
			if depth == 0 {
				lo = i + 1
				break
			}
			depth--
		}
	}
	hi = len(toks) - 1
	depth = 0
	for i := k; i < len(toks)-1; i++ {
		if isOp(toks[i], "(") {
			depth++
		} else if isOp(toks[i], ")") {
			if depth == 0 {
				return lo, i
			}
			depth--
		}
	}
	return lo, hi
}

// rewriteDistinctOn turns "SELECT DISTINCT ON (e, ...) items FROM ...
// ORDER BY o, ..." into a row_number() window over PARTITION BY e ORDER BY
// o, keeping the first row of each partition:
//
//	SELECT c1 AS name1, ... FROM (SELECT item1 AS c1, ..., row_number()
//	  OVER (PARTITION BY e ORDER BY o) AS rn, o1 AS k1, ... FROM ...)
//	WHERE rn = 1 ORDER BY k1 [ASC|DESC] [NULLS ...], ... [LIMIT ...]
//
// Only a level without set operations, with a FROM, plain select items
// (no *) and ORDER BY terms that are expressions (not positions) is
// rewritten; others are left for SQLite to refuse.
func rewriteDistinctOn(toks []Token) []Token {
	return rewriteEach(toks, 16, func(toks []Token, i int) bool {
		return i+3 < len(toks) && isKw(toks[i], "select") && isKw(toks[i+1], "distinct") && isKw(toks[i+2], "on") && isOp(toks[i+3], "(")
	}, distinctOnAt)
}

func distinctOnAt(toks []Token, k int) ([]Token, bool) {
	_, hi := levelBounds(toks, k)
	onClose := matchParen(toks, k+3)
	if onClose < 0 || onClose >= hi {
		return nil, false
	}
	// Clause positions at depth 0 of the level.
	from, order, tail := -1, -1, hi
	depth := 0
	for i := onClose + 1; i < hi; i++ {
		t := toks[i]
		switch {
		case isOp(t, "(") || isKw(t, "case"):
			depth++
		case isOp(t, ")") || isKw(t, "end"):
			depth--
		case depth != 0:
		case isKw(t, "union"), isKw(t, "intersect"), isKw(t, "except"):
			return nil, false
		case isKw(t, "from") && from < 0:
			from = i
		case isKw(t, "order") && isKw(toks[i+1], "by") && order < 0:
			order = i
		case (isKw(t, "limit") || isKw(t, "offset") || isKw(t, "fetch")) && tail == hi:
			tail = i
		}
	}
	if from < 0 {
		return nil, false
	}
	// The select list as "SELECT items" for selectNames.
	list := append([]Token{toks[k]}, toks[onClose+1:from]...)
	names, n := selectNames(append(list, Token{Kind: TokEOF}), 0, len(list))
	if n == 0 {
		return nil, false
	}
	items := splitDepth0(toks, onClose+1, from)
	restEnd := tail
	var terms [][2]int
	if order >= 0 {
		restEnd = order
		terms = splitDepth0(toks, order+2, tail)
	}
	at := toks[k]
	kw := func(s string) Token { return gen(TokIdent, s, at) }
	op := func(s string) Token { return gen(TokOp, s, at) }
	q := func(s string, j int) Token { return gen(TokQuotedIdent, `"kalam_`+s+strconv.Itoa(j+1)+`"`, at) }
	var out []Token
	out = append(out, toks[:k]...)
	out = append(out, kw("SELECT"))
	for j := 0; j < n; j++ {
		if j > 0 {
			out = append(out, op(","))
		}
		out = append(out, q("c", j))
		if names[j].Kind != TokEOF {
			out = append(out, kw("AS"), names[j])
		}
	}
	out = append(out, kw("FROM"), op("("), kw("SELECT"))
	for j, it := range items {
		e := it[1]
		if names[j].Kind != TokEOF && e-it[0] >= 2 && (isKw(toks[e-2], "as") || endsExpr(toks[e-2])) && e-it[0] > 1 {
			if isKw(toks[e-2], "as") {
				e -= 2
			} else if isNameTok(toks[e-1]) && !(e-it[0] == 3 && isOp(toks[it[0]+1], ".")) {
				e--
			}
		}
		out = append(out, toks[it[0]:e]...)
		out = append(out, kw("AS"), q("c", j), op(","))
	}
	out = append(out, kw("row_number"), op("("), op(")"), kw("OVER"), op("("), kw("PARTITION"), kw("BY"))
	out = append(out, toks[k+4:onClose]...)
	if order >= 0 {
		out = append(out, kw("ORDER"), kw("BY"))
		out = append(out, toks[order+2:tail]...)
	}
	out = append(out, op(")"), kw("AS"), q("rn", -1))
	for j, tm := range terms {
		e := termExprEnd(toks, tm[0], tm[1])
		if e-tm[0] == 1 && toks[tm[0]].Kind == TokNumber {
			return nil, false
		}
		out = append(out, op(","))
		out = append(out, toks[tm[0]:e]...)
		out = append(out, kw("AS"), q("o", j))
	}
	out = append(out, toks[from:restEnd]...)
	out = append(out, op(")"), kw("WHERE"), q("rn", -1), op("="), gen(TokNumber, "1", at))
	if order >= 0 {
		out = append(out, kw("ORDER"), kw("BY"))
		for j, tm := range terms {
			if j > 0 {
				out = append(out, op(","))
			}
			out = append(out, q("o", j))
			out = append(out, toks[termExprEnd(toks, tm[0], tm[1]):tm[1]]...)
		}
	}
	out = append(out, toks[tail:]...)
	return out, true
}

// splitDepth0 splits toks[lo:hi] at commas outside parentheses and CASE.
func splitDepth0(toks []Token, lo, hi int) [][2]int {
	var out [][2]int
	depth, s := 0, lo
	for i := lo; i < hi; i++ {
		switch t := toks[i]; {
		case isOp(t, "(") || isKw(t, "case"):
			depth++
		case isOp(t, ")") || isKw(t, "end"):
			depth--
		case depth == 0 && isOp(t, ","):
			out = append(out, [2]int{s, i})
			s = i + 1
		}
	}
	return append(out, [2]int{s, hi})
}

// termExprEnd is the end of an ORDER BY term's expression, before ASC,
// DESC, NULLS FIRST/LAST and COLLATE.
func termExprEnd(toks []Token, lo, hi int) int {
	e := hi
	for e > lo+1 {
		t := toks[e-1]
		if isKw(t, "asc") || isKw(t, "desc") || isKw(t, "first") || isKw(t, "last") || isKw(t, "nulls") {
			e--
			continue
		}
		break
	}
	return e
}

// rewriteGroupingSets turns GROUP BY ROLLUP (a, b), CUBE (a, b) and
// GROUPING SETS ((a), (b), ()) into a UNION ALL of one plain GROUP BY per
// grouping set, in PostgreSQL's set order; a select-list column of the
// grouping that is not in a branch's set becomes "NULL AS name". Only
// plain column elements, select levels without set operations and without
// GROUPING(...) are rewritten; others are left for SQLite to refuse.
func rewriteGroupingSets(toks []Token) []Token {
	return rewriteEach(toks, 16, func(toks []Token, i int) bool {
		return i+3 < len(toks) && isKw(toks[i], "group") && isKw(toks[i+1], "by") &&
			(isKw(toks[i+2], "rollup") || isKw(toks[i+2], "cube") || isKw(toks[i+2], "grouping") && isKw(toks[i+3], "sets"))
	}, groupingSetsAt)
}

func groupingSetsAt(toks []Token, k int) ([]Token, bool) {
	lo, hi := levelBounds(toks, k)
	sel, from, groupEnd, tail := -1, -1, hi, hi
	depth := 0
	for i := lo; i < hi; i++ {
		t := toks[i]
		switch {
		case isOp(t, "(") || isKw(t, "case"):
			depth++
		case isOp(t, ")") || isKw(t, "end"):
			depth--
		case depth != 0:
		case isKw(t, "union"), isKw(t, "intersect"), isKw(t, "except"):
			return nil, false
		case isKw(t, "select") && sel < 0:
			sel = i
		case isKw(t, "from") && from < 0:
			from = i
		case i > k+2 && groupEnd == hi && (isKw(t, "having") || isKw(t, "order") || isKw(t, "limit") || isKw(t, "offset") || isKw(t, "window") || isKw(t, "fetch")):
			groupEnd = i
			fallthrough
		case i > k+2 && tail == hi && (isKw(t, "order") || isKw(t, "limit") || isKw(t, "offset") || isKw(t, "fetch")):
			if !isKw(t, "having") && !isKw(t, "window") {
				tail = i
			}
		}
	}
	if sel < 0 || from < 0 || from > k {
		return nil, false
	}
	if hasGroupingCall(toks, tail, hi) {
		return nil, false // GROUPING in ORDER BY: rewrite_grouping.go
	}
	// The grouping elements and sets.
	plain := func(a, b int) (string, bool) {
		switch {
		case b-a == 1 && isNameTok(toks[a]):
			return asciiLower(toks[a].Value), true
		case b-a == 3 && isNameTok(toks[a]) && isOp(toks[a+1], ".") && isNameTok(toks[a+2]):
			return asciiLower(toks[a+2].Value), true
		}
		return "", false
	}
	var sets [][][2]int
	spec := k + 2
	if isKw(toks[spec], "grouping") {
		spec++
	}
	open := spec + 1
	closeAt := matchParen(toks, open)
	if !isOp(toks[open], "(") || closeAt != groupEnd-1 {
		return nil, false
	}
	elems := splitDepth0(toks, open+1, closeAt)
	for _, e := range elems {
		if _, ok := plain(e[0], e[1]); !ok && !isKw(toks[spec], "sets") {
			return nil, false
		}
	}
	switch {
	case isKw(toks[spec], "rollup"):
		for n := len(elems); n >= 0; n-- {
			sets = append(sets, elems[:n])
		}
	case isKw(toks[spec], "cube"):
		if len(elems) > 8 {
			return nil, false
		}
		for m := (1 << len(elems)) - 1; m >= 0; m-- {
			var s [][2]int
			for j := range elems {
				if m&(1<<(len(elems)-1-j)) != 0 {
					s = append(s, elems[j])
				}
			}
			sets = append(sets, s)
		}
	default: // GROUPING SETS
		for _, e := range elems {
			if _, ok := plain(e[0], e[1]); ok {
				sets = append(sets, [][2]int{e})
				continue
			}
			if !isOp(toks[e[0]], "(") || matchParen(toks, e[0]) != e[1]-1 {
				return nil, false
			}
			var s [][2]int
			if e[1]-e[0] > 2 {
				for _, c := range splitDepth0(toks, e[0]+1, e[1]-1) {
					if _, ok := plain(c[0], c[1]); !ok {
						return nil, false
					}
					s = append(s, c)
				}
			}
			sets = append(sets, s)
		}
	}
	all := map[string]bool{}
	for _, s := range sets {
		for _, c := range s {
			name, _ := plain(c[0], c[1])
			all[name] = true
		}
	}
	items := splitDepth0(toks, sel+1, from)
	at := toks[k]
	var out []Token
	out = append(out, toks[:sel]...)
	for b, s := range sets {
		if b > 0 {
			out = append(out, gen(TokIdent, "UNION", at), gen(TokIdent, "ALL", at))
		}
		in := map[string]bool{}
		for _, c := range s {
			name, _ := plain(c[0], c[1])
			in[name] = true
		}
		out = append(out, toks[sel])
		for j, it := range items {
			if j > 0 {
				out = append(out, gen(TokOp, ",", at))
			}
			if name, ok := plain(it[0], it[1]); ok && all[name] && !in[name] {
				out = append(out, gen(TokIdent, "NULL", at), gen(TokIdent, "AS", at), toks[it[1]-1])
				continue
			}
			item, whole := groupingValues(toks, it[0], it[1], plain, all, in)
			out = append(out, item...)
			if whole {
				out = append(out, gen(TokIdent, "AS", at), gen(TokQuotedIdent, `"grouping"`, at))
			}
		}
		out = append(out, toks[from:k]...)
		if len(s) > 0 {
			out = append(out, toks[k], toks[k+1])
			for j, c := range s {
				if j > 0 {
					out = append(out, gen(TokOp, ",", at))
				}
				out = append(out, toks[c[0]:c[1]]...)
			}
		}
		having, _ := groupingValues(toks, groupEnd, tail, plain, all, in)
		out = append(out, having...)
	}
	out = append(out, toks[tail:]...)
	return out, true
}
