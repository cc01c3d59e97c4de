package sql

// Secondary-index scans of the kalam vtab.
//
// BestIndex picks an index for an equality constraint on an indexed column
// when the primary key is not constrained by equality (planIndex; the
// constraint's position among the equality pre-filters is in idxNum's
// bits 8..15). Filter then:
//   - checks, in the statement's snapshot, that the data group's index set
//     marks the index ready (a plan made from the catalog can be older or
//     newer than the snapshot); otherwise it takes the normal scan path;
//   - reads the rows through the read path's index scan
//     (read.Source.IndexScan): the index entries of the caller's scope
//     (plus entries of rows that predate the column, whose value is the
//     column's projected default: they are re-checked), the rows reached
//     by one iterator stepping through their keys, merged with the cold
//     rows of the segments not ruled out by their statistics that have no
//     hot version (a hot version is newer; if it matches the index named
//     it).
// SQLite re-checks every constraint (Omit stays false), so the index only
// has to return a superset of the matching rows; it returns exactly the
// rows a full scan would pass to SQLite's check.

import (
	"context"
	"fmt"
	"hash/fnv"

	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// planIndex marks a secondary-index plan in idxNum.
const planIndex = 64

// bestIndexPlan returns the pre-filter position (in filterCols order) of
// an equality on a ready-indexed column, or -1.
func (t *kalamTable) bestIndexPlan(filterCols []string, info *vtab.IndexInfo) int {
	cur, ok := t.cs.eng.cat.TableByID(t.table.ID)
	if !ok || len(cur.Indexes) == 0 {
		return -1
	}
	ready := map[uint32]bool{}
	for _, ix := range cur.Indexes {
		if ix.State == catalog.IndexReady {
			ready[ix.ColumnID] = true
		}
	}
	pos := 0
	for _, c := range info.Constraints {
		if !c.Usable || c.Op != vtab.OpEQ || c.Column == t.pkIdx || c.Column < 0 || c.Column >= len(t.table.Columns) || c.ArgIndex < 0 {
			continue
		}
		if pos >= len(filterCols) {
			break
		}
		if ready[t.table.Columns[c.Column].ID] && indexable(t.table.Columns[c.Column].Type) {
			return pos
		}
		pos++
	}
	return -1
}

// indexValue converts a constraint value to the stored value of column
// col, or ok=false when SQLite might compare it by affinity (then the
// index is not used).
func indexValue(col catalog.Column, v vtab.Value) (any, bool) {
	switch {
	case col.Type.IsInteger():
		x, ok := v.(int64)
		return x, ok
	case col.Type.Kind == datatype.Text || col.Type.Kind == datatype.UUID:
		x, ok := v.(string)
		return x, ok
	case col.Type.Kind == datatype.Boolean:
		if x, ok := v.(int64); ok && (x == 0 || x == 1) {
			return x == 1, true
		}
	}
	return nil, false
}

// indexFilter runs Filter for a planIndex plan through the read path's
// index scan; handled=false sends the caller down the normal scan path.
func (c *kalamCursor) indexFilter(idxNum int, src read.Source) (handled bool, err error) {
	cs := c.t.cs
	if cs.noPrefilter || c.t.table.Type == catalog.TableStream {
		return false, nil
	}
	fp := (idxNum >> 8) & 0xff
	if fp >= len(c.filters) {
		return false, nil
	}
	flt := c.filters[fp]
	col := c.t.table.Columns[flt.col]
	v, ok := indexValue(col, flt.val)
	if !ok {
		return false, nil
	}
	spec, err := read.ReadyIndex(cs.snap, src.Scope, c.t.table.ID, col.ID)
	if err != nil {
		return true, err
	}
	if spec == nil {
		return false, nil
	}
	enc, err := keys.EncodeIndexValue(nil, v)
	if err != nil {
		return false, nil
	}
	cs.eng.stats.indexScans.Add(1)
	// Rows stored before the column existed read its projected default:
	// Absent returns them too, SQLite's check decides.
	c.rd, err = src.IndexScan(context.Background(), read.IndexOptions{Index: spec.ID, Value: enc,
		Absent: col.AddedIn > 0, Desc: c.desc, Keep: c.segmentFilter(src.Cold)})
	if err != nil {
		return true, err
	}
	return true, c.settle()
}

// indexedEquality returns the column of an aggregate's equality predicate
// on a ready-indexed column when none is on the primary key (-1: none):
// the pushdown then reads only that value's index entries (aggpush_index.go)
// instead of the scope's every row.
func (q *aggQuery) indexedEquality() int {
	pk := q.table.PKIndex()
	found := -1
	for _, p := range q.preds {
		if p.op != "=" && p.op != "==" {
			continue
		}
		if p.col == pk {
			return -1
		}
		if found >= 0 || !indexable(q.table.Columns[p.col].Type) {
			continue
		}
		if indexReady(q.table, p.col) {
			found = p.col
		}
	}
	return found
}

// indexSignature identifies a table's set of ready indexes (0: none).
func indexSignature(t *catalog.Table) uint32 {
	h := fnv.New32a()
	for _, ix := range t.Indexes {
		if ix.State == catalog.IndexReady {
			_, _ = fmt.Fprintf(h, "%d,", ix.ID)
		}
	}
	if h.Sum32() == fnv.New32a().Sum32() {
		return 0
	}
	return h.Sum32()
}
