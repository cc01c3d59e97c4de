package replication

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// newTestHost is a Host without a NodeHost: enough to drive state
// machines directly, as dragonboat would.
func newTestHost(t testing.TB, fs vfs.FS) *Host {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cat, err := catalog.Load(db)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := engine.Open(db, cat, engine.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exec.Close)
	layout, err := NewLayout(2)
	if err != nil {
		t.Fatal(err)
	}
	return &Host{layout: layout, db: db, exec: exec, cat: cat, nonce: 7}
}

func nsEntry(t *testing.T, h *Host, index, id uint64, name string) sm.Entry {
	t.Helper()
	data, err := encodeEntry(h.nonce, id, &engine.Command{Group: keys.GroupMeta, TimeMs: 1700000000000,
		Catalog: &engine.CatalogWrite{Op: engine.CatCreateNamespace, Namespace: &catalog.Namespace{Name: name}}})
	if err != nil {
		t.Fatal(err)
	}
	return sm.Entry{Index: index, Cmd: data}
}

func TestStateMachineApplyAndReopen(t *testing.T) {
	fs := vfs.NewMem()
	h := newTestHost(t, fs)
	s := h.newStateMachine(ShardMeta, 1)
	if idx, err := s.Open(nil); err != nil || idx != 0 {
		t.Fatalf("fresh Open = %d, %v", idx, err)
	}
	w := &waiter{done: make(chan struct{})}
	h.waiters.Store(uint64(2), w)
	entries := []sm.Entry{
		nsEntry(t, h, 1, 1, "a"),
		nsEntry(t, h, 2, 2, "a"), // fails deterministically: exists
		{Index: 3, Cmd: []byte("garbage")},
		nsEntry(t, h, 4, 4, "b"),
	}
	out, err := s.Update(entries)
	if err != nil {
		t.Fatal(err)
	}
	if got := []uint64{out[0].Result.Value, out[1].Result.Value, out[2].Result.Value, out[3].Result.Value}; got[0] != 1 || got[1] != 0 || got[2] != 0 || got[3] != 1 {
		t.Fatalf("results %v, want [1 0 0 1]", got)
	}
	<-w.done
	if !errors.Is(w.err, engine.ErrAlreadyExists) {
		t.Fatalf("local waiter got %v, want ErrAlreadyExists", w.err)
	}
	for _, n := range []string{"a", "b"} {
		if _, ok := h.cat.Namespace(n); !ok {
			t.Fatalf("namespace %s not in the catalog cache after apply", n)
		}
	}
	// The applied index is persisted with the data: a new state machine
	// over the same storage reports the last entry of the batch.
	if idx, err := h.newStateMachine(ShardMeta, 1).Open(nil); err != nil || idx != 4 {
		t.Fatalf("reopen = %d, %v; want 4", idx, err)
	}
	// Another replica id must not adopt this range.
	if _, err := h.newStateMachine(ShardMeta, 9).Open(nil); err == nil {
		t.Fatal("Open accepted a range stamped by another replica")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	src := newTestHost(t, vfs.NewMem())
	s := src.newStateMachine(ShardMeta, 1)
	if _, err := s.Update([]sm.Entry{nsEntry(t, src, 1, 1, "x"), nsEntry(t, src, 2, 2, "y")}); err != nil {
		t.Fatal(err)
	}
	ctx, err := s.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Written after the snapshot was prepared: not in it.
	if _, err := s.Update([]sm.Entry{nsEntry(t, src, 3, 3, "late")}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.SaveSnapshot(ctx, &buf, nil); err != nil {
		t.Fatal(err)
	}

	dst := newTestHost(t, vfs.NewMem())
	d := dst.newStateMachine(ShardMeta, 2)
	// Stale state on the receiver is replaced, not merged.
	if _, err := d.Update([]sm.Entry{nsEntry(t, dst, 1, 1, "stale")}); err != nil {
		t.Fatal(err)
	}
	if err := d.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]bool{"x": true, "y": true, "late": false, "stale": false} {
		if _, ok := dst.cat.Namespace(n); ok != want {
			t.Errorf("namespace %s present=%v after recovery, want %v", n, ok, want)
		}
	}
	if idx, err := dst.newStateMachine(ShardMeta, 2).Open(nil); err != nil || idx != 2 {
		t.Fatalf("Open after recovery = %d, %v; want 2 stamped with replica 2", idx, err)
	}
	// The executor continues from the recovered state.
	if _, err := d.Update([]sm.Entry{nsEntry(t, dst, 3, 3, "z")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := dst.cat.Namespace("z"); !ok {
		t.Fatal("apply after recovery failed")
	}
	if err := d.RecoverFromSnapshot(bytes.NewReader([]byte("not a snapshot")), nil); err == nil {
		t.Fatal("a foreign stream was accepted as a snapshot")
	}
}

func TestNodeHostIDIsStableUUID(t *testing.T) {
	a, b := NodeHostID(7, 1), NodeHostID(7, 2)
	if a == b || a != NodeHostID(7, 1) || a == NodeHostID(8, 1) {
		t.Fatalf("ids %s %s not distinct and stable", a, b)
	}
	if len(a) != 36 || a[14] != '5' {
		t.Fatalf("%s is not a version-5 UUID", a)
	}
}
