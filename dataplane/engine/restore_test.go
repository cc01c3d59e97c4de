package engine

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// TestRestoreTableKeepsSchemaHistory: CatRestoreTable assigns a fresh id
// but keeps the schema version, column ids and every earlier version.
func TestRestoreTableKeepsSchemaHistory(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	meta := func(cw *CatalogWrite) (Result, error) {
		return ex.Propose(ctx, &Command{Group: keys.GroupMeta, TimeMs: SeqEpochMs + 1, Catalog: cw})
	}
	if _, err := meta(&CatalogWrite{Op: CatCreateNamespace, Namespace: &catalog.Namespace{Name: "app"}}); err != nil {
		t.Fatal(err)
	}
	v1 := &catalog.Table{ID: 77, Namespace: "app", Name: "t", Type: catalog.TableShared, SchemaVersion: 1, PrimaryKey: "id",
		Columns: []catalog.Column{{ID: 1, Name: "id", PrimaryKey: true}}, NextColumnID: 2}
	v2 := *v1
	v2.SchemaVersion, v2.NextColumnID = 2, 4
	v2.Columns = append(append([]catalog.Column(nil), v1.Columns...), catalog.Column{ID: 3, Name: "body", Nullable: true})
	res, err := meta(&CatalogWrite{Op: CatRestoreTable, Table: &v2, History: []*catalog.Table{v1, &v2}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Table.ID == 77 || res.Table.SchemaVersion != 2 || res.Table.Columns[1].ID != 3 {
		t.Fatalf("restored table: %+v", res.Table)
	}
	got, ok := ex.cat.Table("app", "t")
	if !ok || got.ID != res.Table.ID {
		t.Fatalf("cache: %+v %v", got, ok)
	}
	for _, v := range []uint32{1, 2} {
		data, closer, err := db.Get(keys.Catalog(catalog.RecSchema, catalog.SchemaKey(res.Table.ID, v)))
		if err != nil {
			t.Fatalf("schema version %d: %v", v, err)
		}
		var st catalog.Table
		if err := json.Unmarshal(data, &st); err != nil || st.SchemaVersion != v || st.ID != res.Table.ID {
			t.Fatalf("schema version %d: %+v %v", v, st, err)
		}
		closer.Close()
	}
	if _, err := meta(&CatalogWrite{Op: CatRestoreTable, Table: &v2}); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second restore: %v", err)
	}
}
