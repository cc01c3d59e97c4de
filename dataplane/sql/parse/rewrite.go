// Rewriter: PostgreSQL-flavoured query text in, SQLite query text out.
//
// Invariants (the access-control model rests on the first three):
//
//   - Every name SQLite could resolve as a table in the output is either a
//     virtual table returned by the Resolver, emitted double-quoted and
//     aliased ("<vtab>" AS alias), or the name of a CTE whose WITH clause
//     encloses the reference (CTE visibility is tracked per parenthesis
//     scope, as SQLite does). sqlite_* tables, main./temp. schemas, table
//     functions (pragma_*) and "x IN table" are refused.
//   - Table positions are found conservatively: after FROM (except inside a
//     function call's arguments and in "IS [NOT] DISTINCT FROM"), after
//     JOIN anywhere, after a comma while a FROM clause is open at the same
//     depth, and inside a parenthesised join. A FROM clause closes only at
//     hard keywords SQLite can never read as an alias (WHERE, GROUP,
//     HAVING, ORDER, LIMIT, UNION, INTERSECT, EXCEPT, and WINDOW when it
//     really starts a window clause) or at the closing parenthesis.
//   - Output is made of the original token texts plus generated text; the
//     text between tokens collapses to one space (or none where the tokens
//     touched). Generated text never merges with a neighbour into another
//     token (no comment starts, no quotes doubling into an escape, no
//     run-together words), so SQLite
//     tokenises the output exactly as we built it. Tokens SQLite would read
//     differently from us ([...] identifiers, "?", ":name", "@name") and NUL
//     bytes are refused.
//   - Rewrite never panics; errors are *Error.
package parse

import (
	"strconv"
	"strings"
)

// Resolver maps query table references to SQLite virtual tables.
type Resolver interface {
	// ResolveTable maps a table reference to the name of the SQLite virtual
	// table to use. ns is "" for an unqualified name; the resolver applies
	// the current namespace. ok=false means there is no such table.
	ResolveTable(ns, name string) (vtab string, ok bool)
	// IsNamespace reports whether name is a known namespace (used to
	// recognise ns.table.column references).
	IsNamespace(name string) bool
}

// RewriteOptions carries session values substituted into the query.
type RewriteOptions struct {
	CurrentUser string
	CurrentRole string
}

// Rewritten is the result of Rewrite.
type Rewritten struct {
	// SQL is the statement for SQLite.
	SQL string
	// Tables lists each distinct table referenced in a FROM/JOIN position.
	Tables []ResolvedTable
	// HasLimit reports a LIMIT clause on the outermost query.
	HasLimit bool
	// NumParams is the highest $N used (0 if none).
	NumParams int
}

// ResolvedTable is one table reference and its virtual table.
type ResolvedTable struct {
	// Namespace and Name are as written (identifier-normalised); Namespace
	// is "" for an unqualified reference.
	Namespace, Name string
	VTab            string
}

// MaxRewriteParam is the highest $N Rewrite accepts: SQLite's default
// SQLITE_MAX_VARIABLE_NUMBER.
const MaxRewriteParam = 32766

// Rewrite translates one SELECT, WITH or VALUES statement (an optional
// trailing ';' is allowed) into SQLite SQL. See the file comment for the
// rules and guarantees.
func Rewrite(sql string, r Resolver, opt RewriteOptions) (*Rewritten, error) {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		return nil, errSQL(i, "NUL byte in statement")
	}
	toks, err := Lex(sql)
	if err != nil {
		return nil, err
	}
	if toks, err = trimTerminator(toks); err != nil {
		return nil, err
	}
	toks = stripOuterParens(toks)
	first := toks[0]
	if first.Kind == TokEOF {
		return nil, errSQL(-1, "empty statement")
	}
	if !isKw(first, "select") && !isKw(first, "with") && !isKw(first, "values") {
		return nil, errSQL(first.Pos, "only SELECT, WITH or VALUES queries can be rewritten, found %s", describe(first))
	}
	aliases := map[string]string{}
	w := newRewriter(toks, r, opt, aliases, false)
	if err := w.run(); err != nil {
		return nil, err
	}
	if w.needSecondPass {
		// A ns.t.col reference preceded the FROM clause that names t's
		// alias; the first pass has now collected every alias.
		w = newRewriter(toks, r, opt, aliases, true)
		if err := w.run(); err != nil {
			return nil, err
		}
	}
	return &Rewritten{
		SQL:       joinPieces(w.out),
		Tables:    w.tables,
		HasLimit:  w.hasLimit,
		NumParams: w.numParams,
	}, nil
}

