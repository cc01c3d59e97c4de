package sql

import (
	"bytes"
	"context"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Aggregate pushdown over a secondary index.
//
// When the WHERE has an equality on a ready-indexed column (and none on the
// primary key), the pushdown reads only the rows the index names, with the
// same rules as the vtab's index scan (vtab_index.go):
//   - the index must be ready in the statement's snapshot (the data group's
//     index set), else the caller scans the scope as before;
//   - hot rows: the entries of the value (plus the "absent" entries of rows
//     stored before the column existed, whose projected default decides),
//     each row read by seeking one iterator through the sorted keys;
//   - cold rows: the merged scan of the segments statistics do not rule
//     out; a cold row counts only if no hot version (row or tombstone) of
//     its key exists, since a hot version is newer and, if it matches, the
//     index already named it.
// Every predicate, the indexed equality included, is re-checked on each
// row by accept, so the index only has to name a superset.

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
	_, scope := scopeOf(sess, t)
	snap := e.db.NewSnapshot()
	defer snap.Close()
	spec, err := readyIndex(snap, scope, t.ID, col.ID)
	if err != nil {
		return true, err
	}
	if spec == nil {
		return false, nil
	}
	e.stats.indexScans.Add(1)
	defer func() { e.stats.rowsRead.Add(r.read) }()
	base := keys.IndexPrefix(keys.IndexScopeOf(scope), spec.ID)
	prefixes := [][]byte{append(slices.Clip(base), enc...)}
	if col.AddedIn > 0 {
		prefixes = append(prefixes, append(slices.Clip(base), keys.IndexAbsent))
	}
	rows, err := snap.NewIter(&pebble.IterOptions{LowerBound: scope, UpperBound: keys.PrefixEnd(scope)})
	if err != nil {
		return true, err
	}
	defer rows.Close()
	var key []byte
	// hotAt positions rows on the hot version of pk; ok=false: none.
	hotAt := func(pk []byte) bool {
		key = append(append(key[:0], scope...), pk...)
		return rows.SeekGE(key) && bytes.Equal(rows.Key(), key)
	}
	for _, p := range prefixes {
		if err := e.aggIndexHot(snap, p, lo, hi, r, hotAt, rows); err != nil {
			return true, err
		}
	}
	if err := rows.Error(); err != nil {
		return true, err
	}
	uid := ""
	if t.Type.PerUser() {
		uid = sess.UserID
	}
	view, err := e.coldView(ctx, snap, t, uid)
	if err != nil || view.Empty() {
		return true, err
	}
	keep := func(m *cold.Manifest, i int) bool {
		if !m.Isolated(i) {
			return true // it may hold older versions another segment hides
		}
		seg := &m.Segments[i]
		for _, p := range r.preds {
			if !seg.MayMatch(t.Columns[p.col].ID, p.op, p.v) {
				view.Reader.Stats.SegmentsPruned.Add(1)
				return false
			}
		}
		return true
	}
	files, err := view.FilesWhere(ctx, lo, hi, keep)
	if err != nil {
		return true, err
	}
	for cur := cold.NewCursor(files, lo, hi, false); cur.Valid(); cur.Next() {
		if hotAt(cur.Key()) {
			continue // the hot version is newer
		}
		if err := rows.Error(); err != nil {
			return true, err
		}
		if err := r.coldRow(cur.File(), cur.Row()); err != nil {
			return true, err
		}
	}
	return true, rows.Error()
}

// aggIndexHot aggregates the live hot rows named by the index entries
// under prefix p whose primary key lies in [lo, hi).
func (e *Engine) aggIndexHot(snap *pebble.Snapshot, p, lo, hi []byte, r *aggRun, hotAt func([]byte) bool, rows *pebble.Iterator) error {
	lower, upper := p, keys.PrefixEnd(p)
	if lo != nil {
		lower = append(slices.Clip(p), lo...)
	}
	if hi != nil {
		upper = append(slices.Clip(p), hi...)
	}
	src, err := snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer src.Close()
	for ok := src.First(); ok; ok = src.Next() {
		e.stats.pointGets.Add(1)
		if !hotAt(src.Key()[len(p):]) {
			if err := rows.Error(); err != nil {
				return err
			}
			continue // an entry always has its row; tolerate a race-free miss
		}
		v, err := rows.ValueAndErr()
		if err != nil {
			return err
		}
		if err := r.hot(v); err != nil {
			return err
		}
	}
	return src.Error()
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
