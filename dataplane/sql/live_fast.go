package sql

import (
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Native evaluation of simple live conditions.
//
// Every change of a subscribed table is matched against each distinct
// condition. SQLite does that in ~1.3 µs when its code is in the CPU's
// caches, but on the latency path of a lone insert (W5: the server idles
// between writes) the one-row statement step costs 45-60 µs: it is the
// largest step between the WAL fsync and the WebSocket write
// (docs/benchmarks.md, "W5: where the time goes"). The common conditions
// of realtime apps are conjunctions of column-versus-literal comparisons
// (`conversation_id = 'c7' AND id > 100`), which are evaluated here
// instead.
//
// Invariants:
//   - Same answer as SQLite, always. Only shapes whose SQLite semantics are
//     plain are accepted: a chain of AND-ed terms at parenthesis depth 0,
//     each `column OP literal`, `literal OP column` or `column IS [NOT]
//     NULL`, OP one of = == <> != < <= > >=, comparing an integer column
//     (SMALLINT, INT, BIGINT) with an integer literal or a TEXT column with
//     a string literal (BINARY collation: Go's bytewise string order).
//     Anything else (other types or mixed classes, where SQLite applies
//     affinity; functions, OR, NOT, parentheses, COLLATE, _seq) keeps the
//     SQLite path. TestLiveFastAgreesWithSQLite compares both over
//     generated conditions and rows.
//   - Per row, a value of an unexpected storage class is not decided here
//     (fastMatch reports decided=false) and SQLite evaluates the row.
//   - NULL makes a comparison unknown, so the conjunction does not match,
//     as in a WHERE clause.

// liveFastEnabled lets tests compare against the SQLite path.
var liveFastEnabled = true

// fastOp is a comparison operator of a fast term.
type fastOp uint8

const (
	fastEq fastOp = iota
	fastNe
	fastLt
	fastLe
	fastGt
	fastGe
	fastIsNull
	fastNotNull
)

// fastTerm is one conjunct: the column at table position pos compared
// with an integer (text = false) or a string literal.
type fastTerm struct {
	pos  int
	op   fastOp
	text bool
	i    int64
	s    string
}

var fastOps = map[string]fastOp{"=": fastEq, "==": fastEq, "<>": fastNe, "!=": fastNe,
	"<": fastLt, "<=": fastLe, ">": fastGt, ">=": fastGe}

// flipped is the operator with its operands swapped (`5 < n` is `n > 5`).
var flipped = [...]fastOp{fastEq: fastEq, fastNe: fastNe, fastLt: fastGt, fastLe: fastGe, fastGt: fastLt, fastGe: fastLe}

// compileFast sets p.fast when the whole condition (lexed into toks) has
// a fast form.
func (p *LivePlan) compileFast(toks []parse.Token) {
	var terms []fastTerm
	start := 0
	for i, t := range toks {
		end := t.Kind == parse.TokEOF
		if !end && !(t.Kind == parse.TokIdent && t.Value == "and") {
			continue
		}
		ft, ok := p.fastTerm(toks[start:i])
		if !ok {
			return
		}
		terms = append(terms, ft)
		start = i + 1
		if end {
			break
		}
	}
	if len(terms) > 0 {
		p.fast = terms
	}
}

// fastTerm parses one conjunct; see the invariants above for the shapes.
func (p *LivePlan) fastTerm(term []parse.Token) (fastTerm, bool) {
	isKW := func(t parse.Token, kw string) bool { return t.Kind == parse.TokIdent && t.Value == kw }
	switch {
	case len(term) == 3 && isKW(term[1], "is") && isKW(term[2], "null"):
		return p.fastNullTerm(term[0], fastIsNull)
	case len(term) == 4 && isKW(term[1], "is") && isKW(term[2], "not") && isKW(term[3], "null"):
		return p.fastNullTerm(term[0], fastNotNull)
	}
	opAt := -1
	for i, t := range term {
		if t.Kind == parse.TokOp {
			if _, ok := fastOps[t.Value]; ok {
				if opAt >= 0 {
					return fastTerm{}, false
				}
				opAt = i
			}
		}
	}
	if opAt < 0 {
		return fastTerm{}, false
	}
	op := fastOps[term[opAt].Value]
	left, right := term[:opAt], term[opAt+1:]
	col, lit := left, right
	if len(left) != 1 || !isColumnToken(left[0]) {
		col, lit, op = right, left, flipped[op]
	}
	if len(col) != 1 || !isColumnToken(col[0]) {
		return fastTerm{}, false
	}
	pos := p.Table.ColumnIndex(col[0].Value)
	if pos < 0 {
		return fastTerm{}, false
	}
	ft := fastTerm{pos: pos, op: op}
	switch typ := p.Table.Columns[pos].Type; {
	case typ.Kind == datatype.Text && len(lit) == 1 && lit[0].Kind == parse.TokString:
		ft.text, ft.s = true, lit[0].Value
	case eqIntKind(typ):
		n, ok := intLiteral(lit)
		if !ok {
			return fastTerm{}, false
		}
		ft.i = n
	default:
		return fastTerm{}, false
	}
	return ft, true
}

func (p *LivePlan) fastNullTerm(col parse.Token, op fastOp) (fastTerm, bool) {
	if !isColumnToken(col) {
		return fastTerm{}, false
	}
	pos := p.Table.ColumnIndex(col.Value)
	if pos < 0 {
		return fastTerm{}, false
	}
	return fastTerm{pos: pos, op: op}, true
}

// isColumnToken reports a bare or quoted identifier (ColumnIndex then
// decides whether it names a column; keywords such as TRUE never do).
func isColumnToken(t parse.Token) bool {
	return t.Kind == parse.TokIdent || t.Kind == parse.TokQuotedIdent
}

// intLiteral reads an integer literal, optionally negated, that SQLite
// also reads as a 64-bit integer (no fraction, exponent or hex form, in
// range).
func intLiteral(lit []parse.Token) (int64, bool) {
	neg := len(lit) == 2 && lit[0].Kind == parse.TokOp && lit[0].Value == "-"
	if !(len(lit) == 1 || neg) || lit[len(lit)-1].Kind != parse.TokNumber {
		return 0, false
	}
	text := lit[len(lit)-1].Value
	if strings.ContainsAny(text, ".eExX_") {
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// fastMatch evaluates p.fast on a row indexed into offs (rowcodec.Index)
// of schema version ver. decided is false when a value's storage class is
// not the one the term was compiled for: SQLite must evaluate the row.
func (p *LivePlan) fastMatch(raw []byte, offs []int32, ver uint32) (match, decided bool) {
	for i := range p.fast {
		t := &p.fast[i]
		var v any
		if offs[t.pos] < 0 {
			v = p.proj.Fill(t.pos, ver)
		} else {
			v = rowcodec.DecodeAt(raw, offs[t.pos], true)
		}
		// The value exactly as the one-row vtab hands it to SQLite.
		v = toSQLite(p.Table.Columns[t.pos].Type, v)
		switch t.op {
		case fastIsNull, fastNotNull:
			if (v == nil) != (t.op == fastIsNull) {
				return false, true
			}
			continue
		}
		var c int
		switch x := v.(type) {
		case nil:
			return false, true // unknown: the conjunction cannot be true
		case int64:
			if t.text {
				return false, false
			}
			c = cmpInt(x, t.i)
		case string:
			if !t.text {
				return false, false
			}
			c = strings.Compare(x, t.s)
		default:
			return false, false
		}
		if !opHolds(t.op, c) {
			// One false conjunct decides, whatever the others hold.
			return false, true
		}
	}
	return true, true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func opHolds(op fastOp, c int) bool {
	switch op {
	case fastEq:
		return c == 0
	case fastNe:
		return c != 0
	case fastLt:
		return c < 0
	case fastLe:
		return c <= 0
	case fastGt:
		return c > 0
	case fastGe:
		return c >= 0
	}
	return false
}
