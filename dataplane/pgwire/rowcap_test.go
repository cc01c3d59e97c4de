package pgwire_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestRowCap: over the wire a SELECT returns every row, not
// limits.default_query_limit of them (the protocol has no "truncated"
// flag), and one with more than postgres_wire.max_result_rows fails with
// 54000 instead of being cut.
func TestRowCap(t *testing.T) {
	n := startNode(t, func(c *config.Config) {
		c.Limits.DefaultQueryLimit = 5
		c.Limits.MaxQueryLimit = 8
		c.PostgresWire.MaxResultRows = 20
	})
	c := connect(t, n, "root", rootPW)
	mustExec(t, c, "CREATE NAMESPACE app")
	mustExec(t, c, "CREATE TABLE app.r (id BIGINT PRIMARY KEY, g TEXT)")
	var vals []string
	for i := 1; i <= 20; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'g%d')", i, i%12))
	}
	mustExec(t, c, "INSERT INTO app.r (id, g) VALUES "+strings.Join(vals, ", "))

	count := func(sql string) int {
		t.Helper()
		rows, err := c.Query(tctx(t), sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		k := 0
		for rows.Next() {
			k++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return k
	}
	// Above default_query_limit (5) and max_query_limit (8), at the cap (20).
	for sql, want := range map[string]int{
		"SELECT id FROM app.r":                      20,
		"SELECT id FROM app.r ORDER BY id LIMIT 15": 15,
		"SELECT g, count(*) FROM app.r GROUP BY g":  12, // the aggregate pushdown path
		"SELECT id FROM app.r WHERE id = 3":         1,
	} {
		if got := count(sql); got != want {
			t.Errorf("%s: %d rows, want %d", sql, got, want)
		}
	}

	mustExec(t, c, "INSERT INTO app.r (id, g) VALUES (21, 'x')")
	for _, sql := range []string{"SELECT id FROM app.r", "SELECT id FROM app.r ORDER BY id LIMIT 100"} {
		rows, err := c.Query(tctx(t), sql)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "54000" || !strings.Contains(pe.Message, "max_result_rows") {
			t.Errorf("%s over the cap: %v, want SQLSTATE 54000 naming postgres_wire.max_result_rows", sql, err)
		}
	}
	// The connection stays usable, and LIMIT within the cap works.
	if got := count("SELECT id FROM app.r ORDER BY id LIMIT 20"); got != 20 {
		t.Errorf("LIMIT 20 after the refusal: %d rows", got)
	}
}
