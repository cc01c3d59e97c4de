package engine

// This file holds the cold-tier commands: the flush/compaction commit that
// moves a scope's manifest pointer (and drops the flushed hot rows in the
// same batch), the guard that makes DML see cold rows deterministically,
// and the storage/job catalog operations.
//
// Invariants:
//   - A scope's manifest pointer lives in the scope's data group
//     (keys.ColdPointer) and only ColdCommit changes it, by compare-and-set
//     on its version, so a flush that lost a race simply fails and leaves
//     orphan objects.
//   - ColdCommit deletes exactly the hot keys whose _seq is still the one
//     the flush read: a row changed during the flush stays hot, and is
//     newer than its flushed copy.
//   - A command with a ColdGuard applies only if the scope's pointer
//     version is still the one the proposer read the cold rows at, so the
//     cold rows it carries (RowWrite.Cold) are exactly the committed state.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// ColdPointer is the committed cold state of one scope.
type ColdPointer struct {
	Version   uint64 `json:"version"`
	StorageID string `json:"storage_id"`
	// Manifest is the object key of the current manifest version ("" when
	// the scope has no segments left).
	Manifest string `json:"manifest"`
	Segments int    `json:"segments"`
}

// DecodeColdPointer parses a pointer value (nil -> zero pointer).
func DecodeColdPointer(v []byte) (ColdPointer, error) {
	var p ColdPointer
	if len(v) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(v, &p); err != nil {
		return p, fmt.Errorf("corrupt cold pointer: %w", err)
	}
	return p, nil
}

// ReadColdPointer reads a scope's pointer from a snapshot, batch or DB.
func ReadColdPointer(r pebble.Reader, key []byte) (ColdPointer, error) {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		return ColdPointer{}, nil
	}
	if err != nil {
		return ColdPointer{}, err
	}
	defer closer.Close()
	return DecodeColdPointer(v)
}

// PurgeKey is a hot key to delete if its _seq is still Seq.
type PurgeKey struct {
	Key []byte `json:"key"`
	Seq uint64 `json:"seq"`
}

// ColdCommit commits a flush or compaction (Pointer set) or purges hot
// rows only (Pointer nil: stream TTL eviction).
type ColdCommit struct {
	Pointer     []byte       `json:"pointer,omitempty"`
	PrevVersion uint64       `json:"prev_version"`
	New         *ColdPointer `json:"new,omitempty"`
	Purge       []PurgeKey   `json:"purge,omitempty"`
}

// ColdGuard pins the scope's cold state a DML proposer read.
type ColdGuard struct {
	Pointer []byte `json:"pointer"`
	Version uint64 `json:"version"`
}

func (a *applier) coldPointer(key []byte) (ColdPointer, error) {
	v, err := a.get(key)
	if err != nil {
		return ColdPointer{}, err
	}
	return DecodeColdPointer(v)
}

func (a *applier) checkGuard(g *ColdGuard) error {
	p, err := a.coldPointer(g.Pointer)
	if err != nil {
		return err
	}
	if p.Version != g.Version {
		return &Error{Kind: ErrConflict, Msg: "cold tier changed concurrently", Row: -1}
	}
	return nil
}

func (a *applier) setKey(key, val []byte) error {
	if err := a.b.Set(key, val, nil); err != nil {
		return err
	}
	if a.overlay != nil {
		a.overlay[string(key)] = val
	}
	return nil
}

