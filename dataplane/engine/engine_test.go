package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

func openMem(t *testing.T, fs vfs.FS) (*pebble.DB, *Executor) {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(db)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Open(db, cat, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return db, ex
}

func row(t *testing.T, v string) []byte {
	b, err := rowcodec.Encode(0, false, 1, []rowcodec.Column{{ID: 1, Value: v}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInsertUpdateDeleteSemantics(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	g := keys.UserGroup("alice")
	key := keys.Row(keys.ScopePrefix(g, 1, "alice", true), []byte("k"))
	ins := &Command{Group: g, TimeMs: SeqEpochMs + 1000, Rows: []RowWrite{{Op: OpInsert, Table: 1, Key: key, Row: row(t, "a")}}}
	r1, err := ex.Propose(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Propose(ctx, ins); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("want duplicate key, got %v", err)
	}
	// Stale ExpectSeq is a conflict; the right one applies.
	upd := &Command{Group: g, TimeMs: SeqEpochMs + 500, Rows: []RowWrite{{Op: OpUpdate, Table: 1, Key: key, Row: row(t, "b"), ExpectSeq: r1.Seqs[0] + 1}}}
	if _, err := ex.Propose(ctx, upd); !errors.Is(err, ErrConflict) {
		t.Fatalf("want conflict, got %v", err)
	}
	upd.Rows[0].ExpectSeq = r1.Seqs[0]
	r2, err := ex.Propose(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	// _seq never goes backwards even when the command's clock does.
	if r2.Seqs[0] <= r1.Seqs[0] || r2.Index != r1.Index+1 {
		t.Fatalf("seq/index not monotonic: %v %v", r1, r2)
	}
	if int(r2.Seqs[0]>>12&0x3ff) != int(g) {
		t.Fatalf("seq does not carry the group id: %x", r2.Seqs[0])
	}
	del := &Command{Group: g, TimeMs: SeqEpochMs + 2000, Rows: []RowWrite{{Op: OpDelete, Table: 1, Key: key, Row: mustTomb(t)}}}
	r3, err := ex.Propose(ctx, del)
	if err != nil {
		t.Fatal(err)
	}
	if r3.Old[0] == nil {
		t.Fatal("delete did not report the old row")
	}
	// Re-insert over a tombstone is allowed.
	if _, err := ex.Propose(ctx, ins); err != nil {
		t.Fatalf("re-insert over tombstone: %v", err)
	}
	// A command with a bad key changes nothing.
	bad := &Command{Group: g, TimeMs: SeqEpochMs, Rows: []RowWrite{{Op: OpInsert, Table: 1, Key: []byte{0, 0, 1}, Row: row(t, "x")}}}
	if _, err := ex.Propose(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("want invalid, got %v", err)
	}
}

func mustTomb(t *testing.T) []byte {
	b, err := rowcodec.Encode(0, true, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommandIsAllOrNothing(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	scope := keys.ScopePrefix(keys.GroupShared, 2, "", false)
	k1, k2 := keys.Row(scope, []byte("1")), keys.Row(scope, []byte("2"))
	_, err := ex.Propose(ctx, &Command{Group: keys.GroupShared, Rows: []RowWrite{
		{Op: OpInsert, Table: 2, Key: k1, Row: row(t, "a")},
		{Op: OpInsert, Table: 2, Key: k2, Row: row(t, "b")},
		{Op: OpInsert, Table: 2, Key: k1, Row: row(t, "c")},
	}})
	var ee *Error
	if !errors.As(err, &ee) || ee.Row != 2 {
		t.Fatalf("want duplicate at row 2, got %v", err)
	}
	for _, k := range [][]byte{k1, k2} {
		if _, closer, err := db.Get(k); err == nil {
			closer.Close()
			t.Fatal("partial command was applied")
		}
	}
}

func TestGroupCommitAndRecovery(t *testing.T) {
	fs := vfs.NewMem()
	db, ex := openMem(t, fs)
	ctx := context.Background()
	var seen sync.Map
	ex.AddObserver(func(cmd *Command, res *Result) { seen.Store(res.Seqs[0], true) })
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := keys.Row(keys.ScopePrefix(keys.GroupShared, 3, "", false), []byte{byte(w), byte(i)})
				if _, err := ex.Propose(ctx, &Command{Group: keys.GroupShared, TimeMs: SeqEpochMs + 1, Rows: []RowWrite{{Op: OpInsert, Table: 3, Key: k, Row: row(t, "v")}}}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	n := 0
	seen.Range(func(any, any) bool { n++; return true })
	if n != 400 {
		t.Fatalf("observer saw %d distinct seqs, want 400", n)
	}
	if got := ex.AppliedIndex(keys.GroupShared); got != 400 {
		t.Fatalf("applied index %d", got)
	}
	ex.Close()
	db.Close()
	// Reopen: the applied index and last seq continue.
	db, ex = openMem(t, fs)
	defer db.Close()
	defer ex.Close()
	k := keys.Row(keys.ScopePrefix(keys.GroupShared, 3, "", false), []byte("new"))
	res, err := ex.Propose(ctx, &Command{Group: keys.GroupShared, TimeMs: SeqEpochMs + 1, Rows: []RowWrite{{Op: OpInsert, Table: 3, Key: k, Row: row(t, "v")}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Index != 401 || res.Seqs[0]&0xfff != 400 {
		t.Fatalf("after reopen: index %d seq ctr %d", res.Index, res.Seqs[0]&0xfff)
	}
}

func TestCatalogCommands(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	meta := func(cw *CatalogWrite) (Result, error) {
		return ex.Propose(ctx, &Command{Group: keys.GroupMeta, Catalog: cw})
	}
	tbl := &catalog.Table{Namespace: "ns", Name: "t", Type: catalog.TableShared}
	if _, err := meta(&CatalogWrite{Op: CatCreateTable, Table: tbl}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("table in missing namespace: %v", err)
	}
	if _, err := meta(&CatalogWrite{Op: CatCreateNamespace, Namespace: &catalog.Namespace{Name: "ns"}}); err != nil {
		t.Fatal(err)
	}
	r, err := meta(&CatalogWrite{Op: CatCreateTable, Table: tbl})
	if err != nil || r.Table.ID != 1 {
		t.Fatalf("create table: %v %+v", err, r)
	}
	if _, ok := ex.cat.Table("ns", "t"); !ok {
		t.Fatal("cache not updated")
	}
	if _, err := meta(&CatalogWrite{Op: CatDropNamespace, Namespace: &catalog.Namespace{Name: "ns"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("drop non-empty namespace: %v", err)
	}
	r, err = meta(&CatalogWrite{Op: CatDropNamespace, Namespace: &catalog.Namespace{Name: "ns"}, Cascade: true})
	if err != nil || len(r.Dropped) != 1 {
		t.Fatalf("cascade: %v %+v", err, r)
	}
	if _, err := meta(&CatalogWrite{Op: CatCreateNamespace, Namespace: &catalog.Namespace{Name: "ns"}}); err != nil {
		t.Fatal(err)
	}
	r, err = meta(&CatalogWrite{Op: CatCreateTable, Table: tbl})
	if err != nil || r.Table.ID != 2 {
		t.Fatalf("table ids must never be reused: %v %+v", err, r)
	}
}

type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(f string, a ...any) {
	panic(f)
}
