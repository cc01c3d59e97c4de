package node

import (
	"fmt"
	"reflect"
	"testing"
)

// TestTwoUsersIsolationWithJoin is the "done when" scenario: two
// users write to one USER table; each SELECT (JOIN to a SHARED table,
// GROUP BY, ORDER BY ... LIMIT) sees only the caller's rows.
func TestTwoUsersIsolationWithJoin(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE chat;
		CREATE USER TABLE chat.messages (id BIGINT PRIMARY KEY, room TEXT NOT NULL, body TEXT, created_at TIMESTAMP DEFAULT NOW());
		CREATE SHARED TABLE chat.rooms (name TEXT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
		INSERT INTO chat.rooms (name, title) VALUES ('general', 'General'), ('random', 'Random');
		CREATE USER 'alice' WITH PASSWORD 'alice-pass-1' ROLE user;
		CREATE USER 'bob' WITH PASSWORD 'bob-pass-12' ROLE user`)
	alice := login(t, n, "alice", "alice-pass-1")
	bob := login(t, n, "bob", "bob-pass-12")
	mustSQL(t, alice, `INSERT INTO chat.messages (id, room, body) VALUES (1, 'general', 'a1'), (2, 'general', 'a2'), (3, 'random', 'a3')`)
	// Same primary keys for bob: per-user key ranges do not collide.
	mustSQL(t, bob, `INSERT INTO chat.messages (id, room, body) VALUES (1, 'random', 'b1'), (2, 'random', 'b2')`)
	mustSQL(t, bob, `INSERT INTO chat.messages (id, room, body) VALUES ($1, $2, $3)`, 10, "general", "b10")

	q := `SELECT r.title, COUNT(*) AS n, MAX(m.id) AS last
	      FROM chat.messages m JOIN chat.rooms r ON r.name = m.room
	      GROUP BY r.title ORDER BY n DESC, r.title LIMIT 5`
	got := mustRows(t, alice, q)
	want := [][]any{{"General", "2", "2"}, {"Random", "1", "3"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("alice: got %v want %v", got, want)
	}
	got = mustRows(t, bob, q)
	want = [][]any{{"Random", "2", "2"}, {"General", "1", "10"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bob: got %v want %v", got, want)
	}
	// An admin's own SELECT reads every user's rows, as the original
	// KalamDB's (issue 19; a user's stays its own, above); its writes
	// stay in its own range.
	if rows := mustRows(t, root, `SELECT * FROM chat.messages`); len(rows) != 6 {
		t.Fatalf("root sees %d rows, want every user's 6", len(rows))
	}
	if res := mustSQL(t, root, `UPDATE chat.messages SET body = 'root' WHERE id = 1`); res.Results[0].RowCount != 0 {
		t.Fatalf("root's UPDATE changed another user's rows: %+v", res.Results[0])
	}
	// Point lookups and updates stay within the caller's range.
	mustSQL(t, alice, `UPDATE chat.messages SET body = 'edited' WHERE id = 1`)
	if rows := mustRows(t, bob, `SELECT body FROM chat.messages WHERE id = 1`); fmt.Sprint(rows) != "[[b1]]" {
		t.Fatalf("bob's row changed by alice's update: %v", rows)
	}
	mustSQL(t, bob, `DELETE FROM chat.messages WHERE id >= 1`)
	if rows := mustRows(t, alice, `SELECT id, body FROM chat.messages ORDER BY id`); fmt.Sprint(rows) != "[[1 edited] [2 a2] [3 a3]]" {
		t.Fatalf("alice rows after bob's delete: %v", rows)
	}
	// A user role cannot write a SHARED table (ACCESS_LEVEL PUBLIC is read-only for users).
	wantCode(t, alice, "PERMISSION_DENIED", 403, `INSERT INTO chat.rooms (name, title) VALUES ('x', 'y')`)
	wantCode(t, alice, "PERMISSION_DENIED", 403, `SELECT * FROM system.users`)
}
