package sql

import (
	"context"
	"fmt"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
)

// TestPreparedReusesParseUnderCurrentCatalog runs one prepared INSERT and
// SELECT many times: each execution resolves the table under the session
// and catalog of that moment (USER-table scoping, a column added after
// Prepare), and errors are the ones Execute gives.
func TestPreparedReusesParseUnderCurrentCatalog(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	exec(t, e, rootSess, "CREATE NAMESPACE p; CREATE USER TABLE p.t (id BIGINT PRIMARY KEY, v TEXT)")
	ins, err := e.Prepare("INSERT INTO p.t (id, v) VALUES ($1, $2)")
	if err != nil {
		t.Fatal(err)
	}
	sel, err := e.Prepare("SELECT * FROM p.t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := Session{UserID: "alice", Role: auth.RoleUser}, Session{UserID: "bob", Role: auth.RoleUser}
	for i := int64(1); i <= 3; i++ {
		if res, err := e.ExecutePrepared(ctx, alice, ins, []any{i, fmt.Sprint("a", i)}); err != nil || res.RowCount != 1 {
			t.Fatalf("insert %d: %+v %v", i, res, err)
		}
	}
	if _, err := e.ExecutePrepared(ctx, alice, ins, []any{int64(1), "dup"}); err == nil {
		t.Fatal("duplicate key accepted")
	} else if want := AsError(err).Code; want == "" {
		t.Fatalf("error without code: %v", err)
	}
	if _, err := e.ExecutePrepared(ctx, bob, ins, []any{int64(1), "b1"}); err != nil {
		t.Fatalf("bob's row with alice's key: %v", err)
	}
	exec(t, e, rootSess, "ALTER TABLE p.t ADD COLUMN w INT")
	res, err := e.ExecutePrepared(ctx, alice, sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || len(res.Schema) != 3 || res.Rows[2][1] != "a3" {
		t.Fatalf("alice's rows after ALTER: %v %v", res.Schema, res.Rows)
	}
	if res, err = e.ExecutePrepared(ctx, bob, sel, nil); err != nil || len(res.Rows) != 1 || res.Rows[0][1] != "b1" {
		t.Fatalf("bob's rows: %v %v", res.Rows, err)
	}
	if _, err := e.ExecutePrepared(ctx, alice, ins, []any{int64(4)}); err == nil {
		t.Fatal("missing parameter accepted")
	}
	if _, err := e.Prepare("SELECT 1; SELECT 2"); err == nil {
		t.Fatal("two statements prepared")
	}
	if _, err := e.Prepare("SELEC 1"); err == nil {
		t.Fatal("syntax error prepared")
	}
}
