// PostgreSQL operator and cast pass: runs on the tokens of a query before
// the rewriter proper and replaces the expressions whose SQLite meaning
// differs from PostgreSQL's with calls of the functions the SQL engine
// registers (dataplane/sql/udf_pg.go, semantics in dataplane/sql/pgfn):
//
//   - arithmetic (+ - * / % ^) becomes kalam_add/... calls, chosen by the
//     operand types known from literals and casts (int4 vs int8 range
//     checks, float vs exact numeric, timestamp/date/interval arithmetic);
//     PostgreSQL's precedence applies (|| binds looser than + in
//     PostgreSQL, tighter in SQLite);
//   - x::type and CAST(x AS type) become kalam_cast_* calls (rounding,
//     strict text input, varchar(n) truncation, text output per type),
//     except a string literal cast to a timestamp or date, which the
//     rewriter converts outright;
//   - ~ ~* !~ !~* SIMILAR TO and ILIKE [ESCAPE] become kalam_regex,
//     kalam_similar and kalam_ilike calls;
//   - the jsonb key-existence operator x ? k becomes json_contains(x, k)
//     (the original KalamDB's DataFusion JSON functions, udf_json.go) when
//     "?" stands between two operands; -> and ->> (SQLite's own) are parsed
//     with PostgreSQL's precedence so that x->'a' ? 'b' tests x->'a'. A
//     "?" anywhere else stays a placeholder, which the rewriter refuses;
//   - the SQL-standard call forms EXTRACT(f FROM x), POSITION(a IN b),
//     SUBSTRING(x FROM a FOR b), TRIM([BOTH|LEADING|TRAILING] [c] FROM x)
//     and OVERLAY(x PLACING y FROM a [FOR b]), INTERVAL '...' literals.
//
// Invariants:
//   - Output tokens are input tokens plus generated ones; generated tokens
//     are names of kalam_* or built-in functions, "(", ",", ")", NOT,
//     "||" and string/number literals built here. No table reference is
//     created, moved or removed, so the rewriter's access checks see the
//     same table positions.
//   - Work is linear in the input: parentheses and CASE...END are matched
//     once up front, and every token is visited a bounded number of times.
//   - The number of operators in one expression is bounded
//     (maxExprOperators): each one nests a call.

package parse

import (
	"strconv"
	"strings"
)

// maxExprOperators bounds operators per expression; every operator adds a
// call level, and SQLite limits expression depth.
const maxExprOperators = 256

// pgType is the static type of an expression as far as literals and casts
// tell; "" is unknown (a column, a parameter, most function results).
type pgType string

const (
	tUnknown   pgType = ""
	tInt2      pgType = "int2"
	tInt4      pgType = "int4"
	tInt8      pgType = "int8"
	tNumeric   pgType = "numeric"
	tFloat     pgType = "float8"
	tText      pgType = "text"
	tBool      pgType = "boolean"
	tTimestamp pgType = "timestamp"
	tDate      pgType = "date"
	tInterval  pgType = "interval"
	tBpchar    pgType = "bpchar" // char(n): blank-padded, padding dropped as text
)

func (t pgType) isInt() bool { return t == tInt2 || t == tInt4 || t == tInt8 }

// pexpr is a rewritten expression: its tokens and static type. simple
// marks a single untouched primary (a literal, name, call, ...).
type pexpr struct {
	toks   []Token
	typ    pgType
	simple bool
	lit    bool // a single string literal token
	// ex is the exact twin of a numeric or integer expression (see
	// rewrite_exact.go), nil when it has none; exNum marks a twin whose
	// value is a numeric (printed from the twin).
	ex    []Token
	exNum bool
}

type pgPass struct {
	in []Token // without the EOF token
	// groupIndex matches "(" and CASE with ")" and END in in.
	groupIndex
	// memo holds every primary parsed so far by start index: a failed
	// attempt to read a range as one expression falls back to scanning
	// it, and the memo keeps that from re-parsing nested levels (which
	// would be exponential in the nesting depth).
	memo map[int]memoPrimary
	// typer types column references (nil: columns are untyped).
	typer *colTyper
}

type memoPrimary struct {
	e    pexpr
	next int
	hi   int
}

// pgRewrite applies the pass to a token slice ending in EOF; typer
// (maybe nil) gives column references their types.
func pgRewrite(toks []Token, typer *colTyper) ([]Token, error) {
	n := len(toks) - 1
	p := newPgPass(toks, typer)
	out, err := p.scan(0, n)
	if err != nil {
		return nil, err
	}
	return append(out, toks[n]), nil
}

// newPgPass prepares the pass over a token slice ending in EOF.
func newPgPass(toks []Token, typer *colTyper) *pgPass {
	in := toks[:len(toks)-1]
	return &pgPass{in: in, groupIndex: indexGroups(in, true), memo: map[int]memoPrimary{}, typer: typer}
}

