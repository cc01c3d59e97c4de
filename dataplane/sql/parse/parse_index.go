package parse

// CreateIndex is CREATE INDEX [IF NOT EXISTS] name ON [ns.]t [USING btree] (col).
type CreateIndex struct {
	Name        string
	Table       TableName
	Column      string
	IfNotExists bool
}

// DropIndex is DROP INDEX [IF EXISTS] [ns.]name (PostgreSQL form: index
// names are unique within a namespace, so no table is needed).
type DropIndex struct {
	Namespace string
	Name      string
	IfExists  bool
}

func (*CreateIndex) statementNode() {}
func (*DropIndex) statementNode()   {}

func (p *parser) createIndex() (Statement, error) {
	ifne, err := p.ifNotExists()
	if err != nil {
		return nil, err
	}
	name, tok, err := p.ident("index name", quoteKw("create", "index"))
	if err != nil {
		return nil, err
	}
	if err := ValidateName("index", name); err != nil {
		return nil, withPos(err, tok.Pos)
	}
	if err := p.expectKw("on", "index name"); err != nil {
		return nil, err
	}
	tn, err := p.tableName(quoteKw("on"))
	if err != nil {
		return nil, err
	}
	if p.acceptKw("using") {
		if !p.acceptKw("btree") {
			return nil, errSQL(p.peek().Pos, "only USING btree is supported")
		}
	}
	if err := p.expectOp("(", "table name"); err != nil {
		return nil, err
	}
	col, _, err := p.ident("column name", "(")
	if err != nil {
		return nil, err
	}
	if p.isOp(",") {
		return nil, errSQL(p.peek().Pos, "multi-column indexes are not supported; index one column")
	}
	if err := p.expectOp(")", "column name"); err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return &CreateIndex{Name: name, Table: tn, Column: col, IfNotExists: ifne}, nil
}

func (p *parser) dropIndex() (Statement, error) {
	st := &DropIndex{IfExists: p.ifExists()}
	name, tok, err := p.ident("index name", quoteKw("drop", "index"))
	if err != nil {
		return nil, err
	}
	if p.acceptOp(".") {
		if err := ValidateName("namespace", name); err != nil {
			return nil, withPos(err, tok.Pos)
		}
		st.Namespace = name
		if name, tok, err = p.ident("index name", "."); err != nil {
			return nil, err
		}
	}
	if err := ValidateName("index", name); err != nil {
		return nil, withPos(err, tok.Pos)
	}
	st.Name = name
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}
