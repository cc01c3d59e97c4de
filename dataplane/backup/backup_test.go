package backup

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  string
	}{
		{in: "s3://objstore/backups/prod", want: Target{StorageID: "objstore", Prefix: "backups/prod"}},
		{in: "s3://objstore", want: Target{StorageID: "objstore"}},
		{in: "s3://objstore/", want: Target{StorageID: "objstore"}},
		{in: "/var/backups/kalam/", want: Target{Path: "/var/backups/kalam"}},
		{in: "file:///var/backups", want: Target{Path: "/var/backups"}},
		{in: "s3:///prefix", err: "names no storage"},
		{in: "s3://bad.id/x", err: "invalid storage id"},
		{in: "s3://ok/../x", err: "invalid object key"},
		{in: "relative/path", err: "must be"},
		{in: "file://relative", err: "absolute"},
	} {
		got, err := ParseTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestChunkRoundTrip(t *testing.T) {
	var w chunkWriter
	w.add("alice", []byte{1, 2}, []byte("row-a"))
	w.add("", []byte{}, []byte("row-b"))
	recs, err := decodeChunk(w.buf.Bytes())
	if err != nil || len(recs) != 2 || recs[0].User != "alice" || string(recs[1].Row) != "row-b" {
		t.Fatalf("round trip: %+v %v", recs, err)
	}
	if _, err := decodeChunk(w.buf.Bytes()[:w.buf.Len()-2]); err == nil {
		t.Fatal("truncated chunk decoded")
	}
	newer := append([]byte("KBROWS\x02\n"), w.buf.Bytes()[len(chunkMagic):]...)
	if _, err := decodeChunk(newer); !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("newer chunk: %v", err)
	}
}

// TestChunkFitsBound: a record joins a chunk only while the chunk stays
// within the bound, recordLen is exactly what add appends, and an empty
// chunk takes a record larger than the bound (the row goes alone).
func TestChunkFitsBound(t *testing.T) {
	const limit = 100
	var w chunkWriter
	if !w.fits(recordLen("u", []byte{1}, make([]byte, 500)), limit) {
		t.Fatal("an empty chunk refused an oversize row")
	}
	w.add("u", []byte{1}, make([]byte, 40))
	before := w.buf.Len()
	n := recordLen("u", []byte{2}, make([]byte, 40))
	if !w.fits(n, limit) {
		t.Fatalf("a %d-byte record refused in a %d-byte chunk under %d", n, before, limit)
	}
	w.add("u", []byte{2}, make([]byte, 40))
	if w.buf.Len()-before != n {
		t.Fatalf("recordLen %d, add appended %d", n, w.buf.Len()-before)
	}
	if w.fits(recordLen("u", []byte{3}, make([]byte, 40)), limit) {
		t.Fatalf("a record accepted into a %d-byte chunk past the %d-byte bound", w.buf.Len(), limit)
	}
	if w.fits(recordLen("u", []byte{3}, make([]byte, 200)), limit) || recordLen("", nil, make([]byte, 200)) != 1+1+2+200 {
		t.Fatal("recordLen does not count multi-byte length prefixes")
	}
}

func TestDecodeManifestVersions(t *testing.T) {
	if _, err := DecodeManifest("backups/x/manifest.json", []byte(`{"format_version": 2}`)); !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "backups/x/manifest.json") {
		t.Fatalf("newer manifest: %v", err)
	}
	if _, err := DecodeManifest("k", []byte(`{`)); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt manifest: %v", err)
	}
}

// failingStore fails every Put of a key with the given suffix (an object
// store outage at the worst moment: the manifest write).
type failingStore struct {
	objstore.Store
	suffix string
	puts   atomic.Int64
}

func (f *failingStore) Put(ctx context.Context, key string, data []byte) error {
	f.puts.Add(1)
	if strings.HasSuffix(key, f.suffix) {
		return errors.New("injected outage")
	}
	return f.Store.Put(ctx, key, data)
}