// scan rewrites in[lo:hi], a stretch of statement text: every expression
// that starts in it is parsed and rewritten, other tokens pass.
func (p *pgPass) scan(lo, hi int) ([]Token, error) {
	out := make([]Token, 0, hi-lo)
	for i := lo; i < hi; {
		if isKw(p.in[i], "where") || isKw(p.in[i], "having") {
			if err := p.checkCondition(i, hi); err != nil {
				return nil, err
			}
		}
		if p.startsOperand(i, hi) {
			e, next, err := p.expr(i, hi, 0)
			if err != nil {
				return nil, err
			}
			if next > i {
				if c, after, ok, err := p.comparison(e, next, hi); err != nil {
					return nil, err
				} else if ok {
					e, next = c, after
				}
				out = append(out, e.toks...)
				i = next
				continue
			}
		}
		out = append(out, p.in[i])
		i++
	}
	return out, nil
}

func (p *pgPass) at(i, hi int) Token {
	if i < 0 || i >= hi {
		return Token{Kind: TokEOF, Pos: -1}
	}
	return p.in[i]
}

// operandWords are keywords that start a primary expression.
var operandWords = toSet("null", "true", "false", "case", "cast", "exists", "left", "right")

func (p *pgPass) startsOperand(i, hi int) bool {
	if i >= hi {
		return false
	}
	t := p.in[i]
	switch t.Kind {
	case TokNumber, TokString, TokParam, TokQuotedIdent, TokBlob:
		return true
	case TokIdent:
		if _, ok := operandWords[t.Value]; ok {
			if t.Value == "left" || t.Value == "right" || t.Value == "exists" {
				return isOp(p.at(i+1, hi), "(")
			}
			return true
		}
		return !isKeyword(t.Value)
	case TokOp:
		switch t.Value {
		case "(":
			return p.match[i] > 0 && p.match[i] < hi
		case "-", "+":
			return i+1 < hi && p.startsOperand(i+1, hi)
		}
	}
	return false
}

// binop recognises a binary operator at i: its name, token count and
// precedence (higher binds tighter).
func (p *pgPass) binop(i, hi int) (op string, n, prec int) {
	t := p.at(i, hi)
	switch {
	case t.Kind == TokOp:
		switch t.Value {
		case "^":
			return "^", 1, 5
		case "*", "/", "%":
			return t.Value, 1, 4
		case "+", "-":
			return t.Value, 1, 3
		case "||":
			return "||", 1, 2
		case "->", "->>", "?":
			// PostgreSQL's "any other operator" level, with || and ~.
			return t.Value, 1, 2
		case "~":
			if isOp(p.at(i+1, hi), "*") && p.adjacent(i) {
				return "~*", 2, 2
			}
			return "~", 1, 2
		case "!":
			if isOp(p.at(i+1, hi), "~") && p.adjacent(i) {
				if isOp(p.at(i+2, hi), "*") && p.adjacent(i+1) {
					return "!~*", 3, 2
				}
				return "!~", 2, 2
			}
		}
	case isKw(t, "similar") && isKw(p.at(i+1, hi), "to"):
		return "similar", 2, 1
	case isKw(t, "ilike"):
		return "ilike", 1, 1
	case isKw(t, "not"):
		nx := p.at(i+1, hi)
		if isKw(nx, "similar") && isKw(p.at(i+2, hi), "to") {
			return "not similar", 3, 1
		}
		if isKw(nx, "ilike") {
			return "not ilike", 2, 1
		}
	}
	return "", 0, -1
}

// adjacent reports whether token i+1 touches token i (so "~ *" with a
// blank stays two operators).
func (p *pgPass) adjacent(i int) bool { return p.in[i+1].Pos == p.in[i].End }

// expr parses a binary-operator expression at i by precedence climbing.
// next == i means nothing was parsed.
func (p *pgPass) expr(i, hi, minPrec int) (pexpr, int, error) {
	ops := 0
	return p.exprN(i, hi, minPrec, &ops)
}

func (p *pgPass) exprN(i, hi, minPrec int, ops *int) (pexpr, int, error) {
	lhs, next, err := p.unary(i, hi)
	if err != nil || next == i {
		return lhs, next, err
	}
	for {
		op, n, prec := p.binop(next, hi)
		if op == "" || prec < minPrec || !p.startsOperand(next+n, hi) {
			return lhs, next, nil
		}
		if *ops++; *ops > maxExprOperators {
			return pexpr{}, i, errSQL(p.in[next].Pos, "expression has more than %d operators", maxExprOperators)
		}
		rhs, after, err := p.exprN(next+n, hi, prec+1, ops)
		if err != nil {
			return pexpr{}, i, err
		}
		if after == next+n {
			return lhs, next, nil
		}
		if op == "similar" || op == "not similar" || op == "ilike" || op == "not ilike" {
			var esc *pexpr
			if isKw(p.at(after, hi), "escape") && p.startsOperand(after+1, hi) {
				e, a2, err := p.unary(after+1, hi)
				if err != nil {
					return pexpr{}, i, err
				}
				if a2 > after+1 {
					esc, after = &e, a2
				}
			}
			lhs = p.matchOp(op, lhs, rhs, esc, p.in[next])
		} else {
			lhs = exactCombine(op, lhs, rhs, p.combine(op, lhs, rhs, p.in[next]), p.in[next])
		}
		next = after
	}
}

// unary parses an optional sign and a primary with its postfix casts.
func (p *pgPass) unary(i, hi int) (pexpr, int, error) {
	t := p.at(i, hi)
	if isOp(t, "-") || isOp(t, "+") {
		e, next, err := p.unary(i+1, hi)
		if err != nil || next == i+1 {
			return pexpr{}, i, err
		}
		r, next, err := p.sign(t, e, next)
		return exactSign(t, e, r), next, err
	}
	return p.postfix(i, hi)
}

