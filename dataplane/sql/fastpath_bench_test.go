package sql

import (
	"encoding/json"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
)

// BenchmarkPointQueryMatch is the per-statement cost of recognising a
// point lookup (W3's `WHERE id = $1`): the statement's condition is
// compiled on every execution.
func BenchmarkPointQueryMatch(b *testing.B) {
	e := newTestEngine(b)
	exec(b, e, rootSess, `CREATE NAMESPACE f; CREATE SHARED TABLE f.t (id BIGINT PRIMARY KEY, s TEXT)`)
	toks := lexed(`SELECT id, s FROM f.t WHERE id = $1 LIMIT 1`)
	params := []any{json.Number("4242")}
	sess := &Session{UserID: "root", Role: auth.RoleSystem, Namespace: "default"}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.matchPointQuery(sess, toks, params); !ok {
			b.Fatal("not a point query")
		}
	}
}

// BenchmarkPointQueryRun is one matched point lookup answered from the
// hot tier (W3 without the HTTP and lexing around it).
func BenchmarkPointQueryRun(b *testing.B) {
	e := newTestEngine(b)
	exec(b, e, rootSess, `CREATE NAMESPACE f; CREATE SHARED TABLE f.t (id BIGINT PRIMARY KEY, s TEXT); INSERT INTO f.t VALUES (4242, 'x')`)
	sess := &Session{UserID: "root", Role: auth.RoleSystem, Namespace: "default"}
	q, ok := e.matchPointQuery(sess, lexed(`SELECT id, s FROM f.t WHERE id = 4242`), nil)
	if !ok {
		b.Fatal("not a point query")
	}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := e.runPointQuery(sess, q); err != nil || res.RowCount != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiveMatchTyped is a live condition with an IN list and a
// LIKE (typed by package expr; evaluated by SQLite before it).
func BenchmarkLiveMatchTyped(b *testing.B) {
	benchLiveMatch(b, "thread_id = 't42' AND n IN (1, 3, 5) AND role LIKE 'us%'")
}
