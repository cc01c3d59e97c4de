package parse

// PostgreSQL sorts NULL above every value: last in ascending order, first
// in descending order. SQLite does the opposite. The rewriter therefore
// ends every ORDER BY term that does not say NULLS FIRST/LAST (statement
// level, subqueries, window definitions and ordered aggregates alike) with
// PostgreSQL's default, NULLS LAST after ASC and NULLS FIRST after DESC.
//
// SQLite does not hand a sort with a non-default NULL order to a virtual
// table, so a key-ordered scan ("ORDER BY id LIMIT 10") would lose its
// pushdown. A term that is the primary-key column of the only table of its
// query level (no join, no alias of that name in the select list) cannot
// be NULL, and keeps SQLite's default.

// KeyResolver is implemented by a Resolver that knows primary keys.
type KeyResolver interface {
	// KeyColumn returns the (lower-case) name of the primary-key column
	// of the virtual table vtab, or "" when it has none.
	KeyColumn(vtab string) string
}

// orderState tracks the current ORDER BY term of one scope.
type orderState struct {
	active bool
	desc   bool
	nulls  bool
	toks   int    // tokens in the term, excluding ASC/DESC/NULLS ...
	col    string // the term's name when it is "col" or "qual.col"
	qual   string
}

// startOrderBy is called with w.i at ORDER (followed by BY): it emits both
// words and starts tracking terms in the current scope.
func (w *rewriter) startOrderBy() {
	w.emitTok()
	w.emitTok()
	w.boundary()
	w.top().order = orderState{active: true}
}

// orderToken updates the ORDER BY term of the current scope for token t,
// before t is rewritten; a term ends at "," and at the keywords that may
// follow an ORDER BY clause.
func (w *rewriter) orderToken(t Token) {
	sc := w.top()
	o := &sc.order
	if !o.active {
		return
	}
	if isOp(t, ",") {
		w.endOrderTerm(sc)
		return
	}
	if t.Kind == TokIdent && !isOp(w.at(w.i-1), ".") {
		switch t.Value {
		case "limit", "offset", "fetch", "rows", "range", "groups", "window", "union", "intersect", "except", "for":
			w.endOrderTerm(sc)
			o.active = false
			return
		case "asc":
			o.desc = false
			return
		case "desc":
			o.desc = true
			return
		case "nulls":
			o.nulls = true
			return
		case "first", "last":
			if isKw(w.at(w.i-1), "nulls") {
				return
			}
		}
	}
	o.toks++
	switch {
	case o.toks == 1 && isNameTok(t):
		o.col = t.Value
	case o.toks == 2 && isOp(t, "."):
	case o.toks == 3 && isNameTok(t) && isOp(w.at(w.i-1), "."):
		o.qual, o.col = o.col, t.Value
	default:
		o.col = ""
	}
}

// orderNested marks the current term of the enclosing scope as an
// expression (a parenthesis or CASE opened inside it).
func (w *rewriter) orderNested() {
	if o := &w.top().order; o.active {
		o.toks += 2
		o.col = ""
	}
}

// endOrderTerm appends PostgreSQL's NULL order to the finished term.
func (w *rewriter) endOrderTerm(sc *scope) {
	o := &sc.order
	if o.toks > 0 && !o.nulls && !w.keyTerm(sc) {
		if o.desc {
			w.emit("NULLS FIRST", true)
		} else {
			w.emit("NULLS LAST", true)
		}
	}
	*o = orderState{active: o.active}
}

// keyTerm reports whether the current term of sc is the primary key of
// the only table of its query level.
func (w *rewriter) keyTerm(sc *scope) bool {
	o := &sc.order
	if sc.kind != scopeQuery || o.col == "" || (o.toks != 1 && o.toks != 3) || sc.refs != 1 || sc.refVTab == "" {
		return false
	}
	kr, ok := w.r.(KeyResolver)
	if !ok || kr.KeyColumn(sc.refVTab) != o.col {
		return false
	}
	if o.qual != "" && o.qual != asciiLower(sc.refAlias) {
		return false
	}
	_, aliased := sc.aliasNames[o.col]
	return !aliased
}

// queryScope is the innermost scope that is a query level.
func (w *rewriter) queryScope() *scope {
	for i := len(w.scopes) - 1; i > 0; i-- {
		if w.scopes[i].kind == scopeQuery {
			return &w.scopes[i]
		}
	}
	return &w.scopes[0]
}