// sign builds +e or -e.
func (p *pgPass) sign(t Token, e pexpr, next int) (pexpr, int, error) {
	if t.Value == "+" {
		if len(e.toks) == 1 && e.toks[0].Kind == TokNumber {
			return e, next, nil
		}
		// Kept: `+col` is the documented way to keep a predicate off an index
		// (the planner matches only a bare column).
		return pexpr{toks: append([]Token{t}, e.toks...), typ: e.typ}, next, nil
	}
	if len(e.toks) == 1 && e.toks[0].Kind == TokNumber {
		return pexpr{toks: []Token{t, e.toks[0]}, typ: numberType("-" + e.toks[0].Text), simple: true}, next, nil
	}
	if e.typ == tText {
		// PostgreSQL has no unary minus for text (42883).
		return pexpr{toks: call("kalam_no_operator", t, []Token{strTok("- text", t)}, e.toks), typ: tUnknown}, next, nil
	}
	fn := "kalam_neg"
	if e.typ == tInt4 || e.typ == tInt2 {
		fn = "kalam_neg_i4"
	}
	if e.typ == tFloat || e.typ == tInterval || e.typ == tNumeric {
		return pexpr{toks: wrap(append([]Token{t}, e.toks...), t), typ: e.typ}, next, nil
	}
	return pexpr{toks: call(fn, t, e.toks), typ: e.typ}, next, nil
}

// postfix parses a primary with its postfix casts.
func (p *pgPass) postfix(i, hi int) (pexpr, int, error) {
	e, next, err := p.primary(i, hi)
	if err != nil || next == i {
		return e, next, err
	}
	e = p.exactPrimary(e)
	for chain := 0; isOp(p.at(next, hi), "::"); chain++ {
		if chain >= maxCastChain {
			return pexpr{}, i, errSQL(p.in[next].Pos, "more than %d chained casts", maxCastChain)
		}
		c, after, err := p.castOp(e, next+1, hi)
		if err != nil {
			return pexpr{}, i, err
		}
		e, next = c, after
	}
	return e, next, nil
}

// primary parses one primary expression at i (memoised).
func (p *pgPass) primary(i, hi int) (pexpr, int, error) {
	if m, ok := p.memo[i]; ok && m.hi == hi {
		return m.e, m.next, nil
	}
	e, next, err := p.primaryAt(i, hi)
	if err == nil && next > i {
		p.memo[i] = memoPrimary{e: e, next: next, hi: hi}
	}
	return e, next, err
}

func (p *pgPass) primaryAt(i, hi int) (pexpr, int, error) {
	if i >= hi {
		// Nothing left ("SELECT +"): no primary; the rewriter reports it.
		return pexpr{}, i, nil
	}
	t := p.in[i]
	nx := p.at(i+1, hi)
	one := func(typ pgType) (pexpr, int, error) {
		return pexpr{toks: []Token{t}, typ: typ, simple: true, lit: t.Kind == TokString}, i + 1, nil
	}
	switch t.Kind {
	case TokNumber:
		return one(numberType(t.Text))
	case TokString, TokParam, TokBlob:
		return one(tUnknown)
	case TokOp:
		if isOp(t, "(") {
			j := p.match[i]
			if isQueryKw(p.at(i+1, hi)) {
				if e, ok, err := p.scalarSubquery(i, j); err != nil || ok {
					return p.exactSubquery(i, j, e), j + 1, err
				}
			}
			if e, next, err := p.expr(i+1, j, 0); err == nil && next == j && next > i+1 {
				r := pexpr{toks: wrap(e.toks, t), typ: e.typ, exNum: e.exNum}
				if e.ex != nil {
					r.ex = wrap(e.ex, t)
				}
				return r, j + 1, nil
			}
			inner, err := p.scan(i+1, j)
			if err != nil {
				return pexpr{}, i, err
			}
			typ := tUnknown
			if p.isPredicate(i+1, j) {
				typ = tBool
			}
			return p.exactSubquery(i, j, pexpr{toks: append(append([]Token{t}, inner...), p.in[j]), typ: typ}), j + 1, nil
		}
		return pexpr{}, i, nil
	}
	// Words.
	switch {
	case isKw(t, "true"), isKw(t, "false"):
		return one(tBool)
	case isKw(t, "null"):
		return one(tUnknown)
	case isKw(t, "case"):
		j := p.match[i]
		if j < 0 || j >= hi {
			return pexpr{}, i, nil
		}
		inner, err := p.scan(i+1, j)
		if err != nil {
			return pexpr{}, i, err
		}
		return pexpr{toks: append(append([]Token{t}, inner...), p.in[j])}, j + 1, nil
	case (isKw(t, "timestamp") || isKw(t, "timestamptz")) && nx.Kind == TokString:
		return pexpr{toks: []Token{t, nx}, typ: tTimestamp, simple: true}, i + 2, nil
	case isKw(t, "date") && nx.Kind == TokString:
		return pexpr{toks: []Token{t, nx}, typ: tDate, simple: true}, i + 2, nil
	case isKw(t, "interval") && nx.Kind == TokString:
		return pexpr{toks: call("kalam_interval", t, []Token{nx}), typ: tInterval}, i + 2, nil
	case isKw(t, "current_timestamp") && !isOp(nx, "("):
		return one(tTimestamp)
	}
	if t.Kind != TokIdent && t.Kind != TokQuotedIdent {
		return pexpr{}, i, nil
	}
	// A (qualified) name, maybe called.
	j := i + 1
	for isOp(p.at(j, hi), ".") && (isNameTok(p.at(j+1, hi)) || isOp(p.at(j+1, hi), "*")) {
		j += 2
	}
	if !isOp(p.at(j, hi), "(") || p.match[j] < 0 || p.match[j] >= hi {
		return pexpr{toks: p.in[i:j:j], simple: true, typ: p.typer.nameType(p.in[i:j])}, j, nil
	}
	if j == i+1 && t.Kind == TokIdent {
		if e, next, ok, err := p.specialForm(t, j, hi); ok || err != nil {
			return e, next, err
		}
	}
	return p.callExpr(i, j, hi)
}

