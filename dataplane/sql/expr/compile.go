package expr

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// Schema resolves column names of the one table a condition reads.
type Schema interface {
	// ColumnIndex returns the table position of a column, -1 when absent.
	ColumnIndex(name string) int
	// ColumnType returns the type of the column at position pos.
	ColumnType(pos int) datatype.Type
}

// Compile parses the condition toks (the tokens after WHERE, up to the
// clause's end; a trailing TokEOF is optional), resolves its columns in s
// and coerces its literals and parameters ($N, bound to params) to the
// columns' types. The shapes it types are AND, OR, NOT, parentheses,
// comparisons (= == <> != < <= > >=), [NOT] BETWEEN [SYMMETRIC], [NOT] IN
// lists, IS [NOT] NULL / DISTINCT FROM / TRUE / FALSE / UNKNOWN,
// [NOT] LIKE / ILIKE [ESCAPE], a BOOLEAN column alone, TRUE / FALSE /
// NULL, between a column and a literal (DATE '...', TIMESTAMP '...' and
// 'x'::date / ::timestamp included). Anything else becomes an Opaque node
// spanning the smallest AND/OR operand around it. The only errors are
// coercion errors of a literal (invalid boolean, timestamp or date input:
// PostgreSQL rejects the statement, and so does the rewriter).
func Compile(toks []parse.Token, s Schema, params []any) (*Node, error) {
	if n := len(toks); n > 0 && toks[n-1].Kind == parse.TokEOF {
		toks = toks[:n-1]
	}
	p := compiler{toks: toks, s: s, params: params}
	n := p.or()
	if p.err != nil {
		return nil, p.err
	}
	if p.i < len(p.toks) {
		n = &Node{Kind: Opaque} // e.g. an unbalanced ")"
	}
	markOpaque(n)
	return n, nil
}

// LiteralKind names the literal coercion applied to values compared with
// a column of type t: "timestamp", "date", "boolean" or "other". The
// rewriter asks for it through its ColumnTyper, Compile uses it here.
func LiteralKind(t datatype.Type) string {
	switch t.Kind {
	case datatype.Timestamp, datatype.DateTime:
		return "timestamp"
	case datatype.Date:
		return "date"
	case datatype.Boolean:
		return "boolean"
	}
	return "other"
}

type compiler struct {
	toks   []parse.Token
	i      int
	s      Schema
	params []any
	err    error
	eof    parse.Token // Kind TokEOF (the zero TokenKind)
}

// tok returns the token k ahead of the cursor (a TokEOF past the end),
// by pointer: tokens are large and looked at often.
func (p *compiler) tok(k int) *parse.Token {
	if p.i+k < len(p.toks) {
		return &p.toks[p.i+k]
	}
	return &p.eof
}

func (p *compiler) kw(k int, word string) bool {
	t := p.tok(k)
	return t.Kind == parse.TokIdent && t.Value == word
}

func (p *compiler) op(k int, op string) bool {
	t := p.tok(k)
	return t.Kind == parse.TokOp && t.Value == op
}

// boundary reports whether the cursor ends an AND/OR operand.
func (p *compiler) boundary() bool {
	return p.i >= len(p.toks) || p.kw(0, "and") || p.kw(0, "or") || p.op(0, ")")
}

func (p *compiler) or() *Node {
	n := p.and()
	for p.kw(0, "or") && p.err == nil {
		p.i++
		n = join(Or, n, p.and())
	}
	return n
}

func (p *compiler) and() *Node {
	n := p.not()
	for p.kw(0, "and") && p.err == nil {
		p.i++
		n = join(And, n, p.not())
	}
	return n
}

// join combines a and b, flattening chains of the same kind.
func join(k Kind, a, b *Node) *Node {
	if a.Kind == k {
		a.Kids = append(a.Kids, b)
		return a
	}
	return &Node{Kind: k, Kids: []*Node{a, b}}
}

func (p *compiler) not() *Node {
	if p.kw(0, "not") {
		p.i++
		return &Node{Kind: Not, Kids: []*Node{p.not()}}
	}
	start := p.i
	if n, ok := p.pred(); ok && p.boundary() {
		return n
	}
	if p.err != nil {
		return &Node{Kind: Opaque}
	}
	p.i = start
	p.skip()
	return &Node{Kind: Opaque}
}