// stripOuterParens removes parentheses enclosing the whole statement:
// PostgreSQL accepts "(SELECT ...)", SQLite does not.
func stripOuterParens(toks []Token) []Token {
	for isOp(toks[0], "(") {
		last := len(toks) - 2 // the token before EOF
		if matchParen(toks, 0) != last || last < 1 {
			return toks
		}
		eof := toks[len(toks)-1]
		toks = append(toks[1:last:last], eof)
	}
	return toks
}

// matchParen returns the index of the ")" matching the "(" at i, or -1.
func matchParen(toks []Token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch {
		case isOp(toks[j], "("):
			depth++
		case isOp(toks[j], ")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// scopeKind classifies a parenthesis (or CASE) nesting level.
type scopeKind int

const (
	// scopeQuery is the statement level or a parenthesised query.
	scopeQuery scopeKind = iota
	// scopeFromGroup is a parenthesised join inside a FROM clause.
	scopeFromGroup
	// scopeGroup is a parenthesised expression or list.
	scopeGroup
	// scopeFunc holds function-call arguments.
	scopeFunc
	// scopeCast holds CAST( ... AS type ).
	scopeCast
	// scopeCase spans CASE ... END.
	scopeCase
)

// scope is the rewriter state of one nesting level.
type scope struct {
	kind scopeKind
	// inFrom is set while a FROM clause is open at this level: a comma
	// then starts another table reference.
	inFrom bool
	// ctes are the (lowercased) CTE names defined at this level.
	ctes []string
	// open is the output index where this level's expression starts (the
	// function name, CAST, CASE or "("), openPos its source offset.
	open    int
	openPos int
	// operandStart is the output index where the current operand starts:
	// the left side of an ILIKE.
	operandStart int
	// ilikeOpen marks an ILIKE right operand awaiting its ")";
	// ilikeStart is where that operand starts in the output.
	ilikeOpen  bool
	ilikeStart int
}

// piece is one unit of output text; space asks for a separating blank.
type piece struct {
	text  string
	space bool
}

type rewriter struct {
	toks []Token
	i    int
	r    Resolver
	opt  RewriteOptions
	out  []piece

	scopes      []scope
	expectTable bool
	expectAfter string // the keyword that opened the table position

	// primStart..primEnd is the output range of the last complete primary
	// expression (the operand of "::"); primLit is the token index of a
	// string literal primary or -1.
	primStart, primEnd int
	primLit            int
	// noSpace suppresses the blank before the next piece.
	noSpace bool

	aliases        map[string]string // vtab -> first alias
	finalPass      bool
	needSecondPass bool

	tables    []ResolvedTable
	numParams int
	hasLimit  bool
}

func newRewriter(toks []Token, r Resolver, opt RewriteOptions, aliases map[string]string, final bool) *rewriter {
	return &rewriter{
		toks:      toks,
		r:         r,
		opt:       opt,
		out:       make([]piece, 0, len(toks)),
		scopes:    []scope{{kind: scopeQuery}},
		primEnd:   -1,
		primLit:   -1,
		aliases:   aliases,
		finalPass: final,
	}
}

// at returns token k, or the EOF token when k is out of range.
func (w *rewriter) at(k int) Token {
	if k < 0 || k >= len(w.toks) {
		return w.toks[len(w.toks)-1]
	}
	return w.toks[k]
}

func (w *rewriter) top() *scope { return &w.scopes[len(w.scopes)-1] }

func (w *rewriter) push(s scope) { w.scopes = append(w.scopes, s) }

func (w *rewriter) pop() { w.scopes = w.scopes[:len(w.scopes)-1] }

// gap reports whether source token k was separated from its predecessor.
func (w *rewriter) gap(k int) bool {
	return k > 0 && k < len(w.toks) && w.toks[k].Pos > w.toks[k-1].End
}

func (w *rewriter) emit(text string, space bool) {
	if w.noSpace {
		space = false
		w.noSpace = false
	}
	w.out = append(w.out, piece{text: text, space: space})
}

// emitTok copies the current token to the output and advances.
func (w *rewriter) emitTok() {
	w.emit(w.toks[w.i].Text, w.gap(w.i))
	w.i++
}

// markPrimary records out[start:] as the last complete primary.
func (w *rewriter) markPrimary(start int) {
	w.primStart = start
	w.primEnd = len(w.out)
	w.primLit = -1
}

// boundary records that an operand starts after the last emitted piece.
func (w *rewriter) boundary() { w.top().operandStart = len(w.out) }

// replaceFrom replaces out[start:] by a single piece.
func (w *rewriter) replaceFrom(start int, text string) {
	space := w.out[start].space
	w.out = append(w.out[:start], piece{text: text, space: space})
}

func (w *rewriter) run() error {
	for {
		t := w.toks[w.i]
		if t.Kind == TokEOF {
			break
		}
		var err error
		if w.expectTable {
			w.expectTable = false
			err = w.tableRef()
		} else {
			err = w.step(t)
		}
		if err != nil {
			return err
		}
	}
	end := w.toks[w.i]
	if w.expectTable {
		return errSQL(end.Pos, "expected table name after %s, found end of statement", w.expectAfter)
	}
	if err := w.closeILike(w.top(), end); err != nil {
		return err
	}
	if len(w.scopes) > 1 {
		sc := w.top()
		if sc.kind == scopeCase {
			return errSQL(sc.openPos, "CASE without END")
		}
		return errSQL(sc.openPos, `unbalanced "("`)
	}
	return nil
}

// step rewrites the token at w.i and advances past everything it used.
func (w *rewriter) step(t Token) error {
	if isOperandBoundary(t) {
		if err := w.closeILike(w.top(), t); err != nil {
			return err
		}
	}
	switch t.Kind {
	case TokParam:
		return w.param(t)
	case TokNumber, TokBlob:
		start := len(w.out)
		w.emitTok()
		w.markPrimary(start)
	case TokString:
		start := len(w.out)
		w.emitTok()
		w.markPrimary(start)
		w.primLit = w.i - 1
	case TokQuotedIdent:
		return w.name()
	case TokOp:
		return w.op(t)
	case TokIdent:
		return w.word(t)
	default:
		return errSQL(t.Pos, "unexpected %s", describe(t))
	}
	return nil
}

func (w *rewriter) op(t Token) error {
	switch t.Value {
	case "(":
		w.openParen()
	case ")":
		return w.closeParen(t)
	case "::":
		return w.castOp(t)
	case ",":
		w.emitTok()
		w.boundary()
		if w.top().inFrom {
			w.expectTable, w.expectAfter = true, `","`
		}
	case "*":
		// "t.*" completes a qualified-name primary; otherwise "*" is an
		// operator or a select-list star.
		start := len(w.out)
		if isOp(w.at(w.i-1), ".") && w.primEnd == len(w.out)-1 {
			start = w.primStart
		}
		w.emitTok()
		w.markPrimary(start)
	case "[", "]":
		return errSQL(t.Pos, "square brackets are not supported")
	case "?":
		return errSQL(t.Pos, `"?" placeholders are not supported; use $1, $2, ...`)
	case ":", "@":
		return errSQL(t.Pos, "unexpected %q", t.Value)
	case ";":
		return errSQL(t.Pos, "only one statement can be rewritten")
	case "=", "==", "<>", "!=", "<", ">", "<=", ">=":
		w.emitTok()
		w.boundary()
	default:
		w.emitTok()
	}
	return nil
}

// openParen classifies and enters a parenthesis outside table position.
func (w *rewriter) openParen() {
	t := w.toks[w.i]
	kind := scopeGroup
	open := len(w.out)
	prev := w.at(w.i - 1)
	switch {
	case isQueryKw(w.at(w.i + 1)):
		kind = scopeQuery
	case (prev.Kind == TokIdent || prev.Kind == TokQuotedIdent) && w.primEnd == len(w.out):
		// Only names mark a primary (keywords never do), so this is a
		// function call: "::" after it must wrap the whole call.
		kind = scopeFunc
		open = w.primStart
	}
	w.emitTok()
	w.push(scope{kind: kind, open: open, openPos: t.Pos, operandStart: len(w.out)})
}

func (w *rewriter) closeParen(t Token) error {
	if len(w.scopes) == 1 {
		return errSQL(t.Pos, `unbalanced ")"`)
	}
	sc := w.top()
	if sc.kind == scopeCase {
		return errSQL(t.Pos, `CASE without END before ")"`)
	}
	open := sc.open
	w.emitTok()
	w.pop()
	w.markPrimary(open)
	return nil
}

// isQueryKw reports whether t starts a query.
func isQueryKw(t Token) bool {
	return isKw(t, "select") || isKw(t, "with") || isKw(t, "values")
}

// word rewrites an unquoted identifier or keyword at w.i.
func (w *rewriter) word(t Token) error {
	if isOp(w.at(w.i-1), ".") {
		// After a dot every word is a plain name (t.from, t.now, ...).
		return w.name()
	}
	next := w.at(w.i + 1)
	switch t.Value {
	case "from":
		w.from()
		return nil
	case "join":
		w.emitTok()
		w.boundary()
		w.top().inFrom = true
		w.expectTable, w.expectAfter = true, `"JOIN"`
		return nil
	case "where", "group", "having", "order", "union", "intersect", "except":
		w.top().inFrom = false
	case "limit":
		w.top().inFrom = false
		if len(w.scopes) == 1 {
			w.hasLimit = true
		}
	case "window":
		// SQLite reads WINDOW as a keyword only in "WINDOW name AS";
		// otherwise it is an alias and the FROM clause goes on.
		if (next.Kind == TokIdent || next.Kind == TokQuotedIdent) && isKw(w.at(w.i+2), "as") {
			w.top().inFrom = false
		}
	case "with":
		return w.with(t)
	case "in":
		if !isOp(next, "(") {
			return errSQL(next.Pos, `expected "(" after IN, found %s (IN needs a list or a subquery)`, describe(next))
		}
	case "case":
		start := len(w.out)
		w.emitTok()
		w.push(scope{kind: scopeCase, open: start, openPos: t.Pos, operandStart: len(w.out)})
		return nil
	case "end":
		if sc := w.top(); sc.kind == scopeCase {
			open := sc.open
			w.emitTok()
			w.pop()
			w.markPrimary(open)
			return nil
		}
	case "as":
		return w.as()
	case "ilike":
		return w.ilike(t, false)
	case "not":
		if isKw(next, "ilike") {
			return w.ilike(t, true)
		}
	case "null", "true", "false":
		start := len(w.out)
		w.emitTok()
		w.markPrimary(start)
		return nil
	case "cast":
		if isOp(next, "(") {
			return w.cast(t)
		}
	case "extract":
		if isOp(next, "(") {
			return w.extract(t)
		}
	case "current_user", "current_role", "current_timestamp", "now", "snowflake_id", "uuid_v7", "ulid":
		if done, err := w.function(t); done || err != nil {
			return err
		}
	case "timestamp", "timestamptz", "date":
		if next.Kind == TokString {
			return w.temporalLiteral(t, next)
		}
	}
	if _, ok := keywords[t.Value]; ok {
		w.emitTok()
		w.boundary()
		return nil
	}
	return w.name()
}

// as handles AS outside a table reference: the type of a CAST, or an
// alias, which is copied verbatim so it is never rewritten (a column may
// well be aliased "current_user").
func (w *rewriter) as() error {
	if w.top().kind == scopeCast {
		return w.castAs()
	}
	w.emitTok()
	w.boundary()
	a := w.toks[w.i]
	if (a.Kind == TokQuotedIdent || (a.Kind == TokIdent && !isKeyword(a.Value))) && !isOp(w.at(w.i+1), "(") {
		w.emitTok()
	}
	return nil
}

// name emits an identifier (or qualified-name part), rewriting a
// namespace.table.column reference to alias.column.
func (w *rewriter) name() error {
	i := w.i
	t := w.toks[i]
	if !isOp(w.at(i-1), ".") && isOp(w.at(i+1), ".") && isNameTok(w.at(i+2)) && isOp(w.at(i+3), ".") &&
		(isNameTok(w.at(i+4)) || isOp(w.at(i+4), "*")) && !isOp(w.at(i+5), ".") && w.r.IsNamespace(t.Value) {
		return w.threePartRef()
	}
	start := len(w.out)
	if isOp(w.at(i-1), ".") && w.primEnd == len(w.out)-1 {
		start = w.primStart // continue a.b.c
	}
	w.emitTok()
	w.markPrimary(start)
	return nil
}

func isNameTok(t Token) bool { return t.Kind == TokIdent || t.Kind == TokQuotedIdent }

// threePartRef rewrites ns.t.col to <alias of ns.t>.col.
func (w *rewriter) threePartRef() error {
	i := w.i
	ns, tbl, col := w.toks[i], w.toks[i+2], w.toks[i+4]
	alias := ""
	if vtab, ok := w.r.ResolveTable(ns.Value, tbl.Value); ok {
		alias = w.aliases[vtab]
		if alias == "" && !w.finalPass {
			w.needSecondPass = true
		}
	}
	if alias == "" {
		alias = tbl.Text
	}
	start := len(w.out)
	w.emit(alias+"."+col.Text, w.gap(i))
	w.i += 5
	w.markPrimary(start)
	return nil
}

// joinPieces renders output pieces.
func joinPieces(ps []piece) string {
	var b strings.Builder
	n := 0
	for _, p := range ps {
		n += len(p.text) + 1
	}
	b.Grow(n)
	for i, p := range ps {
		if i > 0 && p.text != "" && (p.space || mustSeparate(ps[i-1].text, p.text)) {
			b.WriteByte(' ')
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// mustSeparate reports whether a followed directly by b could be read as
// different tokens: two words running together, two quoted sections
// merging via a doubled quote, or the start of a comment.
func mustSeparate(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	x, y := a[len(a)-1], b[0]
	switch {
	case isIdentCont(x) && isIdentCont(y):
		return true
	case x == y && (x == '\'' || x == '"' || x == '-'):
		return true
	case x == '/' && y == '*':
		return true
	}
	return false
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent quotes s as an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// param rewrites $N to SQLite's ?N.
func (w *rewriter) param(t Token) error {
	n, err := parseParam(t, MaxRewriteParam)
	if err != nil {
		return err
	}
	if n > w.numParams {
		w.numParams = n
	}
	start := len(w.out)
	w.emit("?"+strconv.Itoa(n), w.gap(w.i))
	w.i++
	w.markPrimary(start)
	return nil
}

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
