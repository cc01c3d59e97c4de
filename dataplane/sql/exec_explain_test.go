package sql

import (
	"context"
	"strings"
	"testing"
)

// TestExplain: EXPLAIN returns the plan of the rewritten query as text
// rows and checks the query like SELECT.
func TestExplain(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE ex; CREATE SHARED TABLE ex.t (id INT PRIMARY KEY, w TEXT)`)
	res, err := e.Execute(context.Background(), rootSess, Request{SQL: `EXPLAIN SELECT w, count(*) FROM ex.t WHERE id > 1 GROUP BY w ORDER BY w`})
	if err != nil {
		t.Fatal(err)
	}
	r := res[len(res)-1]
	if len(r.Schema) != 1 || r.Schema[0].Name != "QUERY PLAN" || len(r.Rows) == 0 {
		t.Fatalf("plan: %+v", r)
	}
	text := rowsText(res)
	t.Log(text)
	if !strings.Contains(text, "SCAN") && !strings.Contains(text, "SEARCH") {
		t.Errorf("plan without a scan step:\n%s", text)
	}
	if _, err := e.Execute(context.Background(), rootSess, Request{SQL: `EXPLAIN SELECT * FROM ex.missing`}); err == nil {
		t.Error("EXPLAIN of a missing table answered")
	}
}

// TestExplainAnalyze: EXPLAIN ANALYZE returns the plan and then runs the
// query, adding its actual row count and execution time; it checks
// permissions like SELECT.
func TestExplainAnalyze(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE ex; CREATE SHARED TABLE ex.t (id INT PRIMARY KEY, w TEXT);
		INSERT INTO ex.t (id, w) VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
	res, err := e.Execute(context.Background(), rootSess, Request{SQL: `EXPLAIN ANALYZE SELECT * FROM ex.t WHERE id > 1`})
	if err != nil {
		t.Fatal(err)
	}
	r := res[len(res)-1]
	if len(r.Schema) != 1 || r.Schema[0].Name != "QUERY PLAN" || len(r.Rows) < 3 {
		t.Fatalf("plan: %+v", r)
	}
	text := rowsText(res)
	t.Log(text)
	if !strings.Contains(text, "SCAN") && !strings.Contains(text, "SEARCH") {
		t.Errorf("plan without a scan step:\n%s", text)
	}
	if got := r.Rows[len(r.Rows)-2][0]; got != "Actual Rows: 2" {
		t.Errorf("row count line %q", got)
	}
	if got := r.Rows[len(r.Rows)-1][0].(string); !strings.HasPrefix(got, "Execution Time: ") || !strings.HasSuffix(got, " ms") {
		t.Errorf("time line %q", got)
	}
	if _, err := e.Execute(context.Background(), rootSess, Request{SQL: `EXPLAIN ANALYZE SELECT * FROM ex.missing`}); err == nil {
		t.Error("EXPLAIN ANALYZE of a missing table answered")
	}
	if _, err := e.Execute(context.Background(), rootSess, Request{SQL: `EXPLAIN ANALYZE DELETE FROM ex.t`}); err == nil {
		t.Error("EXPLAIN ANALYZE of a DELETE answered")
	}
	if n := rowsText(exec(t, e, rootSess, `SELECT count(*) FROM ex.t`)); !strings.Contains(n, "3") {
		t.Errorf("rows after EXPLAIN ANALYZE: %s", n)
	}
}
