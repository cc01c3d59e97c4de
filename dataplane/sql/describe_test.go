package sql

import (
	"context"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
)

// TestDescribeRunsNothing: Describe tells a statement's columns from the
// plan alone — no row is read, an INSERT or DELETE writes nothing.
func TestDescribeRunsNothing(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	u := Session{UserID: "alice", Role: auth.RoleUser}
	exec(t, e, rootSess, "CREATE NAMESPACE d; CREATE USER TABLE d.t (id BIGINT PRIMARY KEY, v TEXT, ts TIMESTAMP, n INT)")
	exec(t, e, u, "INSERT INTO d.t (id, v, ts, n) VALUES (1, 'a', '2020-01-01 00:00:00', 1), (2, 'b', NULL, 2)")
	before := e.ScanStats()
	for _, c := range []struct {
		sql   string
		names []string
		types []string
	}{
		{"SELECT id, v, ts FROM d.t WHERE id = $1", []string{"id", "v", "ts"}, []string{"BIGINT", "TEXT", "TIMESTAMP"}},
		{"SELECT * FROM d.t ORDER BY id LIMIT 5", []string{"id", "v", "ts", "n"}, []string{"BIGINT", "TEXT", "TIMESTAMP", "INT"}},
		{"SELECT a.id, b.id, count(*) AS c FROM d.t a JOIN d.t b ON a.n = b.n GROUP BY a.id, b.id LIMIT 3", []string{"id", "id", "c"}, []string{"BIGINT", "BIGINT", ""}},
		{"SELECT n, count(*) FROM d.t GROUP BY n ORDER BY n", []string{"n", "count(*)"}, []string{"INT", ""}},
	} {
		fields, known, err := e.Describe(ctx, u, c.sql)
		if err != nil || !known || len(fields) != len(c.names) {
			t.Fatalf("%s: %v %v %v", c.sql, fields, known, err)
		}
		for i, f := range fields {
			if f.Name != c.names[i] || f.DataType != c.types[i] {
				t.Errorf("%s: column %d is %s %q, want %s %q", c.sql, i, f.Name, f.DataType, c.names[i], c.types[i])
			}
		}
	}
	if after := e.ScanStats(); after != before {
		t.Errorf("Describe read storage: %+v, then %+v", before, after)
	}
	for _, sql := range []string{"INSERT INTO d.t (id, v) VALUES ($1, $2)", "DELETE FROM d.t WHERE id > $1", "UPDATE d.t SET v = 'x' WHERE id >= $1"} {
		fields, known, err := e.Describe(ctx, u, sql)
		if err != nil || !known || fields != nil {
			t.Fatalf("%s: %v %v %v", sql, fields, known, err)
		}
	}
	res := exec(t, e, u, "SELECT count(*), min(v) FROM d.t")
	if res[0].Rows[0][0] != "2" || res[0].Rows[0][1] != "a" {
		t.Fatalf("the table changed: %v", res[0].Rows)
	}
	if _, _, err := e.Describe(ctx, u, "SELECT nope FROM d.t"); err == nil {
		t.Error("unknown column described")
	}
	if _, known, _ := e.Describe(ctx, rootSess, "SHOW TABLES"); known {
		t.Error("SHOW TABLES described without running")
	}
}
