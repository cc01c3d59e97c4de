package parse

import (
	"fmt"
	"strings"
)

// tableOptions are the keys accepted in CREATE TABLE ... WITH (...).
var tableOptions = toSet(
	"TYPE", "STORAGE_ID", "USE_USER_STORAGE", "FLUSH_POLICY",
	"DELETED_RETENTION_HOURS", "TTL_SECONDS", "ACCESS_LEVEL", "COMPRESSION",
)

// createTable parses the rest of CREATE [type] TABLE after the TABLE word.
func (p *parser) createTable(prefixType string) (Statement, error) {
	ct := &CreateTable{TableType: prefixType}
	var err error
	if ct.IfNotExists, err = p.ifNotExists(); err != nil {
		return nil, err
	}
	if ct.Table, err = p.tableName(quoteKw("create", "table")); err != nil {
		return nil, err
	}
	if err := p.expectOp("(", fmt.Sprintf("table name %q", ct.Table.String())); err != nil {
		return nil, err
	}
	var pkCols []Token // every PRIMARY KEY column reference, column or table level
	seen := map[string]bool{}
	for {
		if p.isTableConstraint() {
			cols, err := p.tableConstraint()
			if err != nil {
				return nil, err
			}
			pkCols = append(pkCols, cols...)
		} else {
			col, nameTok, err := p.columnDef()
			if err != nil {
				return nil, err
			}
			if seen[col.Name] {
				return nil, errInput(nameTok.Pos, "duplicate column name '%s'", col.Name)
			}
			seen[col.Name] = true
			if col.PrimaryKey {
				pkCols = append(pkCols, nameTok)
			}
			ct.Columns = append(ct.Columns, col)
		}
		if p.acceptOp(",") {
			continue
		}
		if p.acceptOp(")") {
			break
		}
		return nil, p.unexpected(`"," or ")"`, "column definition")
	}
	if len(ct.Columns) == 0 {
		return nil, errSQL(p.peek().Pos, "CREATE TABLE needs at least one column")
	}
	if err := p.setPrimaryKey(ct, pkCols); err != nil {
		return nil, err
	}
	if err := p.tableClauses(ct); err != nil {
		return nil, err
	}
	inferSpec002Type(ct)
	return ct, nil
}

// setPrimaryKey records the single primary key column.
func (p *parser) setPrimaryKey(ct *CreateTable, pkCols []Token) error {
	for _, t := range pkCols {
		if ct.PrimaryKey != "" && ct.PrimaryKey != t.Value {
			return errSQL(t.Pos, "composite primary keys are not supported")
		}
		ct.PrimaryKey = t.Value
	}
	if ct.PrimaryKey == "" {
		return nil
	}
	for i := range ct.Columns {
		if ct.Columns[i].Name == ct.PrimaryKey {
			if ct.Columns[i].Nullable {
				return errInput(pkCols[0].Pos, "primary key column '%s' cannot be NULL", ct.PrimaryKey)
			}
			ct.Columns[i].PrimaryKey = true
			return nil
		}
	}
	return errInput(pkCols[0].Pos, "primary key column '%s' does not exist", ct.PrimaryKey)
}

// tableClauses parses the optional USING <engine> and WITH (...) clauses
// after the column list, in either order.
func (p *parser) tableClauses(ct *CreateTable) error {
	p.lx.units = true
	defer func() { p.lx.units = false }()
	withSeen := false
	for p.peek().Kind != TokEOF {
		if ok, err := p.spec002Clause(ct); ok || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		switch {
		case p.acceptKw("using"):
			// USING <ident> names a storage engine in the upstream syntax;
			// KalamDB has one, so the name is accepted and ignored.
			if _, _, err := p.ident("engine name", quoteKw("using")); err != nil {
				return err
			}
		case p.isKw("with") && !withSeen:
			p.advance()
			withSeen = true
			if err := p.tableOptions(ct); err != nil {
				return err
			}
		default:
			return p.expectEnd()
		}
	}
	return nil
}

