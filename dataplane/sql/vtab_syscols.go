package sql

import (
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

// The kalam and kalam_row virtual tables declare three hidden columns after
// the table's own (declareTable): _seq, then _updated and _deleted, the
// system columns the original project's spec-era scripts select. _updated
// is the time of the row's last write, taken from its Snowflake _seq.
//
// Soft-deleted rows. A DELETE writes a tombstone that keeps the row's
// values (rowcodec.Tombstone). Reads skip tombstones, so _deleted reads
// false, except in a statement that filters on _deleted: as in the
// original KalamDB (whose scan keeps deleted rows when its filter names
// _deleted, kalamdb-tables utils/base.rs filter_uses_deleted_column), the
// scan of a USER or SHARED table then returns each key's newest version,
// tombstones included with _deleted = true, and the filter decides:
// `WHERE _deleted = true` lists the deleted rows still held, `WHERE
// _deleted = false` the live ones. "Filters on _deleted" is what SQLite
// hands the table as a constraint on the column: a comparison (=, <>,
// IS, IN, ...) that is a conjunct of the WHERE or ON clause. A tombstone
// is held until a flush finds no older version of its key in a segment, or
// until compaction; the original also drops tombstones at flush. STREAM
// tables never show tombstones (nor does the original's). A live query's
// delete event carries _deleted = true as well (live_plan.go).

// sysColumn returns the value of hidden column i of a table with n columns,
// the row version seq and its tombstone flag; ok is false when i is not a
// system column.
func sysColumn(i, n int, seq uint64, deleted bool) (v any, ok bool) {
	switch i - n {
	case 0:
		return int64(seq), true
	case 1:
		return (int64(seq>>22) + engine.SeqEpochMs) * 1000, true
	case 2:
		if deleted {
			return int64(1), true
		}
		return int64(0), true
	}
	return nil, false
}

// tombstonesAsked reports whether the statement constrains the table's
// _deleted column (usable or not: the filter names it), so the scan must
// return tombstones for the filter to see.
func (t *kalamTable) tombstonesAsked(info *vtab.IndexInfo) bool {
	if t.table.Type == catalog.TableStream {
		return false
	}
	del := len(t.table.Columns) + 2
	for _, c := range info.Constraints {
		if c.Column == del {
			return true
		}
	}
	return false
}
