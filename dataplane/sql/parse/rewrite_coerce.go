package parse

import (
	"strconv"
	"strings"
)

// Literal coercion: PostgreSQL types an untyped string literal compared
// with a column as a value of the column's type, so `ts < '2015-01-01'`
// compares timestamps and `flag = 'yes'` booleans. SQLite would compare
// the stored integer with text and match nothing (or everything). The
// rewriter therefore converts, at plan time, a string literal that is the
// other operand of a comparison with a TIMESTAMP, DATE or BOOLEAN column:
//
//	col <op> 'lit'              op one of = <> != < <= > >=
//	col IS [NOT] DISTINCT FROM 'lit'
//	col [NOT] BETWEEN 'a' AND 'b'
//	col [NOT] IN ('a', 'b', ...)
//	true = 'lit', DATE '...' < 'lit'   (a typed literal instead of col)
//
// TIMESTAMP literals become microseconds and DATE literals days, as the
// columns store them; BOOLEAN literals take PostgreSQL's spellings (true,
// yes, on, 1, t, y, and their opposites, any case) and become 1 or 0. A
// literal that is not a valid value of the type is an error, as in
// PostgreSQL. The same forms with a typed literal of the other temporal
// type (`ts >= DATE '2020-01-01'`, `d < TIMESTAMP '...'`) compare in the
// column's unit: a date is its midnight, a timestamp a fractional day.
//
// The column is a bare or alias-qualified name resolved against the
// tables of the enclosing query levels (innermost first); a literal on the
// left of the comparison, or an operand that is an expression, is left to
// SQLite.

// ColumnTyper is implemented by a Resolver that knows column types.
type ColumnTyper interface {
	// ColumnKind returns "timestamp", "date" or "boolean" for such a
	// column of virtual table vtab, "other" for another existing column
	// and "" when vtab has no column col.
	ColumnKind(vtab, col string) string
}

// tableRefInfo is one table of a query level, as written.
type tableRefInfo struct {
	alias, vtab string
}

// scopeKey identifies the innermost query level across both passes.
func (w *rewriter) scopeKey() int {
	for i := len(w.scopes) - 1; i > 0; i-- {
		if w.scopes[i].kind == scopeQuery {
			return w.scopes[i].openPos
		}
	}
	return -1
}

// recordRef remembers a table of the current query level (first pass).
func (w *rewriter) recordRef(alias, vtab string) {
	if w.finalPass {
		return
	}
	k := w.scopeKey()
	w.refs[k] = append(w.refs[k], tableRefInfo{alias: asciiLower(alias), vtab: vtab})
}

// columnKind resolves qual.col (qual may be "") to a column kind.
func (w *rewriter) columnKind(qual, col string) string {
	ct, ok := w.r.(ColumnTyper)
	if !ok {
		return ""
	}
	for i := len(w.scopes) - 1; i >= 0; i-- {
		if i > 0 && w.scopes[i].kind != scopeQuery {
			continue
		}
		k := -1
		if i > 0 {
			k = w.scopes[i].openPos
		}
		found := ""
		n := 0
		for _, r := range w.refs[k] {
			if qual != "" {
				if r.alias == qual {
					return ct.ColumnKind(r.vtab, col)
				}
				continue
			}
			if kind := ct.ColumnKind(r.vtab, col); kind != "" {
				found = kind
				n++
			}
		}
		if n == 1 {
			return found
		}
		if n > 1 {
			return "" // ambiguous: SQLite reports it
		}
	}
	return ""
}

