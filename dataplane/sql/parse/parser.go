package parse

import (
	"fmt"
	"strings"
)

// Parse parses exactly one statement (a trailing ';' is allowed). The
// returned Statement is a pointer to one of the AST structs, e.g.
// *CreateTable or *Select. Errors are always *Error.
func Parse(sql string) (Statement, error) {
	p := parser{sql: sql, lx: lexer{src: sql}}
	p.first, p.second = p.peek(), p.peekAt(1)
	if p.first.Kind == TokEOF {
		if p.lexErr != nil {
			return nil, p.lexErr
		}
		return nil, errSQL(-1, "empty statement")
	}
	st, err := p.statement()
	// A lexical error surfaces as a premature EOF, so any parse error seen
	// after it is a consequence: report the root cause instead.
	if p.lexErr != nil {
		return nil, p.lexErr
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// trimTerminator replaces a trailing ';' (or several) by the EOF token and
// rejects anything after it: Parse handles one statement, batches go
// through SplitStatements first.
func trimTerminator(toks []Token) ([]Token, error) {
	for i, t := range toks {
		if t.Kind != TokOp || t.Value != ";" {
			continue
		}
		for _, u := range toks[i+1:] {
			if u.Kind == TokEOF {
				break
			}
			if u.Kind != TokOp || u.Value != ";" {
				return nil, errMultiple(u)
			}
		}
		toks = toks[:i+1]
		toks[i] = Token{Kind: TokEOF, Pos: t.Pos, End: t.Pos}
		return toks, nil
	}
	return toks, nil
}

func errMultiple(u Token) error {
	return errSQL(u.Pos, "unexpected %s after ';' (one statement expected)", describe(u))
}

// lookahead is the size of the parser's token ring: the longest lookahead
// plus one token of look-behind, rounded up to a power of two.
const lookahead = 8

// parser is a recursive-descent parser over a token stream. Tokens are
// lexed on demand into a small ring, so memory stays flat however long the
// statement (a 10 MB multi-row INSERT never materialises its tokens) and
// lexing interleaves with parsing. pos counts tokens from the start of the
// statement; peekAt(n) may look up to lookahead-2 tokens ahead.
//
// The stream always ends in TokEOF: a trailing ';' becomes EOF, and a
// lexical error becomes EOF with lexErr set (Parse then reports lexErr).
// The cursor never moves past EOF, so peek never fails.
type parser struct {
	sql    string
	lx     lexer
	ring   [lookahead]Token
	pos    int  // index of the cursor token
	lexed  int  // number of tokens lexed so far
	eof    bool // the EOF token has been lexed
	lexErr error
	// first and second are the statement's first two tokens, for messages.
	first, second Token
}

// fill lexes until token pos+n exists or EOF has been produced.
func (p *parser) fill(n int) {
	for p.lexed <= p.pos+n && !p.eof {
		t := &p.ring[p.lexed&(lookahead-1)]
		p.lexed++
		if err := p.lx.scan(t); err != nil {
			p.lexErr = err
			*t = Token{Kind: TokEOF, Pos: len(p.sql), End: len(p.sql)}
			if e, ok := err.(*Error); ok && e.Pos >= 0 {
				t.Pos, t.End = e.Pos, e.Pos
			}
		} else if t.Kind == TokOp && t.Value == ";" {
			*t = Token{Kind: TokEOF, Pos: t.Pos, End: t.Pos}
			p.terminator()
		}
		p.eof = t.Kind == TokEOF
	}
}

// terminator checks that only further ';' follow a ';'.
func (p *parser) terminator() {
	for {
		u, err := p.lx.next()
		switch {
		case err != nil:
			p.lexErr = err
			return
		case u.Kind == TokEOF:
			return
		case u.Kind != TokOp || u.Value != ";":
			p.lexErr = errMultiple(u)
			return
		}
	}
}

// tok returns a pointer to the token n positions ahead (EOF past the end).
// The pointer is valid until the cursor moves lookahead-2 tokens further.
func (p *parser) tok(n int) *Token {
	i := p.pos + n
	if i >= p.lexed {
		i = p.more(n)
	}
	return &p.ring[i&(lookahead-1)]
}

// ahead returns the token n positions ahead without lexing: the caller
// must have called fill(n) (or more) first. Small enough to inline, for
// the INSERT hot path.
func (p *parser) ahead(n int) *Token {
	i := p.pos + n
	if i >= p.lexed {
		i = p.lexed - 1 // the EOF token
	}
	return &p.ring[i&(lookahead-1)]
}

// more is tok's slow path, kept out of line so that tok inlines: it lexes
// up to token pos+n and returns that token's index (or EOF's).
func (p *parser) more(n int) int {
	p.fill(n)
	if i := p.pos + n; i < p.lexed {
		return i
	}
	return p.lexed - 1
}

func (p *parser) peek() Token { return *p.tok(0) }

// peekAt returns the token n positions ahead, or EOF past the end.
func (p *parser) peekAt(n int) Token { return *p.tok(n) }

// prev returns the token before the cursor.
func (p *parser) prev() Token { return p.ring[(p.pos-1)&(lookahead-1)] }

func (p *parser) advance() Token {
	t := p.peek()
	if t.Kind != TokEOF {
		p.pos++
	}
	return t
}

func isKw(t Token, kw string) bool { return t.Kind == TokIdent && t.Value == kw }

func isOp(t Token, op string) bool { return t.Kind == TokOp && t.Value == op }

func (p *parser) isKw(kw string) bool { t := p.tok(0); return t.Kind == TokIdent && t.Value == kw }

func (p *parser) isOp(op string) bool { t := p.tok(0); return t.Kind == TokOp && t.Value == op }

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.pos++
		return true
	}
	return false
}

