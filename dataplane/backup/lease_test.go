package backup

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// TestTargetLeaseTwoServicesOnMinIO: two services share one MinIO target.
// While A's backup runs (held past two lease TTLs, so only renewal keeps
// the lease) B's retention is refused with ErrTargetLocked; once A is done
// B runs; a stale lease of a dead server expires and is taken over.
func TestTargetLeaseTwoServicesOnMinIO(t *testing.T) {
	srv, err := s3test.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	st, err := srv.Store(ctx, "leases", "")
	if err != nil {
		t.Fatal(err)
	}
	db := memDB(t)
	const ttl = 900 * time.Millisecond
	a := NewService(Options{Owner: "server-a", LeaseTTL: ttl, Stores: oneStore{st}, Snapshot: func() pebble.Reader { return db.NewSnapshot() }})
	defer a.Close()
	b := NewService(Options{Owner: "server-b", LeaseTTL: ttl, Stores: oneStore{st}})
	defer b.Close()
	const target = "s3://objstore/shared"
	_, tst, err := a.OpenTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	checked := make(chan error, 1)
	a.SetTestHooks(Hooks{AfterSnapshot: func() {
		time.Sleep(2 * ttl) // only renewal keeps A's lease alive now
		_, err := b.Prune(ctx, target, 0, 0)
		checked <- err
	}}, 0, nil)
	if _, err := a.Backup(ctx, BackupRequest{ID: "b1", Target: tst}); err != nil {
		t.Fatal(err)
	}
	if err := <-checked; !errors.Is(err, ErrTargetLocked) {
		t.Fatalf("retention during another server's backup: %v", err)
	}
	// A released its lease: B's retention runs (and deletes b1).
	deleted, err := b.Prune(ctx, target, 0, 0)
	if err != nil || len(deleted) != 1 {
		t.Fatalf("retention after the backup: %v %v", deleted, err)
	}
	// A dead server's lease blocks until it expires, then is taken over.
	rec, _ := json.Marshal(leaseRecord{Owner: "dead", Op: "backup x", ExpiresAt: time.Now().Add(ttl).UnixMilli()})
	if err := tst.Put(ctx, leaseKey, rec); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, target, "nope"); !errors.Is(err, ErrTargetLocked) {
		t.Fatalf("delete under a live foreign lease: %v", err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if err := b.Delete(ctx, target, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete after the stale lease expired: %v", err)
	}
	if _, err := tst.Get(ctx, leaseKey); err == nil {
		t.Fatal("lease left behind after release")
	}
}