// colrefBefore returns the column reference ending at token e when it is
// a whole comparison operand: "col" or "qual.col" preceded by a token
// that binds looser than comparison.
func (w *rewriter) colrefBefore(e int) (qual, col string, ok bool) {
	t := w.at(e)
	if e < 0 || !isNameTok(t) || (t.Kind == TokIdent && (isKeyword(t.Value) || t.Value == "true" || t.Value == "false" || t.Value == "null")) {
		return "", "", false
	}
	start := e
	if isOp(w.at(e-1), ".") {
		q := w.at(e - 2)
		if !isNameTok(q) || isOp(w.at(e-3), ".") {
			return "", "", false
		}
		qual, start = asciiLower(q.Value), e-2
	}
	if start > 0 {
		p := w.at(start - 1)
		switch {
		case isOp(p, "(") || isOp(p, ","):
		case p.Kind == TokIdent:
			switch p.Value {
			case "where", "and", "or", "not", "on", "when", "then", "else", "select", "having", "case", "distinct", "all":
			default:
				return "", "", false
			}
		default:
			return "", "", false
		}
	}
	return qual, asciiLower(t.Value), true
}

var comparisonOps = map[string]bool{"=": true, "==": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// literalContext returns the kind of the column a literal starting at
// token i (of n tokens) is compared with, or "".
func (w *rewriter) literalContext(i, n int) string {
	if next := w.at(i + n); next.Kind == TokOp && next.Value != "," && next.Value != ")" && !comparisonOps[next.Value] {
		return "" // "'x'::type", "'x' || y", ...: not the whole operand
	} else if next.Kind == TokIdent && next.Value == "collate" {
		return ""
	}
	prev := w.at(i - 1)
	switch {
	case prev.Kind == TokOp && comparisonOps[prev.Value]:
		if q, c, ok := w.colrefBefore(i - 2); ok {
			return w.lookupKind(q, c)
		}
		// A typed literal on the other side: true/false, DATE '...',
		// TIMESTAMP '...'.
		l := w.at(i - 2)
		switch {
		case isKw(l, "true") || isKw(l, "false"):
			return "boolean"
		case l.Kind == TokString && (isKw(w.at(i-3), "date") || isKw(w.at(i-3), "timestamp") || isKw(w.at(i-3), "timestamptz")):
			if isKw(w.at(i-3), "date") {
				return "date"
			}
			return "timestamp"
		}
	case isKw(prev, "from") && isKw(w.at(i-2), "distinct"):
		// col IS [NOT] DISTINCT FROM 'lit'
		e := i - 4
		if isKw(w.at(i-3), "not") {
			e--
		}
		if isKw(w.at(e+1), "is") {
			if q, c, ok := w.colrefBefore(e); ok {
				return w.lookupKind(q, c)
			}
		}
	case isKw(prev, "between"):
		if q, c, ok := w.colrefBefore(i - 2); ok {
			return w.lookupKind(q, c)
		}
		if isKw(w.at(i-2), "not") {
			if q, c, ok := w.colrefBefore(i - 3); ok {
				return w.lookupKind(q, c)
			}
		}
	case isKw(prev, "and") && w.betweenKind != "" && w.betweenAnd == i-1:
		return w.betweenKind
	case isOp(prev, "(") || isOp(prev, ","):
		return w.top().inKind
	}
	return ""
}

// lookupKind resolves a column kind, asking for the second pass when the
// query level's tables are known: in the second pass.
func (w *rewriter) lookupKind(qual, col string) string {
	if _, ok := w.r.(ColumnTyper); !ok {
		return ""
	}
	if !w.finalPass {
		// The second pass knows every table; its output is the one used.
		w.needSecondPass = true
		return ""
	}
	return w.columnKind(qual, col)
}

// coerceString emits the string literal at w.i, converted when it is
// compared with a typed column. It reports whether it emitted.
func (w *rewriter) coerceString(t Token) (bool, error) {
	kind := w.literalContext(w.i, 1)
	if kind == "" || kind == "other" {
		return false, nil
	}
	v, err := CoerceString(kind, t.Value)
	if err != nil {
		return false, withPos(err, t.Pos)
	}
	text := signed(strconv.FormatInt(v, 10))
	w.noteBetween(kind)
	start := len(w.out)
	w.emit(text, w.gap(w.i))
	w.i++
	w.markPrimary(start)
	return true, nil
}

// noteBetween remembers the kind of a BETWEEN's lower bound for its upper
// bound, "AND" being the token after the current one.
func (w *rewriter) noteBetween(kind string) { w.noteBetweenN(kind, 1) }

// noteBetweenN is noteBetween for a lower bound of n tokens (TIMESTAMP
// '...' is two).
func (w *rewriter) noteBetweenN(kind string, n int) {
	if isKw(w.at(w.i-1), "between") && isKw(w.at(w.i+n), "and") {
		w.betweenKind, w.betweenAnd = kind, w.i+n
	}
}

// typedLiteralFor converts TIMESTAMP '...' / DATE '...' (litKind) for the
// column it is compared with: days for a DATE column (a fraction of a day
// for a timestamp), microseconds for a TIMESTAMP column.
func (w *rewriter) typedLiteralFor(lit Token, litKind string) (string, error) {
	col := w.literalContext(w.i, 2)
	if col == "boolean" || col == "other" {
		col = ""
	}
	if col != "" {
		w.noteBetweenN(col, 2)
	}
	switch {
	case litKind == "date" && col == "timestamp":
		days, err := ParseDateDays(lit.Value)
		if err != nil {
			return "", withPos(err, lit.Pos)
		}
		return signed(strconv.FormatInt(days*86400000000, 10)), nil
	case litKind == "timestamp" && col == "date":
		us, err := ParseTimestampMicros(lit.Value)
		if err != nil {
			return "", withPos(err, lit.Pos)
		}
		if us%86400000000 == 0 {
			return signed(strconv.FormatInt(us/86400000000, 10)), nil
		}
		return signed(strconv.FormatFloat(float64(us)/86400000000, 'f', -1, 64)), nil
	}
	return temporalValue(lit, litKind)
}

// signed parenthesises a negative number (see temporalValue).
func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return "(" + s + ")"
	}
	return s
}

