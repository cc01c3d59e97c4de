package sql

// This file serves the kalam vtab's rows that come from cold segments.
// The merge of hot and cold rows (hot versions win, tombstones hide) is the
// read path's (dataplane/read); the cursor only decodes a segment row's
// columns when SQLite asks for them.

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
)

// vtabColdRow is the cursor's current row when it comes from a segment.
type vtabColdRow struct {
	on  bool
	f   *cold.File
	row int
	// idx maps table positions to the current file's columns; byFile
	// caches the maps per file.
	idx    []int
	byFile map[*cold.File][]int
}

// coldView returns the scope's committed cold state in the statement's
// snapshot, or nil.
func (e *Engine) coldView(ctx context.Context, r pebble.Reader, t *catalog.Table, userID string) (*cold.View, error) {
	if e.cold == nil || t.Type == catalog.TableStream {
		return nil, nil
	}
	return e.cold.ScopeView(ctx, r, t, userID)
}

// streamCutoff returns the smallest _seq still alive in a STREAM table
// (rows stamped before now-TTL are expired and hidden before eviction).
func streamCutoff(t *catalog.Table, nowMs int64) uint64 {
	if t.Type != catalog.TableStream || t.TTLSeconds <= 0 {
		return 0
	}
	ms := nowMs - t.TTLSeconds*1000 - engine.SeqEpochMs
	if ms <= 0 {
		return 0
	}
	return uint64(ms) << 22
}

// setCold makes (f, row) the current row if it passes the pre-filters.
func (c *kalamCursor) setCold(f *cold.File, row int) bool {
	cr := &c.cold
	idx, ok := cr.idx, cr.f == f && cr.idx != nil
	if !ok {
		idx, ok = cr.byFile[f]
	}
	if !ok {
		idx = make([]int, len(c.t.table.Columns))
		for i, col := range c.t.table.Columns {
			idx[i] = f.ColumnIndex(col.ID)
		}
		if cr.byFile == nil {
			cr.byFile = map[*cold.File][]int{}
		}
		cr.byFile[f] = idx
	}
	c.read++
	for _, flt := range c.filters {
		if flt.col < len(idx) && !flt.match(c.coldValue(f, row, idx, flt.col)) {
			return false
		}
	}
	cr.on, cr.f, cr.row, cr.idx = true, f, row, idx
	c.seq = f.Seq(row)
	c.rowid++
	return true
}

// coldColumn returns column i of a row served from a segment.
func (c *kalamCursor) coldColumn(i int) (vtab.Value, error) {
	cm := &c.cold
	if v, ok := sysColumn(i, len(c.offs), c.seq, c.deleted); ok {
		return v, nil
	}
	if k := exactStoredColumn(c.t.table, i); k >= 0 {
		return c.coldValue(cm.f, cm.row, cm.idx, k), nil // the stored DECIMAL text
	}
	if i < 0 || i > len(c.offs) {
		return nil, nil
	}
	if cm.idx[i] < 0 {
		return toSQLite(c.t.table.Columns[i].Type, c.t.proj.Fill(i, cm.f.Meta.SchemaVersion)), nil
	}
	v, err := cm.f.ValueErr(cm.row, cm.idx[i])
	if err != nil {
		return nil, err
	}
	return toSQLite(c.t.table.Columns[i].Type, v), nil
}

// coldValue returns position i of a segment row (idx maps positions to
// segment columns), projecting columns the segment predates.
func (c *kalamCursor) coldValue(f *cold.File, row int, idx []int, i int) any {
	if idx[i] < 0 {
		return c.t.proj.Fill(i, f.Meta.SchemaVersion)
	}
	return f.Value(row, idx[i])
}