// skip moves past one AND/OR operand the compiler does not type: up to
// AND, OR or ")" at its level, an AND that belongs to a BETWEEN and the
// insides of parentheses and CASE ... END excepted.
func (p *compiler) skip() {
	depth, betweens, cases := 0, 0, 0
	for ; p.i < len(p.toks); p.i++ {
		t := p.toks[p.i]
		if depth == 0 && cases == 0 {
			switch {
			case t.Kind == parse.TokOp && t.Value == ")":
				return
			case t.Kind == parse.TokIdent && t.Value == "or":
				return
			case t.Kind == parse.TokIdent && t.Value == "and":
				if betweens == 0 {
					return
				}
				betweens--
			}
		}
		switch {
		case t.Kind == parse.TokOp && t.Value == "(":
			depth++
		case t.Kind == parse.TokOp && t.Value == ")":
			depth--
		case t.Kind == parse.TokIdent && depth == 0:
			switch t.Value {
			case "between":
				if cases == 0 {
					betweens++
				}
			case "case":
				cases++
			case "end":
				cases--
			}
		}
	}
}

// operand is a column reference or a literal.
type operand struct {
	col bool
	pos int
	typ datatype.Type
	lit lit
}

type litKind uint8

const (
	litNull litKind = iota
	litBool
	litInt
	litFloat
	litString
	litDate      // DATE '...' (text in s)
	litTimestamp // TIMESTAMP '...' (text in s)
)

type lit struct {
	kind litKind
	s    string
	i    int64
	f    float64
}

