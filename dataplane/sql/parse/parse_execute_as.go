package parse

// ExecuteAs is EXECUTE AS USER '<name>' ( <statement> ): one statement run
// as another user, subject to the role hierarchy (checked by the executor).
type ExecuteAs struct {
	// User is the impersonated user name.
	User string
	// Inner is the parsed statement and InnerSQL its source text.
	Inner    Statement
	InnerSQL string
}

func (*ExecuteAs) statementNode() {}

// parseExecuteAs parses EXECUTE AS USER 'u' ( stmt ). The parenthesised
// text is found by token depth (so ')' inside strings, quoted identifiers
// or comments does not end it), must close at the end of the statement,
// and is parsed on its own. Nesting EXECUTE AS is refused.
func (p *parser) parseExecuteAs() (Statement, error) {
	p.advance() // EXECUTE
	if err := p.expectKw("as", quoteKw("execute")); err != nil {
		return nil, err
	}
	if err := p.expectKw("user", quoteKw("execute as")); err != nil {
		return nil, err
	}
	name, err := p.userName(quoteKw("execute as user"))
	if err != nil {
		return nil, err
	}
	open := p.peek()
	if !isOp(open, "(") {
		return nil, p.unexpected(`"(" and one statement`, "the user name")
	}
	p.advance()
	depth := 1
	var closing Token
	for depth > 0 {
		t := p.advance()
		switch {
		case t.Kind == TokEOF:
			if p.lexErr != nil {
				return nil, p.lexErr
			}
			return nil, errSQL(t.Pos, `unbalanced "(" in EXECUTE AS: expected ")" before end of statement`)
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
			closing = t
		}
	}
	if t := p.peek(); t.Kind != TokEOF {
		return nil, errSQL(t.Pos, "unexpected %s after EXECUTE AS (...): one statement expected", describe(t))
	}
	inner := p.sql[open.End:closing.Pos]
	st, err := Parse(inner)
	if err != nil {
		if pe, ok := err.(*Error); ok && pe.Pos >= 0 {
			pe.Pos += open.End
		}
		return nil, err
	}
	if _, nested := st.(*ExecuteAs); nested {
		return nil, errSQL(open.End, "EXECUTE AS cannot be nested")
	}
	return &ExecuteAs{User: name, Inner: st, InnerSQL: inner}, nil
}