// ParseBool reads PostgreSQL's boolean input: true/false, yes/no, on/off,
// 1/0 and unique prefixes (t, tr, y, n, f, ...), any case, trimmed.
func ParseBool(s string) (v, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return false, false
	}
	for _, c := range []struct {
		word string
		v    bool
		min  int
	}{{"true", true, 1}, {"false", false, 1}, {"yes", true, 1}, {"no", false, 1}, {"on", true, 2}, {"off", false, 2}, {"1", true, 1}, {"0", false, 1}} {
		if len(s) >= c.min && strings.HasPrefix(c.word, s) {
			return c.v, true
		}
	}
	return false, false
}

// CoerceString converts a string literal (or a string bound to a
// parameter) compared with a value of kind "timestamp", "date" or
// "boolean" (LiteralKind's kinds) to the stored form: microseconds, days,
// or 1/0. It is the one literal coercion: the rewriter emits its result
// into SQLite text and the Go evaluator (package expr) compares with it,
// so both paths see the same value. Invalid input is an INVALID_SQL /
// INVALID_INPUT error with PostgreSQL's wording (22P02, 22007, 22008).
func CoerceString(kind, s string) (int64, error) {
	switch kind {
	case "timestamp":
		return ParseTimestampMicros(s)
	case "date":
		return ParseDateDays(s)
	case "boolean":
		b, ok := ParseBool(s)
		if !ok {
			return 0, errState(StateInvalidText, -1, "invalid input syntax for type boolean: %q", printable(s))
		}
		if b {
			return 1, nil
		}
		return 0, nil
	}
	return 0, errSQL(-1, "no literal coercion to %s", kind)
}

// ConvertParam converts a parameter value bound to a $N of ParamKinds
// kind the way a literal would be: strings to microseconds, days or 1/0.
// Other values pass unchanged (SQLite compares them as before).
func ConvertParam(kind string, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	switch kind {
	case "timestamp", "date", "boolean":
		return CoerceString(kind, s)
	}
	return v, nil
}
