package parse

import "fmt"

// parseInsert parses INSERT INTO t [(cols)] VALUES (...), (...).
func (p *parser) parseInsert() (Statement, error) {
	p.advance() // INSERT
	if p.isKw("or") {
		return nil, errSQL(p.peek().Pos, "INSERT OR ... is not supported")
	}
	if err := p.expectKw("into", quoteKw("insert")); err != nil {
		return nil, err
	}
	tn, err := p.tableName(quoteKw("insert", "into"))
	if err != nil {
		return nil, err
	}
	ins := &Insert{Table: tn}
	after := fmt.Sprintf("table name %q", tn.String())
	// "(" starts the column list unless it starts a query: "(SELECT" or
	// "((" (column names are never SELECT, WITH or VALUES: reserved).
	if p.isOp("(") && !isQueryKw(p.peekAt(1)) && !isOp(p.peekAt(1), "(") {
		if ins.Columns, err = p.insertColumns(); err != nil {
			return nil, err
		}
		after = "column list"
	}
	t := p.peek()
	switch {
	case isKw(t, "values"):
		p.advance()
	case isKw(t, "select") || isKw(t, "with") || isOp(t, "("):
		return nil, errSQL(t.Pos, "INSERT ... SELECT is not supported yet")
	case isKw(t, "default"):
		return nil, errSQL(t.Pos, "INSERT ... DEFAULT VALUES is not supported yet")
	default:
		return nil, p.unexpected("VALUES", after)
	}
	if ins.Rows, err = p.insertRows(len(ins.Columns)); err != nil {
		return nil, err
	}
	if err := p.noReturning(); err != nil {
		return nil, err
	}
	if p.isKw("on") {
		return nil, errSQL(p.peek().Pos, "ON CONFLICT is not supported yet")
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return ins, nil
}

// noReturning rejects a RETURNING clause at the cursor.
func (p *parser) noReturning() error {
	if p.isKw("returning") {
		return errSQL(p.peek().Pos, "RETURNING is not supported yet")
	}
	return nil
}

// insertColumns parses "(c1, c2, ...)".
func (p *parser) insertColumns() ([]string, error) {
	p.advance() // (
	var cols []string
	seen := map[string]struct{}{}
	for {
		name, tok, err := p.ident("column name", "column list")
		if err != nil {
			return nil, err
		}
		if err := ValidateName("column", name); err != nil {
			return nil, withPos(err, tok.Pos)
		}
		if _, dup := seen[name]; dup {
			return nil, errInput(tok.Pos, "column '%s' specified more than once", name)
		}
		seen[name] = struct{}{}
		cols = append(cols, name)
		if p.acceptOp(",") {
			continue
		}
		if err := p.expectOp(")", "column name"); err != nil {
			return nil, err
		}
		return cols, nil
	}
}

// insertRows parses the VALUES rows. width is the number of target
// columns, or 0 when none were named (then the first row sets it).
//
// This is the hot path of bulk loading. All values land in one backing
// slice, sized from the first row's byte length, and the rows are cut from
// it at the end.
func (p *parser) insertRows(width int) ([][]Expr, error) {
	var flat []Expr
	var ends []int
	for {
		open := p.peek()
		if err := p.expectOp("(", `"VALUES"`); err != nil {
			return nil, err
		}
		rowStart := len(flat)
		for {
			flat = append(flat, Expr{})
			if err := p.valueExpr(&flat[len(flat)-1], false); err != nil {
				return nil, err
			}
			if t := p.tok(0); t.Kind == TokOp && t.Value == "," {
				p.pos++
				continue
			}
			if err := p.expectOp(")", "value"); err != nil {
				return nil, err
			}
			break
		}
		n := len(flat) - rowStart
		switch {
		case width == 0:
			width = n
		case n > width && len(ends) == 0:
			return nil, errSQL(open.Pos, "INSERT has more expressions than target columns")
		case n < width && len(ends) == 0:
			return nil, errSQL(open.Pos, "INSERT has more target columns than expressions")
		case n != width:
			return nil, errSQL(open.Pos, "VALUES lists must all be the same length (row %d has %d values, expected %d)", len(ends)+1, n, width)
		}
		if len(ends) == 0 {
			flat, ends = sizeRows(flat, p.sql, open.Pos, p.peek().Pos, width)
		}
		ends = append(ends, len(flat))
		if !p.acceptOp(",") {
			break
		}
	}
	rows := make([][]Expr, len(ends))
	start := 0
	for i, end := range ends {
		rows[i] = flat[start:end:end]
		start = end
	}
	return rows, nil
}

// sizeRows reallocates the value and row-end slices after the first row,
// estimating the row count from the first row's length in bytes
// (rowStart..rowEnd) so that the rest of the statement rarely regrows them.
func sizeRows(flat []Expr, sql string, rowStart, rowEnd, width int) ([]Expr, []int) {
	rowLen := rowEnd - rowStart + 1
	rows := (len(sql)-rowStart)/rowLen + 1
	// Shorter later rows make the estimate low; a margin avoids a final
	// doubling in the common case, and a cap bounds silly estimates.
	rows += rows / 8
	rows = min(rows, 1<<20/max(width, 1))
	f := make([]Expr, len(flat), rows*width)
	copy(f, flat)
	return f, make([]int, 0, rows)
}

// parseUpdate parses UPDATE t SET c = e [, ...] WHERE cond.
func (p *parser) parseUpdate() (Statement, error) {
	p.advance() // UPDATE
	tn, err := p.tableName(quoteKw("update"))
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("set", fmt.Sprintf("table name %q", tn.String())); err != nil {
		return nil, err
	}
	up := &Update{Table: tn}
	seen := map[string]struct{}{}
	for {
		name, tok, err := p.ident("column name", `"SET"`)
		if err != nil {
			return nil, err
		}
		if err := ValidateName("column", name); err != nil {
			return nil, withPos(err, tok.Pos)
		}
		if _, dup := seen[name]; dup {
			return nil, errInput(tok.Pos, "column '%s' assigned more than once", name)
		}
		seen[name] = struct{}{}
		if err := p.expectOp("=", fmt.Sprintf("column '%s'", name)); err != nil {
			return nil, err
		}
		up.Set = append(up.Set, Assignment{Column: name})
		if err := p.valueExpr(&up.Set[len(up.Set)-1].Expr, true); err != nil {
			return nil, err
		}
		if !p.acceptOp(",") {
			break
		}
	}
	if up.Where, err = p.requiredWhere("UPDATE"); err != nil {
		return nil, err
	}
	return up, nil
}

// parseDelete parses DELETE FROM t WHERE cond.
func (p *parser) parseDelete() (Statement, error) {
	p.advance() // DELETE
	if err := p.expectKw("from", quoteKw("delete")); err != nil {
		return nil, err
	}
	tn, err := p.tableName(quoteKw("delete", "from"))
	if err != nil {
		return nil, err
	}
	if p.isKw("using") {
		return nil, errSQL(p.peek().Pos, "DELETE ... USING is not supported")
	}
	del := &Delete{Table: tn}
	if del.Where, err = p.requiredWhere("DELETE"); err != nil {
		return nil, err
	}
	return del, nil
}

// requiredWhere parses the mandatory WHERE clause of UPDATE/DELETE and
// returns its raw text. A missing WHERE is refused so that a stray
// statement can never rewrite or wipe a whole table.
func (p *parser) requiredWhere(verb string) (string, error) {
	if err := p.noReturning(); err != nil {
		return "", err
	}
	t := p.peek()
	switch {
	case t.Kind == TokEOF:
		return "", errSQL(-1, "%s requires a WHERE clause", verb)
	case isKw(t, "from"):
		return "", errSQL(t.Pos, "%s ... FROM is not supported", verb)
	case !isKw(t, "where"):
		return "", p.unexpected("WHERE", fmt.Sprintf("%s target", verb))
	}
	p.advance()
	return p.balancedCondition(func(t Token, depth int) (bool, error) {
		if depth == 0 && isKw(t, "returning") {
			return false, errSQL(t.Pos, "RETURNING is not supported yet")
		}
		return false, nil
	})
}

// balancedCondition returns the raw text of a WHERE condition, which must
// be one balanced expression (callers wrap it in parentheses, so "a) OR
// (b" must never get through). check sees every other token with its
// parenthesis depth: it may refuse the token, or end the condition before
// it (stop). The first token must not be a stop token.
func (p *parser) balancedCondition(check func(t Token, depth int) (stop bool, err error)) (string, error) {
	first := p.peek()
	if first.Kind == TokEOF {
		return "", errSQL(first.Pos, "expected condition after \"WHERE\"")
	}
	depth := 0
	last := first
	for t := p.peek(); t.Kind != TokEOF; t = p.peek() {
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			if depth == 0 {
				return "", errSQL(t.Pos, `unbalanced ")" in WHERE clause`)
			}
			depth--
		default:
			stop, err := check(t, depth)
			if err != nil {
				return "", err
			}
			if stop {
				return p.sql[first.Pos:last.End], nil
			}
		}
		last = p.advance()
	}
	if depth != 0 {
		return "", errSQL(last.End, "unbalanced \"(\" in WHERE clause")
	}
	return p.sql[first.Pos:last.End], nil
}
