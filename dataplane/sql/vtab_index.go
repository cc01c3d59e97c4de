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
//   - reads the matching primary keys from the index entries of the
//     caller's scope (plus entries of rows that predate the column, whose
//     value is the column's projected default: they are re-checked) and
//     point-gets each row from the snapshot;
//   - when the scope has cold segments, merges a cold scan of the segments
//     not ruled out by their statistics, keeping only cold rows that pass
//     the equality and have no hot version (a hot version is newer; if it
//     matches it came from the index).
// SQLite re-checks every constraint (Omit stays false), so the index only
// has to return a superset of the matching rows; it returns exactly the
// rows a full scan would pass to SQLite's check.

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// planIndex marks a secondary-index plan in idxNum.
const planIndex = 64

// indexScan is the state of a secondary-index scan.
type indexScan struct {
	scope []byte
	pks   [][]byte
	next  int
	// hotPK is the pk of the current hot candidate (nil: none left); it
	// aliases src's key when streaming.
	hotPK []byte
	// src streams the pks from the index range (plen: prefix length);
	// nil when they were materialised into pks.
	src     *pebble.Iterator
	plen    int
	started bool
	desc    bool
	// rows reads the hot rows by seeking one iterator through the sorted
	// keys: far cheaper than a Pebble Get (a new internal iterator) each.
	rows *pebble.Iterator
	key  []byte
}

// get returns the hot value at pk (nil: none), valid until the next call.
func (s *indexScan) get(pk []byte, desc bool) ([]byte, error) {
	s.key = append(append(s.key[:0], s.scope...), pk...)
	var ok bool
	if desc {
		ok = s.rows.SeekLT(append(s.key, 0)) // the last key <= s.key
	} else {
		ok = s.rows.SeekGE(s.key)
	}
	if !ok || !bytes.Equal(s.rows.Key(), s.key) {
		return nil, s.rows.Error()
	}
	return s.rows.ValueAndErr()
}

func (s *indexScan) close() {
	if s == nil {
		return
	}
	if s.rows != nil {
		s.rows.Close()
		s.rows = nil
	}
	if s.src != nil {
		s.src.Close()
		s.src = nil
	}
}

// srcErr reports an error of the streaming index iterator.
func (s *indexScan) srcErr() error {
	if s.src != nil {
		return s.src.Error()
	}
	return nil
}

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

// indexFilter runs Filter for a planIndex plan; handled=false sends the
// caller down the normal scan path.
func (c *kalamCursor) indexFilter(idxNum int, scope []byte) (handled bool, err error) {
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
	spec, err := readyIndex(cs.snap, scope, c.t.table.ID, col.ID)
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
	base := keys.IndexPrefix(keys.IndexScopeOf(scope), spec.ID)
	c.desc = idxNum&planDesc != 0
	c.ix = &indexScan{scope: scope, desc: c.desc}
	if c.ix.rows, err = cs.snap.NewIter(&pebble.IterOptions{LowerBound: scope, UpperBound: keys.PrefixEnd(scope)}); err != nil {
		return true, err
	}
	var absent [][]byte
	if col.AddedIn > 0 {
		// Rows stored before the column existed read its projected
		// default: return them too, SQLite's check decides.
		if absent, err = indexPKs(cs.snap, append(slices.Clip(base), keys.IndexAbsent)); err != nil {
			return true, err
		}
	}
	p := append(slices.Clip(base), enc...)
	if len(absent) == 0 {
		// Stream the pks from the index range.
		if c.ix.src, err = cs.snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)}); err != nil {
			return true, err
		}
		c.ix.plen = len(p)
	} else {
		pks, err := indexPKs(cs.snap, p)
		if err != nil {
			return true, err
		}
		pks = append(pks, absent...)
		slices.SortFunc(pks, bytes.Compare)
		if c.desc {
			slices.Reverse(pks)
		}
		c.ix.pks = pks
	}
	c.minSeq = streamCutoff(c.t.table, cs.eng.nowMs())
	uid := ""
	if c.t.table.Type.PerUser() {
		uid = cs.sess.UserID
	}
	view, err := cs.eng.coldView(context.Background(), cs.snap, c.t.table, uid)
	if err != nil {
		return true, err
	}
	if !view.Empty() {
		files, err := view.FilesWhere(context.Background(), nil, nil, c.segmentFilter(view))
		if err != nil {
			return true, err
		}
		c.cm = &coldMerge{scope: scope, colIdx: map[*cold.File][]int{}, cur: cold.NewCursor(files, nil, nil, c.desc)}
	}
	c.ix.advanceHot()
	return true, c.indexSettle()
}