// isPredicate reports whether in[lo:hi] (a parenthesised group that is
// not one arithmetic expression) is a condition: a comparison or a
// logical operator at its top level, and no query.
func (p *pgPass) isPredicate(lo, hi int) bool {
	if lo < hi && isQueryKw(p.in[lo]) {
		return false
	}
	for k := lo; k < hi; k++ {
		t := p.in[k]
		if (isOp(t, "(") || isKw(t, "case")) && p.match[k] > k {
			k = p.match[k]
			continue
		}
		switch {
		case isOp(t, ","), isKw(t, "select"):
			return false
		case t.Kind == TokOp && (t.Value == "=" || t.Value == "<>" || t.Value == "!=" || t.Value == "<" ||
			t.Value == ">" || t.Value == "<=" || t.Value == ">=" || t.Value == "=="):
			return true
		case isKw(t, "and"), isKw(t, "or"), isKw(t, "not"), isKw(t, "is"), isKw(t, "like"), isKw(t, "in"), isKw(t, "between"):
			return true
		}
	}
	return false
}

// callExpr rewrites a function call name(args) [FILTER (...)] [OVER ...]
// whose "(" is at j.
func (p *pgPass) callExpr(i, j, hi int) (pexpr, int, error) {
	t := p.in[i]
	end := p.match[j]
	args, err := p.scan(j+1, end)
	if err != nil {
		return pexpr{}, i, err
	}
	name := p.in[i:j:j]
	if j == i+1 && t.Kind == TokIdent && (t.Value == "left" || t.Value == "right") {
		// LEFT and RIGHT are join keywords to SQLite.
		name = []Token{gen(TokIdent, "kalam_"+t.Value, t)}
	}
	out := append(append(append([]Token{}, name...), p.in[j]), args...)
	out = append(out, p.in[end])
	next := end + 1
	if isKw(p.at(next, hi), "filter") && isOp(p.at(next+1, hi), "(") && p.match[next+1] < hi && p.match[next+1] > 0 {
		e := p.match[next+1]
		inner, err := p.scan(next+2, e)
		if err != nil {
			return pexpr{}, i, err
		}
		out = append(append(append(out, p.in[next], p.in[next+1]), inner...), p.in[e])
		next = e + 1
	}
	if isKw(p.at(next, hi), "over") {
		if isOp(p.at(next+1, hi), "(") && p.match[next+1] < hi && p.match[next+1] > 0 {
			e := p.match[next+1]
			inner, err := p.scan(next+2, e)
			if err != nil {
				return pexpr{}, i, err
			}
			out = append(append(append(out, p.in[next], p.in[next+1]), inner...), p.in[e])
			next = e + 1
		} else if isNameTok(p.at(next+1, hi)) {
			out = append(out, p.in[next], p.in[next+1])
			next += 2
		}
	}
	typ := tUnknown
	if j == i+1 && t.Kind == TokIdent {
		// Function names are case-insensitive (MAX(ts) is max(ts)).
		name := strings.ToLower(t.Value)
		typ = funcTypes[name]
		if (name == "min" || name == "max") && !isKw(p.at(end+1, hi), "over") {
			if a, next, err := p.expr(j+1, end, 0); err == nil && next == end {
				typ = callType(name, a.typ)
			}
		}
	}
	return p.exactCall(i, j, end, next, pexpr{toks: out, typ: typ, simple: true}), next, nil
}

// funcTypes are the result types of functions whose results the
// operators and casts above care about.
var funcTypes = map[string]pgType{
	"now": tTimestamp, "date_trunc": tTimestamp, "make_timestamp": tTimestamp, "to_timestamp": tTimestamp,
	"make_date": tDate, "length": tInt4, "char_length": tInt4, "character_length": tInt4,
	"octet_length": tInt4, "strpos": tInt4, "ascii": tInt4, "count": tInt8,
	"upper": tText, "lower": tText, "concat": tText, "to_char": tText, "md5": tText,
	"bool_and": tBool, "bool_or": tBool, "every": tBool, "starts_with": tBool,
	"json_contains": tBool, "json_get_bool": tBool, "json_get_int": tInt8, "json_length": tInt8,
	"json_get_float": tFloat, "json_get_str": tText, "json_as_text": tText,
}

