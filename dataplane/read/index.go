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
		e := &indexEntries{it: pit, plen: len(p)}
		if o.Desc {
			e.ok = pit.Last()
		} else {
			e.ok = pit.First()
		}
		ix.src = append(ix.src, e)
	}
	rows, err := s.Reader.NewIter(&pebble.IterOptions{LowerBound: s.Scope, UpperBound: keys.PrefixEnd(s.Scope)})
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
	it   *pebble.Iterator
	plen int
	ok   bool
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

// settleIndex positions an index scan on its next visible row: the hot
// candidates the index names merged in key order with cold candidates.
// Both kinds are checked against the hot tier through one seeker moving
// in one direction, since the merged keys are monotonic.
func (it *Iter) settleIndex() {
	it.ok = false
	for {
		h := it.ix.head()
		coldOK := it.cur != nil && it.cur.Valid()
		if h == nil && !coldOK {
			it.err = errors.Join(it.ix.err(), it.seek.it.Error())
			return
		}
		useHot := h != nil
		if useHot && coldOK {
			c := bytes.Compare(h.pk(), it.cur.Key())
			if c == 0 {
				it.Stats.ColdRows++
				it.cur.Next() // invariant 3: the hot version is newer
				continue
			}
			useHot = (c < 0) != it.desc
		}
		if useHot {
			it.Stats.IndexEntries++
			it.keyBuf = append(it.keyBuf[:0], h.pk()...)
			it.ix.advance(it.keyBuf)
			v, found, err := it.seek.at(it.keyBuf, &it.Stats)
			if err != nil {
				it.err = err
				return
			}
			if !found {
				continue // an entry always has its row; tolerate a miss
			}
			it.Stats.HotRows++
			if deleted, err := tombstone(v); err != nil || deleted {
				if it.err = err; err != nil {
					return
				}
				continue
			}
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
		// this cold row (and if it matches, the index named it).
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
	// its state.
	pos, valid bool
	key        []byte
}

// at returns the hot version (row or tombstone) of pk, valid until the
// next call; found=false when there is none. pk must not come before the
// previous call's key in the seeker's direction.
func (s *seeker) at(pk []byte, st *Stats) (v []byte, found bool, err error) {
	if s.pos {
		for i := 0; s.valid; i++ {
			c := bytes.Compare(s.it.Key()[len(s.scope):], pk)
			if s.desc {
				c = -c
			}
			if c == 0 {
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
