package parse

import "strconv"

// MaxParam is the highest $N accepted in DML. PostgreSQL's protocol
// limit; Rewrite is stricter because SQLite allows fewer parameters.
const MaxParam = 65535

// literal consumes a literal at the cursor: a number with an optional sign,
// a string, a blob, NULL, TRUE or FALSE. ok is false (and nothing is
// consumed) when the cursor is not at a literal.
func (p *parser) literal() (lit Literal, ok bool, err error) {
	t := p.peek()
	switch t.Kind {
	case TokNumber:
		p.pos++
		lit, err = numberLiteral(t.Value, t.Pos, false)
		return lit, true, err
	case TokString:
		p.pos++
		return Literal{Kind: LitString, Text: t.Value}, true, nil
	case TokBlob:
		p.pos++
		return Literal{Kind: LitBlob, Text: asciiUpper(t.Value)}, true, nil
	case TokIdent:
		if lit, ok := keywordLiteral(t.Value); ok {
			p.pos++
			return lit, true, nil
		}
	case TokOp:
		if (t.Value == "-" || t.Value == "+") && p.peekAt(1).Kind == TokNumber {
			p.pos += 2
			num := p.prev()
			lit, err = numberLiteral(num.Value, num.Pos, t.Value == "-")
			return lit, true, err
		}
	}
	return Literal{}, false, nil
}

// keywordLiteral maps NULL, TRUE and FALSE to literals.
func keywordLiteral(word string) (Literal, bool) {
	switch word {
	case "null":
		return Literal{Kind: LitNull, Text: "NULL"}, true
	case "true":
		return Literal{Kind: LitBool, Text: "true", Bool: true}, true
	case "false":
		return Literal{Kind: LitBool, Text: "false"}, true
	}
	return Literal{}, false
}

// numberLiteral converts the text of a TokNumber at pos, applying a
// folded unary minus.
func numberLiteral(num string, pos int, neg bool) (Literal, error) {
	// Fast path for the common case: a plain non-negative integer that
	// certainly fits an int64 (at most 18 digits).
	if !neg && len(num) <= 18 && isAllDigits(num) {
		return Literal{Kind: LitInt, Text: num}, nil
	}
	return numberLiteralSlow(num, pos, neg)
}

func numberLiteralSlow(num string, pos int, neg bool) (Literal, error) {
	text := num
	if len(text) > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') {
		// SQLite reads hex literals as 64-bit two's complement.
		u, err := strconv.ParseUint(text[2:], 16, 64)
		if err != nil {
			return Literal{}, errInput(pos, "hexadecimal literal %s does not fit in 64 bits", text)
		}
		n := int64(u)
		if neg {
			n = -n
		}
		return Literal{Kind: LitInt, Text: strconv.FormatInt(n, 10)}, nil
	}
	if neg {
		text = "-" + text
	}
	if !isAllDigits(num) {
		return Literal{Kind: LitFloat, Text: text}, nil
	}
	// Up to 18 digits always fits an int64; longer ones are checked. Like
	// SQLite, an integer too large for int64 becomes a float.
	if len(num) > 18 {
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			return Literal{Kind: LitFloat, Text: text}, nil
		}
	}
	return Literal{Kind: LitInt, Text: text}, nil
}

// parseParam converts a TokParam to its number, bounded by max.
func parseParam(t Token, max int) (int, error) {
	v := t.Value
	n := 0
	if len(v) <= 9 {
		n, _ = strconv.Atoi(v)
	}
	if n < 1 || n > max {
		return 0, errSQL(t.Pos, "invalid parameter %s (parameters are $1..$%d)", printable(t.Text), max)
	}
	return n, nil
}

// valueEnd reports whether t ends a value expression at paren depth 0:
// "," or ")" in INSERT VALUES; ",", WHERE or the end in UPDATE SET.
func valueEnd(t *Token, inUpdate bool) bool {
	if t.Kind == TokOp {
		return t.Value == "," || (!inUpdate && t.Value == ")")
	}
	return inUpdate && (t.Kind == TokEOF || (t.Kind == TokIdent && t.Value == "where"))
}

