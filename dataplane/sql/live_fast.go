package sql

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Native evaluation of live conditions.
//
// Every change of a subscribed table is matched against each distinct
// condition. SQLite does that in ~1.3 µs when its code is in the CPU's
// caches, but on the latency path of a lone insert (W5: the server idles
// between writes) the one-row statement step costs 45-60 µs: it is the
// largest step between the WAL fsync and the WebSocket write
// (docs/benchmarks.md, "W5: where the time goes"). The condition is
// therefore compiled once into the typed predicate tree of package expr
// and evaluated in Go.
//
// Invariants:
//   - Same answer as SQLite, always: expr decides a row only where its
//     typed semantics are the rewriter's; an untyped part of the condition
//     (functions, arithmetic, COLLATE, _seq, ...) or a value of an
//     unexpected storage class leaves the row undecided and SQLite
//     evaluates it. TestLiveFastAgreesWithSQLite compares both over
//     generated conditions and rows.
//   - Values are decoded exactly as the one-row vtab hands them to SQLite
//     (toSQLite), columns a row predates from the plan's projection.

// liveFastEnabled lets tests compare against the SQLite path.
var liveFastEnabled = true

// tableSchema resolves a condition's columns in a catalog table.
type tableSchema struct{ t *catalog.Table }

func (s tableSchema) ColumnIndex(name string) int      { return s.t.ColumnIndex(name) }
func (s tableSchema) ColumnType(pos int) datatype.Type { return s.t.Columns[pos].Type }

// compileCond compiles the live condition (lexed into toks) once: the
// typed tree for native evaluation (nil when no part of it is typed) and
// its equality index (live_eq.go).
func (p *LivePlan) compileCond(toks []parse.Token) {
	n, err := expr.Compile(toks, tableSchema{p.Table}, nil)
	if err != nil || n.Kind == expr.Opaque {
		return // SQLite reports the error (the rewriter already did)
	}
	p.cond, p.condCols = n, expr.Columns(n, nil)
	p.eq = findEq(p.Table, n)
}

// condMatch evaluates p.cond on a row indexed into offs (rowcodec.Index)
// of schema version ver. decided is false when SQLite must evaluate the
// row.
func (p *LivePlan) condMatch(vals []any, raw []byte, offs []int32, ver uint32) (match, decided bool) {
	for _, pos := range p.condCols {
		var v any
		if offs[pos] < 0 {
			v = p.proj.Fill(pos, ver)
		} else {
			v = rowcodec.DecodeAt(raw, offs[pos], true)
		}
		vals[pos] = toSQLite(p.Table.Columns[pos].Type, v)
	}
	return expr.Match(p.cond, vals)
}
