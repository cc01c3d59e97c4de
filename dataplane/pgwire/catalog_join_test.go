package pgwire_test

import (
	"testing"
)

// TestCatalogJoinsUserTables: a pg_catalog statement may join user tables
// named namespace.table; their rows are the session's (USER-table
// isolation), typed as over a SELECT.
func TestCatalogJoinsUserTables(t *testing.T) {
	n := startNode(t)
	root := connect(t, n, "root", rootPW)
	mustExec(t, root, "CREATE NAMESPACE cj")
	mustExec(t, root, "CREATE USER TABLE cj.notes (id BIGINT PRIMARY KEY, body TEXT, at TIMESTAMP, ok BOOLEAN)")
	for _, u := range []string{"alice", "bob"} {
		mustExec(t, root, "CREATE USER "+u+" WITH PASSWORD '"+u+"-password-1'")
	}
	alice := connect(t, n, "alice", "alice-password-1")
	bob := connect(t, n, "bob", "bob-password-1")
	mustExec(t, alice, "INSERT INTO cj.notes (id, body, at, ok) VALUES (1, 'a1', '2024-01-02 03:04:05', true), (2, 'a2', NULL, false)")
	mustExec(t, bob, "INSERT INTO cj.notes (id, body) VALUES (9, 'b9')")
	ctx := tctx(t)
	q := `SELECT c.relname, t.id, t.body, t.at, t.ok FROM pg_catalog.pg_class c JOIN cj.notes t ON c.relname = 'notes' ORDER BY t.id`
	rows, err := alice.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var rel, body string
		var id int64
		var at *string
		var ok *bool
		if err := rows.Scan(&rel, &id, &body, &at, &ok); err != nil {
			t.Fatal(err)
		}
		s := rel + " " + body
		if at != nil {
			s += " " + *at
		}
		if ok != nil && *ok {
			s += " ok"
		}
		got = append(got, s)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if len(got) != 2 || got[0] != "notes a1 2024-01-02 03:04:05 ok" || got[1] != "notes a2" {
		t.Fatalf("alice's join: %q", got)
	}
	var cnt int64
	if err := bob.QueryRow(ctx, `SELECT count(*) FROM cj.notes n, pg_class c WHERE c.relname = 'notes'`).Scan(&cnt); err != nil || cnt != 1 {
		t.Fatalf("bob's join: %d %v", cnt, err)
	}
	if _, err := alice.Exec(ctx, `SELECT * FROM cj.nope n, pg_class c`); err == nil {
		t.Fatal("a missing table joined")
	}
}
