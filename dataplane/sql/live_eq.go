package sql

import (
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// liveEq is a top-level `column = literal` conjunct of a live condition:
// every row the condition matches has exactly this value in the column,
// so subscriptions can be indexed by it (package live).
type liveEq struct {
	ok    bool
	colID uint32
	pos   int    // table position of the column
	key   string // EqValueKey form of the literal
}

// EqIndex reports a top-level `column = literal` conjunct of the
// condition: the column's stable id and the value's key (as EqKey would
// compute it for a stored row holding that value). A row whose EqKey
// differs can never match the condition, whatever the rest of it says.
func (p *LivePlan) EqIndex() (colID uint32, key string, ok bool) {
	return p.eq.colID, p.eq.key, p.eq.ok
}

// clockWords are the identifiers that read the clock in a condition.
var clockWords = map[string]bool{"now": true, "current_timestamp": true, "current_date": true,
	"current_time": true, "localtimestamp": true, "localtime": true, "unixepoch": true}

// UsesClock reports whether the condition reads the clock (NOW(),
// CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME, LOCALTIMESTAMP,
// LOCALTIME, unixepoch(), or SQLite's 'now'): whether a row matches can
// change with time alone.
func (p *LivePlan) UsesClock() bool { return p.clock }

// KeyPK returns the primary key's wire text for a storage key of the
// plan's scope (scopeLen bytes of prefix), as LiveRow.PK holds it.
func (p *LivePlan) KeyPK(scopeLen int, key []byte) (string, bool) {
	if p.pkCol < 0 || len(key) < scopeLen {
		return "", false
	}
	c := p.Table.Columns[p.cols[p.pkCol]]
	v, ok := decodePK(c.Type, key[scopeLen:])
	if !ok {
		return "", false
	}
	return string(appendWire(nil, c.Type, toSQLite(c.Type, v))), true
}

// EqKey returns the key of column colID in the stored row raw, in the
// form EqIndex uses. ok is false when the key cannot be told for certain
// (the column is absent from the row, or holds another storage class):
// the caller must then treat every value as possible.
func (p *LivePlan) EqKey(enc *RowEncoder, raw []byte, colID uint32) (string, bool) {
	if int(colID) >= len(p.posByID) || p.posByID[colID] < 0 {
		return "", false
	}
	pos := p.posByID[colID]
	n := len(p.Table.Columns)
	if cap(enc.offs) < n {
		enc.offs = make([]int32, n)
	}
	offs := enc.offs[:n]
	if _, err := rowcodec.Index(raw, p.posByID, offs); err != nil || offs[pos] < 0 {
		return "", false
	}
	typ := p.Table.Columns[pos].Type
	return eqValueKey(typ, toSQLite(typ, rowcodec.DecodeAt(raw, offs[pos], true)))
}

// eqValueKey keys a value as SQLite's BINARY equality sees it: texts are
// equal when their bytes are, integers when their values are. Other
// classes are not keyed.
func eqValueKey(t datatype.Type, v any) (string, bool) {
	switch x := v.(type) {
	case string:
		if eqTextKind(t) {
			return "s" + x, true
		}
	case int64:
		if eqIntKind(t) {
			return "i" + strconv.FormatInt(x, 10), true
		}
	}
	return "", false
}

func eqTextKind(t datatype.Type) bool { return t.Kind == datatype.Text || t.Kind == datatype.UUID }

func eqIntKind(t datatype.Type) bool {
	return t.Kind == datatype.SmallInt || t.Kind == datatype.Int || t.Kind == datatype.BigInt
}

// scanClock sets p.clock when the condition (lexed into toks) reads the
// clock.
func (p *LivePlan) scanClock(toks []parse.Token) {
	for _, t := range toks {
		switch {
		case t.Kind == parse.TokIdent && clockWords[t.Value], t.Kind == parse.TokString && strings.EqualFold(t.Value, "now"):
			p.clock = true
		}
	}
}

// findEq looks for a top-level `column = literal` conjunct of the compiled
// condition comparing a column of a text or integer type with a value of
// the same storage class. Anything else is not indexed (every change is
// then evaluated), so a miss only costs speed.
func findEq(t *catalog.Table, cond *expr.Node) liveEq {
	for _, c := range expr.Conjuncts(cond) {
		if c.Kind != expr.Cmp || c.Op != expr.Eq {
			continue
		}
		if key, ok := eqValueKey(c.Type, c.Vals[0]); ok {
			return liveEq{ok: true, colID: t.Columns[c.Col].ID, pos: c.Col, key: key}
		}
	}
	return liveEq{}
}
