package parse

// Column and result types for the PostgreSQL operator pass.
//
// PostgreSQL chooses an operator by its operands' types: float8 + numeric
// is float8 arithmetic, int4 + int4 overflows at 2^31, timestamp +
// interval is a timestamp. The operator pass (rewrite_pg.go) knows the
// types of literals and casts; colTyper adds the types of table columns,
// looked up in the catalog for the statement's tables (rewrite_refs.go).
//
// Invariants:
//   - A name gets a type only when that is certain: every table of the
//     statement that has a column of that name (or the one table its
//     qualifier names) gives it the same type, no table of the statement
//     has columns the resolver cannot type, and no alias in the statement
//     (select-list AS names, implicit aliases, WITH column lists) reuses
//     the name. Anything else stays unknown, which is the untyped
//     behaviour (values decide at run time).
//   - resultTypes only reports types for a select list it can match one to
//     one with the result columns (no *).

// ColumnTypeResolver is implemented by a Resolver that knows the types of
// its tables' columns.
type ColumnTypeResolver interface {
	// ColumnPGType returns the PostgreSQL type of column col of virtual
	// table vtab: one of int2, int4, int8, numeric, float8, text, boolean,
	// timestamp, date, or "other"; "" when vtab has no such column. known
	// is false when the resolver cannot type vtab's columns at all.
	ColumnPGType(vtab, col string) (typ string, known bool)
}

// colTyper types column references of one statement.
type colTyper struct {
	r       ColumnTypeResolver
	byAlias map[string][]string // lower-case alias -> vtabs
	vtabs   []string
	shadow  map[string]bool // names an alias of the statement reuses
	// storedText: twins may read wide DECIMAL columns' hidden stored-text
	// columns (set by addTwins for the twinned rewrite).
	storedText bool
}

func newColTyper(r ColumnTypeResolver, refs []tableRefInfo, toks []Token) *colTyper {
	c := &colTyper{r: r, byAlias: map[string][]string{}, shadow: map[string]bool{}}
	seen := map[string]bool{}
	for _, ref := range refs {
		c.byAlias[ref.alias] = append(c.byAlias[ref.alias], ref.vtab)
		if !seen[ref.vtab] {
			seen[ref.vtab] = true
			c.vtabs = append(c.vtabs, ref.vtab)
		}
	}
	for k := 0; k+1 < len(toks); k++ {
		t := toks[k]
		if !isNameTok(t) {
			continue
		}
		prev, next := Token{Kind: TokEOF}, toks[k+1]
		if k > 0 {
			prev = toks[k-1]
		}
		switch {
		case isKw(prev, "as"):
			// AS name; also the CTE name of "name AS (".
			c.shadow[asciiLower(t.Value)] = true
		case endsExpr(prev) && (isOp(next, ",") || isOp(next, ")") || next.Kind == TokEOF || isKw(next, "from")):
			// An implicit alias: "expr name," or "expr name FROM".
			c.shadow[asciiLower(t.Value)] = true
		case (isOp(prev, "(") || isOp(prev, ",")) && (isOp(next, ",") || isOp(next, ")")) && inColumnList(toks, k):
			// WITH q(a, b) AS (...) and AS t(a, b).
			c.shadow[asciiLower(t.Value)] = true
		}
	}
	return c
}

// endsExpr reports whether t can end an expression (so a name after it is
// an alias).
func endsExpr(t Token) bool {
	switch t.Kind {
	case TokNumber, TokString, TokQuotedIdent, TokParam, TokBlob:
		return true
	case TokIdent:
		return !isKeyword(t.Value) || t.Value == "null" || t.Value == "true" || t.Value == "false" || t.Value == "end"
	case TokOp:
		return t.Value == ")"
	}
	return false
}

