package parse

import (
	"strings"
)

// Subscribe is SUBSCRIBE TO [ns.]t [WHERE cond] [OPTIONS (k = v, ...)].
// Over HTTP it does not subscribe: it describes the equivalent WebSocket
// subscription (reference §2.8).
type Subscribe struct {
	Table TableName
	// Where is the raw condition text after WHERE, or "" when absent.
	Where string
	// Options holds OPTIONS (k = v, ...) with lowercased keys and the
	// values as text; nil when the clause is absent. Keys are not checked
	// here: the executor knows which ones it accepts.
	Options map[string]string
}

// KillLiveQuery is KILL LIVE QUERY '<live_id>'.
type KillLiveQuery struct{ LiveID string }

// LiveQuery is the query of a live subscription:
// SELECT * | col [, col ...] FROM [ns.]t [WHERE cond].
type LiveQuery struct {
	Table TableName
	// Columns lists the projected columns in order; nil means "*".
	Columns []string
	// Where is the raw condition text, or "" when absent.
	Where string
}

func (*Subscribe) statementNode()     {}
func (*KillLiveQuery) statementNode() {}

// liveStopWords end a live WHERE clause at depth 0: a subscription is a
// plain filter over one table, so anything that would order, group, limit
// or combine its rows is refused.
var liveStopWords = toSet("order", "group", "having", "limit", "offset", "union",
	"intersect", "except", "window", "returning", "join")

