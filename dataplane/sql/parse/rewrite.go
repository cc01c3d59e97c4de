// Rewriter: PostgreSQL-flavoured query text in, SQLite query text out.
// This is the access-control boundary between user SQL and SQLite.
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
//     run-together words), so SQLite tokenises the output exactly as we
//     built it. Tokens SQLite would read differently from us ([...]
//     identifiers, "?", ":name", "@name") and NUL bytes are refused.
//   - Work is linear in the input: nesting depth and cast chains are
//     bounded (MaxNesting), lookups are map-based.
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
	// ExactTwins asks for the hidden exact twins of numeric result
	// columns (rewrite_exact.go, Rewritten.Exact).
	ExactTwins bool
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
	// ParamKinds maps $N to "timestamp", "date" or "boolean" when the
	// parameter is compared with such a column: a string bound to it must
	// be converted to the column's representation (ConvertParam).
	ParamKinds map[int]string
	// Columns holds, per result column of the outermost SELECT, the
	// PostgreSQL type of a computed column when the rewriter knows it
	// ("boolean", "timestamp", "date"; "" otherwise). It is nil when
	// the select list cannot be matched to result columns (a *).
	Columns []string
	// Exact maps each result column of the outermost SELECT to the
	// position of its hidden exact twin (rewrite_exact.go), -1 for none;
	// nil when no column has one. Twins come after the user's columns:
	// the result holds len(Exact) columns once they are dropped.
	Exact []int
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

// MaxNesting bounds parenthesis and CASE nesting in Rewrite. SQLite's own
// parser gives up far earlier; the bound keeps the rewriter's per-level
// work (CTE lookups, operand wrapping) linear in the input.
const MaxNesting = 128

// maxCastChain bounds "x::a::b::..." on one operand: each cast copies the
// operand text, so an unbounded chain would be quadratic.
const maxCastChain = 16

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
	if err := checkNesting(toks); err != nil {
		return nil, err
	}
	if toks, err = rewriteTableAliasColumns(toks, r); err != nil {
		return nil, err
	}
	if toks, err = rewriteLateral(toks); err != nil {
		return nil, err
	}
	var exact []int
	var w *rewriter
	var sel *pgPass // the typed pass over the select list (twins, result types)
	if ct, typed := r.(ColumnTypeResolver); typed {
		// One typed round with the tables the pre-scan reads; the old
		// untyped round runs only when the typed round's rewriter
		// disagrees or fails (rewrite_refs.go).
		var pre []tableRefInfo
		// The typed passes read the statement's structure from the group
		// index: unbalanced text goes to the untyped round first, which
		// reports it.
		ok := false
		if g := indexGroups(toks, true); g.balanced(toks, true) {
			pre = prescanRefs(toks, r, indexGroups(toks, false))
			w, sel, exact, err = typedRound(toks, r, opt, ct, pre)
			ok = err == nil && sameRefs(pre, flatRefs(w.refs))
		}
		if !ok {
			// The untyped round only collects the table references (its
			// output is discarded), so it needs no second pass.
			w0, err := rewritePasses(toks, r, opt, nil, true)
			if err != nil {
				return nil, err
			}
			if w, sel, exact, err = typedRound(toks, r, opt, ct, flatRefs(w0.refs)); err != nil {
				return nil, err
			}
		}
		kr, _ := r.(KeyResolver)
		if err := checkGrouping(sel, kr); err != nil {
			return nil, err
		}
	} else if w, err = rewritePasses(toks, r, opt, nil, false); err != nil {
		return nil, err
	} else {
		sel = newPgPass(toks, nil)
	}
	return &Rewritten{
		SQL:        joinPieces(w.out),
		Tables:     w.tables,
		HasLimit:   w.hasLimit,
		NumParams:  w.numParams,
		ParamKinds: w.paramKinds,
		Columns:    resultTypes(sel),
		Exact:      exact,
	}, nil
}

