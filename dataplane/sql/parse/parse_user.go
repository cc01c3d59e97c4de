package parse

import (
	"fmt"
	"strings"
)

// DefaultRole is the role of a user created without ROLE.
const DefaultRole = "user"

// userName consumes a user name: a 'string', a bare identifier (folded to
// lowercase like any identifier) or a "quoted identifier".
func (p *parser) userName(after string) (string, error) {
	t := p.peek()
	switch t.Kind {
	case TokString, TokIdent, TokQuotedIdent:
		p.advance()
	default:
		return "", p.unexpected("user name", after)
	}
	if err := ValidateUserName(t.Value); err != nil {
		return "", withPos(err, t.Pos)
	}
	return t.Value, nil
}

// stringArg consumes a 'string' argument of a user clause.
func (p *parser) stringArg(what, after string) (string, Token, error) {
	t := p.peek()
	if t.Kind != TokString {
		return "", t, p.unexpected(what+" (a quoted string)", after)
	}
	p.advance()
	return t.Value, t, nil
}

// password consumes the password string after PASSWORD.
func (p *parser) password() (string, error) {
	pw, t, err := p.stringArg("password", quoteKw("password"))
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", errInput(t.Pos, "password must not be empty")
	}
	return pw, nil
}

// role consumes a role name (identifier or string), lowercased.
func (p *parser) role() (string, error) {
	t := p.peek()
	if t.Kind != TokIdent && t.Kind != TokString && t.Kind != TokQuotedIdent {
		return "", p.unexpected("role name", quoteKw("role"))
	}
	p.advance()
	r := asciiLower(t.Value)
	if r == "" || len(r) > MaxNameLen {
		return "", errInput(t.Pos, "invalid role name")
	}
	for i := 0; i < len(r); i++ {
		if !isLetter(r[i]) && !isDigit(r[i]) && r[i] != '_' {
			return "", errInput(t.Pos, "invalid role name '%s'", printable(r))
		}
	}
	return r, nil
}

// email consumes an e-mail string. Only the shape is checked (something@
// something, no spaces or control characters); deliverability is not.
func (p *parser) email() (string, error) {
	e, t, err := p.stringArg("e-mail address", quoteKw("email"))
	if err != nil {
		return "", err
	}
	at := strings.IndexByte(e, '@')
	ok := len(e) <= 254 && at > 0 && at == strings.LastIndexByte(e, '@') && at < len(e)-1
	for i := 0; ok && i < len(e); i++ {
		if e[i] <= ' ' || e[i] == 0x7f || e[i] == '\'' || e[i] == '"' {
			ok = false
		}
	}
	if !ok {
		return "", errInput(t.Pos, "invalid e-mail address '%s'", printable(e))
	}
	return e, nil
}

// createUser parses the rest of CREATE USER [IF NOT EXISTS] name WITH
// PASSWORD 'pw' [ROLE r] [EMAIL 'e'].
func (p *parser) createUser() (Statement, error) {
	st := &CreateUser{Role: DefaultRole}
	var err error
	if st.IfNotExists, err = p.ifNotExists(); err != nil {
		return nil, err
	}
	if st.Name, err = p.userName(quoteKw("create", "user")); err != nil {
		return nil, err
	}
	if err := p.expectKw("with", "user name"); err != nil {
		return nil, err
	}
	if err := p.expectKw("password", quoteKw("with")); err != nil {
		return nil, err
	}
	if st.Password, err = p.password(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for p.peek().Kind != TokEOF {
		p.acceptKw("with") // "... WITH ROLE r" reads naturally too
		t := p.peek()
		if seen[t.Value] && t.Kind == TokIdent {
			return nil, errSQL(t.Pos, "%s given twice", strings.ToUpper(t.Value))
		}
		switch {
		case p.acceptKw("role"):
			st.Role, err = p.role()
		case p.acceptKw("email"):
			st.Email, err = p.email()
		default:
			return nil, p.unexpected("ROLE or EMAIL", "password")
		}
		if err != nil {
			return nil, err
		}
		seen[t.Value] = true
	}
	return st, nil
}

// parseAlterUser parses ALTER USER name SET PASSWORD 'p' | SET ROLE r |
// SET EMAIL 'e'.
func (p *parser) parseAlterUser() (Statement, error) {
	p.pos += 2 // ALTER USER
	name, err := p.userName(quoteKw("alter", "user"))
	if err != nil {
		return nil, err
	}
	st := &AlterUser{Name: name}
	if err := p.expectKw("set", fmt.Sprintf("user name '%s'", name)); err != nil {
		return nil, err
	}
	var v string
	switch {
	case p.acceptKw("password"):
		v, err = p.password()
		st.Password = &v
	case p.acceptKw("role"):
		v, err = p.role()
		st.Role = &v
	case p.acceptKw("email"):
		v, err = p.email()
		st.Email = &v
	default:
		return nil, p.unexpected("PASSWORD, ROLE or EMAIL", quoteKw("set"))
	}
	if err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}

// dropUser parses the rest of DROP USER [IF EXISTS] name.
func (p *parser) dropUser() (Statement, error) {
	st := &DropUser{IfExists: p.ifExists()}
	var err error
	if st.Name, err = p.userName(quoteKw("drop", "user")); err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}