// numberType is the type PostgreSQL gives a numeric literal.
func numberType(text string) pgType {
	if strings.ContainsAny(text, ".eE") && !strings.HasPrefix(strings.ToLower(text), "0x") {
		return tNumeric
	}
	v, err := strconv.ParseInt(text, 0, 64)
	switch {
	case err != nil:
		return tNumeric
	case v <= 2147483647:
		return tInt4
	}
	return tInt8
}

// gen makes a generated token placed at the source position of at.
func gen(kind TokenKind, text string, at Token) Token {
	v := text
	if kind == TokIdent {
		v = strings.ToLower(text)
	}
	if kind == TokString {
		v = text[1 : len(text)-1]
	}
	return Token{Kind: kind, Text: text, Value: v, Pos: at.Pos, End: at.Pos}
}

func strTok(s string, at Token) Token { return gen(TokString, sqlString(s), at) }

// call builds name(arg, arg, ...).
func call(name string, at Token, args ...[]Token) []Token {
	n := 3
	for _, a := range args {
		n += len(a) + 1
	}
	out := make([]Token, 0, n)
	out = append(out, gen(TokIdent, name, at), gen(TokOp, "(", at))
	for k, a := range args {
		if k > 0 {
			out = append(out, gen(TokOp, ",", at))
		}
		out = append(out, a...)
	}
	return append(out, gen(TokOp, ")", at))
}

// wrap parenthesises toks.
func wrap(toks []Token, at Token) []Token {
	out := make([]Token, 0, len(toks)+2)
	out = append(out, gen(TokOp, "(", at))
	out = append(out, toks...)
	return append(out, gen(TokOp, ")", at))
}

// combine builds the rewritten binary expression l op r.
func (p *pgPass) combine(op string, l, r pexpr, at Token) pexpr {
	switch op {
	case "||":
		return pexpr{toks: wrap(append(append(textOperand(l, at), gen(TokOp, "||", at)), textOperand(r, at)...), at), typ: tText}
	case "~", "~*", "!~", "!~*":
		fold := "0"
		if strings.HasSuffix(op, "*") {
			fold = "1"
		}
		c := call("kalam_regex", at, l.toks, r.toks, []Token{gen(TokNumber, fold, at)})
		if op[0] == '!' {
			c = wrap(append([]Token{gen(TokIdent, "NOT", at)}, c...), at)
		}
		return pexpr{toks: c, typ: tBool}
	case "^":
		return pexpr{toks: call("power", at, l.toks, r.toks), typ: tFloat}
	case "->", "->>":
		// SQLite's operators, kept as written: each operand is a primary,
		// a call or a parenthesised group, so the grouping is PostgreSQL's.
		out := make([]Token, 0, len(l.toks)+1+len(r.toks))
		return pexpr{toks: append(append(append(out, l.toks...), at), r.toks...)}
	case "?":
		return pexpr{toks: call("json_contains", at, l.toks, r.toks), typ: tBool}
	}
	if e, ok := temporalArith(op, l, r, at); ok {
		return e
	}
	name := map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}[op]
	typ := tUnknown
	suffix := ""
	switch {
	case l.typ == tFloat || r.typ == tFloat:
		suffix, typ = "_f", tFloat
	case l.typ == tNumeric || r.typ == tNumeric:
		typ = tNumeric
	case l.typ == tInt2 && r.typ == tInt2:
		suffix, typ = "_i2", tInt2
	case (l.typ == tInt2 || l.typ == tInt4) && (r.typ == tInt2 || r.typ == tInt4):
		suffix, typ = "_i4", tInt4
	case l.typ.isInt() && r.typ.isInt():
		typ = tInt8
	case l.typ.isInt() && r.typ == tUnknown && !r.lit, r.typ.isInt() && l.typ == tUnknown && !l.lit:
		typ = tUnknown
	case l.typ.isInt() && r.lit:
		// An untyped literal takes the other operand's type.
		suffix, typ = intSuffix(l.typ), l.typ
	case r.typ.isInt() && l.lit:
		suffix, typ = intSuffix(r.typ), r.typ
	}
	return pexpr{toks: call("kalam_"+name+suffix, at, l.toks, r.toks), typ: typ}
}

func intSuffix(t pgType) string {
	switch t {
	case tInt2:
		return "_i2"
	case tInt4:
		return "_i4"
	}
	return ""
}

// textOperand converts an operand of || whose SQLite value would print
// differently from PostgreSQL's text (booleans, timestamps, dates).
func textOperand(e pexpr, at Token) []Token {
	switch e.typ {
	case tBool, tTimestamp, tDate, tNumeric:
		return call("kalam_cast_text", at, e.toks, []Token{strTok(string(e.typ), at)})
	case tFloat:
		return call("kalam_cast_text", at, e.toks, []Token{strTok("", at)})
	case tBpchar:
		return call("rtrim", at, e.toks, []Token{strTok(" ", at)})
	}
	return e.toks
}

