package cold

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// Reader loads manifests and segments through a bounded LRU cache.
// Objects are immutable, so a cached entry never goes stale: the cache key
// is (storage id, object key) and entries are only evicted for space.
type Reader struct {
	mu        sync.Mutex
	cap       int64
	size      int64
	lru       *list.List
	files     map[string]*list.Element
	manifests map[string]*Manifest
	// Stats count how reads reached storage (tests, metrics).
	Stats ReaderStats
}

// ReaderStats are cumulative counters.
type ReaderStats struct {
	// SegmentsFetched counts segment objects downloaded.
	SegmentsFetched atomic.Int64
	// SegmentsOpened counts segments consulted by point lookups after
	// manifest pruning (footer probe or cached decode).
	SegmentsOpened atomic.Int64
	// BloomSkips counts point lookups a footer probe (row-group stats or
	// bloom filter) ruled out without decoding the segment.
	BloomSkips atomic.Int64
	// CacheHits counts decoded segments served from memory.
	CacheHits atomic.Int64
	// SegmentsPruned counts segments a scan skipped because their column
	// statistics rule out every row (prune.go).
	SegmentsPruned atomic.Int64
}

type cacheEntry struct {
	key string
	f   *File
	// w is the entry's weight: decoded columns are loaded lazily, so the
	// cache charges an estimate (4x the compressed file) up front.
	w int64
}

// NewReader returns a reader whose decoded-segment cache holds about
// capBytes (0 disables caching).
func NewReader(capBytes int64) *Reader {
	return &Reader{cap: capBytes, lru: list.New(), files: map[string]*list.Element{}, manifests: map[string]*Manifest{}}
}

// Manifest returns the manifest object key of a storage.
func (r *Reader) Manifest(ctx context.Context, st objstore.Store, storageID, key string) (*Manifest, error) {
	ck := storageID + "\x00" + key
	r.mu.Lock()
	m, ok := r.manifests[ck]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	data, err := st.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("cold manifest %s: %w", key, err)
	}
	m, err = DecodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("cold manifest %s: %w", key, err)
	}
	r.mu.Lock()
	if len(r.manifests) > 4096 {
		// Manifests are small; dropping them all is simpler than an LRU
		// and only costs re-reads.
		r.manifests = map[string]*Manifest{}
	}
	r.manifests[ck] = m
	r.mu.Unlock()
	return m, nil
}

func (r *Reader) cached(ck string) *File {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.files[ck]; ok {
		r.lru.MoveToFront(el)
		return el.Value.(*cacheEntry).f
	}
	return nil
}

func (r *Reader) put(ck string, f *File) {
	if r.cap <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.files[ck]; ok {
		return
	}
	w := max(f.bytes.Load(), 4*f.Meta.SizeBytes)
	r.files[ck] = r.lru.PushFront(&cacheEntry{key: ck, f: f, w: w})
	r.size += w
	for r.size > r.cap && r.lru.Len() > 1 {
		el := r.lru.Back()
		e := el.Value.(*cacheEntry)
		r.lru.Remove(el)
		delete(r.files, e.key)
		r.size -= e.w
	}
}

// File returns the decoded segment, from cache or storage. A missing or
// corrupt object is a *SegmentError naming the segment.
func (r *Reader) File(ctx context.Context, st objstore.Store, storageID string, seg *Segment) (*File, error) {
	ck := storageID + "\x00" + seg.Path
	if f := r.cached(ck); f != nil {
		r.Stats.CacheHits.Add(1)
		return f, nil
	}
	data, err := r.fetch(ctx, st, seg)
	if err != nil {
		return nil, err
	}
	f, err := Decode(ctx, seg, data)
	if err != nil {
		return nil, err
	}
	r.put(ck, f)
	return f, nil
}

func (r *Reader) fetch(ctx context.Context, st objstore.Store, seg *Segment) ([]byte, error) {
	r.Stats.SegmentsFetched.Add(1)
	data, err := st.Get(ctx, seg.Path)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, &SegmentError{Path: seg.Path, Err: fmt.Errorf("file is missing from storage %s", st)}
	}
	if err != nil {
		return nil, &SegmentError{Path: seg.Path, Err: err}
	}
	if int64(len(data)) != seg.SizeBytes {
		return nil, &SegmentError{Path: seg.Path, Err: fmt.Errorf("file is %d bytes, manifest says %d", len(data), seg.SizeBytes)}
	}
	return data, nil
}

// Lookup finds pk in the scope's segments: only segments whose manifest
// key range holds pk are opened; an uncached one is probed through its
// footer (row-group stats, bloom filter) before it is decoded. It returns
// the newest version (which may be a tombstone), or ok=false.
func (r *Reader) Lookup(ctx context.Context, st objstore.Store, storageID string, m *Manifest, pk []byte, pkVal any) (f *File, row int, ok bool, err error) {
	var best uint64
	for i := range m.Segments {
		seg := &m.Segments[i]
		if !seg.MayContain(pk) {
			continue
		}
		r.Stats.SegmentsOpened.Add(1)
		ck := storageID + "\x00" + seg.Path
		sf := r.cached(ck)
		if sf == nil {
			data, err := r.fetch(ctx, st, seg)
			if err != nil {
				return nil, 0, false, err
			}
			may, err := ProbePK(seg, data, pkVal)
			if err != nil {
				return nil, 0, false, err
			}
			if !may {
				r.Stats.BloomSkips.Add(1)
				continue
			}
			if sf, err = Decode(ctx, seg, data); err != nil {
				return nil, 0, false, err
			}
			r.put(ck, sf)
		} else {
			r.Stats.CacheHits.Add(1)
		}
		if i, found := sf.Find(pk); found && sf.Seq(i) > best {
			f, row, ok, best = sf, i, true, sf.Seq(i)
		}
	}
	return f, row, ok, nil
}

// Purge empties the caches (benchmarks of cold reads, tests).
func (r *Reader) Purge() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lru.Init()
	r.files = map[string]*list.Element{}
	r.manifests = map[string]*Manifest{}
	r.size = 0
}
