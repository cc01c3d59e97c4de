package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// TestClearRestoringAllOrNothing: CatClearRestoring unmarks every listed
// namespace in one command, or none when one of them does not carry the
// restore's mark; RestoreCreated is kept by the mark a restore creates a
// namespace with, reset by every mark change, and persisted.
func TestClearRestoringAllOrNothing(t *testing.T) {
	fs := vfs.NewMem()
	db, ex := openMem(t, fs)
	defer db.Close()
	ctx := context.Background()
	meta := func(cw *CatalogWrite) (Result, error) {
		return ex.Propose(ctx, &Command{Group: keys.GroupMeta, TimeMs: SeqEpochMs + 1, Catalog: cw})
	}
	mustMeta := func(cw *CatalogWrite) {
		t.Helper()
		if _, err := meta(cw); err != nil {
			t.Fatal(err)
		}
	}
	// "made" is created by restore RS-1; "kept" existed and is marked.
	mustMeta(&CatalogWrite{Op: CatCreateNamespace, Namespace: &catalog.Namespace{Name: "made", Restoring: "RS-1", RestoreCreated: true}})
	mustMeta(&CatalogWrite{Op: CatCreateNamespace, Namespace: &catalog.Namespace{Name: "kept", CreatedAt: 7}})
	mustMeta(&CatalogWrite{Op: CatSetNamespaceRestoring, Namespace: &catalog.Namespace{Name: "kept", Restoring: "RS-1", RestoreCreated: true}})
	if n, _ := ex.cat.Namespace("made"); n.Restoring != "RS-1" || !n.RestoreCreated {
		t.Fatalf("created with the mark: %+v", n)
	}
	if n, _ := ex.cat.Namespace("kept"); n.Restoring != "RS-1" || n.RestoreCreated || n.CreatedAt != 7 {
		t.Fatalf("existing namespace marked: %+v", n)
	}

	_, err := meta(&CatalogWrite{Op: CatClearRestoring, Namespaces: []*catalog.Namespace{
		{Name: "made", Restoring: "RS-1"}, {Name: "kept", Restoring: "RS-2"}}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("clearing with a wrong mark: %v", err)
	}
	_, err = meta(&CatalogWrite{Op: CatClearRestoring, Namespaces: []*catalog.Namespace{
		{Name: "made", Restoring: "RS-1"}, {Name: "gone", Restoring: "RS-1"}}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("clearing a missing namespace: %v", err)
	}
	if n, _ := ex.cat.Namespace("made"); n.Restoring != "RS-1" {
		t.Fatalf("a failed clear changed the cache: %+v", n)
	}

	mustMeta(&CatalogWrite{Op: CatClearRestoring, Namespaces: []*catalog.Namespace{
		{Name: "made", Restoring: "RS-1"}, {Name: "kept", Restoring: "RS-1"}}})
	ex.Close()
	cat, err := catalog.Load(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"made", "kept"} {
		n, ok := cat.Namespace(name)
		if !ok || n.Restoring != "" || n.RestoreCreated {
			t.Fatalf("%s after the clear (reloaded): %+v %v", name, n, ok)
		}
	}
	if n, _ := cat.Namespace("kept"); n.CreatedAt != 7 {
		t.Fatalf("clear rewrote the stored record: %+v", n)
	}
}
