package sql

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestScratch(t *testing.T) {
	qs := os.Getenv("SCRATCH_Q")
	if qs == "" {
		t.Skip()
	}
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE p; CREATE SHARED TABLE p.t (id INT PRIMARY KEY, s TEXT, n BIGINT, ts TIMESTAMP, b BOOLEAN)`)
	exec(t, e, rootSess, `INSERT INTO p.t (id, s, n, ts, b) VALUES (1, '5', 5, '2020-01-01', true), (2, 'abc', 7, NULL, false), (3, NULL, NULL, '2015-01-01', NULL)`)
	for _, q := range strings.Split(qs, ";;") {
		res, err := e.Execute(context.Background(), rootSess, Request{SQL: q})
		if err != nil {
			t.Logf("%s => ERR %v", q, err)
			continue
		}
		t.Logf("%s => %v %v", q, res[0].Schema, res[0].Rows)
	}
}
