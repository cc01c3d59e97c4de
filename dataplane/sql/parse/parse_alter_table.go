package parse

// This file parses ALTER TABLE (one action per statement, contract C3) and
// SHOW STATS FOR TABLE.

import "strings"

// Alter-table actions.
const (
	AlterAddColumn    = "ADD COLUMN"
	AlterDropColumn   = "DROP COLUMN"
	AlterModifyColumn = "MODIFY COLUMN"
	AlterRenameColumn = "RENAME COLUMN"
	AlterSetDefault   = "SET DEFAULT"
	AlterDropDefault  = "DROP DEFAULT"
	AlterSetNotNull   = "SET NOT NULL"
	AlterDropNotNull  = "DROP NOT NULL"
	AlterSetProps     = "SET TBLPROPERTIES"
)

// AlterTable is ALTER TABLE t <action>:
//
//	ADD [COLUMN] c type [NOT NULL] [DEFAULT v]
//	DROP [COLUMN] c
//	MODIFY [COLUMN] c type [NOT NULL | NULL]
//	RENAME COLUMN a TO b
//	ALTER [COLUMN] c SET DEFAULT v | DROP DEFAULT | SET NOT NULL | DROP NOT NULL
//	SET TBLPROPERTIES (k = v, ...)
type AlterTable struct {
	Table  TableName
	Action string
	// Column is the target column (ADD: the full definition).
	Column ColumnDef
	// NewName is RENAME's new name.
	NewName string
	// Default is SET DEFAULT's value.
	Default *DefaultExpr
	// Props holds SET TBLPROPERTIES: keys uppercased, values unquoted.
	Props map[string]string
}

// ShowStats is SHOW STATS FOR TABLE t.
type ShowStats struct{ Table TableName }

func (*AlterTable) statementNode() {}
func (*ShowStats) statementNode()  {}

// alterProps are the keys SET TBLPROPERTIES accepts.
var alterProps = toSet("ACCESS_LEVEL", "FLUSH_POLICY", "TTL_SECONDS", "COMPRESSION")

