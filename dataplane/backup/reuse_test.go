package backup

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// countingStore counts GETs of a table storage.
type countingStore struct {
	objstore.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

type oneStore struct{ s objstore.Store }

func (o oneStore) Store(string) (objstore.Store, error) { return o.s, nil }

// TestIncrementalBackupSkipsKnownSegments: a segment whose manifest entry
// carries its SHA-256 is not downloaded when the target already holds it;
// one without (an old manifest) still is.
func TestIncrementalBackupSkipsKnownSegments(t *testing.T) {
	ctx := context.Background()
	fs, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := &countingStore{Store: fs}
	target, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	seg1, seg2 := []byte("segment one"), []byte("segment two")
	for k, v := range map[string][]byte{"t/seg1.parquet": seg1, "t/seg2.parquet": seg2} {
		if err := fs.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	man := &cold.Manifest{Version: 1, Segments: []cold.Segment{
		{ID: 1, Path: "t/seg1.parquet", SizeBytes: int64(len(seg1)), SHA256: hashOf(seg1)},
		{ID: 2, Path: "t/seg2.parquet", SizeBytes: int64(len(seg2))}, // written before hashes were recorded
	}}
	data, err := man.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Put(ctx, "t/manifest-1.json", data); err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tbl := &catalog.Table{ID: 5, Namespace: "app", Name: "t", Type: catalog.TableShared}
	ptr, _ := json.Marshal(engine.ColdPointer{Version: 1, StorageID: "local", Manifest: "t/manifest-1.json", Segments: 2})
	if err := db.Set(keys.ColdPointer(keys.GroupShared, tbl.ID, "", false), ptr, nil); err != nil {
		t.Fatal(err)
	}
	run := func() (int64, *TableEntry) {
		t.Helper()
		up, err := newUploader(ctx, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		src.gets.Store(0)
		var te TableEntry
		if err := backupCold(ctx, db, oneStore{src}, up, tbl, keys.GroupShared, &te); err != nil {
			t.Fatal(err)
		}
		return src.gets.Load(), &te
	}
	if gets, te := run(); gets != 3 || len(te.Cold) != 1 || len(te.Cold[0].Segments) != 2 {
		t.Fatalf("first backup: %d GETs (want manifest + 2 segments), entry %+v", gets, te)
	}
	gets, te := run()
	if gets != 2 { // manifest + the segment without a recorded hash
		t.Fatalf("second backup: %d GETs, want 2", gets)
	}
	if got := te.Cold[0].Segments[0].Object; got.SHA256 != hashOf(seg1) || got.Size != int64(len(seg1)) {
		t.Fatalf("reused segment ref %+v", got)
	}
}
