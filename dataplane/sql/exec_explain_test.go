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