// expectKw consumes keyword kw or fails with "expected KW after <after>".
func (p *parser) expectKw(kw, after string) error {
	if p.acceptKw(kw) {
		return nil
	}
	return p.unexpected(strings.ToUpper(kw), after)
}

// expectOp consumes operator op or fails with `expected "op" after <after>`.
func (p *parser) expectOp(op, after string) error {
	if p.acceptOp(op) {
		return nil
	}
	return p.unexpected(fmt.Sprintf("%q", op), after)
}

// unexpected reports that the current token is not what was expected.
func (p *parser) unexpected(what, after string) error {
	t := p.peek()
	return errSQL(t.Pos, "expected %s after %s, found %s", what, after, describe(t))
}

// expectEnd fails unless the whole statement has been consumed.
func (p *parser) expectEnd() error {
	t := p.peek()
	if t.Kind == TokEOF {
		return nil
	}
	return errSQL(t.Pos, "unexpected %s", describe(t))
}

// describe renders a token for messages.
func describe(t Token) string {
	if t.Kind == TokEOF {
		return "end of statement"
	}
	text := t.Text
	if len(text) > 40 {
		text = text[:40] + "..."
	}
	return fmt.Sprintf("%q", text)
}

// quoteKw renders keywords for "after" clauses: quoteKw("add", "column")
// is `"ADD COLUMN"`.
func quoteKw(words ...string) string {
	return `"` + strings.ToUpper(strings.Join(words, " ")) + `"`
}

// ifNotExists consumes an optional IF NOT EXISTS.
func (p *parser) ifNotExists() (bool, error) {
	if !p.isKw("if") || !isKw(p.peekAt(1), "not") {
		return false, nil
	}
	p.pos += 2
	if err := p.expectKw("exists", quoteKw("if", "not")); err != nil {
		return false, err
	}
	return true, nil
}

// ifExists consumes an optional IF EXISTS.
func (p *parser) ifExists() bool {
	if p.isKw("if") && isKw(p.peekAt(1), "exists") {
		p.pos += 2
		return true
	}
	return false
}

// ident consumes a bare or quoted identifier and returns its value.
func (p *parser) ident(what, after string) (string, Token, error) {
	t := p.peek()
	if t.Kind == TokIdent || t.Kind == TokQuotedIdent {
		p.pos++
		return t.Value, t, nil
	}
	return "", t, p.unexpected(what, after)
}

