package parse

import (
	"fmt"
	"strings"
	"testing"
)

// TestRewriteLateral: the one-row LATERAL shapes become correlated scalar
// subqueries; the others are refused with the LATERAL error.
func TestRewriteLateral(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT x.id, l.m FROM users x, LATERAL (SELECT max(y.id) AS m FROM users y WHERE y.n = x.n) l ORDER BY x.id":                                              "(SELECT max(y.id) FROM",
		"SELECT x.id, l.m FROM users x LEFT JOIN LATERAL (SELECT y.id AS m FROM users y WHERE y.id > x.id ORDER BY y.id LIMIT 1) l ON true ORDER BY l.m":           "LIMIT 1 ) NULLS LAST",
		"SELECT x.id, l.c, l.s FROM users x CROSS JOIN LATERAL (SELECT count(*) AS c, sum(y.n) AS s FROM users y WHERE y.n < x.n) AS l":                            "(SELECT sum(y.n) FROM",
		"SELECT x.id, l.m FROM users x, LATERAL (SELECT y.id AS m FROM users y WHERE y.id > x.id ORDER BY y.id LIMIT 1) l WHERE x.n > 0 OR x.id = 1 ORDER BY x.id": "WHERE EXISTS(SELECT 1 FROM \"t_app_users\" AS y WHERE y.id > x.id ORDER BY y.id LIMIT 1)AND( x.n > 0 OR x.id = 1) ORDER BY",
		"SELECT x.id, l.m FROM users x JOIN LATERAL (SELECT y.id AS m FROM users y WHERE y.id > x.id ORDER BY y.id LIMIT 1) l ON true ORDER BY x.id":               "FROM \"t_app_users\" AS x WHERE EXISTS(SELECT 1 FROM",
		"SELECT x.id, l.c FROM users x JOIN LATERAL (SELECT count(*) AS c FROM users y WHERE y.n < x.n) AS l ON true WHERE x.id > 1":                               "WHERE x.id > 1",
		// LIMIT 1 after a comma with nothing after it: the level's WHERE is added at the end.
		"SELECT x.id, l.m FROM users x, LATERAL (SELECT y.id AS m FROM users y WHERE y.id > x.id ORDER BY y.id LIMIT 1) l": `FROM "t_app_users" AS x WHERE EXISTS(SELECT 1 FROM "t_app_users" AS y WHERE y.id > x.id ORDER BY y.id LIMIT 1)`,
	} {
		got, err := Rewrite(in, fakeResolver{}, testOpt)
		if err != nil {
			t.Errorf("Rewrite(%q): %v", in, err)
			continue
		}
		if strings.Contains(strings.ToLower(got.SQL), "lateral") || !strings.Contains(got.SQL, want) {
			t.Errorf("Rewrite(%q)\n got: %s\nwant it to contain: %s", in, got.SQL, want)
		}
	}
	// A whole select item keeps the LATERAL column's name.
	got, err := Rewrite("SELECT x.id, l.m FROM users x, LATERAL (SELECT max(y.id) AS m FROM users y) l ORDER BY l.m", fakeResolver{}, testOpt)
	if err != nil || !strings.Contains(got.SQL, `FROM "t_app_users" AS y)AS"m" FROM`) {
		t.Errorf("item name: %v %v", got, err)
	}
	for _, in := range []string{
		// Several rows per outer row.
		"SELECT x.id, l.m FROM users x, LATERAL (SELECT y.id AS m FROM users y WHERE y.n = x.n) l",
		"SELECT x.id, l.m FROM users x, LATERAL (SELECT max(y.id) AS m FROM users y WHERE y.n = x.n GROUP BY y.grp) l",
		// Two columns may mix rows; a RIGHT join after an inner LIMIT 1.
		"SELECT x.id, l.m FROM users x JOIN LATERAL (SELECT y.id AS m FROM users y ORDER BY y.id LIMIT 1) l ON true RIGHT JOIN users z ON z.id = x.id",
		"SELECT x.id, l.m FROM users x LEFT JOIN LATERAL (SELECT y.id AS m, y.n AS k FROM users y ORDER BY y.id LIMIT 1) l ON true",
		// Unqualified reference, a join condition, no alias name for a column.
		"SELECT x.id, m FROM users x, LATERAL (SELECT max(y.id) AS m FROM users y WHERE y.n = x.n) l",
		"SELECT x.id, l.m FROM users x LEFT JOIN LATERAL (SELECT max(y.id) AS m FROM users y) l ON l.m > x.id",
		"SELECT x.id FROM users x, LATERAL (SELECT max(y.id) FROM users y) l",
		"SELECT * FROM users x, LATERAL (SELECT max(y.id) AS m FROM users y WHERE y.n = x.n) l",
	} {
		if _, err := Rewrite(in, fakeResolver{}, testOpt); err == nil || !strings.Contains(err.Error(), "LATERAL") {
			t.Errorf("Rewrite(%q): err = %v, want the LATERAL refusal", in, err)
		}
	}
}

// TestRewriteScalarSubqueryAfterComma: the typed passes (exact twins,
// result types) read the paren index when a scalar subquery follows a
// comma after a parenthesis, as a LATERAL column's rewrite produces.
func TestRewriteScalarSubqueryAfterComma(t *testing.T) {
	opt := testOpt
	opt.ExactTwins = true
	in := "SELECT max(x.price), (SELECT min(y.price) FROM users y WHERE y.id > 1) FROM users x"
	if _, err := Rewrite(in, pgScaledResolver{}, opt); err != nil {
		t.Fatalf("Rewrite(%q): %v", in, err)
	}
}

// TestRewriteLateralBounded: LATERALs referring to each other twice each
// would double the statement per level; the rewrite refuses past its bound.
func TestRewriteLateralBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("SELECT l19.m FROM users l0")
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&b, ", LATERAL (SELECT max(z.id) AS m FROM users z WHERE z.id = l%d.m OR z.n = l%d.m) l%d", i-1, i-1, i)
	}
	// l0 is a table: its id column is not a LATERAL column.
	in := strings.ReplaceAll(b.String(), "l0.m", "l0.id")
	if _, err := Rewrite(in, fakeResolver{}, testOpt); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want the size refusal", err)
	}
}

// TestRewriteLateralUnclosedLevel: a LATERAL inside a parenthesis that is
// never closed is an error, not a cut at a missing index.
func TestRewriteLateralUnclosedLevel(t *testing.T) {
	in := "SELECT * FROM (SELECT x.id, l.c FROM users x, LATERAL (SELECT count(*) AS c FROM users y) l"
	if _, err := Rewrite(in, fakeResolver{}, testOpt); err == nil {
		t.Fatalf("Rewrite(%q): no error", in)
	}
}
