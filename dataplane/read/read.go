// Package read is the one read path of the data plane, the way engine is
// the one write path: every query path (the SQLite virtual table, the
// point-lookup fast path, the aggregate pushdown, DML that reads before it
// writes) reads a table's rows through it, so the rules below hold in one
// place. Only engine, read, flush and backup touch Pebble keys, rowcodec
// headers and cold segments.
//
// Invariants:
//
//  1. Scope. A Source reads one scope: the key prefix of one table
//     partition (a USER table's caller, a SHARED or STREAM table's shared
//     partition; keys.ScopePrefix). Keys outside it are never returned.
//  2. One snapshot. Every read of a Source comes from one pebble.Reader
//     (the statement's snapshot) and the cold View named by the scope's
//     pointer in that same snapshot, so a row is never seen twice or
//     missed across the flush that moves it from hot to cold.
//  3. Hot wins. Any hot version of a key — a live row or a tombstone — is
//     newer than every cold version: the flush commit removes a hot row
//     only when it is unchanged since it was written to a segment. On
//     equal keys the hot version is the answer and the cold one is
//     dropped.
//  4. Tombstones hide. A tombstone on either side (rowcodec header
//     Deleted, or a segment row's _deleted) hides its key; iterators and
//     Get never return one, unless the caller asks for tombstones
//     (ScanOptions.Tombstones, GetVersion): a query filtering on
//     _deleted reads soft-deleted rows, as the original KalamDB's does.
//     A tombstone is then returned in place of its key's older versions
//     (it is still the newest version; Row.Deleted is set) and keeps the
//     column values of the row it deleted (a tombstone written before
//     that, or a segment tombstone flushed from one, reads NULLs).
//  5. Order. Rows come in primary-key order (the byte order of
//     keys.EncodePK), ascending or descending, each key at most once.
//  6. Index scans are range reads. A secondary index names a superset of
//     the matching keys in key order (entries of the value plus, for a
//     column added later, the "absent" entries of older rows); the rows
//     are read by one iterator stepping forward through those keys (a seek
//     only when the next key is far), never by a Get per key; on a dense
//     run of named keys the scan returns the rows as the iterator steps,
//     re-reading the index every few rows (index.go), so it may return
//     rows the index does not name, never a row outside [Lo, Hi). Callers
//     re-check every predicate, the indexed one included.
//  7. Statistics answer only what nothing newer can change: a cold
//     segment's manifest statistics stand for its rows only when no other
//     segment overlaps it (Manifest.Isolated) and no hot version (row or
//     tombstone) has a key inside its range (HotIn).
//
// Values returned by an iterator (Row.Key, Row.Value) are valid until the
// iterator moves; copy them to keep them.
package read

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Source is one scope as one snapshot sees it (invariants 1 and 2).
type Source struct {
	// Reader is the statement's snapshot (or a batch/DB in tests).
	Reader pebble.Reader
	// Scope is the row key prefix of the partition (keys.ScopePrefix).
	Scope []byte
	// Cold is the scope's cold state in the same snapshot; nil or empty
	// reads the hot tier only.
	Cold *cold.View
}

// Row is one visible row version: a hot row (Value set) or a segment row
// (File, Index). A run (End > Index) stands for the segment rows
// [Index, End), none of which has a hot version (ScanOptions.Runs).
type Row struct {
	// Key is the encoded primary key.
	Key []byte
	// Value is the hot row's rowcodec encoding; nil for a segment row.
	Value []byte
	// File and Index locate a segment row.
	File  *cold.File
	Index int
	// End > Index marks a run of segment rows [Index, End); Key is then
	// the run's first key.
	End int
	// Deleted marks a tombstone (returned only when asked for).
	Deleted bool
}

// Hot reports whether the row is a hot row.
func (r Row) Hot() bool { return r.Value != nil }

// IsRun reports whether the row stands for a run of segment rows.
func (r Row) IsRun() bool { return r.End > r.Index }

// Stats counts what one iterator did (callers add them to their metrics).
type Stats struct {
	// HotRows and ColdRows count the row versions looked at, tombstones
	// and rows of runs included.
	HotRows, ColdRows int64
	// IndexEntries counts index entries read; Seeks the hot-tier seeks
	// (the rest of the keys were reached by stepping).
	IndexEntries, Seeks int64
}