// inColumnList reports whether token k is inside "name(a, b, ...)" that is
// followed by AS (a WITH column list) or preceded by AS name (a table
// alias column list).
func inColumnList(toks []Token, k int) bool {
	open := k - 1
	for open >= 0 && !isOp(toks[open], "(") {
		if !isNameTok(toks[open]) && !isOp(toks[open], ",") {
			return false
		}
		open--
	}
	if open < 1 || !isNameTok(toks[open-1]) {
		return false
	}
	end := matchParen(toks, open)
	if end < 0 || end+1 >= len(toks) {
		return false
	}
	// "q(a, b) AS (" is a WITH column list; "max(ts) AS t" is a call with
	// an alias, whose argument is no column list.
	cte := isKw(toks[end+1], "as") && end+2 < len(toks) && isOp(toks[end+2], "(")
	return cte || (open >= 2 && isKw(toks[open-2], "as"))
}

// typeOf returns the type of column reference qual.col (qual may be "").
func (c *colTyper) typeOf(qual, col string) pgType {
	if c == nil {
		return tUnknown
	}
	col = asciiLower(col)
	if c.shadow[col] {
		return tUnknown
	}
	vtabs := c.vtabs
	if qual != "" {
		vtabs = c.byAlias[asciiLower(qual)]
		if len(vtabs) == 0 {
			return tUnknown
		}
	}
	found := ""
	for _, vt := range vtabs {
		typ, known := c.r.ColumnPGType(vt, col)
		if !known {
			return tUnknown
		}
		if typ == "" {
			continue
		}
		if found != "" && found != typ {
			return tUnknown
		}
		found = typ
	}
	switch pgType(found) {
	case tInt2, tInt4, tInt8, tNumeric, tFloat, tText, tBool, tTimestamp, tDate:
		return pgType(found)
	}
	return tUnknown
}

// nameType types a (qualified) name primary: col, t.col or ns.t.col.
func (c *colTyper) nameType(toks []Token) pgType {
	switch len(toks) {
	case 1:
		return c.typeOf("", toks[0].Value)
	case 3, 5:
		if isOp(toks[len(toks)-1], "*") {
			return tUnknown
		}
		return c.typeOf(toks[len(toks)-3].Value, toks[len(toks)-1].Value)
	}
	return tUnknown
}

// resultTypes infers the types of the outermost select list's items:
// "boolean" for a condition, the operator pass's type for an expression
// it parses whole ("timestamp", "date", "boolean"), "" otherwise.
func resultTypes(p *pgPass) []string {
	items, _ := p.selectItems()
	var out []string
	for _, it := range items {
		typ, ok := p.itemType(it[0], it[1])
		if !ok {
			return nil
		}
		out = append(out, typ)
	}
	for _, t := range out {
		if t != "" {
			return out
		}
	}
	return nil
}

// selectListEnd are the keywords that end a select list.
var selectListEnd = toSet("from", "where", "group", "having", "order", "limit", "offset", "fetch",
	"union", "intersect", "except", "window", "into")

func isSelectListEnd(t Token) bool {
	_, ok := selectListEnd[t.Value]
	return t.Kind == TokIdent && ok
}

// itemType types the select-list item in[lo:hi]; ok is false for a "*"
// item (result columns then do not match items).
func (p *pgPass) itemType(lo, hi int) (string, bool) {
	if lo >= hi {
		return "", false
	}
	if isOp(p.in[hi-1], "*") && (hi-1 == lo || isOp(p.in[hi-2], ".")) {
		return "", false
	}
	// Drop "AS name" or an implicit alias.
	switch {
	case hi-lo >= 3 && isKw(p.in[hi-2], "as"):
		hi -= 2
	case hi-lo >= 2 && isNameTok(p.in[hi-1]) && endsExpr(p.in[hi-2]) && !isKw(p.in[hi-1], "end"):
		hi--
	}
	if p.isPredicate(lo, hi) || isKw(p.in[lo], "exists") || (isKw(p.in[lo], "not") && isKw(p.at(lo+1, hi), "exists")) {
		return "boolean", true
	}
	e, next, err := p.expr(lo, hi, 0)
	if err != nil || next != hi {
		return "", true
	}
	return reportedType(e.typ), true
}
