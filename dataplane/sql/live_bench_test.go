package sql

import (
	"context"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// liveFixture plans a live query and encodes one stored row for it.
func liveFixture(tb testing.TB, where string) (*Engine, *LivePlan, []byte) {
	tb.Helper()
	e := newTestEngine(tb)
	exec(tb, e, rootSess, `CREATE NAMESPACE app; CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, thread_id TEXT, role TEXT, body TEXT, n INT)`)
	q := "SELECT * FROM app.msgs"
	if where != "" {
		q += " WHERE " + where
	}
	p, err := e.PlanLive(context.Background(), rootSess, q)
	if err != nil {
		tb.Fatal(err)
	}
	t, _ := e.cat.Table("app", "msgs")
	row, err := rowcodec.Encode(42, false, t.SchemaVersion, []rowcodec.Column{
		{ID: t.Columns[0].ID, Value: int64(7)}, {ID: t.Columns[1].ID, Value: "t42"}, {ID: t.Columns[2].ID, Value: "user"},
		{ID: t.Columns[3].ID, Value: "hello there"}, {ID: t.Columns[4].ID, Value: int64(3)}})
	if err != nil {
		tb.Fatal(err)
	}
	return e, p, row
}

func TestLiveMatcherAgreesWithPlan(t *testing.T) {
	for _, c := range []struct {
		where string
		want  bool
	}{
		{"", true}, {"thread_id = 't42' AND role <> 'tool'", true}, {"n IN (1, 2)", false}, {"body LIKE 'hello%'", true},
		{"body LIKE 'HELLO%'", false}, {"n BETWEEN 3 AND 4 AND upper(role) = 'USER'", true}, {"_seq = 42", true}, {"id IS NULL", false},
	} {
		e, p, row := liveFixture(t, c.where)
		m, err := e.NewLiveMatcher()
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Match(context.Background(), p, row, 42)
		m.Close()
		if err != nil || got != c.want {
			t.Errorf("WHERE %q: got %v, %v; want %v", c.where, got, err, c.want)
		}
	}
	// A table dropped and re-created under the same name is re-declared.
	e, p, row := liveFixture(t, "n = 3")
	m, err := e.NewLiveMatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if ok, err := m.Match(context.Background(), p, row, 1); !ok || err != nil {
		t.Fatalf("%v %v", ok, err)
	}
	exec(t, e, rootSess, "DROP TABLE app.msgs; CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, thread_id TEXT, role TEXT, body TEXT, n INT)")
	p2, err := e.PlanLive(context.Background(), rootSess, "SELECT * FROM app.msgs WHERE n = 3")
	if err != nil {
		t.Fatal(err)
	}
	t2, _ := e.cat.Table("app", "msgs")
	row2, _ := rowcodec.Encode(1, false, t2.SchemaVersion, []rowcodec.Column{{ID: t2.Columns[0].ID, Value: int64(1)}, {ID: t2.Columns[4].ID, Value: int64(3)}})
	if ok, err := m.Match(context.Background(), p2, row2, 1); !ok || err != nil {
		t.Fatalf("after re-create: %v %v", ok, err)
	}
}

// BenchmarkLiveMatch is the per-change cost of evaluating a subscription
// condition on one row (anchor: ~1.4 µs/eval in engine-and-perf-anchors).
func BenchmarkLiveMatch(b *testing.B) {
	benchLiveMatch(b, "thread_id = 't42' AND role <> 'tool'")
}

// benchLiveMatch measures one condition on the fixture row (it matches).
func benchLiveMatch(b *testing.B, where string) {
	e, p, row := liveFixture(b, where)
	m, err := e.NewLiveMatcher()
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := m.Match(ctx, p, row, 42); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkLiveEncodeRow is the cost of encoding a changed row once (it
// is shared by every subscriber with the same projection).
func BenchmarkLiveEncodeRow(b *testing.B) {
	_, p, row := liveFixture(b, "")
	var enc RowEncoder
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.EncodeStored(&enc, buf[:0], row, 42); err != nil {
			b.Fatal(err)
		}
	}
}
