package sql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)      {}
func (quietLogger) Errorf(string, ...any)     {}
func (quietLogger) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// newTestEngine builds an engine on an in-memory Pebble (sync off).
func newTestEngine(tb testing.TB) *Engine {
	tb.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: vfs.NewMem(), Logger: quietLogger{}})
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := catalog.Load(db)
	if err != nil {
		tb.Fatal(err)
	}
	eo := engine.DefaultOptions()
	eo.Sync = false
	ex, err := engine.Open(db, cat, eo)
	if err != nil {
		tb.Fatal(err)
	}
	opts := DefaultOptions()
	opts.BcryptCost = 4
	opts.MaxQueryLimit = 100000
	e, err := New(db, cat, ex, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close(); ex.Close(); db.Close() })
	return e
}

var rootSess = Session{UserID: "root", Role: auth.RoleSystem}

func exec(tb testing.TB, e *Engine, sess Session, sql string, params ...any) []Result {
	tb.Helper()
	res, err := e.Execute(context.Background(), sess, Request{SQL: sql, Params: params})
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return res
}

func setupBench(tb testing.TB, rows int) (*Engine, Session) {
	e := newTestEngine(tb)
	exec(tb, e, rootSess, `CREATE NAMESPACE bench; CREATE USER TABLE bench.messages (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`)
	u := Session{UserID: "u0", Role: auth.RoleUser}
	var sb strings.Builder
	for start := 1; start <= rows; start += 1000 {
		sb.Reset()
		sb.WriteString("INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES ")
		for i := start; i < start+1000 && i <= rows; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,'u0','c%d','%s','2025-01-01T00:00:01.000Z')", i, (i%10000)/100, strings.Repeat("x", 100))
		}
		exec(tb, e, u, sb.String())
	}
	return e, u
}

func TestGroupByOverUserRows(t *testing.T) {
	e, u := setupBench(t, 10000)
	res := exec(t, e, u, "SELECT conversation_id, count(*), max(created_at) FROM bench.messages GROUP BY conversation_id LIMIT 1000")
	if len(res[0].Rows) != 100 || res[0].Rows[0][1] != "100" {
		t.Fatalf("groups: %d, first %v", len(res[0].Rows), res[0].Rows[0])
	}
	// Another user sees nothing.
	res = exec(t, e, Session{UserID: "u1", Role: auth.RoleUser}, "SELECT count(*) FROM bench.messages")
	if res[0].Rows[0][0] != "0" {
		t.Fatalf("u1 sees %v rows", res[0].Rows[0][0])
	}
}

func BenchmarkEngineInsertSingleRow(b *testing.B) {
	e, u := setupBench(b, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec(b, e, u, fmt.Sprintf("INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES (%d,'u0','c1','body','2025-01-01T00:00:01.000Z')", i+1))
	}
}

func BenchmarkEnginePKLookup(b *testing.B) {
	e, u := setupBench(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec(b, e, u, fmt.Sprintf("SELECT * FROM bench.messages WHERE id = %d", i%10000+1))
	}
}

func BenchmarkEngineGroupBy10k(b *testing.B) {
	e, u := setupBench(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec(b, e, u, "SELECT conversation_id, count(*), max(created_at) FROM bench.messages GROUP BY conversation_id LIMIT 1000")
	}
}

func BenchmarkEngineScan10k(b *testing.B) {
	e, u := setupBench(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec(b, e, u, "SELECT count(*), max(created_at) FROM bench.messages")
	}
}

// TestPrefilterKeepsSQLiteSemantics checks that Go-side equality checks in
// the scan never change results: affinity conversions, NULLs and collations
// still follow SQLite.
func TestPrefilterKeepsSQLiteSemantics(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE p; CREATE SHARED TABLE p.t (id INT PRIMARY KEY, s TEXT, n BIGINT)`)
	exec(t, e, rootSess, `INSERT INTO p.t (id, s, n) VALUES (1, '5', 5), (2, 'abc', 7), (3, NULL, NULL), (4, 'ABC', 5)`)
	cases := []struct{ sql, want string }{
		{`SELECT id FROM p.t WHERE s = 'abc'`, `[[2]]`},
		{`SELECT id FROM p.t WHERE s = 5`, `[[1]]`},                   // TEXT affinity turns 5 into '5'
		{`SELECT id FROM p.t WHERE n = '5' ORDER BY id`, `[[1] [4]]`}, // INTEGER affinity turns '5' into 5
		{`SELECT id FROM p.t WHERE n = 5.0 ORDER BY id`, `[[1] [4]]`},
		{`SELECT id FROM p.t WHERE s = NULL`, `[]`},
		{`SELECT id FROM p.t WHERE s = 'abc' COLLATE NOCASE ORDER BY id`, `[[2] [4]]`},
		{`SELECT id FROM p.t WHERE s = $1`, `[[2]]`},
	}
	for _, tc := range cases {
		var params []any
		if strings.Contains(tc.sql, "$1") {
			params = []any{"abc"}
		}
		res := exec(t, e, rootSess, tc.sql, params...)
		if got := fmt.Sprint(res[0].Rows); got != tc.want && !(got == "[]" && tc.want == "[]") {
			t.Errorf("%s: got %s want %s", tc.sql, got, tc.want)
		}
	}
	before := e.ScanStats()
	exec(t, e, rootSess, `SELECT id FROM p.t WHERE s = 'abc'`)
	if read := e.ScanStats().RowsRead - before.RowsRead; read != 4 {
		t.Fatalf("scan read %d rows, want 4 (a full scan of the shared table)", read)
	}
}

// BenchmarkEngineFilteredGroupBy100k is peerbench's W4 shape for KalamDB:
// one caller holds 100k rows of 10 "users" in a column, and the query
// filters on that column.
func BenchmarkEngineFilteredGroupBy100k(b *testing.B) {
	e := newTestEngine(b)
	exec(b, e, rootSess, `CREATE NAMESPACE bench; CREATE USER TABLE bench.messages (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`)
	var sb strings.Builder
	for start := 1; start <= 100000; start += 1000 {
		sb.Reset()
		sb.WriteString("INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES ")
		for i := start; i < start+1000; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,'u%d','c%d','%s','2025-01-01T00:00:01.000Z')", i, (i-1)/10000, ((i-1)%10000)/100, strings.Repeat("x", 100))
		}
		exec(b, e, rootSess, sb.String())
	}
	q := "SELECT conversation_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM bench.messages WHERE user_id = 'u0' GROUP BY conversation_id LIMIT 1000"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := exec(b, e, rootSess, q); len(res[0].Rows) != 100 {
			b.Fatalf("%d groups", len(res[0].Rows))
		}
	}
}