// ScanOptions bounds a scan.
type ScanOptions struct {
	// Lo and Hi bound the primary keys to [Lo, Hi); nil is open.
	Lo, Hi []byte
	// Desc walks the keys in descending order.
	Desc bool
	// Keep restricts the cold segments read (statistics pruning); nil
	// keeps all that meet [Lo, Hi).
	Keep cold.SegmentFilter
	// Runs returns, when segments do not overlap, the rows of a segment
	// without tombstones that no hot version touches as one Row with End
	// set (ascending only): callers can aggregate them column by column.
	Runs bool
	// Files, when non-nil, are the segments to merge (already selected by
	// the caller, e.g. with PlanCold); Keep is then ignored.
	Files []*cold.File
	// Tombstones returns each key's newest version even when it is a
	// tombstone (Row.Deleted set) instead of hiding the key (invariant 4).
	Tombstones bool
}

// Iter walks the visible rows of a scan or an index scan (invariants 3–6).
type Iter struct {
	src  Source
	desc bool
	runs bool
	// tombs returns tombstones instead of hiding their keys.
	tombs bool
	// hot is the hot side of a scan (nil for an index scan).
	hot      *pebble.Iterator
	hotValid bool
	// cur is the cold side (nil: no segments).
	cur *cold.Cursor
	// ix feeds an index scan's hot candidates; seek reads their rows and
	// checks cold candidates for a hot version.
	ix    *indexSource
	seek  seeker
	dense denseRun
	row   Row
	ok    bool
	err   error
	// keyBuf holds the current row's key when its source moves on.
	keyBuf []byte
	// Stats accumulates over the iterator's life.
	Stats Stats
}

// denseRun is the state of an index scan's dense run (index.go).
type denseRun struct {
	// on: rows come from the seeker's iterator, not from the index.
	on bool
	// pending: step the iterator before the next row (the caller held
	// the current one).
	pending bool
	// run counts index keys in a row found one step away; since counts
	// rows since the run last checked the index.
	run, since int
}

// Valid reports whether the iterator is on a row.
func (it *Iter) Valid() bool { return it.ok }

// Row is the current row (valid until Next).
func (it *Iter) Row() Row { return it.row }

// Err is the first error met; the iterator is then not Valid.
func (it *Iter) Err() error { return it.err }

// Close releases the iterator's Pebble iterators.
func (it *Iter) Close() error {
	var errs []error
	if it.hot != nil {
		errs = append(errs, it.hot.Close())
		it.hot = nil
	}
	if it.seek.it != nil {
		errs = append(errs, it.seek.it.Close())
		it.seek.it = nil
	}
	if it.ix != nil {
		errs = append(errs, it.ix.close())
		it.ix = nil
	}
	it.ok = false
	return errors.Join(errs...)
}

// coldFiles returns the segments a scan of [lo, hi) merges.
func (s Source) coldFiles(ctx context.Context, o ScanOptions) ([]*cold.File, error) {
	if o.Files != nil || s.Cold.Empty() {
		return o.Files, nil
	}
	files, err := s.Cold.FilesWhere(ctx, o.Lo, o.Hi, o.Keep)
	if err != nil {
		return nil, fmt.Errorf("while loading the cold segments: %w", err)
	}
	return files, nil
}

// Scan returns an iterator over the visible rows with keys in
// [o.Lo, o.Hi), hot and cold merged.
func (s Source) Scan(ctx context.Context, o ScanOptions) (*Iter, error) {
	files, err := s.coldFiles(ctx, o)
	if err != nil {
		return nil, err
	}
	hot, err := s.hotIter(o.Lo, o.Hi)
	if err != nil {
		return nil, err
	}
	it := &Iter{src: s, desc: o.Desc, runs: o.Runs && !o.Desc, tombs: o.Tombstones, hot: hot}
	if len(files) > 0 {
		it.cur = cold.NewCursor(files, o.Lo, o.Hi, o.Desc)
	}
	if o.Desc {
		it.hotValid = hot.Last()
	} else {
		it.hotValid = hot.First()
	}
	it.settleScan()
	return it, nil
}

// hotIter returns an iterator over the scope's hot row keys in [lo, hi)
// (nil: open).
func (s Source) hotIter(lo, hi []byte) (*pebble.Iterator, error) {
	lower, upper := s.Scope, keys.PrefixEnd(s.Scope)
	if lo != nil {
		lower = keys.Row(s.Scope, lo)
	}
	if hi != nil {
		upper = keys.Row(s.Scope, hi)
	}
	return s.Reader.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
}

