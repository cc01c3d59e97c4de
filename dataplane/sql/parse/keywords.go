package parse

// This file classifies words for the rewriter.

// isQueryKw reports whether t starts a query.
func isQueryKw(t Token) bool {
	return isKw(t, "select") || isKw(t, "with") || isKw(t, "values")
}

func isNameTok(t Token) bool { return t.Kind == TokIdent || t.Kind == TokQuotedIdent }

// keywords are the structural SQL words the rewriter must not treat as
// names: they never start a primary expression, never serve as implicit
// table aliases, and (except COLLATE) end the operand of an ILIKE.
var keywords = toSet(
	"select", "from", "where", "and", "or", "not", "is", "in", "between",
	"like", "glob", "regexp", "match", "ilike", "escape", "when", "then",
	"else", "as", "on", "using", "join", "inner", "left", "right", "full",
	"outer", "cross", "natural", "group", "by", "having", "order", "limit",
	"offset", "union", "intersect", "except", "all", "distinct", "with",
	"recursive", "values", "exists", "asc", "desc", "nulls", "over",
	"partition", "filter", "window", "indexed", "collate", "isnull",
	"notnull", "materialized", "returning", "case", "end", "cast", "set",
	"lateral", "fetch", "for", "into",
)

func isKeyword(word string) bool {
	_, ok := keywords[word]
	return ok
}

// isOperandBoundary reports whether t ends the operand of an ILIKE.
func isOperandBoundary(t Token) bool {
	switch t.Kind {
	case TokOp:
		switch t.Value {
		case ",", ")", "=", "==", "<>", "!=", "<", ">", "<=", ">=":
			return true
		}
	case TokIdent:
		return t.Value != "collate" && t.Value != "case" && t.Value != "cast" && isKeyword(t.Value)
	}
	return false
}