// indexPKs returns the primary keys of the index entries under prefix p.
func indexPKs(snap *pebble.Snapshot, p []byte) ([][]byte, error) {
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, append([]byte(nil), it.Key()[len(p):]...))
	}
	return out, it.Error()
}

func (s *indexScan) advanceHot() {
	s.hotPK = nil
	if s.src != nil {
		var ok bool
		switch {
		case !s.started && s.desc:
			ok = s.src.Last()
		case !s.started:
			ok = s.src.First()
		case s.desc:
			ok = s.src.Prev()
		default:
			ok = s.src.Next()
		}
		s.started = true
		if ok {
			s.hotPK = s.src.Key()[s.plen:]
		}
		return
	}
	if s.next < len(s.pks) {
		s.hotPK = s.pks[s.next]
		s.next++
	}
}

// indexSettle moves to the next visible row: hot rows named by the index
// merged in key order with cold candidates.
func (c *kalamCursor) indexSettle() error {
	s, cm := c.ix, c.cm
	snap := c.t.cs.snap
	for {
		coldOK := cm != nil && cm.cur.Valid()
		if s.hotPK == nil && !coldOK {
			c.eof = true
			return s.srcErr()
		}
		useHot := s.hotPK != nil
		if useHot && coldOK {
			cmp := bytes.Compare(s.hotPK, cm.cur.Key())
			if cmp == 0 {
				cm.cur.Next() // the hot version is newer
				continue
			}
			useHot = (cmp < 0) != c.desc
		}
		if useHot {
			c.t.cs.eng.stats.pointGets.Add(1)
			v, err := s.get(s.hotPK, c.desc)
			if err != nil {
				return err
			}
			s.advanceHot() // moves src only: v stays valid
			if v == nil {
				continue
			}
			c.point = append(c.point[:0], v...)
			if cm != nil {
				cm.fromCold = false
			}
			ok, err := c.load(c.point)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			continue
		}
		f, row := cm.cur.File(), cm.cur.Row()
		key := cm.cur.Key()
		if f.Deleted(row) || !c.setCold(f, row) {
			cm.cur.Next()
			continue
		}
		// A hot version of the key (live or tombstone) is newer: it hides
		// this cold row (and if it matches, the index returned it).
		_, closer, err := snap.Get(keys.Row(s.scope, key))
		if err == nil {
			closer.Close()
			cm.fromCold = false
			cm.cur.Next()
			continue
		}
		if err != pebble.ErrNotFound {
			return err
		}
		return nil
	}
}

// indexNext advances an index scan past the current row.
func (c *kalamCursor) indexNext() error {
	if c.cm != nil && c.cm.fromCold {
		c.cm.cur.Next()
		c.cm.fromCold = false
	}
	return c.indexSettle()
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

// readyIndex returns the ready index on column col of table in the index
// set of scope's data group as the snapshot r sees it, or nil (no set, no
// such index, or not ready yet): the catalog a plan was made from can be
// older or newer than the snapshot, so the snapshot decides.
func readyIndex(r pebble.Reader, scope []byte, table, col uint32) (*engine.IndexSpec, error) {
	g := uint16(scope[0])<<8 | uint16(scope[1])
	set, err := engine.ReadIndexSet(r, g, table)
	if err != nil || set == nil {
		return nil, err
	}
	var spec *engine.IndexSpec
	for i := range set.Indexes {
		if set.Indexes[i].ColumnID == col && set.Indexes[i].Ready {
			spec = &set.Indexes[i]
		}
	}
	return spec, nil
}