// temporalArith handles the operators of timestamps, dates and intervals.
func temporalArith(op string, l, r pexpr, at Token) (pexpr, bool) {
	isIv := func(e pexpr) bool { return e.typ == tInterval || (e.lit && e.typ == tUnknown) }
	num := func(e pexpr) bool { return e.typ.isInt() || e.typ == tNumeric || e.typ == tFloat }
	mk := func(fn string, typ pgType, args ...[]Token) (pexpr, bool) {
		return pexpr{toks: call(fn, at, args...), typ: typ}, true
	}
	switch {
	case l.typ == tTimestamp && r.typ == tTimestamp && op == "-":
		return mk("kalam_ts_diff", tInterval, l.toks, r.toks)
	case l.typ == tTimestamp && isIv(r) && op == "+":
		return mk("kalam_ts_add", tTimestamp, l.toks, r.toks)
	case l.typ == tTimestamp && isIv(r) && op == "-":
		return mk("kalam_ts_sub", tTimestamp, l.toks, r.toks)
	case l.typ == tInterval && r.typ == tTimestamp && op == "+":
		return mk("kalam_ts_add", tTimestamp, r.toks, l.toks)
	case l.typ == tDate && r.typ == tDate && op == "-":
		return mk("kalam_sub", tInt4, l.toks, r.toks)
	case l.typ == tDate && r.typ.isInt() && (op == "+" || op == "-"):
		return mk(map[string]string{"+": "kalam_add", "-": "kalam_sub"}[op], tDate, l.toks, r.toks)
	case l.typ.isInt() && r.typ == tDate && op == "+":
		return mk("kalam_add", tDate, l.toks, r.toks)
	case l.typ == tDate && r.typ == tInterval && op == "+":
		return mk("kalam_date_add", tTimestamp, l.toks, r.toks)
	case l.typ == tDate && r.typ == tInterval && op == "-":
		return mk("kalam_date_add", tTimestamp, l.toks, call("kalam_iv_mul", at, r.toks, []Token{gen(TokNumber, "-1", at)}))
	case l.typ == tInterval && r.typ == tInterval && op == "+":
		return mk("kalam_iv_add", tInterval, l.toks, r.toks)
	case l.typ == tInterval && r.typ == tInterval && op == "-":
		return mk("kalam_iv_sub", tInterval, l.toks, r.toks)
	case l.typ == tInterval && num(r) && op == "*":
		return mk("kalam_iv_mul", tInterval, l.toks, r.toks)
	case num(l) && r.typ == tInterval && op == "*":
		return mk("kalam_iv_mul", tInterval, r.toks, l.toks)
	case l.typ == tInterval && num(r) && op == "/":
		return mk("kalam_iv_mul", tInterval, l.toks, call("kalam_div_f", at, []Token{gen(TokNumber, "1.0", at)}, r.toks))
	}
	return pexpr{}, false
}

// matchOp builds [NOT] SIMILAR TO / [NOT] ILIKE with an optional ESCAPE.
func (p *pgPass) matchOp(op string, l, r pexpr, esc *pexpr, at Token) pexpr {
	fn := "kalam_similar"
	if strings.HasSuffix(op, "ilike") {
		fn = "kalam_ilike"
	}
	args := [][]Token{l.toks, r.toks}
	if esc != nil {
		args = append(args, esc.toks)
	}
	c := call(fn, at, args...)
	if strings.HasPrefix(op, "not") {
		c = wrap(append([]Token{gen(TokIdent, "NOT", at)}, c...), at)
	}
	return pexpr{toks: c, typ: tBool}
}

// exprRange rewrites in[lo:hi] as one expression when it is one, and as
// plain statement text otherwise (type unknown).
func (p *pgPass) exprRange(lo, hi int) (pexpr, error) {
	if lo >= hi {
		return pexpr{}, errSQL(p.at(lo-1, len(p.in)).End, "expected an expression")
	}
	e, next, err := p.expr(lo, hi, 0)
	if err != nil {
		return pexpr{}, err
	}
	if next == hi {
		return e, nil
	}
	toks, err := p.scan(lo, hi)
	return pexpr{toks: toks}, err
}

// topLevel returns the first index in [lo, hi) holding one of words
// outside nested parentheses and CASE, or -1.
func (p *pgPass) topLevel(lo, hi int, words ...string) int {
	for k := lo; k < hi; k++ {
		t := p.in[k]
		if (isOp(t, "(") || isKw(t, "case")) && p.match[k] > k {
			k = p.match[k]
			continue
		}
		for _, w := range words {
			if isKw(t, w) {
				return k
			}
		}
	}
	return -1
}

