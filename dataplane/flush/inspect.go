package flush

// This file answers questions about a whole table across both tiers and
// every scope: SHOW STATS FOR TABLE and the ALTER TABLE checks that must
// see existing rows (SET NOT NULL, ADD COLUMN ... NOT NULL without a
// default). Rows are projected onto the current definition exactly as
// readers do (catalog.Projection).

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// TableStats are the storage numbers of one table.
type TableStats struct {
	// HotRows counts live rows in the hot tier; HotTombstones deletions
	// not yet flushed.
	HotRows, HotTombstones int64
	// HotBytes is Pebble's estimate of the disk space of the hot rows.
	HotBytes uint64
	// ColdRows counts rows stored in committed segments (before
	// compaction this includes versions superseded by newer ones).
	ColdRows, ColdTombstones int64
	ColdSegments, ColdBytes  int64
	// ColdScopes counts scopes (users, or 1 for SHARED) with a manifest.
	ColdScopes int64
}

// dataGroups are the groups that can hold rows of t.
func dataGroups(t *catalog.Table) []uint16 {
	if t.Type.PerUser() {
		return keys.AllDataGroups()[1:]
	}
	return []uint16{keys.GroupShared}
}

// HotStats counts t's hot rows in r (a DB or snapshot).
func HotStats(r pebble.Reader, db *pebble.DB, t *catalog.Table) (TableStats, error) {
	var st TableStats
	for _, g := range dataGroups(t) {
		tp := keys.TablePrefix(g, t.ID)
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: keys.PrefixEnd(tp)})
		if err != nil {
			return st, err
		}
		for valid := it.First(); valid; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return st, err
			}
			h, err := rowcodec.ReadHeader(v)
			if err != nil {
				it.Close()
				return st, fmt.Errorf("while reading a hot row of %s: %w", t.QualifiedName(), err)
			}
			if h.Deleted {
				st.HotTombstones++
			} else {
				st.HotRows++
			}
		}
		if err := it.Close(); err != nil {
			return st, err
		}
		if db != nil {
			if n, err := db.EstimateDiskUsage(tp, keys.PrefixEnd(tp)); err == nil {
				st.HotBytes += n
			}
		}
	}
	return st, nil
}

// Stats returns t's numbers in both tiers.
func (m *Manager) Stats(ctx context.Context, t *catalog.Table) (TableStats, error) {
	st, err := HotStats(m.db, m.db, t)
	if err != nil {
		return st, err
	}
	users, err := m.coldScopes(t)
	if err != nil {
		return st, err
	}
	for _, u := range users {
		s, err := m.loadScope(ctx, m.db, t, u)
		if err != nil {
			return st, err
		}
		if len(s.man.Segments) == 0 {
			continue
		}
		st.ColdScopes++
		for _, seg := range s.man.Segments {
			st.ColdSegments++
			st.ColdRows += seg.RowCount - seg.Tombstones
			st.ColdTombstones += seg.Tombstones
			st.ColdBytes += seg.SizeBytes
		}
	}
	return st, nil
}

