package parse

// One typed round per statement.
//
// Column types (colTyper) need the statement's tables, and the rewriter
// finds those only after the operator pass that needs the types. Rewrite
// used to run a whole untyped round first just to collect the tables;
// instead, prescanRefs reads them straight off the tokens, the typed round
// runs once with them, and the tables that round's rewriter records are
// the check: when they differ (a shape the pre-scan reads differently) or
// the round fails, Rewrite falls back to the two-round path, so answers and
// errors are exactly those of the rewriter's own table positions.
//
// Invariants:
//   - The pre-scan is only a guess: nothing is resolved, emitted or
//     refused on its word. Access control stays with rewriter.tableRef.
//   - A typed result is returned only when the typer was built from the
//     same set of (alias, virtual table) pairs the typed round's rewriter
//     recorded.

// prescanRefs collects the (alias, virtual table) pairs of the table
// references of toks (a statement ending in EOF): a resolvable
// [ns.]name after FROM or JOIN, or after a comma while a FROM clause is
// open at that parenthesis level, with its alias as tableRef reads it.
func prescanRefs(toks []Token, r Resolver, g groupIndex) []tableRefInfo {
	var refs []tableRefInfo
	inFrom := map[int]bool{} // opener index (-1: statement) -> FROM open
	for i := 0; i+1 < len(toks); i++ {
		t := toks[i]
		level := g.parent[i]
		if isKw(t, "from") && isKw(prevTok(toks, i), "distinct") {
			continue // IS [NOT] DISTINCT FROM
		}
		if t.Kind == TokIdent {
			switch t.Value {
			case "from", "join":
				inFrom[level] = true
			case "where", "group", "having", "order", "limit", "offset", "union", "intersect", "except", "fetch":
				inFrom[level] = false
			}
		}
		if !isKw(t, "from") && !isKw(t, "join") && !(isOp(t, ",") && inFrom[level]) {
			continue
		}
		if ref, ok := prescanRef(toks, i+1, r, g); ok {
			refs = append(refs, ref)
		}
	}
	return refs
}

func prevTok(toks []Token, i int) Token {
	if i == 0 {
		return Token{Kind: TokEOF}
	}
	return toks[i-1]
}

// prescanRef reads "[ns.]name [[AS] alias]" at token i as tableRef does.
func prescanRef(toks []Token, i int, r Resolver, g groupIndex) (tableRefInfo, bool) {
	at := func(k int) Token {
		if k < len(toks) {
			return toks[k]
		}
		return toks[len(toks)-1]
	}
	t := at(i)
	if !isNameTok(t) {
		return tableRefInfo{}, false
	}
	nameTok, ns, n := t, "", 1
	if isOp(at(i+1), ".") {
		nameTok, ns, n = at(i+2), t.Value, 3
		if !isNameTok(nameTok) {
			return tableRefInfo{}, false
		}
	}
	if isOp(at(i+n), "(") || ns == "" && isCTEName(toks, g, asciiLower(nameTok.Value)) {
		return tableRefInfo{}, false
	}
	vtab, ok := r.ResolveTable(ns, nameTok.Value)
	if !ok {
		return tableRefInfo{}, false
	}
	alias := nameTok.Text
	switch a := at(i + n); {
	case isKw(a, "as"):
		if al := at(i + n + 1); isNameTok(al) {
			alias = al.Text
		}
	case a.Kind == TokQuotedIdent || a.Kind == TokIdent && (!isKeyword(a.Value) || (&rewriter{toks: toks, i: i + n}).softAlias(a)):
		alias = a.Text
	}
	return tableRefInfo{alias: asciiLower(alias), vtab: vtab}, true
}

// flatRefs lists the table references of every query level.
func flatRefs(levels map[int][]tableRefInfo) []tableRefInfo {
	var out []tableRefInfo
	for _, l := range levels {
		out = append(out, l...)
	}
	return out
}

// sameRefs reports whether a and b hold the same set of pairs.
func sameRefs(a, b []tableRefInfo) bool {
	in := make(map[tableRefInfo]bool, len(a))
	for _, x := range a {
		in[x] = true
	}
	for _, x := range b {
		if !in[x] {
			return false
		}
	}
	seen := make(map[tableRefInfo]bool, len(b))
	for _, x := range b {
		seen[x] = true
	}
	return len(seen) == len(in)
}
