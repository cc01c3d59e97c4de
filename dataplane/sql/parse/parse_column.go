package parse

// This file parses column definitions: types, constraints and defaults.

import (
	"fmt"
	"strings"
)

// serialTypes maps the PostgreSQL serial pseudo-types to their storage
// type; the sequence itself becomes a SNOWFLAKE_ID default.
var serialTypes = map[string]string{
	"SERIAL": "INT", "SERIAL4": "INT", "BIGSERIAL": "BIGINT", "SERIAL8": "BIGINT",
	"SMALLSERIAL": "SMALLINT", "SERIAL2": "SMALLINT",
}

// defaultFunc maps the functions allowed in DEFAULT clauses and
// recognised as ExprFunc in DML to their canonical names. bare marks those
// also valid without parentheses. (A switch, not a map: this runs for
// every identifier value of a bulk INSERT.)
func defaultFunc(word string) (name string, bare, ok bool) {
	switch word {
	case "now":
		return FuncNow, false, true
	case "current_timestamp":
		return FuncCurrentTimestamp, true, true
	case "snowflake_id":
		return FuncSnowflakeID, false, true
	case "uuid_v7":
		return FuncUUIDv7, false, true
	case "ulid":
		return FuncULID, false, true
	case "current_user":
		return FuncCurrentUser, true, true
	}
	return "", false, false
}

// columnDef parses "name type constraints...".
func (p *parser) columnDef() (ColumnDef, Token, error) {
	name, nameTok, err := p.ident("column name", "column list")
	if err != nil {
		return ColumnDef{}, nameTok, err
	}
	if err := ValidateColumnName(name); err != nil {
		return ColumnDef{}, nameTok, withPos(err, nameTok.Pos)
	}
	col := ColumnDef{Name: name}
	typ, serial, err := p.dataType(name)
	if err != nil {
		return ColumnDef{}, nameTok, err
	}
	col.Type = typ
	if err := p.columnConstraints(&col, serial); err != nil {
		return ColumnDef{}, nameTok, err
	}
	return col, nameTok, nil
}

