package sql

import (
	"fmt"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
)

// TestDeletedFilterReadsTombstones: a filter on _deleted reads the
// soft-deleted rows of the hot tier with their values, as the original
// KalamDB's; plain reads and DML never see them. (Cold and merged reads:
// dataplane/node TestDeletedFilterColdAndMerged.)
func TestDeletedFilterReadsTombstones(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
		CREATE USER TABLE app.u (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
		CREATE STREAM TABLE app.ev (id BIGINT PRIMARY KEY, name TEXT) WITH (TTL_SECONDS = 3600)`)
	want := func(sess Session, sql, w string) { t.Helper(); wantRows(t, e, sess, sql, w) }
	exec(t, e, rootSess, "INSERT INTO app.s (id, name) VALUES (1, 'Alice'), (2, 'Bob'), (3, 'Charlie'), (4, 'Dan')")
	exec(t, e, rootSess, "DELETE FROM app.s WHERE name = 'Bob'")
	exec(t, e, rootSess, "DELETE FROM app.s WHERE id = 4")
	want(rootSess, "SELECT name FROM app.s ORDER BY id", "[[Alice] [Charlie]]")
	want(rootSess, "SELECT count(*) FROM app.s", "[[2]]")
	want(rootSess, "SELECT name FROM app.s WHERE _deleted = true ORDER BY id", "[[Bob] [Dan]]")
	want(rootSess, "SELECT id, name, _deleted FROM app.s WHERE _deleted = false ORDER BY id", "[[1 Alice false] [3 Charlie false]]")
	want(rootSess, "SELECT id, _deleted FROM app.s WHERE _deleted IN (true, false) ORDER BY id DESC", "[[4 true] [3 false] [2 true] [1 false]]")
	want(rootSess, "SELECT name FROM app.s WHERE id = 2 AND _deleted = true", "[[Bob]]")
	want(rootSess, "SELECT name FROM app.s WHERE id = 2", "[]")
	want(rootSess, "SELECT count(*) FROM app.s WHERE _deleted = true", "[[2]]")
	want(rootSess, "SELECT name FROM app.s WHERE _deleted = true AND id > 2", "[[Dan]]")
	// A bare SELECT of _deleted does not filter on it: live rows only.
	want(rootSess, "SELECT id, _deleted FROM app.s ORDER BY id", "[[1 false] [3 false]]")
	// DML never matches a tombstone.
	if res := exec(t, e, rootSess, "UPDATE app.s SET name = 'x' WHERE _deleted = true"); res[0].RowCount != 0 {
		t.Fatalf("UPDATE matched tombstones: %+v", res[0])
	}
	if res := exec(t, e, rootSess, "DELETE FROM app.s WHERE _deleted = true OR id = 1"); res[0].RowCount != 1 {
		t.Fatalf("DELETE matched tombstones: %+v", res[0])
	}
	want(rootSess, "SELECT name FROM app.s WHERE _deleted = true ORDER BY id", "[[Alice] [Bob] [Dan]]")
	// A re-inserted key is live again: its tombstone is gone.
	exec(t, e, rootSess, "INSERT INTO app.s (id, name) VALUES (2, 'Bob2')")
	want(rootSess, "SELECT name, _deleted FROM app.s WHERE _deleted = true OR _deleted = false ORDER BY id", "[[Alice true] [Bob2 false] [Charlie false] [Dan true]]")
	want(rootSess, "SELECT id, name FROM app.s WHERE _deleted <> false ORDER BY id", "[[1 Alice] [4 Dan]]")

	// USER tables: each user's tombstones stay in the user's scope.
	alice := Session{UserID: "alice", Role: auth.RoleUser}
	bob := Session{UserID: "bob", Role: auth.RoleUser}
	exec(t, e, alice, "INSERT INTO app.u (id, name) VALUES (1, 'a1'), (2, 'a2')")
	exec(t, e, bob, "INSERT INTO app.u (id, name) VALUES (1, 'b1')")
	exec(t, e, alice, "DELETE FROM app.u WHERE id = 2")
	exec(t, e, bob, "DELETE FROM app.u WHERE id = 1")
	want(alice, "SELECT name FROM app.u WHERE _deleted = true", "[[a2]]")
	want(bob, "SELECT name FROM app.u WHERE _deleted = true", "[[b1]]")
	want(alice, "SELECT name FROM app.u", "[[a1]]")

	// STREAM tables never show tombstones (nor does the original's).
	exec(t, e, rootSess, "INSERT INTO app.ev (id, name) VALUES (1, 'e1'), (2, 'e2')")
	exec(t, e, rootSess, "DELETE FROM app.ev WHERE id = 1")
	want(rootSess, "SELECT name FROM app.ev WHERE _deleted = true", "[]")
	want(rootSess, "SELECT name FROM app.ev WHERE _deleted = false", "[[e2]]")
}

// wantRows runs sql as sess and compares the last result's rows, printed.
func wantRows(t *testing.T, e *Engine, sess Session, sql, want string) {
	t.Helper()
	res := exec(t, e, sess, sql)
	if got := fmt.Sprint(res[len(res)-1].Rows); got != want {
		t.Fatalf("%s as %s %s\n got %s\nwant %s", sql, sess.Role, sess.UserID, got, want)
	}
}