func (a *applier) applyCold(c *ColdCommit) (Result, error) {
	prefix := keys.GroupPrefix(a.group)
	if c.Pointer != nil {
		if len(c.Pointer) < 2 || c.Pointer[0] != prefix[0] || c.Pointer[1] != prefix[1] || c.New == nil {
			return Result{}, applyErr(ErrInvalid, "cold commit outside group %d", a.group)
		}
		p, err := a.coldPointer(c.Pointer)
		if err != nil {
			return Result{}, err
		}
		if p.Version != c.PrevVersion || c.New.Version <= p.Version {
			return Result{}, &Error{Kind: ErrConflict, Row: -1,
				Msg: fmt.Sprintf("cold manifest moved to version %d (commit expected %d)", p.Version, c.PrevVersion)}
		}
		data, err := json.Marshal(c.New)
		if err != nil {
			return Result{}, err
		}
		if err := a.setKey(c.Pointer, data); err != nil {
			return Result{}, err
		}
	}
	for _, p := range c.Purge {
		if len(p.Key) < 2 || p.Key[0] != prefix[0] || p.Key[1] != prefix[1] {
			return Result{}, applyErr(ErrInvalid, "purge key outside group %d", a.group)
		}
	}
	// Live-query resume: remember how far history was purged (horizon.go).
	if err := a.raiseHorizons(c); err != nil {
		return Result{}, err
	}
	seqs, contiguous, err := a.currentSeqs(c.Purge)
	if err != nil {
		return Result{}, err
	}
	if err := a.purgeIndexEntries(c.Purge, seqs); err != nil {
		return Result{}, err
	}
	res := Result{}
	if contiguous && len(c.Purge) > 1 {
		// Every key in [first, last] is purged with its flushed _seq and no
		// other key lives in between: one range tombstone instead of a
		// point tombstone per row, so later scans of the scope skip the
		// whole span at once.
		first, last := c.Purge[0].Key, c.Purge[len(c.Purge)-1].Key
		if err := a.b.DeleteRange(first, append(append([]byte(nil), last...), 0), nil); err != nil {
			return Result{}, err
		}
		var deleted [][]byte
		for _, p := range c.Purge {
			if _, ok := a.overlay[string(p.Key)]; ok {
				a.overlay[string(p.Key)] = nil
			} else {
				deleted = append(deleted, p.Key)
			}
		}
		if len(deleted) > 0 {
			a.purged = append(a.purged, deleted)
		}
		res.Purged = len(c.Purge)
		return res, nil
	}
	var deleted [][]byte
	for i, p := range c.Purge {
		if seqs[i] != p.Seq {
			continue // changed (or gone) since the flush read it: stays hot
		}
		if err := a.b.Delete(p.Key, nil); err != nil {
			return Result{}, err
		}
		if a.overlay != nil {
			if _, ok := a.overlay[string(p.Key)]; ok {
				a.overlay[string(p.Key)] = nil
			} else {
				deleted = append(deleted, p.Key)
			}
		}
		res.Purged++
	}
	if len(deleted) > 0 {
		if !sort.SliceIsSorted(deleted, func(i, j int) bool { return bytes.Compare(deleted[i], deleted[j]) < 0 }) {
			sort.Slice(deleted, func(i, j int) bool { return bytes.Compare(deleted[i], deleted[j]) < 0 })
		}
		a.purged = append(a.purged, deleted)
	}
	return res, nil
}

// isPurged reports whether key was purged earlier in this round.
func (a *applier) isPurged(key []byte) bool {
	for _, set := range a.purged {
		i := sort.Search(len(set), func(i int) bool { return bytes.Compare(set[i], key) >= 0 })
		if i < len(set) && bytes.Equal(set[i], key) {
			return true
		}
	}
	return false
}

