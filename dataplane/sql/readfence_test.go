package sql

import (
	"context"
	"slices"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func TestTableGroups(t *testing.T) {
	users := func() []uint16 {
		var out []uint16
		for _, g := range keys.AllDataGroups() {
			if g != keys.GroupShared {
				out = append(out, g)
			}
		}
		return out
	}()
	for _, c := range []struct {
		tt   catalog.TableType
		all  bool
		want []uint16
	}{
		{catalog.TableShared, false, []uint16{keys.GroupShared}},
		{catalog.TableShared, true, []uint16{keys.GroupShared}},
		{catalog.TableUser, false, []uint16{keys.UserGroup("alice")}},
		{catalog.TableStream, false, []uint16{keys.UserGroup("alice")}},
		{catalog.TableUser, true, users},
		{catalog.TableStream, true, []uint16{keys.UserGroup("alice")}},
		{catalog.TableSystem, false, []uint16{keys.GroupMeta}},
	} {
		if got := tableGroups(nil, c.tt, "alice", c.all); !slices.Equal(got, c.want) {
			t.Errorf("%s all=%v: groups %v, want %v", c.tt, c.all, got, c.want)
		}
	}
}

// fencedEngine is a test engine whose read barrier records the groups of
// each call; hook, when set, runs inside the barrier.
type fencedEngine struct {
	*Engine
	calls [][]uint16
	hook  func(groups []uint16)
}

func newFencedEngine(t *testing.T) *fencedEngine {
	f := &fencedEngine{Engine: newTestEngine(t)}
	exec(t, f.Engine, rootSess, `CREATE NAMESPACE p; CREATE USER TABLE p.u (id BIGINT PRIMARY KEY, v TEXT);
		CREATE SHARED TABLE p.s (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'public');
		INSERT INTO p.s (id, v) VALUES (1, 'one')`)
	f.opts.ReadBarrier = func(_ context.Context, groups []uint16) error {
		gs := slices.Clone(groups)
		slices.Sort(gs)
		f.calls = append(f.calls, gs)
		if f.hook != nil {
			f.hook(gs)
		}
		return nil
	}
	return f
}

// TestReadFenceGroupsPerStatementShape checks which groups the read
// barrier covers for statement shapes: only the groups the statement
// reads, plus meta for the catalog it was planned on.
func TestReadFenceGroupsPerStatementShape(t *testing.T) {
	f := newFencedEngine(t)
	alice := Session{UserID: "alice", Role: auth.RoleUser}
	ua := keys.UserGroup("alice")
	m, sh := keys.GroupMeta, keys.GroupShared
	// A system, dba or service role's SELECT of a USER table reads every
	// user's rows (Role.ReadsAllUsers), so it fences every user group.
	allUser := []uint16{m}
	for _, g := range keys.AllDataGroups() {
		if g != keys.GroupShared {
			allUser = append(allUser, g)
		}
	}
	for _, c := range []struct {
		name  string
		sess  Session
		sql   string
		stale bool
		want  [][]uint16
	}{
		{"user table point lookup (fast path)", alice, "SELECT v FROM p.u WHERE id = 1", false, [][]uint16{{m, ua}}},
		{"user table as root reads every user's group", rootSess, "SELECT v FROM p.u WHERE id = 1", false, [][]uint16{allUser}},
		{"user table scan", alice, "SELECT * FROM p.u ORDER BY id", false, [][]uint16{{m, ua}}},
		{"aggregate fast path", alice, "SELECT COUNT(*) FROM p.u WHERE id > 0", false, [][]uint16{{m, ua}}},
		{"shared table", alice, "SELECT v FROM p.s WHERE id = 1", false, [][]uint16{{m, sh}}},
		{"join user and shared", alice, "SELECT u.v FROM p.u u JOIN p.s s ON u.id = s.id", false, [][]uint16{{m, sh, ua}}},
		{"system view", rootSess, "SELECT table_name FROM system.tables", false, [][]uint16{{m}}},
		{"information_schema", alice, "SELECT table_name FROM information_schema.tables", false, [][]uint16{{m}}},
		{"no table", alice, "SELECT 1", false, nil},
		{"write", alice, "INSERT INTO p.u (id, v) VALUES (7, 'x')", false, nil},
		{"two selects share a fence", alice, "SELECT v FROM p.u WHERE id = 1; SELECT v FROM p.s WHERE id = 1; SELECT * FROM p.u", false, [][]uint16{{m, ua}, {sh}}},
		{"stale read", alice, "SELECT v FROM p.u WHERE id = 1", true, nil},
		{"unknown table fences meta once", alice, "SELECT * FROM p.nope", false, [][]uint16{{m}}},
	} {
		f.calls = nil
		_, err := f.Execute(context.Background(), c.sess, Request{SQL: c.sql, Stale: c.stale})
		if (err != nil) != (c.name == "unknown table fences meta once") {
			t.Errorf("%s: %v", c.name, err)
		}
		if !slices.EqualFunc(f.calls, c.want, slices.Equal) {
			t.Errorf("%s: barrier calls %v, want %v", c.name, f.calls, c.want)
		}
	}

	p, err := f.Prepare("SELECT v FROM p.s WHERE id = $1")
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	if res, err := f.ExecutePrepared(context.Background(), alice, p, []any{int64(1)}); err != nil || res.RowCount != 1 {
		t.Fatalf("prepared: %+v %v", res, err)
	}
	if want := [][]uint16{{m, sh}}; !slices.EqualFunc(f.calls, want, slices.Equal) {
		t.Errorf("prepared: barrier calls %v, want %v", f.calls, want)
	}
}

// TestReadFenceReplansOnCatalogChange: a statement planned on a stale
// catalog whose meta barrier applies a catalog change (here an ALTER made
// inside the barrier, as if applied from the log) is planned again on the
// new catalog, so its answer reflects the change.
func TestReadFenceReplansOnCatalogChange(t *testing.T) {
	for _, q := range []string{"SELECT * FROM p.s WHERE id = 1", "SELECT * FROM p.s ORDER BY id"} {
		f := newFencedEngine(t)
		f.hook = func(gs []uint16) {
			if slices.Contains(gs, keys.GroupMeta) {
				f.hook = nil
				exec(t, f.Engine, rootSess, "ALTER TABLE p.s ADD COLUMN w INT")
			}
		}
		res, err := f.Execute(context.Background(), Session{UserID: "alice", Role: auth.RoleUser}, Request{SQL: q})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res[0].Schema); got != 3 {
			t.Errorf("%s: %d columns after an ALTER applied by the barrier, want 3 (%v)", q, got, res[0].Schema)
		}
		if want := [][]uint16{{keys.GroupMeta, keys.GroupShared}}; !slices.EqualFunc(f.calls, want, slices.Equal) {
			t.Errorf("%s: barrier calls %v, want %v", q, f.calls, want)
		}
	}
}