// pred parses one predicate; ok=false when its shape is not typed.
func (p *compiler) pred() (*Node, bool) {
	if p.op(0, "(") {
		p.i++
		n := p.or()
		if !p.op(0, ")") {
			return nil, false
		}
		p.i++
		return n, true
	}
	left, ok := p.operand()
	if !ok {
		return nil, false
	}
	if p.boundary() {
		switch {
		case left.col && left.typ.Kind == datatype.Boolean:
			return &Node{Kind: BoolCol, Col: left.pos, Type: left.typ}, true
		case !left.col && left.lit.kind == litNull:
			return &Node{Kind: Const, Vals: []any{nil}}, true
		case !left.col && left.lit.kind == litBool:
			return &Node{Kind: Const, Vals: []any{left.lit.i}}, true
		}
		return nil, false
	}
	if p.kw(0, "is") {
		return p.isPred(left)
	}
	if t := p.tok(0); t.Kind == parse.TokOp {
		op, ok := cmpOp(t.Value)
		if !ok {
			return nil, false
		}
		p.i++
		right, ok := p.operand()
		if !ok {
			return nil, false
		}
		if !left.col {
			left, right, op = right, left, flip[op]
		}
		return p.leaf(&Node{Kind: Cmp, Op: op}, left, right)
	}
	neg := false
	if p.kw(0, "not") {
		neg = true
		p.i++
	}
	if !left.col {
		return nil, false
	}
	switch {
	case p.kw(0, "between"):
		p.i++
		n := &Node{Kind: Between, Neg: neg}
		if p.kw(0, "symmetric") {
			n.Symmetric = true
			p.i++
		} else if p.kw(0, "asymmetric") {
			p.i++
		}
		lo, ok := p.operand()
		if !ok || !p.kw(0, "and") {
			return nil, false
		}
		p.i++
		hi, ok := p.operand()
		if !ok {
			return nil, false
		}
		return p.leaf(n, left, lo, hi)
	case p.kw(0, "in"):
		p.i++
		if !p.op(0, "(") {
			return nil, false
		}
		p.i++
		ops := []operand{left}
		for {
			o, ok := p.operand()
			if !ok {
				return nil, false
			}
			ops = append(ops, o)
			if p.op(0, ",") {
				p.i++
				continue
			}
			break
		}
		if !p.op(0, ")") {
			return nil, false
		}
		p.i++
		return p.leaf(&Node{Kind: In, Neg: neg}, ops...)
	case p.kw(0, "like"), p.kw(0, "ilike"):
		n := &Node{Kind: Like, Neg: neg, Fold: p.kw(0, "ilike"), Escape: `\`}
		p.i++
		pat, ok := p.operand()
		if !ok || pat.col || pat.lit.kind != litString {
			return nil, false
		}
		if p.kw(0, "escape") {
			p.i++
			e, ok := p.operand()
			if !ok || e.col || e.lit.kind != litString {
				return nil, false
			}
			n.Escape = e.lit.s
		}
		if left.typ.Kind != datatype.Text {
			return nil, false
		}
		// A pattern SQLite would reject at run time stays with SQLite.
		if _, err := pgfn.Like("", pat.lit.s, n.Escape, false); err != nil {
			return nil, false
		}
		n.Col, n.Type, n.Vals = left.pos, left.typ, []any{pat.lit.s}
		return n, true
	}
	return nil, false
}

// cmpOp maps a comparison operator's spelling.
func cmpOp(s string) (Op, bool) {
	switch s {
	case "=", "==":
		return Eq, true
	case "<>", "!=":
		return Ne, true
	case "<":
		return Lt, true
	case "<=":
		return Le, true
	case ">":
		return Gt, true
	case ">=":
		return Ge, true
	}
	return 0, false
}

// isPred parses the IS forms after left.
func (p *compiler) isPred(left operand) (*Node, bool) {
	p.i++
	neg := false
	if p.kw(0, "not") {
		neg = true
		p.i++
	}
	switch {
	case p.kw(0, "null"), p.kw(0, "unknown"):
		unknown := p.kw(0, "unknown")
		p.i++
		if !left.col || (unknown && left.typ.Kind != datatype.Boolean) {
			return nil, false
		}
		return &Node{Kind: IsNull, Neg: neg, Col: left.pos, Type: left.typ}, true
	case p.kw(0, "true"), p.kw(0, "false"):
		// x IS TRUE is x IS NOT DISTINCT FROM TRUE.
		b := p.kw(0, "true")
		p.i++
		if !left.col || left.typ.Kind != datatype.Boolean {
			return nil, false
		}
		v := int64(0)
		if b {
			v = 1
		}
		return &Node{Kind: Distinct, Neg: !neg, Col: left.pos, Type: left.typ, Vals: []any{v}}, true
	case p.kw(0, "distinct") && p.kw(1, "from"):
		p.i += 2
		right, ok := p.operand()
		if !ok {
			return nil, false
		}
		if !left.col {
			left, right = right, left
		}
		return p.leaf(&Node{Kind: Distinct, Neg: neg}, left, right)
	}
	return nil, false
}

// leaf completes n with the column ops[0] and the literals ops[1:],
// coerced to the column's type.
func (p *compiler) leaf(n *Node, ops ...operand) (*Node, bool) {
	c := ops[0]
	if !c.col {
		return nil, false
	}
	n.Col, n.Type = c.pos, c.typ
	n.Vals = n.buf[:0]
	if len(ops)-1 > len(n.buf) {
		n.Vals = make([]any, 0, len(ops)-1)
	}
	for _, o := range ops[1:] {
		if o.col {
			return nil, false
		}
		v, ok, err := coerce(c.typ, o.lit)
		if err != nil {
			p.err = err
			return nil, false
		}
		if !ok {
			return nil, false
		}
		n.Vals = append(n.Vals, v)
	}
	return n, true
}

// operand reads a column reference or a literal at the cursor.
func (p *compiler) operand() (operand, bool) {
	t := p.tok(0)
	switch t.Kind {
	case parse.TokIdent:
		switch t.Value {
		case "null":
			p.i++
			return operand{lit: lit{kind: litNull}}, true
		case "true", "false":
			p.i++
			l := lit{kind: litBool}
			if t.Value == "true" {
				l.i = 1
			}
			return operand{lit: l}, true
		case "date", "timestamp", "timestamptz":
			if s := p.tok(1); s.Kind == parse.TokString {
				p.i += 2
				return operand{lit: typedLit(t.Value, s.Value)}, true
			}
		}
		return p.column(t)
	case parse.TokQuotedIdent:
		return p.column(t)
	case parse.TokString:
		p.i++
		l := lit{kind: litString, s: t.Value}
		if p.op(0, "::") && p.tok(1).Kind == parse.TokIdent {
			switch p.tok(1).Value {
			case "date", "timestamp", "timestamptz":
				l = typedLit(p.tok(1).Value, t.Value)
			case "text", "varchar":
			default:
				return operand{}, false
			}
			p.i += 2
		}
		return operand{lit: l}, true
	case parse.TokNumber:
		p.i++
		return numberLit(t.Value, false)
	case parse.TokOp:
		if (t.Value == "-" || t.Value == "+") && p.tok(1).Kind == parse.TokNumber {
			p.i += 2
			return numberLit(p.tok(-1).Value, t.Value == "-")
		}
	case parse.TokParam:
		p.i++
		n, err := strconv.Atoi(t.Value)
		if err != nil || n < 1 || n > len(p.params) {
			return operand{}, false
		}
		return paramLit(p.params[n-1])
	}
	return operand{}, false
}

// column resolves a bare column name (a function call, a qualified name
// or an unknown name is not typed).
func (p *compiler) column(t *parse.Token) (operand, bool) {
	if p.op(1, "(") || p.op(1, ".") || p.op(1, "::") {
		return operand{}, false
	}
	pos := p.s.ColumnIndex(t.Value)
	if pos < 0 {
		return operand{}, false
	}
	p.i++
	return operand{col: true, pos: pos, typ: p.s.ColumnType(pos)}, true
}

func typedLit(kw, text string) lit {
	if kw == "date" {
		return lit{kind: litDate, s: text}
	}
	return lit{kind: litTimestamp, s: text}
}

// numberLit reads a numeric literal the way SQLite does: decimal integers
// that fit int64, otherwise a double. Hexadecimal and other forms are not
// typed.
func numberLit(text string, neg bool) (operand, bool) {
	if !neg && len(text) <= 18 && allDigits(text) { // certainly an int64
		n, _ := strconv.ParseInt(text, 10, 64)
		return operand{lit: lit{kind: litInt, i: n}}, true
	}
	if strings.ContainsAny(text, "xX_") {
		return operand{}, false
	}
	if neg {
		text = "-" + text
	}
	if !strings.ContainsAny(text, ".eE") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return operand{lit: lit{kind: litInt, i: n}}, true
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return operand{}, false
	}
	return operand{lit: lit{kind: litFloat, f: f}}, true
}

// paramLit types a bound parameter value as the literal it stands for.
func paramLit(v any) (operand, bool) {
	switch x := v.(type) {
	case nil:
		return operand{lit: lit{kind: litNull}}, true
	case json.Number:
		return numberLit(string(x), false)
	case int64:
		return operand{lit: lit{kind: litInt, i: x}}, true
	case float64:
		return operand{lit: lit{kind: litFloat, f: x}}, true
	case string:
		return operand{lit: lit{kind: litString, s: x}}, true
	case bool:
		l := lit{kind: litBool}
		if x {
			l.i = 1
		}
		return operand{lit: l}, true
	}
	return operand{}, false
}

// coerce converts literal l for comparison with a column of type t, to the
// value the column's stored values are compared with. ok=false when the
// pair is not typed here (the caller leaves it to SQLite); err is an
// invalid boolean, timestamp or date input.
func coerce(t datatype.Type, l lit) (v any, ok bool, err error) {
	if l.kind == litNull {
		return nil, columnClass(t) != clsNone, nil
	}
	switch columnClass(t) {
	case clsInt, clsDouble:
		switch l.kind {
		case litInt:
			return l.i, true, nil
		case litFloat:
			return l.f, true, nil
		}
	case clsText:
		if l.kind == litString {
			return l.s, true, nil
		}
	case clsBool:
		switch l.kind {
		case litBool:
			return l.i, true, nil
		case litString:
			n, err := parse.CoerceString("boolean", l.s)
			return n, err == nil, err
		}
	case clsTimestamp:
		switch l.kind {
		case litString, litTimestamp:
			n, err := parse.CoerceString("timestamp", l.s)
			return n, err == nil, err
		case litDate:
			// A date compares as its midnight.
			n, err := parse.CoerceString("date", l.s)
			return n * 86400000000, err == nil, err
		}
	case clsDate:
		switch l.kind {
		case litString, litDate:
			n, err := parse.CoerceString("date", l.s)
			return n, err == nil, err
		case litTimestamp:
			// A timestamp compares as a fractional day.
			us, err := parse.CoerceString("timestamp", l.s)
			if err != nil {
				return nil, false, err
			}
			if us%86400000000 == 0 {
				return us / 86400000000, true, nil
			}
			return float64(us) / 86400000000, true, nil
		}
	}
	return nil, false, nil
}

type class uint8

const (
	clsNone class = iota
	clsInt
	clsDouble
	clsText
	clsBool
	clsTimestamp
	clsDate
)

// columnClass is how values of type t compare: the types whose SQLite
// comparison is exactly PostgreSQL's. DECIMAL (doubles in SQLite), REAL,
// TIME, JSON, BYTES and the rest are not typed here.
func columnClass(t datatype.Type) class {
	switch t.Kind {
	case datatype.SmallInt, datatype.Int, datatype.BigInt:
		return clsInt
	case datatype.Double:
		return clsDouble
	case datatype.Text, datatype.UUID:
		return clsText
	case datatype.Boolean:
		return clsBool
	case datatype.Timestamp, datatype.DateTime:
		return clsTimestamp
	case datatype.Date:
		return clsDate
	}
	return clsNone
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