func memDB(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestFailedBackupIsNeverComplete: when the manifest cannot be written the
// backup is listed failed, not completed, and restore refuses it.
func TestFailedBackupIsNeverComplete(t *testing.T) {
	ctx := context.Background()
	fs, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db := memDB(t)
	snap := db.NewSnapshot()
	defer snap.Close()
	bad := &failingStore{Store: fs, suffix: manifestName}
	if _, err := Backup(ctx, snap, nil, "test", time.Now(), BackupRequest{ID: "b1", Target: bad}); err == nil {
		t.Fatal("backup succeeded without a manifest")
	}
	list, err := List(ctx, fs)
	if err != nil || len(list) != 1 || list[0].Status != StatusFailed || !strings.Contains(list[0].Error, "injected outage") {
		t.Fatalf("list after failure: %+v %v", list, err)
	}
	if _, err := LoadManifest(ctx, fs, ""); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("restore candidate after failure: %v", err)
	}
	if _, err := LoadManifest(ctx, fs, "b1"); err == nil || !strings.Contains(err.Error(), "not complete") {
		t.Fatalf("load of failed backup: %v", err)
	}
	// A good backup into the same target reuses the catalog object.
	m, err := Backup(ctx, snap, nil, "test", time.Now(), BackupRequest{ID: "b2", Target: fs})
	if err != nil {
		t.Fatal(err)
	}
	if m.BytesReused == 0 || m.BytesUploaded != 0 {
		t.Fatalf("second backup uploaded %d, reused %d", m.BytesUploaded, m.BytesReused)
	}
	if _, _, err := Verify(ctx, RestoreRequest{Target: fs}); err != nil {
		t.Fatal(err)
	}
	// Retention: deleting the only complete backup frees its objects but
	// keeps young orphans of others (none here).
	if err := Delete(ctx, fs, "b2"); err != nil {
		t.Fatal(err)
	}
	if objs, _ := fs.List(ctx, objectsDir+"/"); len(objs) != 0 {
		t.Fatalf("objects left after deleting every backup: %v", objs)
	}
	if err := Delete(ctx, fs, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	a := NewID(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), 1)
	b := NewID(time.Date(2026, 1, 2, 3, 4, 5, 7e6, time.UTC), 0)
	if a >= b || ValidateID(a) != nil {
		t.Fatalf("ids %s %s", a, b)
	}
}

// TestBarrierBeforeSnapshot: in a cluster the barrier (a ReadIndex on every
// Raft group) runs before the snapshot is pinned, so the snapshot holds
// what the barrier waited for, and the manifest says so; a barrier that
// fails (no quorum) fails the backup before anything is written.
func TestBarrierBeforeSnapshot(t *testing.T) {
	ctx := context.Background()
	fs, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db := memDB(t)
	var order []string
	barrierErr := error(nil)
	s := NewService(Options{
		Stores: oneStore{fs},
		Barrier: func(context.Context) error {
			order = append(order, "barrier")
			return barrierErr
		},
		Snapshot: func() pebble.Reader {
			order = append(order, "snapshot")
			return db.NewSnapshot()
		},
	})
	defer s.Close()
	m, err := s.Backup(ctx, BackupRequest{ID: "b1", Target: fs})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "barrier,snapshot" || !m.ClusterBarrier {
		t.Fatalf("order %v, cluster_barrier %v", order, m.ClusterBarrier)
	}
	loaded, err := LoadManifest(ctx, fs, "b1")
	if err != nil || !loaded.ClusterBarrier {
		t.Fatalf("stored manifest: cluster_barrier %v (%v)", loaded != nil && loaded.ClusterBarrier, err)
	}
	order, barrierErr = nil, errors.New("meta could not reach a quorum")
	if _, err := s.Backup(ctx, BackupRequest{ID: "b2", Target: fs}); err == nil || !strings.Contains(err.Error(), "acknowledged before the backup") {
		t.Fatalf("backup with a failing barrier: %v", err)
	}
	if len(order) != 1 {
		t.Fatalf("a snapshot was taken after the barrier failed: %v", order)
	}
	if list, _ := List(ctx, fs); len(list) != 1 {
		t.Fatalf("a failed barrier left a backup behind: %+v", list)
	}
	// A single node has no barrier: no cluster_barrier in its manifest.
	single := NewService(Options{Stores: oneStore{fs}, Snapshot: func() pebble.Reader { return db.NewSnapshot() }})
	defer single.Close()
	if m, err := single.Backup(ctx, BackupRequest{ID: "b3", Target: fs}); err != nil || m.ClusterBarrier {
		t.Fatalf("single node: %v %v", m, err)
	}
}
