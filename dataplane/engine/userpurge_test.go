package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// TestAuditedCatalogWriteAndUserPurge: a catalog change carrying an audit
// record writes it only when the change applies; CatPurgeUser removes only
// dropped users.
func TestAuditedCatalogWriteAndUserPurge(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	meta := func(cw *CatalogWrite) (Result, error) {
		return ex.Propose(ctx, &Command{Group: keys.GroupMeta, TimeMs: SeqEpochMs + 1000, Catalog: cw})
	}
	audits := func() int {
		it, err := db.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		p := keys.CatalogPrefix(catalog.RecAudit)
		n := 0
		for it.SeekGE(p); it.Valid() && len(it.Key()) >= len(p) && string(it.Key()[:len(p)]) == string(p); it.Next() {
			n++
		}
		return n
	}
	rec := &catalog.AuditRecord{Actor: "root", Action: "CREATE_USER", Target: "bob"}
	u := &catalog.User{UserID: "bob", Role: "user"}
	tests := []struct {
		name   string
		cw     *CatalogWrite
		kind   error
		audits int
	}{
		{"create with audit", &CatalogWrite{Op: CatCreateUser, User: u, Audit: rec}, nil, 1},
		{"duplicate: no record", &CatalogWrite{Op: CatCreateUser, User: u, Audit: rec}, ErrAlreadyExists, 1},
		{"purge of a live user", &CatalogWrite{Op: CatPurgeUser, User: u}, ErrNotFound, 1},
		{"drop", &CatalogWrite{Op: CatUpdateUser, User: &catalog.User{UserID: "bob", Role: "user", DeletedAt: 5}, Audit: rec}, nil, 2},
		{"re-create while dropped", &CatalogWrite{Op: CatCreateUser, User: u}, ErrAlreadyExists, 2},
		{"purge", &CatalogWrite{Op: CatPurgeUser, User: u}, nil, 2},
		{"purge again", &CatalogWrite{Op: CatPurgeUser, User: u}, ErrNotFound, 2},
		{"re-create after purge", &CatalogWrite{Op: CatCreateUser, User: u}, nil, 2},
	}
	for _, tc := range tests {
		_, err := meta(tc.cw)
		if (tc.kind == nil && err != nil) || (tc.kind != nil && !errors.Is(err, tc.kind)) {
			t.Fatalf("%s: want %v, got %v", tc.name, tc.kind, err)
		}
		if got := audits(); got != tc.audits {
			t.Fatalf("%s: %d audit records, want %d", tc.name, got, tc.audits)
		}
	}
	// A user purge sent to the wrong group is refused.
	wrong := keys.UserGroup("bob") + 1
	if wrong > keys.AllDataGroups()[len(keys.AllDataGroups())-1] {
		wrong = keys.AllDataGroups()[1]
	}
	_, err := ex.Propose(ctx, &Command{Group: wrong, TimeMs: SeqEpochMs + 2000, PurgeUser: &UserPurge{UserID: "bob", Tables: []uint32{1}}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("purge in the wrong group: %v", err)
	}
}
