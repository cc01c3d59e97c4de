package cold

import (
	"bytes"
	"container/heap"
	"sort"
)

// Cursor merges a scope's segments in primary-key order (ascending or
// descending) within [Lo, Hi) and yields, per key, the row with the
// highest _seq, tombstones included (the caller hides them).
type Cursor struct {
	desc   bool
	lo, hi []byte
	h      srcHeap
	// current winner
	f   *File
	row int
	pk  []byte
	ok  bool
	// chain mode (disjoint segments): spans walked in order.
	isChain bool
	chain   []span
	ci      int
	keyDone bool
	buf     [8]byte
	spanBuf [8]byte
}

type source struct {
	f    *File
	i    int
	end  int // exclusive for asc; for desc i counts down to end (inclusive lower)
	buf  [8]byte
	key  []byte
	desc bool
}

func (s *source) valid() bool {
	if s.desc {
		return s.i >= s.end
	}
	return s.i < s.end
}

func (s *source) load() { s.key = s.f.PKAt(s.i, &s.buf) }

func (s *source) step() {
	if s.desc {
		s.i--
	} else {
		s.i++
	}
	if s.valid() {
		s.load()
	}
}

type srcHeap struct {
	s    []*source
	desc bool
}

func (h *srcHeap) Len() int { return len(h.s) }
func (h *srcHeap) Less(i, j int) bool {
	c := bytes.Compare(h.s[i].key, h.s[j].key)
	if c == 0 {
		// Same key: the higher _seq first, so the winner surfaces.
		return h.s[i].f.Seq(h.s[i].i) > h.s[j].f.Seq(h.s[j].i)
	}
	if h.desc {
		return c > 0
	}
	return c < 0
}
func (h *srcHeap) Swap(i, j int) { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *srcHeap) Push(x any)    { h.s = append(h.s, x.(*source)) }
func (h *srcHeap) Pop() any {
	x := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return x
}

// NewCursor positions a cursor on the first row in order. lo and hi are
// encoded key bounds (nil = open; hi exclusive).
//
// When the segments' key ranges do not overlap (the common case: keys
// grow over time, or a compacted scope) the cursor walks them one after
// the other without a heap and computes keys only when asked (Key).
func NewCursor(files []*File, lo, hi []byte, desc bool) *Cursor {
	c := &Cursor{desc: desc, lo: lo, hi: hi, h: srcHeap{desc: desc}}
	if chain := disjoint(files); chain != nil {
		c.initChain(chain, lo, hi)
		return c
	}
	for _, f := range files {
		start, end := f.Range(lo, hi)
		if start >= end {
			continue
		}
		s := &source{f: f, desc: desc}
		if desc {
			s.i, s.end = end-1, start
		} else {
			s.i, s.end = start, end
		}
		s.load()
		c.h.s = append(c.h.s, s)
	}
	heap.Init(&c.h)
	c.Next()
	return c
}

// Valid reports whether the cursor is on a row.
func (c *Cursor) Valid() bool { return c.ok }

// disjoint returns files sorted by key range when no two ranges overlap.
func disjoint(files []*File) []*File {
	if len(files) == 0 {
		return nil
	}
	s := append([]*File(nil), files...)
	sort.Slice(s, func(i, j int) bool { return bytes.Compare(s[i].Meta.MinPK, s[j].Meta.MinPK) < 0 })
	for i := 1; i < len(s); i++ {
		if bytes.Compare(s[i-1].Meta.MaxPK, s[i].Meta.MinPK) >= 0 {
			return nil
		}
	}
	return s
}

// chain state: spans[k] is [start, end) of chain file k within bounds.
type span struct {
	f          *File
	start, end int
}

func (c *Cursor) initChain(files []*File, lo, hi []byte) {
	for _, f := range files {
		if start, end := f.Range(lo, hi); start < end {
			c.chain = append(c.chain, span{f, start, end})
		}
	}
	c.isChain = true
	if c.desc {
		c.ci = len(c.chain) - 1
		if c.ci >= 0 {
			c.row = c.chain[c.ci].end - 1
		}
	} else if len(c.chain) > 0 {
		c.row = c.chain[0].start
	}
	c.settleChain()
}

func (c *Cursor) settleChain() {
	for c.ci >= 0 && c.ci < len(c.chain) {
		sp := &c.chain[c.ci]
		if c.row >= sp.start && c.row < sp.end {
			c.f, c.ok, c.keyDone = sp.f, true, false
			return
		}
		if c.desc {
			c.ci--
			if c.ci >= 0 {
				c.row = c.chain[c.ci].end - 1
			}
		} else {
			c.ci++
			if c.ci < len(c.chain) {
				c.row = c.chain[c.ci].start
			}
		}
	}
	c.ok = false
}

// File and Row locate the current row; Key is its encoded key (valid until
// Next).
func (c *Cursor) File() *File { return c.f }

// Row is the current row index in File.
func (c *Cursor) Row() int { return c.row }

// Key is the current encoded primary key.
func (c *Cursor) Key() []byte {
	if c.isChain && !c.keyDone {
		c.pk = append(c.pk[:0], c.f.PKAt(c.row, &c.buf)...)
		c.keyDone = true
	}
	return c.pk
}

// Span reports, for an ascending cursor walking disjoint segments, the
// rows of the current segment from Row() to the bound as [Row(), end) and
// the key of its last row (valid until Next/SkipSpan): no other segment
// holds a key in that range, so a caller that knows no newer version
// touches it may consume the rows at once. ok=false when the cursor merges
// overlapping segments, runs descending or is done.
func (c *Cursor) Span() (end int, last []byte, ok bool) {
	if !c.isChain || c.desc || !c.ok {
		return 0, nil, false
	}
	sp := &c.chain[c.ci]
	return sp.end, sp.f.PKAt(sp.end-1, &c.spanBuf), true
}

// SkipSpan moves past the rest of the current segment (see Span).
func (c *Cursor) SkipSpan() {
	if !c.isChain || c.desc || !c.ok {
		c.Next()
		return
	}
	c.row = c.chain[c.ci].end
	c.settleChain()
}

// Next moves to the next distinct key.
func (c *Cursor) Next() {
	if c.isChain {
		if c.desc {
			c.row--
		} else {
			c.row++
		}
		c.settleChain()
		return
	}
	if len(c.h.s) == 0 {
		c.ok = false
		return
	}
	top := c.h.s[0]
	c.f, c.row, c.ok = top.f, top.i, true
	c.pk = append(c.pk[:0], top.key...)
	// Advance every source sitting on this key (older versions lose).
	for len(c.h.s) > 0 && bytes.Equal(c.h.s[0].key, c.pk) {
		s := c.h.s[0]
		s.step()
		if s.valid() {
			heap.Fix(&c.h, 0)
		} else {
			heap.Pop(&c.h)
		}
	}
}