// Next moves to the next visible row.
func (it *Iter) Next() {
	if !it.ok {
		return
	}
	if it.ix != nil {
		it.settleIndex()
		return
	}
	switch {
	case it.row.IsRun():
		it.cur.SkipSpan()
	case it.row.Hot():
		it.stepHot()
	default:
		it.cur.Next()
	}
	it.settleScan()
}

func (it *Iter) stepHot() {
	if it.desc {
		it.hotValid = it.hot.Prev()
	} else {
		it.hotValid = it.hot.Next()
	}
}

// hotKey is the hot iterator's current primary key.
func (it *Iter) hotKey() []byte { return it.hot.Key()[len(it.src.Scope):] }

// settleScan positions on the next visible row of a scan, starting at the
// current positions of both sides.
func (it *Iter) settleScan() {
	it.ok = false
	for {
		coldOK := it.cur != nil && it.cur.Valid()
		if !it.hotValid && !coldOK {
			it.err = it.hot.Error()
			return
		}
		if coldOK && it.runs {
			// The hot side is at its smallest unmerged key: past the
			// segment's last key, no hot version falls in the rest of it.
			if end, last, ok := it.cur.Span(); ok && it.cur.File().Meta.Tombstones == 0 && (!it.hotValid || bytes.Compare(it.hotKey(), last) > 0) {
				it.Stats.ColdRows += int64(end - it.cur.Row())
				it.row = Row{Key: it.cur.Key(), File: it.cur.File(), Index: it.cur.Row(), End: end}
				it.ok = true
				return
			}
		}
		useHot := it.hotValid
		if it.hotValid && coldOK {
			c := bytes.Compare(it.hotKey(), it.cur.Key())
			if c == 0 {
				it.Stats.ColdRows++
				it.cur.Next() // invariant 3: the hot version is newer
				continue
			}
			useHot = (c < 0) != it.desc
		}
		if useHot {
			it.Stats.HotRows++
			v, err := it.hot.ValueAndErr()
			if err != nil {
				it.err = err
				return
			}
			h, err := rowcodec.ReadHeader(v)
			if err != nil {
				it.err = fmt.Errorf("while reading a hot row header: %w", err)
				return
			}
			if h.Deleted && !it.tombs {
				it.stepHot()
				continue
			}
			it.row = Row{Key: it.hotKey(), Value: v, Deleted: h.Deleted}
			it.ok = true
			return
		}
		it.Stats.ColdRows++
		f, r := it.cur.File(), it.cur.Row()
		del := f.Deleted(r)
		if del && !it.tombs {
			it.cur.Next()
			continue
		}
		it.row = Row{Key: it.cur.Key(), File: f, Index: r, Deleted: del}
		it.ok = true
		return
	}
}

// Get returns the visible version of primary key pk (pkVal is its value,
// for the segments' bloom filters); ok=false when none is visible. A hot
// row's Value is copied into buf (reused when large enough).
func (s Source) Get(ctx context.Context, pk []byte, pkVal any, buf []byte) (row Row, ok bool, err error) {
	return s.GetVersion(ctx, pk, pkVal, buf, false)
}

// GetVersion is Get that, with tombstones, returns the key's newest
// version even when it is a tombstone (Row.Deleted set; invariant 4).
func (s Source) GetVersion(ctx context.Context, pk []byte, pkVal any, buf []byte, tombstones bool) (row Row, ok bool, err error) {
	val, closer, err := s.Reader.Get(keys.Row(s.Scope, pk))
	if err == nil {
		buf = append(buf[:0], val...)
		if cerr := closer.Close(); cerr != nil {
			return Row{}, false, cerr
		}
		h, err := rowcodec.ReadHeader(buf)
		if err != nil {
			return Row{}, false, fmt.Errorf("while reading a hot row header: %w", err)
		}
		if h.Deleted && !tombstones {
			return Row{}, false, nil
		}
		return Row{Key: pk, Value: buf, Deleted: h.Deleted}, true, nil
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return Row{}, false, err
	}
	f, r, found, err := s.Cold.Lookup(ctx, pk, pkVal)
	if err != nil {
		return Row{}, false, fmt.Errorf("while looking a key up in the cold segments: %w", err)
	}
	if !found || (f.Deleted(r) && !tombstones) {
		return Row{}, false, nil
	}
	return Row{Key: pk, File: f, Index: r, Deleted: f.Deleted(r)}, true, nil
}

