package parse

import (
	"fmt"
	"strings"
)

// Parse parses exactly one statement (a trailing ';' is allowed). The
// returned Statement is a pointer to one of the AST structs, e.g.
// *CreateTable or *Select. Errors are always *Error.
func Parse(sql string) (Statement, error) {
	toks, err := Lex(sql)
	if err != nil {
		return nil, err
	}
	toks, err = trimTerminator(toks)
	if err != nil {
		return nil, err
	}
	if toks[0].Kind == TokEOF {
		return nil, errSQL(-1, "empty statement")
	}
	p := &parser{sql: sql, toks: toks}
	return p.statement()
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
				return nil, errSQL(u.Pos, "unexpected %s after ';' (one statement expected)", describe(u))
			}
		}
		toks = toks[:i+1]
		toks[i] = Token{Kind: TokEOF, Pos: t.Pos, End: t.Pos}
		return toks, nil
	}
	return toks, nil
}

// parser is a recursive-descent cursor over a token slice that always ends
// in TokEOF; the cursor never moves past that token, so peek never fails.
type parser struct {
	sql  string
	toks []Token
	pos  int
}

func (p *parser) peek() Token { return p.toks[p.pos] }

// peekAt returns the token n positions ahead, or EOF past the end.
func (p *parser) peekAt(n int) Token {
	if i := p.pos + n; i < len(p.toks) {
		return p.toks[i]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() Token {
	t := p.toks[p.pos]
	if t.Kind != TokEOF {
		p.pos++
	}
	return t
}

func isKw(t Token, kw string) bool { return t.Kind == TokIdent && t.Value == kw }

func isOp(t Token, op string) bool { return t.Kind == TokOp && t.Value == op }

func (p *parser) isKw(kw string) bool { return isKw(p.peek(), kw) }

func (p *parser) isOp(op string) bool { return isOp(p.peek(), op) }

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
	if isOp(t, "(") && isQueryStart(p.toks) {
		return &Select{SQL: p.sql}, nil
	}
	if t.Kind == TokIdent {
		switch t.Value {
		case "select", "with", "values":
			return &Select{SQL: p.sql}, nil
		case "create":
			return p.parseCreate()
		case "drop":
			return p.parseDrop()
		case "show":
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
		case "insert":
			return p.parseInsert()
		case "update":
			return p.parseUpdate()
		case "delete":
			return p.parseDelete()
		}
	}
	return nil, p.unsupported()
}

// unsupported reports the statement as unsupported, naming its first word,
// or first two for verbs that take an object (CREATE INDEX, SHOW USERS).
func (p *parser) unsupported() error {
	t := p.toks[0]
	n := 1
	switch t.Value {
	case "create", "drop", "alter", "show", "set":
		n = 2
	}
	words := []string{}
	for i := 0; i < n && i < len(p.toks); i++ {
		if p.toks[i].Kind != TokIdent {
			break
		}
		words = append(words, strings.ToUpper(p.toks[i].Value))
	}
	if len(words) == 0 {
		return errSQL(t.Pos, "unsupported statement starting with %s", describe(t))
	}
	return errSQL(t.Pos, "unsupported statement %q", strings.Join(words, " "))
}

// isQueryStart reports whether toks (after any leading parentheses) begin
// with SELECT, WITH or VALUES.
func isQueryStart(toks []Token) bool {
	for _, t := range toks {
		if isOp(t, "(") {
			continue
		}
		return isKw(t, "select") || isKw(t, "with") || isKw(t, "values")
	}
	return false
}
