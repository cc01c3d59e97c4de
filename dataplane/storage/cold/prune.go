package cold

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"strconv"
)

// Pruning by column statistics.
//
// Invariant: a segment may be skipped because none of its rows can match a
// predicate only if no other segment's key range meets its own. A newer
// version of a key hides the older ones, so skipping a segment whose keys
// also live in an older segment would expose those stale rows. Hot rows
// are unaffected (they win over every cold version anyway).

// Isolated reports whether segment i's key range meets no other segment's.
func (m *Manifest) Isolated(i int) bool {
	s := &m.Segments[i]
	for j := range m.Segments {
		if j == i {
			continue
		}
		o := &m.Segments[j]
		if string(o.MaxPK) >= string(s.MinPK) && string(o.MinPK) <= string(s.MaxPK) {
			return false
		}
	}
	return true
}

// Stat returns the segment's statistics of column id.
func (s *Segment) Stat(id uint32) (ColumnStat, bool) {
	st, ok := s.ColumnStats[strconv.FormatUint(uint64(id), 10)]
	return st, ok
}

// StatInt converts a statistics bound to an exact int64. Manifests are
// JSON, so integers come back as float64: only values within ±2^53 are
// exact.
func StatInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

// MayMatch reports whether a row of the segment can hold a value of
// column id satisfying `column op v` (op one of = < <= > >=; v an int64 or
// a string compared bytewise). It answers true whenever the statistics
// cannot decide (missing, inexact, boolean or binary columns).
func (s *Segment) MayMatch(id uint32, op string, v any) bool {
	st, ok := s.Stat(id)
	if !ok {
		return true // column added after the segment was written
	}
	if st.Min == nil || st.Max == nil {
		// All NULL (NULL matches no comparison), or no min/max kept.
		return st.NullCount < s.RowCount
	}
	var cmpMin, cmpMax int // sign of (min - v), (max - v)
	switch want := v.(type) {
	case int64:
		lo, ok1 := StatInt(st.Min)
		hi, ok2 := StatInt(st.Max)
		if !ok1 || !ok2 {
			return true
		}
		cmpMin, cmpMax = cmp.Compare(lo, want), cmp.Compare(hi, want)
	case string:
		lo, ok1 := st.Min.(string)
		hi, ok2 := st.Max.(string)
		if !ok1 || !ok2 {
			return true
		}
		cmpMin, cmpMax = cmp.Compare(lo, want), cmp.Compare(hi, want)
	default:
		return true
	}
	switch op {
	case "=", "==":
		return cmpMin <= 0 && cmpMax >= 0
	case "<":
		return cmpMin < 0
	case "<=":
		return cmpMin <= 0
	case ">":
		return cmpMax > 0
	case ">=":
		return cmpMax >= 0
	}
	return true
}

// SegmentFilter decides from a segment's manifest entry whether it must be
// read; i is its index in the manifest.
type SegmentFilter func(m *Manifest, i int) bool

// FilesWhere is Files restricted to the segments keep accepts (nil keeps
// all). Callers count what they prune (Stats.SegmentsPruned).
func (v *View) FilesWhere(ctx context.Context, lo, hi []byte, keep SegmentFilter) ([]*File, error) {
	if v.Empty() {
		return nil, nil
	}
	var segs []*Segment
	for i := range v.Manifest.Segments {
		seg := &v.Manifest.Segments[i]
		if !seg.Overlaps(lo, hi) {
			continue
		}
		if keep != nil && !keep(v.Manifest, i) {
			continue
		}
		segs = append(segs, seg)
	}
	return v.load(ctx, segs)
}