// HotIn reports whether the scope has a hot version (row or tombstone)
// with a key in [minPK, maxPK] (invariant 7). It answers true when in
// doubt.
func (s Source) HotIn(minPK, maxPK []byte) bool {
	it, err := s.Reader.NewIter(&pebble.IterOptions{LowerBound: keys.Row(s.Scope, minPK), UpperBound: append(keys.Row(s.Scope, maxPK), 0)})
	if err != nil {
		return true
	}
	defer it.Close()
	return it.First() || it.Error() != nil
}

// PlanCold selects the segments a scan of [lo, hi) reads: segments keep
// rejects are skipped; segments statsOK accepts and no hot version
// touches are returned apart (statsOnly) for the caller to answer from
// their manifest statistics (invariant 7). Pass the files to
// ScanOptions.Files.
func (s Source) PlanCold(ctx context.Context, lo, hi []byte, keep cold.SegmentFilter, statsOK func(*cold.Segment) bool) (files []*cold.File, statsOnly []*cold.Segment, err error) {
	if s.Cold.Empty() {
		return []*cold.File{}, nil, nil
	}
	sel := func(m *cold.Manifest, i int) bool {
		if keep != nil && !keep(m, i) {
			return false
		}
		seg := &m.Segments[i]
		// A segment other segments overlap may hold versions they hide.
		if statsOK != nil && m.Isolated(i) && statsOK(seg) && !s.HotIn(seg.MinPK, seg.MaxPK) {
			statsOnly = append(statsOnly, seg)
			return false
		}
		return true
	}
	files, err = s.Cold.FilesWhere(ctx, lo, hi, sel)
	if err != nil {
		return nil, nil, fmt.Errorf("while loading the cold segments: %w", err)
	}
	if files == nil {
		files = []*cold.File{}
	}
	return files, statsOnly, nil
}

// tombstone reports whether the hot row encoding v is a tombstone.
func tombstone(v []byte) (bool, error) {
	h, err := rowcodec.ReadHeader(v)
	if err != nil {
		return false, fmt.Errorf("while reading a hot row header: %w", err)
	}
	return h.Deleted, nil
}

// EncodeCold re-encodes segment row (f, row) of table t as a hot row value
// (stamped with its cold _seq): DML that replaces a cold-only row ships it
// as the version it compares against. Columns the segment predates get
// their projected values.
func EncodeCold(t *catalog.Table, f *cold.File, row int) ([]byte, error) {
	if err := f.LoadAll(); err != nil {
		return nil, fmt.Errorf("while decoding segment %s: %w", f.Meta.Path, err)
	}
	cols := make([]rowcodec.Column, 0, len(t.Columns))
	proj := catalog.NewProjection(t)
	for i, c := range t.Columns {
		ci := f.ColumnIndex(c.ID)
		var v any
		if ci < 0 {
			v = proj.Fill(i, f.Meta.SchemaVersion)
		} else {
			v = f.Value(row, ci)
		}
		if v != nil {
			cols = append(cols, rowcodec.Column{ID: c.ID, Value: v})
		}
	}
	return rowcodec.Encode(f.Seq(row), false, t.SchemaVersion, cols)
}

// TableUsers lists, in byte order, the users that have rows of the
// per-user table in r: a hot row or tombstone in their scope, or a cold
// manifest pointer. It costs one seek per user and group, so a read of
// every user's rows (a privileged SELECT of a USER table) can visit each
// user's scope as one Source.
func TableUsers(r pebble.Reader, table uint32) ([]string, error) {
	groups := keys.AllDataGroups()[1:] // the user groups, in key order
	// One iterator over the user groups, positioned by seeks: an iterator
	// per prefix costs more than the seeks (64 prefixes).
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: keys.GroupPrefix(groups[0]), UpperBound: keys.GroupEnd(groups[len(groups)-1])})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, g := range groups {
		for _, p := range [][]byte{keys.TablePrefix(g, table), keys.ColdPointerPrefix(g, table, false)} {
			for valid := it.SeekGE(p); valid && bytes.HasPrefix(it.Key(), p); {
				rest := it.Key()[len(p):]
				i := bytes.IndexByte(rest, 0)
				if i < 0 {
					valid = it.Next()
					continue
				}
				seen[string(rest[:i])] = true
				valid = it.SeekGE(keys.PrefixEnd(it.Key()[:len(p)+i+1]))
			}
		}
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	slices.Sort(out)
	return out, nil
}