// dataType parses a column type and normalises it. serial reports a
// SERIAL-family type, which implies a SNOWFLAKE_ID default.
func (p *parser) dataType(col string) (typ string, serial bool, err error) {
	t := p.peek()
	if t.Kind != TokIdent {
		return "", false, p.unexpected("data type", fmt.Sprintf("column name '%s'", col))
	}
	switch t.Value {
	case "not", "null", "primary", "unique", "default", "references", "check", "constraint":
		return "", false, p.unexpected("data type", fmt.Sprintf("column name '%s'", col))
	}
	p.advance()
	words := []string{asciiUpper(t.Value)}
	switch {
	case t.Value == "double" && p.acceptKw("precision"):
		words = append(words, "PRECISION")
	case t.Value == "character" && p.acceptKw("varying"):
		words = append(words, "VARYING")
	}
	params := ""
	if p.acceptOp("(") {
		var ps []string
		for {
			n := p.peek()
			if n.Kind != TokNumber || !isAllDigits(n.Value) {
				return "", false, p.unexpected("type parameter (an integer)", "type "+words[0]+" (")
			}
			p.advance()
			ps = append(ps, n.Value)
			if p.acceptOp(",") {
				continue
			}
			if err := p.expectOp(")", "type parameters"); err != nil {
				return "", false, err
			}
			break
		}
		params = "(" + strings.Join(ps, ",") + ")"
	}
	if (t.Value == "timestamp" || t.Value == "time") && (p.isKw("with") || p.isKw("without")) &&
		isKw(p.peekAt(1), "time") && isKw(p.peekAt(2), "zone") {
		words = append(words, asciiUpper(p.advance().Value), "TIME", "ZONE")
		p.pos += 2
	}
	// UNSIGNED goes last ("INT(10) UNSIGNED"), where type parsers expect it.
	unsigned := ""
	if p.acceptKw("unsigned") {
		unsigned = " UNSIGNED"
	}
	if p.isOp("[") {
		return "", false, errSQL(p.peek().Pos, "array types are not supported")
	}
	if base, ok := serialTypes[words[0]]; ok && len(words) == 1 {
		return base + params + unsigned, true, nil
	}
	return strings.Join(words, " ") + params + unsigned, false, nil
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// columnConstraints parses the constraints after a column type.
func (p *parser) columnConstraints(col *ColumnDef, serial bool) error {
	var defaultTok *Token
	for {
		t := p.peek()
		if t.Kind != TokIdent {
			break
		}
		switch t.Value {
		case "constraint":
			// A named column constraint: the name is irrelevant to us.
			p.advance()
			if _, _, err := p.ident("constraint name", quoteKw("constraint")); err != nil {
				return err
			}
			continue
		case "not":
			p.advance()
			if err := p.expectKw("null", quoteKw("not")); err != nil {
				return err
			}
			col.NotNull = true
		case "null":
			p.advance()
			col.Nullable = true
		case "primary":
			p.advance()
			if err := p.expectKw("key", quoteKw("primary")); err != nil {
				return err
			}
			col.PrimaryKey = true
		case "unique":
			p.advance()
			col.Unique = true
		case "default":
			p.advance()
			if col.Default != nil {
				return errSQL(t.Pos, "column '%s' has more than one DEFAULT", col.Name)
			}
			d, err := p.defaultExpr(0)
			if err != nil {
				return err
			}
			col.Default = d
			defaultTok = &t
		case "auto_increment", "autoincrement":
			p.advance()
			serial = true
		case "generated":
			if err := p.generatedIdentity(); err != nil {
				return err
			}
			serial = true
		case "check", "references", "collate", "comment":
			return errSQL(t.Pos, "column %s clause is not supported", strings.ToUpper(t.Value))
		default:
			return p.unexpected(`"," or ")"`, fmt.Sprintf("column '%s'", col.Name))
		}
	}
	if col.NotNull && col.Nullable {
		return errSQL(p.peek().Pos, "column '%s' is declared both NULL and NOT NULL", col.Name)
	}
	if col.PrimaryKey && col.Nullable {
		return errInput(p.peek().Pos, "primary key column '%s' cannot be NULL", col.Name)
	}
	if serial {
		if defaultTok != nil {
			return errSQL(defaultTok.Pos, "column '%s' cannot have a DEFAULT and be auto-generated", col.Name)
		}
		col.Default = &DefaultExpr{Func: FuncSnowflakeID, Serial: true}
	}
	return nil
}

// generatedIdentity parses GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY
// [(sequence options)]; the options are ignored since ids are snowflakes.
func (p *parser) generatedIdentity() error {
	p.advance() // GENERATED
	if !p.acceptKw("always") {
		if err := p.expectKw("by", quoteKw("generated")); err != nil {
			return err
		}
		if err := p.expectKw("default", quoteKw("generated", "by")); err != nil {
			return err
		}
	}
	if err := p.expectKw("as", quoteKw("generated")); err != nil {
		return err
	}
	if err := p.expectKw("identity", quoteKw("generated", "as")); err != nil {
		return err
	}
	if p.isOp("(") {
		return p.skipParens()
	}
	return nil
}

// skipParens skips a balanced parenthesised group at the cursor.
func (p *parser) skipParens() error {
	open := p.advance()
	depth := 1
	for depth > 0 {
		t := p.advance()
		switch {
		case t.Kind == TokEOF:
			return errSQL(open.Pos, "unbalanced parentheses")
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
		}
	}
	return nil
}

// defaultExpr parses the expression after DEFAULT: one of the supported
// functions or a literal, optionally parenthesised.
func (p *parser) defaultExpr(depth int) (*DefaultExpr, error) {
	if p.isOp("(") {
		// Bounded: the only recursion in the parser, so hostile input
		// cannot exhaust the stack.
		if depth >= 8 {
			return nil, errSQL(p.peek().Pos, "DEFAULT expression is nested too deeply")
		}
		p.advance()
		d, err := p.defaultExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")", "DEFAULT expression"); err != nil {
			return nil, err
		}
		return d, nil
	}
	t := p.peek()
	if fn, ok := p.funcCall(); ok {
		return &DefaultExpr{Func: fn}, nil
	}
	if lit, ok, err := p.literal(); err != nil {
		return nil, err
	} else if ok {
		return &DefaultExpr{Literal: &lit}, nil
	}
	return nil, errSQL(t.Pos, "unsupported DEFAULT expression %s (use a literal or NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID(), CURRENT_USER)", describe(t))
}

// funcCall consumes one of defaultFuncs written as name() (or bare, where
// allowed) and returns its canonical name.
func (p *parser) funcCall() (string, bool) {
	t := p.peek()
	if t.Kind != TokIdent {
		return "", false
	}
	name, bare, ok := defaultFunc(t.Value)
	if !ok {
		return "", false
	}
	if isOp(p.peekAt(1), "(") && isOp(p.peekAt(2), ")") {
		p.pos += 3
		return name, true
	}
	if bare && !isOp(p.peekAt(1), "(") {
		p.pos++
		return name, true
	}
	return "", false
}
