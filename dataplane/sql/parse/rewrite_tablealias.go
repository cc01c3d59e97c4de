package parse

import "strings"

// StarColumnResolver is implemented by a Resolver that can list the
// columns SELECT * of a virtual table returns (hidden columns excluded).
// With it, a column list on a table's alias (FROM t AS a(x, y)) is
// rewritten to a derived table; without it SQLite refuses the list.
type StarColumnResolver interface {
	// StarColumns lists the columns of vtab, in order, as SELECT * returns
	// them; ok is false when vtab's columns are unknown.
	StarColumns(vtab string) (cols []string, ok bool)
}

// rewriteTableAliasColumns rewrites "FROM [ns.]t [AS] a(x, y)" into
// "FROM (SELECT c1 AS x, c2 AS y, c3 FROM [ns.]t) AS a": PostgreSQL renames
// the first len(list) columns and keeps the others' names. SQLite takes a
// column list on no FROM item; it flattens the derived table, so a WHERE on
// a still reaches the virtual table's index and pushdown. A name that is a
// CTE of the statement, or a table the resolver cannot list, is left alone
// (SQLite then refuses the list: an error, never a wrong answer).
func rewriteTableAliasColumns(toks []Token, r Resolver) ([]Token, error) {
	sr, ok := r.(StarColumnResolver)
	if !ok {
		return toks, nil
	}
	g := indexGroups(toks, false)
	for i := 1; i < len(toks); i++ {
		prev := toks[i-1]
		if !isKw(prev, "from") && !isKw(prev, "join") && !isOp(prev, ",") {
			continue
		}
		if !isNameTok(toks[i]) || toks[i].Kind == TokIdent && isKeyword(toks[i].Value) {
			continue
		}
		ns, name, k := "", toks[i], i+1
		if k+1 < len(toks) && isOp(toks[k], ".") && isNameTok(toks[k+1]) {
			ns, name, k = toks[i].Value, toks[k+1], k+2
		}
		if k < len(toks) && isKw(toks[k], "as") {
			k++
		}
		if k+1 >= len(toks) || !isNameTok(toks[k]) || toks[k].Kind == TokIdent && isKeyword(toks[k].Value) || !isOp(toks[k+1], "(") {
			continue
		}
		alias, open := toks[k], k+1
		end := g.match[open]
		if end < 0 {
			continue
		}
		var names []Token
		list := true
		for m := open + 1; m < end; m++ {
			if (m-open)%2 == 1 && isNameTok(toks[m]) {
				names = append(names, toks[m])
			} else if (m-open)%2 == 1 || !isOp(toks[m], ",") {
				list = false
			}
		}
		if !list || len(names) == 0 || ns == "" && isCTEName(toks, g, name.Value) {
			continue
		}
		vtab, found := r.ResolveTable(ns, name.Value)
		if !found {
			continue
		}
		cols, known := sr.StarColumns(vtab)
		if !known {
			continue
		}
		if len(names) > len(cols) {
			return nil, errSQL(toks[open].Pos, "table %q has %d columns available but %d columns specified", alias.Value, len(cols), len(names))
		}
		at := toks[i]
		sub := []Token{gen(TokOp, "(", at), gen(TokIdent, "SELECT", at)}
		for c, col := range cols {
			if c > 0 {
				sub = append(sub, gen(TokOp, ",", at))
			}
			sub = append(sub, quotedIdent(col, at))
			if c < len(names) {
				sub = append(sub, gen(TokIdent, "AS", at), names[c])
			}
		}
		sub = append(sub, gen(TokIdent, "FROM", at))
		sub = append(sub, toks[i:k-boolInt(isKw(toks[k-1], "as"))]...)
		sub = append(sub, gen(TokOp, ")", at), gen(TokIdent, "AS", at), alias)
		out := make([]Token, 0, len(toks)+len(sub))
		out = append(out, toks[:i]...)
		out = append(out, sub...)
		out = append(out, toks[end+1:]...)
		toks = out
		g = indexGroups(toks, false)
		i += len(sub) - 1
	}
	return toks, nil
}

// isCTEName reports whether the statement defines a CTE called name:
// "name AS (" or "name (cols) AS (".
func isCTEName(toks []Token, g groupIndex, name string) bool {
	for k := 0; k+2 < len(toks); k++ {
		if !isNameTok(toks[k]) || toks[k].Value != name {
			continue
		}
		j := k + 1
		if isOp(toks[j], "(") {
			if j = g.match[j]; j < 0 {
				continue
			}
			j++
		}
		if j+1 < len(toks) && isKw(toks[j], "as") && isOp(toks[j+1], "(") {
			return true
		}
	}
	return false
}

// quotedIdent is a generated "double-quoted" identifier token.
func quotedIdent(name string, at Token) Token {
	text := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	return Token{Kind: TokQuotedIdent, Text: text, Value: name, Pos: at.Pos, End: at.Pos}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