// parseSubscribe parses SUBSCRIBE TO [ns.]t [WHERE cond] [OPTIONS (...)].
func (p *parser) parseSubscribe() (Statement, error) {
	p.advance() // SUBSCRIBE
	if err := p.expectKw("to", quoteKw("subscribe")); err != nil {
		return nil, err
	}
	tn, err := p.tableName(quoteKw("subscribe", "to"))
	if err != nil {
		return nil, err
	}
	st := &Subscribe{Table: tn}
	if p.acceptKw("where") {
		if st.Where, err = p.liveWhere(true); err != nil {
			return nil, err
		}
	}
	if p.acceptKw("options") {
		if st.Options, err = p.liveOptions(); err != nil {
			return nil, err
		}
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return st, nil
}

// liveOptions parses "(k = v, ...)" after OPTIONS.
func (p *parser) liveOptions() (map[string]string, error) {
	if err := p.expectOp("(", quoteKw("options")); err != nil {
		return nil, err
	}
	opts := map[string]string{}
	for {
		keyTok := p.peek()
		if keyTok.Kind != TokIdent && keyTok.Kind != TokString {
			return nil, p.unexpected("option name", "subscription options")
		}
		p.advance()
		key := asciiLower(keyTok.Value)
		if _, dup := opts[key]; dup {
			return nil, errSQL(keyTok.Pos, "subscription option %s given twice", printable(key))
		}
		if err := p.expectOp("=", "option "+printable(key)); err != nil {
			return nil, err
		}
		val, _, err := p.optionValue(key)
		if err != nil {
			return nil, err
		}
		opts[key] = val
		if p.acceptOp(",") {
			continue
		}
		if err := p.expectOp(")", "subscription option "+printable(key)); err != nil {
			return nil, err
		}
		return opts, nil
	}
}

// liveWhere returns the raw text of a live-query condition. The condition
// must be one balanced expression: the executor wraps it in parentheses
// and appends its own bounds, so "a) OR (b" must never get through.
// Subqueries are refused because live changes are evaluated against one
// row with no other table in reach. With stopAtOptions, a depth-0
// "OPTIONS (" ends the condition (SUBSCRIBE TO).
func (p *parser) liveWhere(stopAtOptions bool) (string, error) {
	if first := p.peek(); first.Kind == TokEOF || (stopAtOptions && isKw(first, "options") && isOp(p.peekAt(1), "(")) {
		return "", errSQL(first.Pos, "expected condition after \"WHERE\"")
	}
	return p.balancedCondition(func(t Token, depth int) (bool, error) {
		switch {
		case isKw(t, "select"):
			return false, errSQL(t.Pos, "subqueries are not supported in live queries")
		case depth == 0 && stopAtOptions && isKw(t, "options") && isOp(p.peekAt(1), "("):
			return true, nil
		case depth == 0 && t.Kind == TokIdent:
			if _, stop := liveStopWords[t.Value]; stop {
				return false, errSQL(t.Pos, "%s is not supported in live queries (a subscription is SELECT ... FROM one table [WHERE ...])", strings.ToUpper(t.Value))
			}
		}
		return false, nil
	})
}

// parseKill parses KILL LIVE QUERY '<live_id>'.
func (p *parser) parseKill() (Statement, error) {
	p.advance() // KILL
	if !p.acceptKw("live") {
		return nil, p.unsupported()
	}
	if err := p.expectKw("query", quoteKw("kill", "live")); err != nil {
		return nil, err
	}
	t := p.peek()
	if t.Kind != TokString {
		return nil, p.unexpected("live query id (a quoted string)", quoteKw("kill", "live", "query"))
	}
	p.advance()
	if strings.TrimSpace(t.Value) == "" {
		return nil, errInput(t.Pos, "live query id must not be empty")
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return &KillLiveQuery{LiveID: t.Value}, nil
}

// ParseLiveQuery parses the query of a live subscription. Only
// SELECT * | col, ... FROM [ns.]t [WHERE cond] is accepted: no joins,
// ordering, grouping, limits, CTEs, aliases, expressions in the select
// list or subqueries. Errors are *Error.
func ParseLiveQuery(sql string) (*LiveQuery, error) {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		return nil, errSQL(i, "NUL byte in statement")
	}
	p := parser{sql: sql, lx: lexer{src: sql}}
	p.first, p.second = p.peek(), p.peekAt(1)
	q, err := p.liveQuery()
	if p.lexErr != nil {
		return nil, p.lexErr
	}
	return q, err
}

func (p *parser) liveQuery() (*LiveQuery, error) {
	t := p.peek()
	if t.Kind == TokEOF {
		return nil, errSQL(-1, "empty statement")
	}
	if !isKw(t, "select") {
		return nil, errSQL(t.Pos, "a live query must be SELECT ... FROM <namespace>.<table> [WHERE ...], found %s", describe(t))
	}
	p.advance()
	if p.isKw("distinct") || p.isKw("all") {
		return nil, errSQL(p.peek().Pos, "%s is not supported in live queries", strings.ToUpper(p.peek().Value))
	}
	q := &LiveQuery{}
	if !p.acceptOp("*") {
		for {
			name, tok, err := p.ident("column name", `"SELECT"`)
			if err != nil {
				return nil, err
			}
			if p.isOp("(") || p.isOp(".") {
				return nil, errSQL(p.peek().Pos, "live queries select plain columns only (no expressions or qualified names)")
			}
			if p.isKw("as") || p.peek().Kind == TokIdent && !p.isKw("from") {
				return nil, errSQL(p.peek().Pos, "column aliases are not supported in live queries")
			}
			if tok.Kind == TokIdent && isKeyword(name) {
				return nil, errSQL(tok.Pos, "expected column name, found %s", describe(tok))
			}
			q.Columns = append(q.Columns, name)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if err := p.expectKw("from", "the select list"); err != nil {
		return nil, err
	}
	if p.isOp("(") {
		return nil, errSQL(p.peek().Pos, "subqueries are not supported in live queries")
	}
	tn, err := p.tableName(quoteKw("from"))
	if err != nil {
		return nil, err
	}
	q.Table = tn
	switch t := p.peek(); {
	case t.Kind == TokEOF:
		return q, nil
	case isKw(t, "where"):
		p.advance()
		if q.Where, err = p.liveWhere(false); err != nil {
			return nil, err
		}
		return q, p.expectEnd()
	case isOp(t, ","), isKw(t, "join"), isKw(t, "inner"), isKw(t, "left"), isKw(t, "right"), isKw(t, "cross"), isKw(t, "natural"), isKw(t, "full"):
		return nil, errSQL(t.Pos, "live queries read exactly one table (no joins)")
	case t.Kind == TokIdent || t.Kind == TokQuotedIdent:
		if _, stop := liveStopWords[t.Value]; stop && t.Kind == TokIdent {
			return nil, errSQL(t.Pos, "%s is not supported in live queries (a subscription is SELECT ... FROM one table [WHERE ...])", strings.ToUpper(t.Value))
		}
		return nil, errSQL(t.Pos, "table aliases are not supported in live queries")
	default:
		return nil, errSQL(t.Pos, "unexpected %s", describe(t))
	}
}
