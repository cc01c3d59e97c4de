package node

import (
	"fmt"
	"testing"
)

// TestSelectAllUsersCold: a service's or dba's SELECT of a USER table reads
// every user's rows from both tiers (cold segments of one user, hot rows of
// another, a hot update over a cold row), as the original KalamDB's; a
// user's SELECT reads its own. Hot only: dataplane/sql
// TestSelectReadsAllUsersByRole.
func TestSelectAllUsersCold(t *testing.T) {
	n := startCold(t, t.TempDir())
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT);
		CREATE USER alice WITH PASSWORD 'alice-password-1';
		CREATE USER bob WITH PASSWORD 'bob-password-12';
		CREATE USER svc WITH PASSWORD 'svc-password-123' ROLE 'service';
		CREATE USER ops WITH PASSWORD 'ops-password-123' ROLE 'dba'`)
	alice := login(t, n, "alice", "alice-password-1")
	bob := login(t, n, "bob", "bob-password-12")
	for i := 1; i <= 3; i++ {
		mustSQL(t, alice, "INSERT INTO app.notes (id, body) VALUES ($1, $2)", i, fmt.Sprintf("a-%d", i))
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	mustSQL(t, alice, "UPDATE app.notes SET body = 'a-2 hot' WHERE id = 2")
	mustSQL(t, bob, "INSERT INTO app.notes (id, body) VALUES (2, 'b-2')")
	for _, who := range []struct{ name, pw string }{{"svc", "svc-password-123"}, {"ops", "ops-password-123"}, {"root", rootPW}} {
		c := login(t, n, who.name, who.pw)
		if got := fmt.Sprint(mustRows(t, c, "SELECT id, body FROM app.notes ORDER BY id, body")); got != "[[1 a-1] [2 a-2 hot] [2 b-2] [3 a-3]]" {
			t.Fatalf("%s reads %s", who.name, got)
		}
		if got := fmt.Sprint(mustRows(t, c, "SELECT count(*) FROM app.notes WHERE id = 2")); got != "[[2]]" {
			t.Fatalf("%s counts %s", who.name, got)
		}
	}
	if got := fmt.Sprint(mustRows(t, bob, "SELECT id, body FROM app.notes")); got != "[[2 b-2]]" {
		t.Fatalf("bob reads %s", got)
	}
}