// HotNulls counts live hot rows of t whose column at position pos reads
// NULL under the current definition.
func HotNulls(r pebble.Reader, t *catalog.Table, pos int) (int64, error) {
	proj := catalog.NewProjection(t)
	// Only column pos is located and decoded (offs[0]).
	posByID := make([]int32, t.NextColumnID+1)
	for i := range posByID {
		posByID[i] = -1
	}
	posByID[t.Columns[pos].ID] = 0
	offs := make([]int32, 1)
	n := int64(0)
	for _, g := range dataGroups(t) {
		tp := keys.TablePrefix(g, t.ID)
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: keys.PrefixEnd(tp)})
		if err != nil {
			return 0, err
		}
		for valid := it.First(); valid; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return 0, err
			}
			h, err := rowcodec.Index(v, posByID, offs)
			if err != nil {
				it.Close()
				return 0, fmt.Errorf("while reading a hot row of %s: %w", t.QualifiedName(), err)
			}
			if h.Deleted {
				continue
			}
			val := rowcodec.DecodeAt(v, offs[0], true)
			if offs[0] < 0 {
				val = proj.Fill(pos, h.SchemaVersion)
			}
			if val == nil {
				n++
			}
		}
		if err := it.Close(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Nulls counts the live rows of t (hot and cold, every scope) whose column
// at pos reads NULL, exactly as ScanNulls does, but answers from manifest
// statistics where they are conclusive: it reads only the key ranges of
// segments that may hold a live NULL (cold.Segment.MayHoldLiveNull),
// merged with every segment overlapping them, and the hot rows.
func (m *Manager) Nulls(ctx context.Context, t *catalog.Table, pos int) (int64, error) {
	return m.nulls(ctx, t, pos, false)
}

// ScanNulls is the reference for Nulls: it reads column pos of every
// segment of every scope, whatever the statistics say.
func (m *Manager) ScanNulls(ctx context.Context, t *catalog.Table, pos int) (int64, error) {
	return m.nulls(ctx, t, pos, true)
}

// A cold row shadowed by a hot version of its key is judged by the hot
// version only.
func (m *Manager) nulls(ctx context.Context, t *catalog.Table, pos int, full bool) (int64, error) {
	snap := m.db.NewSnapshot()
	defer snap.Close()
	n, err := HotNulls(snap, t, pos)
	if err != nil {
		return 0, err
	}
	proj := catalog.NewProjection(t)
	id := t.Columns[pos].ID
	users, err := m.coldScopes(t)
	if err != nil {
		return 0, err
	}
	for _, u := range users {
		s, err := m.loadScope(ctx, snap, t, u)
		if err != nil {
			return 0, err
		}
		ranges := []keyRange{{}}
		if !full {
			ranges = nullRanges(s.man.Segments, id, func(v uint32) any { return proj.Fill(pos, v) })
		}
		scope := keys.ScopePrefix(s.group, t.ID, u, t.Type.PerUser())
		for _, r := range ranges {
			c, err := m.coldNulls(ctx, snap, s, scope, r, proj, pos, id)
			if err != nil {
				return 0, err
			}
			n += c
		}
	}
	return n, nil
}

// keyRange is [lo, hi) of encoded primary keys; nil bounds are open.
type keyRange struct{ lo, hi []byte }

// nullRanges returns the disjoint key ranges, in order, holding every
// segment that may have a live row reading NULL in column id; fill gives
// the value of the column in a segment of a schema version without it.
// Keys outside them are only in segments without such rows, so their
// newest cold version is a tombstone or not NULL.
func nullRanges(segs []cold.Segment, id uint32, fill func(schemaVersion uint32) any) []keyRange {
	var rs []keyRange
	for i := range segs {
		sg := &segs[i]
		if sg.MayHoldLiveNull(id, fill(sg.SchemaVersion)) {
			// The least key above MaxPK is MaxPK + 0x00.
			rs = append(rs, keyRange{lo: sg.MinPK, hi: append(append([]byte(nil), sg.MaxPK...), 0)})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return bytes.Compare(rs[i].lo, rs[j].lo) < 0 })
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && bytes.Compare(r.lo, out[k].hi) <= 0 {
			if bytes.Compare(r.hi, out[k].hi) > 0 {
				out[k].hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// coldNulls counts the keys in r of one scope whose newest cold version is
// live, reads NULL in column id (position pos) and has no hot version.
func (m *Manager) coldNulls(ctx context.Context, snap *pebble.Snapshot, s *scopeState, scope []byte, r keyRange, proj *catalog.Projection, pos int, id uint32) (int64, error) {
	var files []*cold.File
	for i := range s.man.Segments {
		if !s.man.Segments[i].Overlaps(r.lo, r.hi) {
			continue
		}
		f, err := m.reader.File(ctx, s.store, s.storage, &s.man.Segments[i])
		if err != nil {
			return 0, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return 0, nil
	}
	n := int64(0)
	for c := cold.NewCursor(files, r.lo, r.hi, false); c.Valid(); c.Next() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		f, row := c.File(), c.Row()
		if f.Deleted(row) {
			continue
		}
		ci := f.ColumnIndex(id)
		var v any
		var err error
		if ci < 0 {
			v = proj.Fill(pos, f.Meta.SchemaVersion)
		} else if v, err = f.ValueErr(row, ci); err != nil {
			return 0, err
		}
		if v != nil {
			continue
		}
		// NULL in cold: it counts unless a hot version shadows it.
		_, closer, err := snap.Get(keys.Row(scope, c.Key()))
		if err == nil {
			closer.Close()
			continue
		}
		if err != pebble.ErrNotFound {
			return 0, err
		}
		n++
	}
	return n, nil
}
