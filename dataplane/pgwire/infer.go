package pgwire

import (
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// inferParamTypes gives each $N the type of the column it is compared with
// or assigned to, so ParameterDescription tells drivers real types (and
// pgx sends them in binary). It recognises INSERT ... (cols) VALUES (...),
// "col op $N", "$N op col", "col [NOT] IN (..$N..)", "col [NOT] LIKE $N"
// and LIMIT/OFFSET $N against the tables named after FROM, JOIN, INTO and
// UPDATE. Anything else is 0 (unspecified): the driver then sends text and
// the engine converts it.
func (c *conn) inferParamTypes(cl classified, n int) []uint32 {
	out := make([]uint32, n)
	if n == 0 {
		return out
	}
	toks := cl.toks
	cols := map[string]catalog.Column{}
	var insertTable *catalog.Table
	for i := 0; i+1 < len(toks); i++ {
		t := toks[i]
		if t.Kind != parse.TokIdent {
			continue
		}
		switch t.Value {
		case "from", "join", "into", "update":
		default:
			continue
		}
		tb := c.tableAt(toks, i+1)
		if tb == nil {
			continue
		}
		if t.Value == "into" {
			insertTable = tb
		}
		for _, col := range tb.Columns {
			if _, dup := cols[col.Name]; !dup {
				cols[col.Name] = col
			}
		}
	}
	set := func(param string, col catalog.Column) {
		k, err := strconv.Atoi(param)
		if err == nil && k >= 1 && k <= n && out[k-1] == 0 {
			out[k-1] = paramOID(col)
		}
	}
	if insertTable != nil {
		c.inferInsert(toks, insertTable, set)
	}
	isCmp := func(s string) bool {
		switch s {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			return true
		}
		return false
	}
	colAt := func(i int) (catalog.Column, bool) {
		if i < 0 || i >= len(toks) {
			return catalog.Column{}, false
		}
		t := toks[i]
		if t.Kind != parse.TokIdent && t.Kind != parse.TokQuotedIdent {
			return catalog.Column{}, false
		}
		col, ok := cols[t.Value]
		return col, ok
	}
	for i, t := range toks {
		if t.Kind != parse.TokParam {
			continue
		}
		// col op $N
		if i >= 2 && isCmp(toks[i-1].Text) {
			if col, ok := colAt(i - 2); ok {
				set(t.Value, col)
				continue
			}
		}
		// $N op col
		if i+2 < len(toks) && isCmp(toks[i+1].Text) {
			if col, ok := colAt(i + 2); ok {
				set(t.Value, col)
				continue
			}
		}
		// col [NOT] LIKE $N
		if i >= 2 && toks[i-1].Kind == parse.TokIdent && (toks[i-1].Value == "like" || toks[i-1].Value == "ilike") {
			j := i - 2
			if j >= 0 && toks[j].Value == "not" {
				j--
			}
			if col, ok := colAt(j); ok {
				set(t.Value, col)
				continue
			}
		}
		// LIMIT $N / OFFSET $N
		if i >= 1 && toks[i-1].Kind == parse.TokIdent && (toks[i-1].Value == "limit" || toks[i-1].Value == "offset") {
			if k, err := strconv.Atoi(t.Value); err == nil && k >= 1 && k <= n && out[k-1] == 0 {
				out[k-1] = oidInt8
			}
			continue
		}
		// col [NOT] IN ( ..., $N, ... )
		depth := 0
		for j := i - 1; j >= 1; j-- {
			tx := toks[j].Text
			if tx == ")" {
				depth++
			} else if tx == "(" {
				if depth == 0 {
					k := j - 1
					if k >= 0 && toks[k].Value == "in" {
						k--
						if k >= 0 && toks[k].Value == "not" {
							k--
						}
						if col, ok := colAt(k); ok {
							set(t.Value, col)
						}
					}
					break
				}
				depth--
			} else if tx != "," && toks[j].Kind != parse.TokParam && toks[j].Kind != parse.TokNumber && toks[j].Kind != parse.TokString {
				break
			}
		}
	}
	return out
}

// inferInsert maps INSERT INTO t [(cols)] VALUES (...), (...) positionally.
func (c *conn) inferInsert(toks []parse.Token, tb *catalog.Table, set func(string, catalog.Column)) {
	var names []string
	i := 0
	for i < len(toks) && !(toks[i].Kind == parse.TokIdent && toks[i].Value == "into") {
		i++
	}
	for i < len(toks) && toks[i].Text != "(" && !(toks[i].Kind == parse.TokIdent && toks[i].Value == "values") {
		i++
	}
	if i < len(toks) && toks[i].Text == "(" {
		for i++; i < len(toks) && toks[i].Text != ")"; i++ {
			if toks[i].Kind == parse.TokIdent || toks[i].Kind == parse.TokQuotedIdent {
				names = append(names, toks[i].Value)
			}
		}
	}
	byName := map[string]catalog.Column{}
	for _, col := range tb.Columns {
		byName[col.Name] = col
	}
	var order []catalog.Column
	if len(names) == 0 {
		order = tb.Columns
	} else {
		for _, n := range names {
			order = append(order, byName[n])
		}
	}
	for i < len(toks) && !(toks[i].Kind == parse.TokIdent && toks[i].Value == "values") {
		i++
	}
	pos, depth := 0, 0
	for ; i < len(toks); i++ {
		switch toks[i].Text {
		case "(":
			depth++
			if depth == 1 {
				pos = 0
			}
			continue
		case ")":
			depth--
			continue
		case ",":
			if depth == 1 {
				pos++
			}
			continue
		}
		if depth == 1 && toks[i].Kind == parse.TokParam && pos < len(order) && order[pos].Name != "" {
			// Only a bare $N is the column's value ($1 + 1 is not).
			if toks[i-1].Text == "(" || toks[i-1].Text == "," {
				if i+1 < len(toks) && (toks[i+1].Text == "," || toks[i+1].Text == ")") {
					set(toks[i].Value, order[pos])
				}
			}
		}
	}
}

// tableAt resolves a (possibly qualified) table name starting at toks[i].
func (c *conn) tableAt(toks []parse.Token, i int) *catalog.Table {
	if i >= len(toks) || (toks[i].Kind != parse.TokIdent && toks[i].Kind != parse.TokQuotedIdent) {
		return nil
	}
	ns, name := c.sess.Namespace, toks[i].Value
	if i+2 < len(toks) && toks[i+1].Text == "." && (toks[i+2].Kind == parse.TokIdent || toks[i+2].Kind == parse.TokQuotedIdent) {
		ns, name = toks[i].Value, toks[i+2].Value
	}
	t, ok := c.srv.eng.Catalog().Table(ns, name)
	if !ok {
		return nil
	}
	return t
}

// paramOID is the parameter type for a column: its wire type, except
// that bytes go as bytea and types we only carry as text stay text.
func paramOID(col catalog.Column) uint32 {
	return typeForKind(col.Type).oid
}