// currentSeqs returns the current _seq of each key (0 when absent or a
// deleted key), reading the round's overlay first and storage through one
// iterator, without copying row values: flush commits purge up to a
// million keys. contiguous reports that the keys are sorted, all still
// carry the expected _seq, and no other key exists between the first and
// the last (so a range deletion is exact).
func (a *applier) currentSeqs(ps []PurgeKey) (out []uint64, contiguous bool, err error) {
	out = make([]uint64, len(ps))
	if len(ps) == 0 {
		return out, false, nil
	}
	sorted := true
	for i := 1; i < len(ps) && sorted; i++ {
		sorted = bytes.Compare(ps[i-1].Key, ps[i].Key) < 0
	}
	if a.overlay == nil || !sorted || len(a.dropped) > 0 {
		for i, p := range ps {
			v, err := a.get(p.Key)
			if err != nil {
				return nil, false, err
			}
			out[i], _ = rowcodec.SeqOf(v)
		}
		return out, false, nil
	}
	upper := append(append([]byte(nil), ps[len(ps)-1].Key...), 0)
	contiguous = len(a.purged) == 0 && len(a.overlay) <= 1<<16
	if contiguous {
		// An overlay key inside the range that is not purged here would be
		// erased by a range deletion.
		inList := make(map[string]struct{}, 0)
		for k := range a.overlay {
			if k >= string(ps[0].Key) && k < string(upper) {
				if len(inList) == 0 {
					for _, p := range ps {
						inList[string(p.Key)] = struct{}{}
					}
				}
				if _, ok := inList[k]; !ok {
					contiguous = false
					break
				}
			}
		}
	}
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: ps[0].Key, UpperBound: upper})
	if err != nil {
		return nil, false, err
	}
	defer it.Close()
	valid := it.First()
	for i, p := range ps {
		for valid && bytes.Compare(it.Key(), p.Key) < 0 {
			contiguous = false // a key the flush did not see
			valid = it.SeekGE(p.Key)
		}
		onKey := valid && bytes.Equal(it.Key(), p.Key)
		if v, ok := a.overlay[string(p.Key)]; ok {
			out[i], _ = rowcodec.SeqOf(v)
		} else if a.isPurged(p.Key) {
			out[i] = 0
		} else if onKey {
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, false, err
			}
			out[i], _ = rowcodec.SeqOf(v)
		}
		if out[i] != p.Seq {
			contiguous = false
		}
		if onKey {
			valid = it.Next()
		}
	}
	if valid {
		contiguous = false
	}
	return out, contiguous, it.Error()
}

// applyStorageCatalog handles CREATE/ALTER/DROP STORAGE and job records.
func (a *applier) applyStorageCatalog(cw *CatalogWrite) (Result, error) {
	switch cw.Op {
	case CatCreateStorage, CatAlterStorage:
		var s catalog.Storage
		ok, err := a.getJSON(catalog.RecStorage, cw.Storage.ID, &s)
		if err != nil {
			return Result{}, err
		}
		if cw.Op == CatCreateStorage && ok {
			if cw.IfNotExists {
				return Result{Skipped: true}, nil
			}
			return Result{}, applyErr(ErrAlreadyExists, "storage '%s' already exists", cw.Storage.ID)
		}
		if cw.Op == CatAlterStorage && !ok {
			return Result{}, applyErr(ErrNotFound, "storage '%s' not found", cw.Storage.ID)
		}
		return Result{}, a.putJSON(catalog.RecStorage, cw.Storage.ID, cw.Storage)
	case CatDropStorage:
		var s catalog.Storage
		ok, err := a.getJSON(catalog.RecStorage, cw.Storage.ID, &s)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			if cw.IfExists {
				return Result{Skipped: true}, nil
			}
			return Result{}, applyErr(ErrNotFound, "storage '%s' not found", cw.Storage.ID)
		}
		if cw.Storage.ID == "local" {
			return Result{}, applyErr(ErrInvalid, "the built-in storage 'local' cannot be dropped")
		}
		p := keys.CatalogPrefix(catalog.RecTable)
		it, err := a.b.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
		if err != nil {
			return Result{}, err
		}
		for it.First(); it.Valid(); it.Next() {
			var t catalog.Table
			if err := json.Unmarshal(it.Value(), &t); err != nil {
				it.Close()
				return Result{}, err
			}
			if t.StorageID == cw.Storage.ID {
				it.Close()
				return Result{}, applyErr(ErrInvalid, "storage '%s' is used by table %s", cw.Storage.ID, t.QualifiedName())
			}
		}
		if err := it.Close(); err != nil {
			return Result{}, err
		}
		return Result{}, a.b.Delete(keys.Catalog(catalog.RecStorage, cw.Storage.ID), nil)
	case CatPutJob:
		return Result{}, a.putJSON(catalog.RecJob, cw.Job.ID, cw.Job)
	case CatDeleteJob:
		return Result{}, a.b.Delete(keys.Catalog(catalog.RecJob, cw.Job.ID), nil)
	}
	return Result{}, applyErr(ErrInvalid, "unknown catalog op %d", cw.Op)
}
