package read

import (
	"bytes"
	"context"
	"errors"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// IndexOptions describes an index scan: the rows whose index entries hold
// one value, within a primary-key range.
type IndexOptions struct {
	// Index is the ready index's id (ReadyIndex).
	Index uint32
	// Value is the indexed value encoded by keys.EncodeIndexValue.
	Value []byte
	// Absent adds the entries of rows stored before the indexed column
	// existed (their value is the column's projected default: the caller
	// re-checks them).
	Absent bool
	// Lo and Hi bound the primary keys to [Lo, Hi); nil is open.
	Lo, Hi []byte
	// Desc walks the keys in descending order.
	Desc bool
	// Keep restricts the cold segments read; the index covers hot rows
	// only, so every cold row of a kept segment is a candidate.
	Keep cold.SegmentFilter
	// steps overrides maxSteps (benchmarks; <0: seek every key).
	steps int
}

// ReadyIndex returns the ready index on column col of table in the index
// set of scope's data group as r sees it, or nil (no set, no such index,
// or not ready yet): a plan made from the catalog can be older or newer
// than the snapshot, so the snapshot decides.
func ReadyIndex(r pebble.Reader, scope []byte, table, col uint32) (*engine.IndexSpec, error) {
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

// IndexScan returns an iterator over the visible rows the index names for
// o.Value (invariant 6), merged with the cold rows of the kept segments
// that have no hot version. The index only covers the hot tier: every
// cold candidate is returned and the caller re-checks it.
func (s Source) IndexScan(ctx context.Context, o IndexOptions) (*Iter, error) {
	base := keys.IndexPrefix(keys.IndexScopeOf(s.Scope), o.Index)
	prefixes := [][]byte{append(slices.Clip(base), o.Value...)}
	if o.Absent {
		prefixes = append(prefixes, append(slices.Clip(base), keys.IndexAbsent))
	}
	files, err := s.coldFiles(ctx, ScanOptions{Lo: o.Lo, Hi: o.Hi, Keep: o.Keep})
	if err != nil {
		return nil, err
	}
	ix := &indexSource{desc: o.Desc}
	for _, p := range prefixes {
		lower, upper := p, keys.PrefixEnd(p)
		if o.Lo != nil {
			lower = append(slices.Clip(p), o.Lo...)
		}
		if o.Hi != nil {
			upper = append(slices.Clip(p), o.Hi...)
		}
		pit, err := s.Reader.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			_ = ix.close()
			return nil, err
		}
		e := &indexEntries{it: pit, plen: len(p), prefix: p}
		if o.Desc {
			e.ok = pit.Last()
		} else {
			e.ok = pit.First()
		}
		ix.src = append(ix.src, e)
	}
	// The rows iterator keeps to [Lo, Hi): a dense run returns the rows it
	// steps over, and callers do not re-check the key range.
	rows, err := s.hotIter(o.Lo, o.Hi)
	if err != nil {
		_ = ix.close()
		return nil, err
	}
	steps := maxSteps
	if o.steps != 0 {
		steps = max(o.steps, 0)
	}
	it := &Iter{src: s, desc: o.Desc, ix: ix, seek: seeker{it: rows, scope: s.Scope, desc: o.Desc, steps: steps}}
	if len(files) > 0 {
		it.cur = cold.NewCursor(files, o.Lo, o.Hi, o.Desc)
	}
	it.ok = true
	it.settleIndex()
	return it, nil
}

// indexEntries streams the primary keys of one index prefix.
type indexEntries struct {
	it     *pebble.Iterator
	plen   int
	ok     bool
	prefix []byte
	key    []byte
}

func (e *indexEntries) pk() []byte { return e.it.Key()[e.plen:] }

// indexSource merges the primary keys of one or two index prefixes in key
// order.
type indexSource struct {
	src  []*indexEntries
	desc bool
}

// head returns the prefix stream with the next key (nil: none left).
func (x *indexSource) head() *indexEntries {
	var best *indexEntries
	for _, e := range x.src {
		if !e.ok {
			continue
		}
		if best == nil {
			best = e
			continue
		}
		c := bytes.Compare(e.pk(), best.pk())
		if (c < 0) != x.desc && c != 0 {
			best = e
		}
	}
	return best
}

func (x *indexSource) err() error {
	for _, e := range x.src {
		if err := e.it.Error(); err != nil {
			return err
		}
	}
	return nil
}

func (x *indexSource) close() error {
	var errs []error
	for _, e := range x.src {
		errs = append(errs, e.it.Close())
	}
	x.src = nil
	return errors.Join(errs...)
}

// seekGE positions every stream on its first key >= pk (ascending).
func (x *indexSource) seekGE(pk []byte) {
	for _, e := range x.src {
		e.key = append(append(e.key[:0], e.prefix...), pk...)
		e.ok = e.it.SeekGE(e.key)
	}
}

// advance moves every stream sitting on pk past it.
func (x *indexSource) advance(pk []byte) {
	for _, e := range x.src {
		if e.ok && bytes.Equal(e.pk(), pk) {
			if x.desc {
				e.ok = e.it.Prev()
			} else {
				e.ok = e.it.Next()
			}
		}
	}
}

// Dense runs. When the index has named denseAfter keys in a row that were
// each the hot tier's next key, an ascending index scan stops reading the
// index and returns the hot rows as they come (a superset: the caller
// re-checks every predicate), reading one entry every resyncEvery rows to
// see whether the run goes on; when it does not, the scan goes back to the
// index from there. One user's 10k consecutive rows then cost 10k row
// steps and no index steps; a run's end costs at most resyncEvery rows the
// index does not name.
const (
	denseAfter  = 32
	resyncEvery = 64
)

// settleIndex positions an index scan on its next visible row: the hot
// candidates the index names merged in key order with cold candidates.
// Both kinds are checked against the hot tier through one seeker moving
// in one direction, since the merged keys are monotonic.
func (it *Iter) settleIndex() {
	it.ok = false
	if it.dense.on && it.dense.pending {
		it.denseStep()
	}
	for {
		var hk []byte // the next hot candidate's key (nil: none)
		var h *indexEntries
		if it.dense.on {
			if it.seek.valid {
				hk = it.seek.it.Key()[len(it.seek.scope):]
			}
		} else if h = it.ix.head(); h != nil {
			hk = h.pk()
		}
		coldOK := it.cur != nil && it.cur.Valid()
		if hk == nil && !coldOK {
			it.err = errors.Join(it.ix.err(), it.seek.it.Error())
			return
		}
		useHot := hk != nil
		if useHot && coldOK {
			c := bytes.Compare(hk, it.cur.Key())
			if c == 0 {
				it.Stats.ColdRows++
				it.cur.Next() // invariant 3: the hot version is newer
				continue
			}
			useHot = (c < 0) != it.desc
		}
		if useHot && it.dense.on {
			it.Stats.HotRows++
			it.keyBuf = append(it.keyBuf[:0], hk...)
			v, err := it.seek.it.ValueAndErr()
			if err != nil {
				it.err = err
				return
			}
			if deleted, err := tombstone(v); err != nil || deleted {
				if it.err = err; err != nil {
					return
				}
				it.denseStep()
				continue
			}
			it.dense.pending = true // step when the caller is done with v
			it.row = Row{Key: it.keyBuf, Value: v}
			it.ok = true
			return
		}
		if useHot {
			it.Stats.IndexEntries++
			it.keyBuf = append(it.keyBuf[:0], hk...)
			it.ix.advance(it.keyBuf)
			v, found, err := it.seek.at(it.keyBuf, &it.Stats)
			if err != nil {
				it.err = err
				return
			}
			if !found {
				it.dense.run = 0
				continue // an entry always has its row; tolerate a miss
			}
			if it.seek.stepped == 1 {
				it.dense.run++
			} else {
				it.dense.run = 0
			}
			if it.dense.run >= denseAfter && !it.desc {
				it.dense.on, it.dense.since = true, 0
			}
			it.Stats.HotRows++
			if deleted, err := tombstone(v); err != nil || deleted {
				if it.err = err; err != nil {
					return
				}
				it.dense.pending = it.dense.on
				if it.dense.on {
					it.denseStep()
				}
				continue
			}
			it.dense.pending = it.dense.on
			it.row = Row{Key: it.keyBuf, Value: v}
			it.ok = true
			return
		}
		it.Stats.ColdRows++
		f, r := it.cur.File(), it.cur.Row()
		it.keyBuf = append(it.keyBuf[:0], it.cur.Key()...)
		it.cur.Next()
		if f.Deleted(r) {
			continue
		}
		// A hot version of the key (live or tombstone) is newer: it hides
		// this cold row (and if it matches, the index named it). In a
		// dense run the seeker sits on the next hot key, past this one.
		_, found, err := it.seek.at(it.keyBuf, &it.Stats)
		if err != nil {
			it.err = err
			return
		}
		if found {
			continue
		}
		it.row = Row{Key: it.keyBuf, File: f, Index: r}
		it.ok = true
		return
	}
}

// denseStep moves a dense run to the next hot key and, every resyncEvery
// rows, checks with the index whether the run goes on.
func (it *Iter) denseStep() {
	it.dense.pending = false
	it.seek.valid = it.seek.it.Next()
	if !it.seek.valid {
		// No hot key is left, so no entry can name one: the hot side is done.
		for _, e := range it.ix.src {
			e.ok = false
		}
		return
	}
	it.dense.since++
	if it.dense.since < resyncEvery {
		return
	}
	it.dense.since = 0
	pk := it.seek.it.Key()[len(it.seek.scope):]
	it.ix.seekGE(pk)
	it.Stats.IndexEntries++
	if h := it.ix.head(); h == nil || !bytes.Equal(h.pk(), pk) {
		// The run ended: the index leads again from the first key it
		// names at or after the seeker's position.
		it.dense.on, it.dense.run = false, 0
	}
}

// maxSteps is how many rows a seeker steps over before it seeks: a step
// costs a fraction of a seek (which descends the memtable skiplist and
// every level), so dense keys — one user's rows, one conversation — are
// read as a range.
const maxSteps = 16

// seeker finds hot rows by key for keys that come in monotonic order
// (ascending, or descending when desc), stepping its iterator when the
// next key is near and seeking when it is far.
type seeker struct {
	it    *pebble.Iterator
	scope []byte
	desc  bool
	steps int
	// pos says the iterator was positioned by an earlier call; valid is
	// its state; stepped is how many steps the last call took (-1: it
	// sought).
	pos, valid bool
	stepped    int
	key        []byte
}

// at returns the hot version (row or tombstone) of pk, valid until the
// next call; found=false when there is none. pk must not come before the
// previous call's key in the seeker's direction.
func (s *seeker) at(pk []byte, st *Stats) (v []byte, found bool, err error) {
	s.stepped = -1
	if s.pos {
		for i := 0; s.valid; i++ {
			c := bytes.Compare(s.it.Key()[len(s.scope):], pk)
			if s.desc {
				c = -c
			}
			if c == 0 {
				s.stepped = i
				v, err := s.it.ValueAndErr()
				return v, err == nil, err
			}
			if c > 0 {
				return nil, false, nil // passed it: there is none
			}
			if i == s.steps {
				break
			}
			if s.desc {
				s.valid = s.it.Prev()
			} else {
				s.valid = s.it.Next()
			}
		}
		if !s.valid {
			return nil, false, s.it.Error() // exhausted past the previous key
		}
	}
	st.Seeks++
	s.pos = true
	s.key = append(append(s.key[:0], s.scope...), pk...)
	if s.desc {
		s.valid = s.it.SeekLT(append(s.key, 0)) // the last key <= s.key
	} else {
		s.valid = s.it.SeekGE(s.key)
	}
	if !s.valid || !bytes.Equal(s.it.Key()[len(s.scope):], pk) {
		return nil, false, s.it.Error()
	}
	v, err = s.it.ValueAndErr()
	return v, err == nil, err
}