// typedRound rewrites toks with the column types of the tables refs
// names: operators and casts on columns get PostgreSQL's typed semantics
// (float8 + numeric is float8, int4 overflow, ...), with exact twins
// when asked for and the twinned statement rewrites.
//
// sel is the typed pass over toks that read the select list; its typer
// is the round's.
func typedRound(toks []Token, r Resolver, opt RewriteOptions, ct ColumnTypeResolver, refs []tableRefInfo) (w *rewriter, sel *pgPass, exact []int, err error) {
	typer := newColTyper(ct, refs, toks)
	sel = newPgPass(toks, typer)
	if twinned, ex := addTwins(sel, toks); ex != nil && opt.ExactTwins {
		if tw, err := rewritePasses(twinned, r, opt, typer, false); err == nil {
			return tw, sel, ex, nil
		}
	}
	if w, err = rewritePasses(toks, r, opt, typer, false); err != nil {
		return nil, nil, nil, err
	}
	return w, sel, nil, nil
}

// rewritePasses runs the PostgreSQL operator pass (with column types when
// typer is set) and the rewriter proper over the lexed statement. With
// refsOnly the caller wants only the table references the first pass
// records (w.refs), not the output.
func rewritePasses(toks []Token, r Resolver, opt RewriteOptions, typer *colTyper, refsOnly bool) (*rewriter, error) {
	if first := stripOuterParens(toks)[0]; first.Kind != TokEOF && !isQueryKw(first) && !isOp(first, "(") {
		return nil, errSQL(first.Pos, "only SELECT, WITH or VALUES queries can be rewritten, found %s", describe(first))
	}
	toks, err := pgRewrite(rewriteGroupingSets(rewriteDistinctOn(rewriteSetOpsAll(rewriteAliasColumns(rewriteParenOperands(toks))))), typer)
	if err != nil {
		return nil, err
	}
	toks = wrapValues(stripOuterParens(toks))
	first := toks[0]
	if first.Kind == TokEOF {
		return nil, errSQL(-1, "empty statement")
	}
	if !isKw(first, "select") && !isKw(first, "with") && !isKw(first, "values") {
		return nil, errSQL(first.Pos, "only SELECT, WITH or VALUES queries can be rewritten, found %s", describe(first))
	}
	aliases := map[string]string{}
	refs := map[int][]tableRefInfo{}
	w := newRewriter(toks, r, opt, aliases, false)
	w.refs = refs
	if err := w.run(); err != nil {
		return nil, err
	}
	if w.needSecondPass && !refsOnly {
		// A ns.t.col reference preceded the FROM clause that names t's
		// alias; the first pass has now collected every alias.
		w = newRewriter(toks, r, opt, aliases, true)
		w.refs = refs
		if err := w.run(); err != nil {
			return nil, err
		}
	}
	return w, nil
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

// checkNesting rejects statements nested deeper than MaxNesting. It
// mirrors the rewriter's scope stack: "(" and CASE open a level, ")"
// closes one, END closes a CASE only.
func checkNesting(toks []Token) error {
	var stack []bool // true = CASE
	for _, t := range toks {
		switch {
		case isOp(t, "("), isKw(t, "case"):
			if len(stack) >= MaxNesting {
				return errSQL(t.Pos, "statement is nested too deeply (more than %d levels)", MaxNesting)
			}
			stack = append(stack, isKw(t, "case"))
		case isOp(t, ")") && len(stack) > 0:
			stack = stack[:len(stack)-1]
		case isKw(t, "end") && len(stack) > 0 && stack[len(stack)-1]:
			stack = stack[:len(stack)-1]
		}
	}
	return nil
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
	ctes map[string]struct{}
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
	// order tracks an ORDER BY clause of this level (rewrite_order.go).
	order orderState
	// refs counts the table positions of this query level, refVTab and
	// refAlias describe the last one (a virtual table, else ""), and
	// aliasNames holds the select list's AS names.
	refs       int
	refVTab    string
	refAlias   string
	aliasNames map[string]struct{}
	// inKind is the column kind of "col IN (" for the list's literals.
	inKind string
	// limitSeen is set once this level has a LIMIT (or one was added for
	// an OFFSET: limitPiece is then the output index of its "-1").
	limitSeen  bool
	limitPiece int
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
	seenVTabs map[string]struct{}
	numParams int
	hasLimit  bool

	// castStart and castChain count consecutive casts of one operand.
	castStart, castChain int

	// refs are the tables of each query level, recorded in the first pass
	// (rewrite_coerce.go); betweenKind/betweenAnd carry a BETWEEN's column
	// kind to its upper bound after the AND at token betweenAnd.
	refs        map[int][]tableRefInfo
	betweenKind string
	betweenAnd  int
	paramKinds  map[int]string
	// rowsSkip is the index of a ROW/ROWS token to drop (OFFSET n ROWS).
	rowsSkip int
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
		seenVTabs: map[string]struct{}{},
		castStart: -1,
		rowsSkip:  -1,
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
	if w.top().order.active {
		w.endOrderTerm(w.top())
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
	if w.i == w.rowsSkip {
		w.i++
		return nil
	}
	if isOperandBoundary(t) {
		if err := w.closeILike(w.top(), t); err != nil {
			return err
		}
	}
	w.orderToken(t)
	switch t.Kind {
	case TokParam:
		return w.param(t)
	case TokNumber, TokBlob:
		start := len(w.out)
		w.emitTok()
		w.markPrimary(start)
	case TokString:
		if done, err := w.coerceString(t); done || err != nil {
			return err
		}
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
		if w.quantified(t) {
			return nil
		}
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
	w.orderNested()
	inKind := ""
	if isKw(prev, "in") {
		e := w.i - 3
		if isKw(w.at(e), "not") {
			e--
		}
		if q, c, ok := w.colrefBefore(e); ok {
			inKind = w.lookupKind(q, c)
		}
	}
	w.push(scope{kind: kind, open: open, openPos: t.Pos, operandStart: len(w.out), inKind: inKind})
}

func (w *rewriter) closeParen(t Token) error {
	if len(w.scopes) == 1 {
		return errSQL(t.Pos, `unbalanced ")"`)
	}
	sc := w.top()
	if sc.kind == scopeCase {
		return errSQL(t.Pos, `CASE without END before ")"`)
	}
	if sc.order.active {
		w.endOrderTerm(sc)
	}
	open := sc.open
	w.emitTok()
	w.pop()
	w.markPrimary(open)
	return nil
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
	case "order":
		w.top().inFrom = false
		if isKw(next, "by") {
			w.startOrderBy()
			return nil
		}
	case "where", "group", "having", "union", "intersect", "except":
		w.top().inFrom = false
	case "limit":
		w.top().inFrom = false
		if len(w.scopes) == 1 {
			w.hasLimit = true
		}
		return w.limitKw()
	case "offset":
		w.top().inFrom = false
		return w.offsetKw()
	case "fetch":
		if isKw(next, "first") || isKw(next, "next") {
			w.top().inFrom = false
			return w.fetchKw(t)
		}
	case "unknown":
		if w.unknownKw() {
			return nil
		}
	case "symmetric":
		if done, err := w.symmetric(t); done || err != nil {
			return err
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
		w.orderNested()
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
		q := w.queryScope()
		if q.aliasNames == nil {
			q.aliasNames = map[string]struct{}{}
		}
		q.aliasNames[a.Value] = struct{}{}
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

// param rewrites $N to SQLite's ?N.
func (w *rewriter) param(t Token) error {
	n, err := parseParam(t, MaxRewriteParam)
	if err != nil {
		return err
	}
	if n > w.numParams {
		w.numParams = n
	}
	if kind := w.literalContext(w.i, 1); kind != "" && kind != "other" {
		if w.paramKinds == nil {
			w.paramKinds = map[int]string{}
		}
		if prev, ok := w.paramKinds[n]; ok && prev != kind {
			return errSQL(t.Pos, "parameter $%d is compared with columns of different types (%s, %s)", n, prev, kind)
		}
		w.paramKinds[n] = kind
		w.noteBetween(kind)
	}
	start := len(w.out)
	w.emit("?"+strconv.Itoa(n), w.gap(w.i))
	w.i++
	w.markPrimary(start)
	return nil
}
