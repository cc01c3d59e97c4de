package cold

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// View is one scope's committed cold state as of a hot-tier snapshot: the
// manifest the scope's pointer named in that snapshot, and where to read
// its segments.
type View struct {
	StorageID string
	Store     objstore.Store
	Manifest  *Manifest
	Reader    *Reader
	// Version is the pointer version (the ColdGuard of DML proposals).
	Version uint64
}

// Empty reports whether the view has no segments.
func (v *View) Empty() bool { return v == nil || v.Manifest == nil || len(v.Manifest.Segments) == 0 }

// Files loads the segments whose key range meets [lo, hi) (nil = open).
// Uncached segments are fetched and decoded in parallel (one worker per
// CPU): a cold scan of many small segments is bound by decoding.
func (v *View) Files(ctx context.Context, lo, hi []byte) ([]*File, error) {
	if v.Empty() {
		return nil, nil
	}
	var segs []*Segment
	for i := range v.Manifest.Segments {
		if seg := &v.Manifest.Segments[i]; seg.Overlaps(lo, hi) {
			segs = append(segs, seg)
		}
	}
	return v.load(ctx, segs)
}

// load fetches and decodes segs in parallel.
func (v *View) load(ctx context.Context, segs []*Segment) ([]*File, error) {
	out := make([]*File, len(segs))
	errs := make([]error, len(segs))
	workers := min(runtime.GOMAXPROCS(0), len(segs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(segs) {
					return
				}
				out[i], errs[i] = v.Reader.File(ctx, v.Store, v.StorageID, segs[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Lookup returns the newest cold version of pk (possibly a tombstone).
func (v *View) Lookup(ctx context.Context, pk []byte, pkVal any) (*File, int, bool, error) {
	if v.Empty() {
		return nil, 0, false, nil
	}
	return v.Reader.Lookup(ctx, v.Store, v.StorageID, v.Manifest, pk, pkVal)
}