// tableName parses [ns.]table and validates both parts.
func (p *parser) tableName(after string) (TableName, error) {
	name, tok, err := p.ident("table name", after)
	if err != nil {
		return TableName{}, err
	}
	var tn TableName
	if p.acceptOp(".") {
		if err := ValidateName("namespace", name); err != nil {
			return TableName{}, withPos(err, tok.Pos)
		}
		tn.Namespace = name
		name, tok, err = p.ident("table name", fmt.Sprintf("%q", tn.Namespace+"."))
		if err != nil {
			return TableName{}, err
		}
	}
	if p.isOp(".") {
		return TableName{}, errSQL(p.peek().Pos, "table name may have at most two parts (namespace.table)")
	}
	if err := ValidateName("table", name); err != nil {
		return TableName{}, withPos(err, tok.Pos)
	}
	tn.Name = name
	return tn, nil
}

// statement dispatches on the leading keyword.
func (p *parser) statement() (Statement, error) {
	t := p.peek()
	if isOp(t, "(") {
		// Only a parenthesised query may start with "(".
		for p.isOp("(") {
			p.pos++
		}
		if isQueryKw(p.peek()) {
			return p.query()
		}
		return nil, p.unsupported()
	}
	if t.Kind == TokIdent {
		switch t.Value {
		case "select", "with", "values":
			return p.query()
		case "explain":
			at, analyze := 1, false
			if isKw(p.peekAt(1), "analyze") {
				at, analyze = 2, true
			}
			if nx := p.peekAt(at); isQueryKw(nx) || isOp(nx, "(") && isQueryKw(p.peekAt(at+1)) {
				q := p.sql[nx.Pos:]
				for p.peek().Kind != TokEOF {
					p.pos++
				}
				return &Explain{SQL: q, Analyze: analyze}, nil
			}
		case "create":
			return p.parseCreate()
		case "drop":
			return p.parseDrop()
		case "show":
			if isKw(p.peekAt(1), "stats") {
				return p.parseShowStats()
			}
			if isKw(p.peekAt(1), "backups") {
				return p.parseShowBackups()
			}
			return p.parseShow()
		case "use":
			return p.parseUse()
		case "set":
			if isKw(p.peekAt(1), "namespace") {
				return p.parseUse()
			}
		case "describe", "desc":
			return p.parseDescribe()
		case "alter":
			if isKw(p.peekAt(1), "user") {
				return p.parseAlterUser()
			}
			if isKw(p.peekAt(1), "storage") {
				return p.parseAlterStorage()
			}
			if isKw(p.peekAt(1), "table") {
				return p.parseAlterTable()
			}
		case "storage":
			return p.parseStorage()
		case "insert":
			return p.parseInsert()
		case "update":
			return p.parseUpdate()
		case "delete":
			if isKw(p.peekAt(1), "backup") || isKw(p.peekAt(1), "backups") {
				return p.parseDeleteBackup()
			}
			return p.parseDelete()
		case "backup":
			return p.parseBackup()
		case "restore":
			return p.parseRestore()
		case "subscribe":
			return p.parseSubscribe()
		case "kill":
			return p.parseKill()
		case "execute":
			if isKw(p.peekAt(1), "as") {
				return p.parseExecuteAs()
			}
		}
	}
	return nil, p.unsupported()
}

// unsupported reports the statement as unsupported, naming its first word,
// or first two for verbs that take an object (CREATE INDEX, SHOW USERS).
func (p *parser) unsupported() error {
	t := p.first
	if t.Kind != TokIdent {
		return errSQL(t.Pos, "unsupported statement starting with %s", describe(t))
	}
	words := strings.ToUpper(t.Value)
	switch t.Value {
	case "create", "drop", "alter", "show", "set":
		if p.second.Kind == TokIdent {
			words += " " + strings.ToUpper(p.second.Value)
		}
	}
	return errSQL(t.Pos, "unsupported statement %q", words)
}

// query returns a Select holding the original text. The rest of the
// statement is lexed so that lexical errors and a second statement are
// reported here rather than later by Rewrite.
func (p *parser) query() (Statement, error) {
	for p.peek().Kind != TokEOF {
		p.pos++
	}
	return &Select{SQL: p.sql}, nil
}
