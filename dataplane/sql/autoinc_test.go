package sql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// TestRefuseNodeCounters: in a cluster of several members
// (Options.RefuseNodeCounters) INT and SMALLINT AUTO_INCREMENT columns are
// refused with AUTO_INCREMENT_IN_CLUSTER and change nothing, BIGINT ones
// (Snowflake ids) are not; a table created before (on the single node it
// was) refuses INSERTs that would take a counter value, and takes those
// that give the value.
func TestRefuseNodeCounters(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE SHARED TABLE app.old (id INT AUTO_INCREMENT PRIMARY KEY, n SMALLINT AUTO_INCREMENT, v TEXT)`)
	exec(t, e, rootSess, `INSERT INTO app.old (v) VALUES ('single node')`)
	e.opts.RefuseNodeCounters = true
	refused := func(stmt string) {
		t.Helper()
		_, err := e.Execute(ctx, rootSess, Request{SQL: stmt})
		var ke *Error
		if !errors.As(err, &ke) || ke.Code != CodeAutoIncrementInCluster || ke.Status != 400 {
			t.Fatalf("%s: %v, want %s", stmt, err, CodeAutoIncrementInCluster)
		}
	}
	for _, stmt := range []string{
		`CREATE SHARED TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)`,
		`CREATE SHARED TABLE app.t (id SERIAL PRIMARY KEY, v TEXT)`,
		`CREATE USER TABLE app.t (id SMALLSERIAL, v TEXT)`,
		`CREATE SHARED TABLE app.t (id INT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT)`,
		`CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, n SMALLINT AUTO_INCREMENT)`,
	} {
		refused(stmt)
	}
	if _, ok := e.Catalog().Table("app", "t"); ok {
		t.Fatal("a refused table was created")
	}
	refused(`ALTER TABLE app.old ADD COLUMN m INT AUTO_INCREMENT`)
	exec(t, e, rootSess, `ALTER TABLE app.old ADD COLUMN m INT`)
	refused(`INSERT INTO app.old (v) VALUES ('cluster')`)
	refused(`INSERT INTO app.old (id, v) VALUES (7, 'n left out')`)
	refused(`INSERT INTO app.old (id, n, v) VALUES (7, DEFAULT, 'n DEFAULT')`)
	exec(t, e, rootSess, `INSERT INTO app.old (id, n, v) VALUES (7, 7, 'given')`)
	if got := fmt.Sprint(exec(t, e, rootSess, `SELECT id, n, v FROM app.old ORDER BY id`)[0].Rows); got != "[[1 1 single node] [7 7 given]]" {
		t.Fatalf("rows: %s", got)
	}
	// The documented way out for a non-key column: widen it, give it
	// Snowflake ids.
	exec(t, e, rootSess, `ALTER TABLE app.old MODIFY COLUMN n BIGINT; ALTER TABLE app.old ALTER COLUMN n SET DEFAULT SNOWFLAKE_ID()`)
	exec(t, e, rootSess, `INSERT INTO app.old (id, v) VALUES (8, 'n from a snowflake')`)
	rows := exec(t, e, rootSess, `SELECT n FROM app.old WHERE id = 8`)[0].Rows
	if len(rows) != 1 {
		t.Fatalf("widened n: %v", rows)
	}
	if n, err := strconv.ParseInt(fmt.Sprint(rows[0][0]), 10, 64); err != nil || n < 1<<22 {
		t.Fatalf("widened n: %v, want a Snowflake id", rows)
	}
	exec(t, e, rootSess, `CREATE SHARED TABLE app.big (id BIGINT AUTO_INCREMENT PRIMARY KEY, s BIGSERIAL, v TEXT)`)
	exec(t, e, rootSess, `INSERT INTO app.big (v) VALUES ('snowflake')`)
	e.opts.RefuseNodeCounters = false
	exec(t, e, rootSess, `INSERT INTO app.old (v) VALUES ('single again')`)
	if got := fmt.Sprint(exec(t, e, rootSess, `SELECT id FROM app.old ORDER BY id`)[0].Rows); got != "[[1] [2] [7] [8]]" {
		t.Fatalf("single node again: ids %s, want the counter to go on (2)", got)
	}
	exec(t, e, rootSess, `CREATE SHARED TABLE app.t (id SERIAL PRIMARY KEY, v TEXT)`)
}

// TestAutoIncrementAboveExplicit: on a single node an explicit value given
// to an INT AUTO_INCREMENT column moves the counter above it (as MySQL),
// before or after the counter's first use, so a later counter value never
// repeats it (the column here is no key: a repeat would be silent).
func TestAutoIncrementAboveExplicit(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (k BIGINT PRIMARY KEY, n INT AUTO_INCREMENT, v TEXT);
		CREATE SHARED TABLE app.u (k BIGINT PRIMARY KEY, n SMALLINT AUTO_INCREMENT)`)
	exec(t, e, rootSess, `INSERT INTO app.t (k, v) VALUES (1, 'counter')`)
	exec(t, e, rootSess, `INSERT INTO app.t (k, n) VALUES (2, 5), (3, 3)`)
	exec(t, e, rootSess, `INSERT INTO app.t (k) VALUES (4), (5)`)
	exec(t, e, rootSess, `INSERT INTO app.t (k, n) VALUES (6, NULL)`)
	exec(t, e, rootSess, `INSERT INTO app.t (k) VALUES (7)`)
	exec(t, e, rootSess, `INSERT INTO app.t (k, n) VALUES (8, DEFAULT)`) // DEFAULT takes the counter (PostgreSQL's nextval)
	if got := fmt.Sprint(exec(t, e, rootSess, `SELECT k, n FROM app.t ORDER BY k`)[0].Rows); got != "[[1 1] [2 5] [3 3] [4 6] [5 7] [6 <nil>] [7 8] [8 9]]" {
		t.Errorf("app.t: %s", got)
	}
	exec(t, e, rootSess, `INSERT INTO app.u (k, n) VALUES (1, 10)`) // before the first use
	exec(t, e, rootSess, `INSERT INTO app.u (k) VALUES (2)`)
	if got := fmt.Sprint(exec(t, e, rootSess, `SELECT k, n FROM app.u ORDER BY k`)[0].Rows); got != "[[1 10] [2 11]]" {
		t.Errorf("app.u: %s", got)
	}
}
