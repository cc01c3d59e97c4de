package parse

import "strings"

// This file holds the access-control half of the rewriter: finding table
// positions, resolving table references and tracking CTE scopes.

// from handles FROM. It opens a table position unless it is part of
// "IS [NOT] DISTINCT FROM" or sits directly in function arguments
// (EXTRACT is rewritten before; SUBSTRING(x FROM n) and friends are not
// SQLite syntax and fail there).
func (w *rewriter) from() {
	sc := w.top()
	distinct := isKw(w.at(w.i-1), "distinct") && (isKw(w.at(w.i-2), "is") || isKw(w.at(w.i-2), "not"))
	w.emitTok()
	w.boundary()
	if distinct || sc.kind == scopeFunc || sc.kind == scopeCast {
		return
	}
	sc.inFrom = true
	w.expectTable, w.expectAfter = true, `"FROM"`
}

// clauseWords are the reserved words that start or join clauses: never a
// table name (reservedWords), so one at a table position is a syntax error.
var clauseWords = toSet("select", "from", "where", "group", "having", "order", "limit", "offset",
	"union", "intersect", "except", "on", "using", "join")

// tableRef rewrites the table reference at w.i (a table position).
func (w *rewriter) tableRef() error {
	t := w.toks[w.i]
	q := w.queryScope()
	q.refs++
	q.refVTab, q.refAlias = "", ""
	if isOp(t, "(") {
		// A subquery, or a parenthesised join / table list whose first
		// element is again a table position.
		kind := scopeFromGroup
		if isQueryKw(w.at(w.i + 1)) {
			kind = scopeQuery
		}
		start := len(w.out)
		w.emitTok()
		w.push(scope{kind: kind, open: start, openPos: t.Pos, operandStart: len(w.out), inFrom: kind == scopeFromGroup})
		if kind == scopeFromGroup {
			w.expectTable = true
		}
		return nil
	}
	if !isNameTok(t) {
		return errSQL(t.Pos, "expected table name after %s, found %s", w.expectAfter, describe(t))
	}
	if _, clause := clauseWords[t.Value]; clause && t.Kind == TokIdent && !isOp(w.at(w.i+1), ".") {
		// "SELECT x FROM WHERE ...": a clause where the table belongs is
		// a syntax error, as in PostgreSQL (no table may have the name).
		return errSQL(t.Pos, "syntax error: expected table name after %s, found %s", w.expectAfter, strings.ToUpper(t.Value))
	}
	i := w.i
	nameTok, ns, n := t, "", 1
	if isOp(w.at(i+1), ".") {
		nameTok = w.at(i + 2)
		if !isNameTok(nameTok) {
			return errSQL(nameTok.Pos, "expected table name after %q, found %s", t.Text+".", describe(nameTok))
		}
		ns, n = t.Value, 3
		if isOp(w.at(i+3), ".") {
			return errSQL(w.at(i+3).Pos, "table reference may have at most two parts (namespace.table)")
		}
	}
	if isOp(w.at(i+n), "(") {
		return errSQL(t.Pos, "table functions are not supported")
	}
	name := nameTok.Value
	display := name
	if ns != "" {
		display = ns + "." + name
	}
	lns := asciiLower(ns)
	if lns == "main" || lns == "temp" || lns == "temporary" || strings.HasPrefix(asciiLower(name), "sqlite_") {
		// SQLite's own schemas and tables are never user tables.
		return errNotFound(t.Pos, "table '%s' not found", printable(display))
	}
	if ns == "" && w.isCTE(asciiLower(name)) {
		w.emit(t.Text, w.gap(i))
		w.i++
		return nil
	}
	vtab, ok := w.r.ResolveTable(ns, name)
	if !ok {
		return errNotFound(t.Pos, "table '%s' not found", printable(display))
	}
	if w.isCTE(asciiLower(vtab)) {
		// SQLite looks CTE names up before tables, even quoted ones, so
		// such a CTE would silently replace the table.
		return errSQL(t.Pos, "a WITH clause name conflicts with table '%s'", printable(display))
	}
	w.i += n
	alias := nameTok.Text
	switch a := w.at(w.i); {
	case isKw(a, "as"):
		al := w.at(w.i + 1)
		if !isNameTok(al) {
			return errSQL(al.Pos, `expected alias after "AS", found %s`, describe(al))
		}
		alias = al.Text
		w.i += 2
	case a.Kind == TokQuotedIdent || (a.Kind == TokIdent && (!isKeyword(a.Value) || w.softAlias(a))):
		alias = a.Text
		w.i++
	}
	w.emit(quoteIdent(vtab)+" AS "+alias, w.gap(i))
	q.refVTab, q.refAlias = vtab, alias
	w.recordRef(alias, vtab)
	w.primEnd = -1
	w.addTable(ns, name, vtab, alias)
	return nil
}

