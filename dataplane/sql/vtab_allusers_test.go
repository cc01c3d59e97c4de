package sql

import (
	"context"
	"fmt"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
)

// TestSelectReadsAllUsersByRole: a SELECT of a USER table by system, dba
// or service reads every user's rows (the original KalamDB's policy); a
// user's reads its own; writes, EXECUTE AS USER and STREAM tables stay
// per user. (Cold rows: dataplane/node TestSelectAllUsersCold.)
func TestSelectReadsAllUsersByRole(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app;
		CREATE USER TABLE app.u (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
		CREATE STREAM TABLE app.ev (id BIGINT PRIMARY KEY, name TEXT) WITH (TTL_SECONDS = 3600);
		CREATE USER bob WITH PASSWORD 'bob-password-12'`)
	alice := Session{UserID: "alice", Role: auth.RoleUser}
	bob := Session{UserID: "bob", Role: auth.RoleUser}
	svc := Session{UserID: "svc", Role: auth.RoleService}
	dba := Session{UserID: "admin", Role: auth.RoleDBA}
	exec(t, e, alice, "INSERT INTO app.u (id, name) VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')")
	exec(t, e, bob, "INSERT INTO app.u (id, name) VALUES (1, 'b1')")
	exec(t, e, rootSess, "INSERT INTO app.u (id, name) VALUES (5, 'r5')")
	exec(t, e, alice, "DELETE FROM app.u WHERE id = 3")
	exec(t, e, alice, "INSERT INTO app.ev (id, name) VALUES (1, 'e-alice')")
	want := func(sess Session, sql, w string) { t.Helper(); wantRows(t, e, sess, sql, w) }
	want(alice, "SELECT id, name FROM app.u ORDER BY id", "[[1 a1] [2 a2]]")
	want(bob, "SELECT * FROM app.u", "[[1 b1]]")
	for _, s := range []Session{svc, dba, rootSess} {
		want(s, "SELECT id, name FROM app.u ORDER BY id, name", "[[1 a1] [1 b1] [2 a2] [5 r5]]")
		want(s, "SELECT name FROM app.u WHERE id = 1 ORDER BY name", "[[a1] [b1]]")
		want(s, "SELECT count(*), max(id) FROM app.u", "[[4 5]]")
		want(s, "SELECT name FROM app.u ORDER BY id DESC, name LIMIT 2", "[[r5] [a2]]")
		want(s, "SELECT count(*) FROM app.u x JOIN app.u y ON x.id = y.id", "[[6]]")
		want(s, "SELECT name FROM app.u WHERE _deleted = true", "[[a3]]")
		// STREAM tables stay per user, as in the original.
		want(s, "SELECT name FROM app.ev", "[]")
	}
	// The same text as a user reads the user's rows (separate plans).
	want(alice, "SELECT name FROM app.u WHERE id = 1 ORDER BY name", "[[a1]]")
	want(alice, "SELECT count(*), max(id) FROM app.u", "[[2 2]]")
	// Writes act on the caller's own rows only.
	if res := exec(t, e, svc, "UPDATE app.u SET name = 'x' WHERE id = 1"); res[0].RowCount != 0 {
		t.Fatalf("a service's UPDATE touched other users' rows: %+v", res[0])
	}
	if res := exec(t, e, rootSess, "DELETE FROM app.u WHERE name = 'b1'"); res[0].RowCount != 0 {
		t.Fatalf("root's DELETE touched bob's row: %+v", res[0])
	}
	// EXECUTE AS USER reads the target user's rows.
	want(svc, "EXECUTE AS USER 'bob' (SELECT name FROM app.u)", "[[b1]]")
	// EXPLAIN and Describe see the same table.
	if _, err := e.Execute(context.Background(), svc, Request{SQL: "EXPLAIN SELECT * FROM app.u ORDER BY id"}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAllUsersPKLookup is BenchmarkEnginePKLookup as a service: the
// same point lookup read across every user (one user holds the rows), which
// takes the SQLite path instead of the per-user fast path.
func BenchmarkAllUsersPKLookup(b *testing.B) {
	e, _ := setupBench(b, 10000)
	svc := Session{UserID: "svc", Role: auth.RoleService}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec(b, e, svc, fmt.Sprintf("SELECT * FROM bench.messages WHERE id = %d", i%10000+1))
	}
}

// BenchmarkAllUsersGroupBy10k is BenchmarkEngineGroupBy10k as a service.
func BenchmarkAllUsersGroupBy10k(b *testing.B) {
	e, _ := setupBench(b, 10000)
	svc := Session{UserID: "svc", Role: auth.RoleService}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		exec(b, e, svc, "SELECT conversation_id, count(*), max(created_at) FROM bench.messages GROUP BY conversation_id LIMIT 1000")
	}
}
