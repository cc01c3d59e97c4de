package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func TestAlterTableApply(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	meta := func(cw *CatalogWrite) (Result, error) {
		return ex.Propose(ctx, &Command{Group: keys.GroupMeta, TimeMs: 1000, Catalog: cw})
	}
	if _, err := meta(&CatalogWrite{Op: CatCreateNamespace, Namespace: &catalog.Namespace{Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	big := datatype.Type{Kind: datatype.BigInt}
	base := &catalog.Table{Namespace: "app", Name: "t", Type: catalog.TableShared, PrimaryKey: "id", NextColumnID: 3,
		Columns: []catalog.Column{{ID: 1, Name: "id", Type: big, PrimaryKey: true}, {ID: 2, Name: "v", Type: big, Nullable: true}}}
	res, err := meta(&CatalogWrite{Op: CatCreateTable, Table: base})
	if err != nil {
		t.Fatal(err)
	}
	cur := res.Table
	edit := func(fn func(nt *catalog.Table)) *catalog.Table {
		nt := *cur
		nt.Columns = append([]catalog.Column(nil), cur.Columns...)
		fn(&nt)
		return &nt
	}
	for _, tc := range []struct {
		name   string
		def    *catalog.Table
		expect uint32
		kind   error
	}{
		{"stale version", edit(func(nt *catalog.Table) { nt.Columns[1].Name = "w" }), 7, ErrConflict},
		{"drop pk", edit(func(nt *catalog.Table) { nt.Columns = nt.Columns[1:] }), 1, ErrInvalid},
		{"retype pk", edit(func(nt *catalog.Table) { nt.Columns[0].Type = datatype.Type{Kind: datatype.Text} }), 1, ErrInvalid},
		{"id beyond next", edit(func(nt *catalog.Table) { nt.Columns = append(nt.Columns, catalog.Column{ID: 9, Name: "z", Type: big}) }), 1, ErrInvalid},
		{"duplicate name", edit(func(nt *catalog.Table) {
			nt.Columns = append(nt.Columns, catalog.Column{ID: 3, Name: "id", Type: big})
			nt.NextColumnID = 4
		}), 1, ErrInvalid},
		{"rename table", edit(func(nt *catalog.Table) { nt.Name = "u" }), 1, ErrNotFound},
		{"rename column", edit(func(nt *catalog.Table) {
			nt.Columns = []catalog.Column{nt.Columns[0], {ID: 2, Name: "x", Type: big}}
			nt.NextColumnID = 3
		}), 1, nil}, // id 2 still exists in the current definition: a rename+retype, allowed
	} {
		_, err := meta(&CatalogWrite{Op: CatAlterTable, Table: tc.def, ExpectVersion: tc.expect})
		if tc.kind == nil {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			cur, _ = ex.cat.Table("app", "t")
			continue
		}
		if !errors.Is(err, tc.kind) {
			t.Fatalf("%s: want %v, got %v", tc.name, tc.kind, err)
		}
	}
	if cur.SchemaVersion != 2 {
		t.Fatalf("version %d, want 2", cur.SchemaVersion)
	}
	// Dropping column 2 and adding a column that reuses id 2 is refused.
	drop := edit(func(nt *catalog.Table) { nt.Columns = nt.Columns[:1] })
	if _, err := meta(&CatalogWrite{Op: CatAlterTable, Table: drop, ExpectVersion: 2}); err != nil {
		t.Fatal(err)
	}
	cur, _ = ex.cat.Table("app", "t")
	reuse := edit(func(nt *catalog.Table) { nt.Columns = append(nt.Columns, catalog.Column{ID: 2, Name: "y", Type: big}) })
	if _, err := meta(&CatalogWrite{Op: CatAlterTable, Table: reuse, ExpectVersion: 3}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reused dropped id: %v", err)
	}
}