// softAlias reports whether keyword a, right after a table name, is an
// implicit alias as SQLite reads it: these keywords fall back to plain
// identifiers there, and WINDOW does unless it starts "WINDOW name AS".
func (w *rewriter) softAlias(a Token) bool {
	switch a.Value {
	case "offset":
		// PostgreSQL's OFFSET needs no LIMIT: "t OFFSET 5" is not an alias.
		n := w.at(w.i + 1)
		return n.Kind != TokNumber && n.Kind != TokParam && !isOp(n, "(")
	case "filter", "over", "nulls", "materialized", "recursive", "partition":
		return true
	case "window":
		return !(isNameTok(w.at(w.i+1)) && isKw(w.at(w.i+2), "as"))
	}
	return false
}

// addTable records a resolved reference (once per virtual table, as first
// written) and the first alias of each virtual table, used for ns.t.col
// rewriting.
func (w *rewriter) addTable(ns, name, vtab, alias string) {
	if _, ok := w.aliases[vtab]; !ok {
		w.aliases[vtab] = alias
	}
	if _, ok := w.seenVTabs[vtab]; ok {
		return
	}
	w.seenVTabs[vtab] = struct{}{}
	w.tables = append(w.tables, ResolvedTable{Namespace: ns, Name: name, VTab: vtab})
}

// isCTE reports whether a CTE called name is visible at the current level.
func (w *rewriter) isCTE(name string) bool {
	for i := len(w.scopes) - 1; i >= 0; i-- {
		if _, ok := w.scopes[i].ctes[name]; ok {
			return true
		}
	}
	return false
}

// with handles WITH: it pre-scans the CTE list so that the names are
// visible in the CTE bodies (recursive references, later CTEs) and in
// the main query, registers them at the current level, and checks that a
// query follows (SQLite would also accept WITH ... DELETE/UPDATE/INSERT).
func (w *rewriter) with(t Token) error {
	names, end, err := scanCTEs(w.toks, w.i)
	if err != nil {
		return err
	}
	after := w.at(end)
	if !isKw(after, "select") && !isKw(after, "values") {
		return errSQL(after.Pos, "expected SELECT after the WITH clause, found %s", describe(after))
	}
	sc := w.top()
	if sc.ctes == nil {
		sc.ctes = map[string]struct{}{}
	}
	for _, n := range names {
		sc.ctes[n] = struct{}{}
	}
	w.emitTok()
	w.boundary()
	return nil
}

// scanCTEs parses the shape of "WITH [RECURSIVE] name [(cols)] AS [NOT]
// [MATERIALIZED] (body), ..." starting at the WITH token i, and returns
// the lowercased names and the index of the token after the list.
func scanCTEs(toks []Token, i int) ([]string, int, error) {
	at := func(k int) Token {
		if k < len(toks) {
			return toks[k]
		}
		return toks[len(toks)-1]
	}
	j := i + 1
	if isKw(at(j), "recursive") {
		j++
	}
	var names []string
	for {
		nt := at(j)
		if !isNameTok(nt) {
			return nil, 0, errSQL(nt.Pos, "expected CTE name in WITH clause, found %s", describe(nt))
		}
		name := asciiLower(nt.Value)
		if strings.HasPrefix(name, "sqlite_") {
			return nil, 0, errInput(nt.Pos, "CTE name '%s' must not start with 'sqlite_'", printable(nt.Value))
		}
		names = append(names, name)
		j++
		if isOp(at(j), "(") {
			if j = matchParen(toks, j); j < 0 {
				return nil, 0, errSQL(at(i).Pos, `unbalanced "(" in WITH clause`)
			}
			j++
		}
		if !isKw(at(j), "as") {
			return nil, 0, errSQL(at(j).Pos, "expected AS after CTE name %q, found %s", nt.Value, describe(at(j)))
		}
		j++
		if isKw(at(j), "not") {
			j++
		}
		if isKw(at(j), "materialized") {
			j++
		}
		if !isOp(at(j), "(") {
			return nil, 0, errSQL(at(j).Pos, `expected "(" before the CTE body of %q, found %s`, nt.Value, describe(at(j)))
		}
		if j = matchParen(toks, j); j < 0 {
			return nil, 0, errSQL(nt.Pos, `unbalanced "(" in WITH clause`)
		}
		j++
		if !isOp(at(j), ",") {
			return names, j, nil
		}
		j++
	}
}