// tableOptions parses "(k = v, ...)" after WITH.
func (p *parser) tableOptions(ct *CreateTable) error {
	if err := p.expectOp("(", quoteKw("with")); err != nil {
		return err
	}
	if ct.Options == nil {
		ct.Options = map[string]string{}
	}
	for {
		keyTok := p.peek()
		if keyTok.Kind != TokIdent && keyTok.Kind != TokString {
			return p.unexpected("option name", "table options")
		}
		p.advance()
		key := asciiUpper(keyTok.Value)
		if _, ok := tableOptions[key]; !ok {
			return errSQL(keyTok.Pos, "unknown table option %s", printable(key))
		}
		if _, dup := ct.Options[key]; dup {
			return errSQL(keyTok.Pos, "table option %s given twice", key)
		}
		if err := p.expectOp("=", "option "+key); err != nil {
			return err
		}
		val, valTok, err := p.optionValue(key)
		if err != nil {
			return err
		}
		if key == "TYPE" {
			val = asciiUpper(val)
			if err := setTableType(ct, val, valTok); err != nil {
				return err
			}
		}
		ct.Options[key] = val
		if p.acceptOp(",") {
			continue
		}
		return p.expectOp(")", "table option "+key)
	}
}

// optionValue reads a WITH option value: a string, number, signed number
// or bare word, returned as text.
func (p *parser) optionValue(key string) (string, Token, error) {
	t := p.peek()
	switch t.Kind {
	case TokString, TokNumber:
		p.advance()
		return t.Value, t, nil
	case TokIdent:
		p.advance()
		return t.Text, t, nil
	case TokOp:
		if (t.Value == "-" || t.Value == "+") && p.peekAt(1).Kind == TokNumber {
			p.pos += 2
			num := p.prev().Value
			if t.Value == "-" {
				num = "-" + num
			}
			return num, t, nil
		}
	}
	return "", t, p.unexpected("value", "option "+key+" =")
}

func setTableType(ct *CreateTable, typ string, tok Token) error {
	switch typ {
	case TableTypeUser, TableTypeShared, TableTypeStream:
	default:
		return errInput(tok.Pos, "invalid table type '%s' (expected USER, SHARED or STREAM)", printable(typ))
	}
	if ct.TableType != "" && ct.TableType != typ {
		return errSQL(tok.Pos, "table type %s conflicts with %s TABLE", typ, ct.TableType)
	}
	ct.TableType = typ
	return nil
}

// isTableConstraint reports whether the cursor is at a table-level
// constraint rather than a column definition. All the words involved are
// reserved, so no column can be named like them.
func (p *parser) isTableConstraint() bool {
	t := p.peek()
	if t.Kind != TokIdent {
		return false
	}
	switch t.Value {
	case "constraint", "primary", "unique", "check", "foreign", "exclude":
		return true
	}
	return false
}

// tableConstraint parses [CONSTRAINT n] PRIMARY KEY (col) and returns the
// column tokens; other table constraints are unsupported.
func (p *parser) tableConstraint() ([]Token, error) {
	if p.acceptKw("constraint") {
		if _, _, err := p.ident("constraint name", quoteKw("constraint")); err != nil {
			return nil, err
		}
	}
	t := p.peek()
	if !p.acceptKw("primary") {
		if t.Kind == TokIdent {
			return nil, errSQL(t.Pos, "table-level %s constraints are not supported", strings.ToUpper(t.Value))
		}
		return nil, p.unexpected("PRIMARY KEY", "constraint name")
	}
	if err := p.expectKw("key", quoteKw("primary")); err != nil {
		return nil, err
	}
	if err := p.expectOp("(", quoteKw("primary", "key")); err != nil {
		return nil, err
	}
	var cols []Token
	for {
		_, tok, err := p.ident("column name", quoteKw("primary", "key")+" (")
		if err != nil {
			return nil, err
		}
		cols = append(cols, tok)
		if p.acceptOp(",") {
			continue
		}
		if err := p.expectOp(")", "primary key column"); err != nil {
			return nil, err
		}
		break
	}
	if len(cols) > 1 {
		return nil, errSQL(cols[1].Pos, "composite primary keys are not supported")
	}
	return cols, nil
}