// valueExpr parses one INSERT value or UPDATE SET expression into e.
// Single-token literals, parameters and the zero-argument default
// functions are classified; anything else is kept as raw text for SQLite.
// This is the hot path of multi-row INSERT: it writes in place and never
// allocates for the simple cases.
func (p *parser) valueExpr(e *Expr, inUpdate bool) error {
	p.fill(3) // simpleValue and the end check look at most 3 tokens ahead
	n, err := p.simpleValue(e)
	if err != nil {
		return err
	}
	if n > 0 && valueEnd(p.ahead(n), inUpdate) {
		p.pos += n
		return nil
	}
	*e = Expr{}
	return p.rawValue(e, inUpdate)
}

// simpleValue classifies the value at the cursor into e without
// consuming it and returns how many tokens it spans; n == 0 means it is
// not simple (e is then garbage). The caller has filled 3 tokens ahead.
func (p *parser) simpleValue(e *Expr) (n int, err error) {
	t := p.ahead(0)
	switch t.Kind {
	case TokNumber:
		e.Kind = ExprLiteral
		e.Lit, err = numberLiteral(t.Value, t.Pos, false)
		return 1, err
	case TokString:
		*e = Expr{Kind: ExprLiteral, Lit: Literal{Kind: LitString, Text: t.Value}}
		return 1, nil
	case TokBlob:
		*e = Expr{Kind: ExprLiteral, Lit: Literal{Kind: LitBlob, Text: asciiUpper(t.Value)}}
		return 1, nil
	case TokParam:
		e.Kind = ExprParam
		e.Param, err = parseParam(*t, MaxParam)
		return 1, err
	case TokOp:
		if (t.Value == "-" || t.Value == "+") && p.ahead(1).Kind == TokNumber {
			neg := t.Value == "-"
			num := p.ahead(1)
			e.Kind = ExprLiteral
			e.Lit, err = numberLiteral(num.Value, num.Pos, neg)
			return 2, err
		}
	case TokIdent:
		if lit, ok := keywordLiteral(t.Value); ok {
			*e = Expr{Kind: ExprLiteral, Lit: lit}
			return 1, nil
		}
		if t.Value == "default" {
			*e = Expr{Kind: ExprDefault}
			return 1, nil
		}
		if name, bare, ok := defaultFunc(t.Value); ok {
			if isOp(*p.ahead(1), "(") && isOp(*p.ahead(2), ")") {
				*e = Expr{Kind: ExprFunc, Func: name}
				return 3, nil
			}
			if bare {
				*e = Expr{Kind: ExprFunc, Func: name}
				return 1, nil
			}
		}
	}
	return 0, nil
}

// rawValue consumes a general expression up to its end at depth 0 and
// returns its exact source text. Parentheses must balance so the text can
// be embedded in a larger statement without changing its structure.
func (p *parser) rawValue(e *Expr, inUpdate bool) error {
	first := p.peek()
	depth := 0
	last := first
	consumed := 0
	for {
		t := p.peek()
		if depth == 0 && valueEnd(&t, inUpdate) {
			break
		}
		// In UPDATE, a FROM or RETURNING clause ends the last assignment so
		// the caller can reject it precisely ("x IS DISTINCT FROM y" aside).
		if inUpdate && depth == 0 && consumed > 0 &&
			(isKw(t, "returning") || (isKw(t, "from") && !isKw(last, "distinct"))) {
			break
		}
		if t.Kind == TokEOF {
			return errSQL(t.Pos, "unexpected end of statement in VALUES list")
		}
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			if depth == 0 {
				return errSQL(t.Pos, `unbalanced ")" in expression`)
			}
			depth--
		}
		last = p.advance()
		consumed++
	}
	if consumed == 0 {
		return errSQL(first.Pos, "expected value expression, found %s", describe(first))
	}
	*e = Expr{Kind: ExprRaw, Raw: p.sql[first.Pos:last.End]}
	return nil
}
