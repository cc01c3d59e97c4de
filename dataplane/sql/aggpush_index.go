package sql

import (
	"context"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Aggregate pushdown over a secondary index.
//
// When the WHERE has an equality on a ready-indexed column (and none on the
// primary key), the pushdown reads only the rows the index names through
// the read path's index scan (read.Source.IndexScan): hot rows by one
// iterator stepping through the index's keys, cold rows of the segments
// statistics do not rule out, hot versions winning. The index must be
// ready in the statement's snapshot (the data group's index set), else the
// caller scans the scope as before. Every predicate, the indexed equality
// included, is re-checked on each row by accept, so the index only has to
// name a superset.

// aggIndexScan aggregates the rows matching the indexed equality within
// the primary-key range [lo, hi). handled=false: the index is not ready in
// the snapshot (or the value cannot be looked up); the caller scans.
func (e *Engine) aggIndexScan(ctx context.Context, sess *Session, r *aggRun, lo, hi []byte) (handled bool, err error) {
	t := r.q.table
	col := t.Columns[r.q.indexCol]
	var v any
	for _, p := range r.q.preds {
		if p.col == r.q.indexCol && (p.op == "=" || p.op == "==") {
			v = p.v
			break
		}
	}
	enc, err := keys.EncodeIndexValue(nil, v)
	if v == nil || err != nil {
		return false, nil
	}
	snap := e.db.NewSnapshot()
	defer snap.Close()
	src, err := e.readSource(ctx, snap, sess, t)
	if err != nil {
		return true, err
	}
	spec, err := read.ReadyIndex(snap, src.Scope, t.ID, col.ID)
	if err != nil {
		return true, err
	}
	if spec == nil {
		return false, nil
	}
	e.stats.indexScans.Add(1)
	defer func() { e.stats.rowsRead.Add(r.read) }()
	it, err := src.IndexScan(ctx, read.IndexOptions{Index: spec.ID, Value: enc, Absent: col.AddedIn > 0,
		Lo: lo, Hi: hi, Keep: r.segmentFilter(src.Cold)})
	if err != nil {
		return true, err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		row := it.Row()
		if row.Hot() {
			err = r.hot(row.Value)
		} else {
			err = r.coldRow(row.File, row.Index)
		}
		if err != nil {
			return true, err
		}
	}
	e.stats.pointGets.Add(it.Stats.IndexEntries)
	return true, it.Err()
}

// indexReady reports whether t has a ready index on column position col
// in the catalog (planning; the snapshot's index set decides at run time).
func indexReady(t *catalog.Table, col int) bool {
	for _, ix := range t.Indexes {
		if ix.State == catalog.IndexReady && ix.ColumnID == t.Columns[col].ID {
			return true
		}
	}
	return false
}
