package parse

// This file parses the namespace statements, SHOW, USE, DESCRIBE and the
// CREATE/DROP dispatch (CREATE TABLE itself is in parse_create_table.go).

// tablePrefixes maps the optional keyword before TABLE to a table type.
var tablePrefixes = map[string]string{
	"user":   TableTypeUser,
	"shared": TableTypeShared,
	"stream": TableTypeStream,
}

// tablePrefix recognises "[USER|SHARED|STREAM] TABLE" at the cursor.
// "CREATE USER 'x'" vs "CREATE USER TABLE t" is decided by the token after
// USER, so a user can never be mistaken for a table or vice versa.
func (p *parser) tablePrefix() (tableType string, ok bool) {
	if p.isKw("table") {
		p.pos++
		return "", true
	}
	if typ, known := tablePrefixes[p.peek().Value]; known && p.peek().Kind == TokIdent && isKw(p.peekAt(1), "table") {
		p.pos += 2
		return typ, true
	}
	return "", false
}

func (p *parser) parseCreate() (Statement, error) {
	p.advance() // CREATE
	if typ, ok := p.tablePrefix(); ok {
		return p.createTable(typ)
	}
	switch {
	case p.acceptKw("namespace"):
		return p.createNamespace()
	case p.acceptKw("user"):
		return p.createUser()
	case p.acceptKw("storage"):
		return p.createStorage()
	case p.acceptKw("index"):
		return p.createIndex()
	}
	return nil, p.unsupported()
}

func (p *parser) parseDrop() (Statement, error) {
	p.advance() // DROP
	if typ, ok := p.tablePrefix(); ok {
		return p.dropTable(typ)
	}
	switch {
	case p.acceptKw("namespace"):
		return p.dropNamespace()
	case p.acceptKw("user"):
		return p.dropUser()
	case p.acceptKw("storage"):
		return p.dropStorage()
	case p.acceptKw("index"):
		return p.dropIndex()
	}
	return nil, p.unsupported()
}

func (p *parser) createNamespace() (Statement, error) {
	ifne, err := p.ifNotExists()
	if err != nil {
		return nil, err
	}
	name, tok, err := p.ident("namespace name", quoteKw("create", "namespace"))
	if err != nil {
		return nil, err
	}
	if err := ValidateNamespaceName(name); err != nil {
		return nil, withPos(err, tok.Pos)
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return &CreateNamespace{Name: name, IfNotExists: ifne}, nil
}

func (p *parser) dropNamespace() (Statement, error) {
	st := &DropNamespace{IfExists: p.ifExists()}
	name, tok, err := p.ident("namespace name", quoteKw("drop", "namespace"))
	if err != nil {
		return nil, err
	}
	if err := ValidateName("namespace", name); err != nil {
		return nil, withPos(err, tok.Pos)
	}
	st.Name = name
	switch {
	case p.acceptKw("cascade"):
		st.Cascade = true
	case p.acceptKw("restrict"):
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}

func (p *parser) dropTable(typ string) (Statement, error) {
	st := &DropTable{TableType: typ, IfExists: p.ifExists()}
	tn, err := p.tableName(quoteKw("drop", "table"))
	if err != nil {
		return nil, err
	}
	st.Table = tn
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}

func (p *parser) parseShow() (Statement, error) {
	p.advance() // SHOW
	switch {
	case p.acceptKw("namespaces"):
		if err := p.expectEnd(); err != nil {
			return nil, err
		}
		return &ShowNamespaces{}, nil
	case p.acceptKw("storages"):
		if err := p.expectEnd(); err != nil {
			return nil, err
		}
		return &ShowStorages{}, nil
	case p.acceptKw("tables"):
		st := &ShowTables{}
		if p.acceptKw("in") || p.acceptKw("from") {
			// "SHOW TABLES IN NAMESPACE ns"; a namespace literally called
			// "namespace" is impossible (it would be the last token).
			if p.isKw("namespace") && p.peekAt(1).Kind != TokEOF {
				p.pos++
			}
			name, tok, err := p.ident("namespace name", quoteKw("show", "tables", "in"))
			if err != nil {
				return nil, err
			}
			if err := ValidateName("namespace", name); err != nil {
				return nil, withPos(err, tok.Pos)
			}
			st.Namespace = name
		}
		if err := p.expectEnd(); err != nil {
			return nil, err
		}
		return st, nil
	}
	return nil, p.unsupported()
}

// parseUse handles USE ns, USE NAMESPACE ns and SET NAMESPACE [=|TO] ns.
func (p *parser) parseUse() (Statement, error) {
	verb := p.advance()
	after := quoteKw(verb.Value)
	if verb.Value == "set" {
		p.advance() // NAMESPACE, checked by the caller
		after = quoteKw("set", "namespace")
		if !p.acceptOp("=") {
			p.acceptKw("to")
		}
	} else if p.isKw("namespace") && p.peekAt(1).Kind != TokEOF {
		p.pos++
		after = quoteKw("use", "namespace")
	}
	name, tok, err := p.ident("namespace name", after)
	if err != nil {
		return nil, err
	}
	if err := ValidateName("namespace", name); err != nil {
		return nil, withPos(err, tok.Pos)
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return &UseNamespace{Name: name}, nil
}

// parseDescribe handles DESCRIBE|DESC [TABLE] t [HISTORY].
func (p *parser) parseDescribe() (Statement, error) {
	verb := p.advance()
	after := quoteKw(verb.Value)
	if p.acceptKw("table") {
		after = quoteKw(verb.Value, "table")
	}
	tn, err := p.tableName(after)
	if err != nil {
		return nil, err
	}
	st := &DescribeTable{Table: tn, History: p.acceptKw("history")}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}