// specialForm rewrites the SQL-standard call syntaxes at name t, whose
// "(" is at j. ok is false when t(...) is an ordinary call.
func (p *pgPass) specialForm(t Token, j, hi int) (e pexpr, next int, ok bool, err error) {
	end := p.match[j]
	next = end + 1
	switch t.Value {
	case "cast":
		as := p.topLevel(j+1, end, "as")
		if as < 0 {
			return e, 0, false, nil
		}
		x, err := p.exprRange(j+1, as)
		if err != nil {
			return e, 0, true, err
		}
		name, params, after, ok := p.typeName(as+1, end)
		if !ok || after != end {
			return e, 0, false, nil
		}
		keep := func() []Token {
			out := append([]Token{t, p.in[j]}, x.toks...)
			out = append(out, p.in[as:end+1]...)
			return out
		}
		return p.castTo(x, name, params, keep, t), next, true, nil
	case "extract":
		field, from := p.at(j+1, end), p.at(j+2, end)
		if (field.Kind != TokIdent && field.Kind != TokString) || !isKw(from, "from") {
			return e, 0, false, nil
		}
		x, err := p.exprRange(j+3, end)
		if err != nil {
			return e, 0, true, err
		}
		fn := "kalam_extract"
		switch x.typ {
		case tDate:
			fn = "kalam_extract_date"
		case tInterval:
			fn = "kalam_extract_interval"
		}
		r := pexpr{toks: call(fn, t, []Token{strTok(asciiLower(field.Value), field)}, x.toks), typ: tNumeric}
		return exactExtract(fn, asciiLower(field.Value), x, r, t), next, true, nil
	case "position":
		in := p.topLevel(j+1, end, "in")
		if in < 0 {
			return e, 0, false, nil
		}
		a, err := p.exprRange(j+1, in)
		if err != nil {
			return e, 0, true, err
		}
		b, err := p.exprRange(in+1, end)
		if err != nil {
			return e, 0, true, err
		}
		return pexpr{toks: call("strpos", t, b.toks, a.toks), typ: tInt4}, next, true, nil
	case "substring":
		from := p.topLevel(j+1, end, "from")
		forK := p.topLevel(j+1, end, "for")
		if from < 0 && forK < 0 {
			return e, 0, false, nil
		}
		first := from
		if first < 0 || (forK >= 0 && forK < first) {
			first = forK
		}
		s, err := p.exprRange(j+1, first)
		if err != nil {
			return e, 0, true, err
		}
		start := []Token{gen(TokNumber, "1", t)}
		args := [][]Token{s.toks}
		if from >= 0 {
			stop := end
			if forK > from {
				stop = forK
			}
			x, err := p.exprRange(from+1, stop)
			if err != nil {
				return e, 0, true, err
			}
			start = x.toks
		}
		args = append(args, start)
		if forK >= 0 {
			stop := end
			if from > forK {
				stop = from
			}
			x, err := p.exprRange(forK+1, stop)
			if err != nil {
				return e, 0, true, err
			}
			args = append(args, x.toks)
		}
		return pexpr{toks: call("substring", t, args...), typ: tText}, next, true, nil
	case "trim":
		fn := "btrim"
		lo := j + 1
		switch m := p.at(lo, end); {
		case isKw(m, "both"):
			lo++
		case isKw(m, "leading"):
			fn, lo = "ltrim", lo+1
		case isKw(m, "trailing"):
			fn, lo = "rtrim", lo+1
		}
		from := p.topLevel(lo, end, "from")
		if from < 0 && lo == j+1 {
			return e, 0, false, nil
		}
		if from < 0 {
			s, err := p.exprRange(lo, end)
			if err != nil {
				return e, 0, true, err
			}
			return pexpr{toks: call(fn, t, s.toks), typ: tText}, next, true, nil
		}
		s, err := p.exprRange(from+1, end)
		if err != nil {
			return e, 0, true, err
		}
		chars := []Token{strTok(" ", t)}
		if from > lo {
			c, err := p.exprRange(lo, from)
			if err != nil {
				return e, 0, true, err
			}
			chars = c.toks
		}
		return pexpr{toks: call(fn, t, s.toks, chars), typ: tText}, next, true, nil
	case "overlay":
		placing := p.topLevel(j+1, end, "placing")
		if placing < 0 {
			return e, 0, false, nil
		}
		from := p.topLevel(placing+1, end, "from")
		if from < 0 {
			return e, 0, true, errSQL(t.Pos, "OVERLAY needs PLACING ... FROM ...")
		}
		forK := p.topLevel(from+1, end, "for")
		stop := end
		if forK >= 0 {
			stop = forK
		}
		var args [][]Token
		for _, r := range [][2]int{{j + 1, placing}, {placing + 1, from}, {from + 1, stop}} {
			x, err := p.exprRange(r[0], r[1])
			if err != nil {
				return e, 0, true, err
			}
			args = append(args, x.toks)
		}
		if forK >= 0 {
			x, err := p.exprRange(forK+1, end)
			if err != nil {
				return e, 0, true, err
			}
			args = append(args, x.toks)
		}
		return pexpr{toks: call("kalam_overlay", t, args...), typ: tText}, next, true, nil
	}
	return e, 0, false, nil
}

// typeName parses a type name at i: its canonical spelling, numeric
// parameters and the index after it.
func (p *pgPass) typeName(i, hi int) (name string, params []int64, next int, ok bool) {
	t := p.at(i, hi)
	if t.Kind != TokIdent {
		return "", nil, i, false
	}
	name, next = t.Value, i+1
	words := func(ws ...string) bool {
		for k, w := range ws {
			if !isKw(p.at(next+k, hi), w) {
				return false
			}
		}
		name += " " + strings.Join(ws, " ")
		next += len(ws)
		return true
	}
	switch name {
	case "double":
		words("precision")
	case "character":
		words("varying")
	}
	if isOp(p.at(next, hi), "(") {
		k := next + 1
		for {
			n := p.at(k, hi)
			if n.Kind != TokNumber {
				return "", nil, i, false
			}
			v, err := strconv.ParseInt(n.Text, 10, 64)
			if err != nil {
				return "", nil, i, false
			}
			params = append(params, v)
			k++
			if isOp(p.at(k, hi), ",") {
				k++
				continue
			}
			if !isOp(p.at(k, hi), ")") {
				return "", nil, i, false
			}
			next = k + 1
			break
		}
	}
	if name == "timestamp" || name == "time" {
		if !words("with", "time", "zone") {
			words("without", "time", "zone")
		}
	}
	if isOp(p.at(next, hi), "[") {
		return "", nil, i, false // arrays: the rewriter reports them
	}
	return name, params, next, true
}

