package sql

import (
	"context"
	"fmt"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
)

// TestTableWithoutPrimaryKey: the hidden _id identity is left out of
// SELECT * and INSERT without a column list, and keys UPDATE and DELETE.
func TestTableWithoutPrimaryKey(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (name TEXT, n INT)`)
	exec(t, e, rootSess, `INSERT INTO app.t VALUES ('a', 1); INSERT INTO app.t (name, n) VALUES ('b', 2), ('b', 3)`)
	res := exec(t, e, rootSess, `SELECT * FROM app.t ORDER BY n`)
	if len(res[0].Schema) != 2 || fmt.Sprint(res[0].Rows) != "[[a 1] [b 2] [b 3]]" {
		t.Fatalf("SELECT *: %v %v", res[0].Schema, res[0].Rows)
	}
	exec(t, e, rootSess, `UPDATE app.t SET n = 20 WHERE n = 2; DELETE FROM app.t WHERE name = 'a'`)
	res = exec(t, e, rootSess, `SELECT _id, name, n, _deleted FROM app.t ORDER BY n`)
	if rows := res[0].Rows; len(rows) != 2 || rows[0][2] != int64(3) || rows[1][2] != int64(20) || rows[0][0] == rows[1][0] || rows[0][3] != false {
		t.Fatalf("after UPDATE/DELETE: %v", rows)
	}
}

// TestIntAutoIncrement: INT AUTO_INCREMENT counts per table and per user
// scope, continues from MAX after the counter is lost, and BIGINT stays
// Snowflake.
func TestIntAutoIncrement(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE USER TABLE app.t (id INT AUTO_INCREMENT, v TEXT)`)
	u1, u2 := Session{UserID: "u1", Role: auth.RoleUser}, Session{UserID: "u2", Role: auth.RoleUser}
	exec(t, e, u1, `INSERT INTO app.t (v) VALUES ('x'), ('y')`)
	exec(t, e, u2, `INSERT INTO app.t (v) VALUES ('z')`)
	e.autoInc.mu.Lock()
	e.autoInc.next = nil // as after a restart
	e.autoInc.mu.Unlock()
	exec(t, e, u1, `INSERT INTO app.t (v) VALUES ('w')`)
	if got := fmt.Sprint(exec(t, e, u1, `SELECT id, v FROM app.t ORDER BY id`)[0].Rows); got != "[[1 x] [2 y] [3 w]]" {
		t.Errorf("u1: %s", got)
	}
	if got := fmt.Sprint(exec(t, e, u2, `SELECT id, v FROM app.t`)[0].Rows); got != "[[1 z]]" {
		t.Errorf("u2: %s", got)
	}
	desc := exec(t, e, rootSess, `DESCRIBE TABLE app.t`)[0].Rows
	if desc[0][6] != "AUTO_INCREMENT" {
		t.Errorf("DESCRIBE default: %v", desc[0])
	}
	if _, err := e.Execute(context.Background(), rootSess, Request{SQL: `CREATE TABLE app.s (id INT DEFAULT SNOWFLAKE_ID() PRIMARY KEY)`}); err == nil {
		t.Errorf("an explicit SNOWFLAKE_ID() default on INT must stay refused")
	}
}

// TestInformationSchemaVisibility: every role reads information_schema,
// but sees only what it may read.
func TestInformationSchemaVisibility(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.secret (id INT PRIMARY KEY, s TEXT) WITH (ACCESS_LEVEL = 'DBA');
		CREATE SHARED TABLE app.pub (id INT PRIMARY KEY, p TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
		CREATE USER TABLE app.mine (body TEXT)`)
	user := Session{UserID: "u1", Role: auth.RoleUser}
	q := `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('app', 'system') ORDER BY 1, 2`
	if got := fmt.Sprint(exec(t, e, user, q)[0].Rows); got != "[[app mine] [app pub]]" {
		t.Errorf("user sees %s", got)
	}
	if n := len(exec(t, e, rootSess, q)[0].Rows); n < 3+10 {
		t.Errorf("root sees %d tables, want the 3 app tables and the system ones", n)
	}
	cols := exec(t, e, user, `SELECT column_name, ordinal_position, is_nullable, data_type FROM information_schema.columns
		WHERE table_schema = 'app' AND table_name = 'mine'`)[0].Rows
	if fmt.Sprint(cols) != "[[body 1 YES TEXT]]" {
		t.Errorf("columns of app.mine (hidden _id left out): %v", cols)
	}
	if _, err := e.Execute(context.Background(), user, Request{SQL: `SELECT * FROM system.live_queries`}); err == nil {
		t.Errorf("system.live_queries must stay admin-only")
	}
	exec(t, e, rootSess, `SELECT * FROM system.live_queries`)
}