func (p *parser) parseAlterTable() (Statement, error) {
	p.pos += 2 // ALTER TABLE
	tn, err := p.tableName(quoteKw("alter", "table"))
	if err != nil {
		return nil, err
	}
	st := &AlterTable{Table: tn}
	verb := p.peek()
	if verb.Kind != TokIdent {
		return nil, p.unexpected("ADD, DROP, MODIFY, RENAME, ALTER or SET", "table name")
	}
	p.advance()
	switch verb.Value {
	case "add":
		p.acceptKw("column")
		st.Action = AlterAddColumn
		col, _, err := p.columnDef()
		if err != nil {
			return nil, err
		}
		if col.PrimaryKey || col.Unique {
			return nil, errSQL(verb.Pos, "ADD COLUMN cannot add a PRIMARY KEY or UNIQUE column")
		}
		st.Column = col
	case "drop":
		p.acceptKw("column")
		st.Action = AlterDropColumn
		if st.Column.Name, err = p.columnName(quoteKw("drop", "column")); err != nil {
			return nil, err
		}
	case "modify":
		p.acceptKw("column")
		st.Action = AlterModifyColumn
		if st.Column.Name, err = p.columnName(quoteKw("modify", "column")); err != nil {
			return nil, err
		}
		if st.Column.Type, _, err = p.dataType(st.Column.Name); err != nil {
			return nil, err
		}
		// The original KalamDB's MODIFY also takes the nullability:
		// type and nullability change in one schema version.
		switch {
		case p.acceptKw("not"):
			if err := p.expectKw("null", quoteKw("not")); err != nil {
				return nil, err
			}
			st.Column.NotNull = true
		case p.acceptKw("null"):
			st.Column.Nullable = true
		}
	case "rename":
		if err := p.expectKw("column", quoteKw("rename")); err != nil {
			return nil, err
		}
		st.Action = AlterRenameColumn
		if st.Column.Name, err = p.columnName(quoteKw("rename", "column")); err != nil {
			return nil, err
		}
		if err := p.expectKw("to", "column name"); err != nil {
			return nil, err
		}
		name, tok, err := p.ident("new column name", quoteKw("to"))
		if err != nil {
			return nil, err
		}
		if err := ValidateColumnName(name); err != nil {
			return nil, withPos(err, tok.Pos)
		}
		st.NewName = name
	case "alter":
		p.acceptKw("column")
		if st.Column.Name, err = p.columnName(quoteKw("alter", "column")); err != nil {
			return nil, err
		}
		if err := p.alterColumnAction(st); err != nil {
			return nil, err
		}
	case "set":
		if err := p.expectKw("tblproperties", quoteKw("set")); err != nil {
			return nil, err
		}
		st.Action = AlterSetProps
		if st.Props, err = p.tblProperties(); err != nil {
			return nil, err
		}
	default:
		return nil, errSQL(verb.Pos, "unsupported ALTER TABLE action %s (expected ADD, DROP, MODIFY, RENAME, ALTER or SET TBLPROPERTIES)", printable(strings.ToUpper(verb.Value)))
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}

// columnName reads an existing column's name (the executor refuses
// system columns with a precise error code).
func (p *parser) columnName(after string) (string, error) {
	name, _, err := p.ident("column name", after)
	return name, err
}

// alterColumnAction parses SET DEFAULT v | DROP DEFAULT | SET NOT NULL |
// DROP NOT NULL after ALTER [COLUMN] c.
func (p *parser) alterColumnAction(st *AlterTable) error {
	after := "column '" + st.Column.Name + "'"
	switch {
	case p.acceptKw("set"):
		switch {
		case p.acceptKw("default"):
			d, err := p.defaultExpr(0)
			if err != nil {
				return err
			}
			st.Action, st.Default = AlterSetDefault, d
		case p.acceptKw("not"):
			if err := p.expectKw("null", quoteKw("set", "not")); err != nil {
				return err
			}
			st.Action = AlterSetNotNull
		default:
			return p.unexpected("DEFAULT or NOT NULL", quoteKw("set"))
		}
	case p.acceptKw("drop"):
		switch {
		case p.acceptKw("default"):
			st.Action = AlterDropDefault
		case p.acceptKw("not"):
			if err := p.expectKw("null", quoteKw("drop", "not")); err != nil {
				return err
			}
			st.Action = AlterDropNotNull
		default:
			return p.unexpected("DEFAULT or NOT NULL", quoteKw("drop"))
		}
	default:
		return p.unexpected("SET or DROP", after)
	}
	return nil
}

// tblProperties parses "(k = v, ...)" after SET TBLPROPERTIES.
func (p *parser) tblProperties() (map[string]string, error) {
	if err := p.expectOp("(", quoteKw("tblproperties")); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for {
		keyTok := p.peek()
		if keyTok.Kind != TokIdent && keyTok.Kind != TokString {
			return nil, p.unexpected("property name", "table properties")
		}
		p.advance()
		key := asciiUpper(keyTok.Value)
		if _, ok := alterProps[key]; !ok {
			return nil, errInput(keyTok.Pos, "unknown or unalterable table property %s (ACCESS_LEVEL, FLUSH_POLICY, TTL_SECONDS, COMPRESSION)", printable(key))
		}
		if _, dup := out[key]; dup {
			return nil, errSQL(keyTok.Pos, "table property %s given twice", key)
		}
		if err := p.expectOp("=", "property "+key); err != nil {
			return nil, err
		}
		val, _, err := p.optionValue(key)
		if err != nil {
			return nil, err
		}
		out[key] = val
		if p.acceptOp(",") {
			continue
		}
		return out, p.expectOp(")", "table property "+key)
	}
}

// parseShowStats parses SHOW STATS FOR TABLE t.
func (p *parser) parseShowStats() (Statement, error) {
	p.pos += 2 // SHOW STATS
	if err := p.expectKw("for", quoteKw("show", "stats")); err != nil {
		return nil, err
	}
	p.acceptKw("table")
	tn, err := p.tableName(quoteKw("show", "stats", "for", "table"))
	if err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return &ShowStats{Table: tn}, nil
}
