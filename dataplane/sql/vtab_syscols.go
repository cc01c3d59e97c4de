package sql

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

// The kalam and kalam_row virtual tables declare three hidden columns after
// the table's own (declareTable): _seq, then _updated and _deleted, the
// system columns the original project's spec-era scripts select. A visible
// row is never deleted (reads skip tombstones), so _deleted reads false; a
// live query's delete event carries _deleted = true instead
// (live_plan.go). _updated is the time of the row's last write, taken from
// its Snowflake _seq.

// sysColumn returns the value of hidden column i of a table with n columns
// and the row version seq; ok is false when i is not a system column.
func sysColumn(i, n int, seq uint64) (v any, ok bool) {
	switch i - n {
	case 0:
		return int64(seq), true
	case 1:
		return (int64(seq>>22) + engine.SeqEpochMs) * 1000, true
	case 2:
		return int64(0), true
	}
	return nil, false
}