// castOp rewrites e::type with "::" just before i.
func (p *pgPass) castOp(e pexpr, i, hi int) (pexpr, int, error) {
	name, params, next, ok := p.typeName(i, hi)
	colons := p.in[i-1]
	if !ok {
		// Leave it to the rewriter, which reports bad type names.
		return pexpr{toks: append(append([]Token{}, e.toks...), colons), typ: tUnknown}, i, nil
	}
	keep := func() []Token {
		return append(append(append([]Token{}, e.toks...), colons), p.in[i:next]...)
	}
	return exactCast(e, name, params, p.castTo(e, name, params, keep, colons), colons), next, nil
}

// castTo builds the cast of e to the named type; keep gives the original
// cast text for the types the rewriter handles itself.
func (p *pgPass) castTo(e pexpr, name string, params []int64, keep func() []Token, at Token) pexpr {
	hint := []Token{strTok(textHint(e.typ), at)}
	param := func(k int, def int64) []Token {
		v := def
		if k < len(params) {
			v = params[k]
		}
		return []Token{gen(TokNumber, strconv.FormatInt(v, 10), at)}
	}
	c := func(fn string, typ pgType, extra ...[]Token) pexpr {
		return pexpr{toks: call(fn, at, append([][]Token{e.toks}, extra...)...), typ: typ}
	}
	switch name {
	case "int", "integer", "int4":
		return c("kalam_cast_int4", tInt4)
	case "smallint", "int2":
		return c("kalam_cast_int2", tInt2)
	case "bigint", "int8":
		return c("kalam_cast_int8", tInt8)
	case "bool", "boolean":
		return c("kalam_cast_bool", tBool)
	case "text", "string", "varchar", "character varying", "char", "character", "bpchar":
		if lit, ok := numericLiteralText(e); ok && len(params) == 0 && (name == "text" || name == "varchar" || name == "character varying") {
			return pexpr{toks: []Token{strTok(lit, at)}, typ: tText, simple: true, lit: true}
		}
		switch {
		case name == "char" || name == "character" || name == "bpchar":
			return c("kalam_cast_char", tBpchar, hint, param(0, 1))
		case len(params) > 0:
			return c("kalam_cast_varchar", tText, hint, param(0, 0))
		}
		return c("kalam_cast_text", tText, hint)
	case "numeric", "decimal":
		return c("kalam_cast_numeric", tNumeric, param(0, 0), param(1, 0))
	case "float", "float8", "double precision", "double":
		if len(params) > 0 && params[0] <= 24 {
			return c("kalam_cast_float4", tFloat)
		}
		return c("kalam_cast_float8", tFloat)
	case "real", "float4":
		return c("kalam_cast_float4", tFloat)
	case "timestamp", "timestamptz", "datetime", "timestamp with time zone", "timestamp without time zone":
		switch {
		case e.lit:
			return pexpr{toks: keep(), typ: tTimestamp, simple: true}
		case e.typ == tTimestamp:
			return e
		case e.typ == tDate:
			return pexpr{toks: call("kalam_mul", at, e.toks, []Token{gen(TokNumber, "86400000000", at)}), typ: tTimestamp}
		}
		return c("kalam_cast_timestamp", tTimestamp)
	case "date":
		switch {
		case e.lit:
			return pexpr{toks: keep(), typ: tDate, simple: true}
		case e.typ == tDate:
			return e
		case e.typ == tTimestamp:
			return c("kalam_ts_to_date", tDate)
		}
		return c("kalam_cast_date", tDate)
	case "interval":
		return c("kalam_interval", tInterval)
	}
	return pexpr{toks: keep(), typ: tUnknown}
}

// textHint names the type whose text output kalam_cast_text must use.
func textHint(t pgType) string {
	switch t {
	case tBool, tTimestamp, tDate, tNumeric:
		return string(t)
	}
	return ""
}

// numericLiteralText is PostgreSQL's text of a plain decimal literal
// (its digits as written, so 1.50 keeps its scale); ok is false for
// other expressions and for exponent or hex forms.
func numericLiteralText(e pexpr) (string, bool) {
	toks := e.toks
	sign := ""
	if len(toks) == 2 && isOp(toks[0], "-") {
		sign, toks = "-", toks[1:]
	}
	if len(toks) != 1 || toks[0].Kind != TokNumber {
		return "", false
	}
	s := toks[0].Text
	if strings.ContainsAny(s, "eExX_") {
		return "", false
	}
	if strings.HasPrefix(s, ".") {
		s = "0" + s
	}
	if strings.HasSuffix(s, ".") {
		s = strings.TrimSuffix(s, ".")
	}
	if t := strings.TrimLeft(s, "0"); t != s {
		if t == "" || t[0] == '.' {
			t = "0" + t
		}
		s = t
	}
	if sign == "-" && strings.Trim(s, "0.") == "" {
		sign = ""
	}
	return sign + s, true
}
