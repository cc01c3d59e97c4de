package sql

// This file merges a scope's cold segments into the kalam vtab cursor.
// When a scope has no cold segments (or the engine has no cold tier) the
// cursor runs its hot-only path unchanged; otherwise the hot iterator and
// a cold.Cursor over the segments are merged by primary key. Any hot
// version of a key is newer than every cold version (the flush commit
// removes a hot row only if it is unchanged since it was flushed), so on
// equal keys the hot row wins; tombstones on either side hide the key.

import (
	"bytes"
	"context"

	"github.com/cockroachdb/pebble/v2"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// coldMerge is the cold side of a merged scan.
type coldMerge struct {
	scope []byte
	cur   *cold.Cursor
	// hotValid says whether the hot iterator is on a row not yet merged.
	hotValid bool
	// fromCold is set when the current row comes from a segment.
	fromCold bool
	f        *cold.File
	row      int
	// colIdx maps table positions to segment columns, per file; idx is
	// the current file's.
	colIdx map[*cold.File][]int
	idx    []int
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

// coldFilter runs Filter when the scope has cold segments; handled=false
// sends the caller down the hot-only path.
func (c *kalamCursor) coldFilter(idxNum int, scope []byte, vals []vtab.Value) (handled bool, err error) {
	cs := c.t.cs
	c.minSeq = streamCutoff(c.t.table, cs.eng.nowMs())
	uid := ""
	if c.t.table.Type.PerUser() {
		uid = cs.sess.UserID
	}
	view, err := cs.eng.coldView(context.Background(), cs.snap, c.t.table, uid)
	if err != nil {
		return true, err
	}
	if view.Empty() {
		return false, nil
	}
	cm := &coldMerge{scope: scope, colIdx: map[*cold.File][]int{}}
	if idxNum&planEq != 0 {
		col := c.t.table.Columns[c.t.pkIdx]
		v, err := datatype.Coerce(col.Type, vals[0])
		if err != nil || v == nil {
			c.eof = true
			return true, nil
		}
		pk, err := keys.EncodePK(v)
		if err != nil {
			c.eof = true
			return true, nil
		}
		cs.eng.stats.pointGets.Add(1)
		val, closer, err := cs.snap.Get(keys.Row(scope, pk))
		if err == nil {
			c.point = append(c.point[:0], val...)
			closer.Close()
			ok, err := c.load(c.point)
			c.eof = !ok
			return true, err
		}
		if err != pebble.ErrNotFound {
			return true, err
		}
		f, row, ok, err := view.Lookup(context.Background(), pk, v)
		if err != nil {
			return true, err
		}
		if !ok || f.Deleted(row) {
			c.eof = true
			return true, nil
		}
		c.cm = cm
		c.eof = !c.setCold(f, row)
		return true, nil
	}
	lower, upper := c.pkRange(idxNum, scope, vals)
	var lo, hi []byte
	if len(lower) > len(scope) {
		lo = lower[len(scope):]
	}
	if !bytes.Equal(upper, keys.PrefixEnd(scope)) {
		hi = upper[len(scope):]
	}
	files, err := view.FilesWhere(context.Background(), lo, hi, c.segmentFilter(view))
	if err != nil {
		return true, err
	}
	cs.eng.stats.rangeScans.Add(1)
	it, err := cs.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return true, err
	}
	c.it, c.desc = it, idxNum&planDesc != 0
	cm.cur = cold.NewCursor(files, lo, hi, c.desc)
	if c.desc {
		cm.hotValid = it.Last()
	} else {
		cm.hotValid = it.First()
	}
	c.cm = cm
	return true, c.mergeSettle()
}

// setCold makes (f, row) the current row if it passes the pre-filters.
func (c *kalamCursor) setCold(f *cold.File, row int) bool {
	cm := c.cm
	idx, ok := cm.idx, cm.f == f && cm.idx != nil
	if !ok {
		idx, ok = cm.colIdx[f]
	}
	if !ok {
		idx = make([]int, len(c.t.table.Columns))
		for i, col := range c.t.table.Columns {
			idx[i] = f.ColumnIndex(col.ID)
		}
		cm.colIdx[f] = idx
	}
	c.read++
	for _, flt := range c.filters {
		if flt.col < len(idx) && !flt.match(c.coldValue(f, row, idx, flt.col)) {
			return false
		}
	}
	cm.fromCold, cm.f, cm.row, cm.idx = true, f, row, idx
	c.seq = f.Seq(row)
	c.rowid++
	return true
}

// mergeSettle moves to the next visible row of the merge.
func (c *kalamCursor) mergeSettle() error {
	cm := c.cm
	for {
		coldOK := cm.cur.Valid()
		if !cm.hotValid && !coldOK {
			c.eof = true
			return c.it.Error()
		}
		useHot := cm.hotValid
		if cm.hotValid && coldOK {
			cmp := bytes.Compare(c.it.Key()[len(cm.scope):], cm.cur.Key())
			if cmp == 0 {
				cm.cur.Next() // the hot version is newer
			} else if (cmp > 0) != c.desc {
				useHot = false
			}
		}
		if useHot {
			v, err := c.it.ValueAndErr()
			if err != nil {
				return err
			}
			cm.fromCold = false
			ok, err := c.load(v)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			cm.hotValid = c.step()
			continue
		}
		f, row := cm.cur.File(), cm.cur.Row()
		if !f.Deleted(row) && c.setCold(f, row) {
			return nil
		}
		cm.cur.Next()
	}
}

// mergeNext advances past the current row.
func (c *kalamCursor) mergeNext() error {
	cm := c.cm
	if cm.cur == nil { // point lookup served from cold
		c.eof = true
		return nil
	}
	if cm.fromCold {
		cm.cur.Next()
	} else {
		cm.hotValid = c.step()
	}
	return c.mergeSettle()
}

// coldColumn returns column i of a row served from a segment.
func (c *kalamCursor) coldColumn(i int) (vtab.Value, error) {
	cm := c.cm
	if v, ok := sysColumn(i, len(c.offs), c.seq); ok {
		return v, nil
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
