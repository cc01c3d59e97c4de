package sql

import (
	"context"
	"strings"
	"testing"
)

// TestNaNRefused: SQLite has no NaN (it would read back as NULL), so a NaN
// stored into a DOUBLE column or computed by a function is refused with an
// error, never answered as NULL; infinities are kept.
func TestNaNRefused(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE pg; CREATE SHARED TABLE pg.f (id INT PRIMARY KEY, s DOUBLE)`)
	for _, q := range []string{
		`INSERT INTO pg.f (id, s) VALUES (1, 'NaN'), (2, 'Infinity')`,
		`INSERT INTO pg.f (id, s) VALUES (3, 'NaN'::float8)`,
		`SELECT 'NaN'::float8`,
		`SELECT 'Infinity'::float8 - 'Infinity'::float8`,
	} {
		if _, err := e.Execute(context.Background(), rootSess, Request{SQL: q}); err == nil || !strings.Contains(err.Error(), "NaN") {
			t.Errorf("%s: error %v, want a NaN refusal", q, err)
		}
	}
	exec(t, e, rootSess, `INSERT INTO pg.f (id, s) VALUES (4, 'Infinity'), (5, '-Infinity')`)
	res, err := e.Execute(context.Background(), rootSess, Request{SQL: `SELECT id, s FROM pg.f ORDER BY id`})
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(res); got != "4|+Inf\n5|-Inf" {
		t.Errorf("rows %q: the refused INSERTs wrote rows, or infinities changed", got)
	}
}
