package parse

import (
	"strings"
	"testing"
)

// pgTypedResolver adds PostgreSQL column types to typedResolver:
// users(id int4, ts timestamp, d date, ok boolean, name text, score
// float8, price numeric, big int8); messages(id int4, body text).
type pgTypedResolver struct{ typedResolver }

func (pgTypedResolver) ColumnPGType(vtab, col string) (string, bool) {
	switch vtab {
	case "t_app_users":
		return map[string]string{"id": "int4", "ts": "timestamp", "d": "date", "ok": "boolean", "name": "text",
			"score": "float8", "price": "numeric", "big": "int8"}[col], true
	case "t_app_messages":
		return map[string]string{"id": "int4", "body": "text"}[col], true
	}
	return "", false
}

func rewriteTyped(t *testing.T, in string) *Rewritten {
	t.Helper()
	got, err := Rewrite(in, pgTypedResolver{}, testOpt)
	if err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	return got
}

// TestRewriteTypedColumns: operators on columns follow PostgreSQL's
// operand types.
func TestRewriteTypedColumns(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT id FROM users WHERE score + 0.2 > 0.3":               `SELECT id FROM "t_app_users" AS users WHERE kalam_add_f(score , 0.2) > 0.3`,
		"SELECT price + score FROM users":                            `SELECT kalam_add_f(price , score) FROM "t_app_users" AS users`,
		"SELECT price + 1 FROM users":                                `SELECT kalam_add(price , 1) FROM "t_app_users" AS users`,
		"SELECT id + 1, big + 1 FROM users":                          `SELECT kalam_add_i4(id , 1) , kalam_add(big , 1) FROM "t_app_users" AS users`,
		"SELECT u.ts + INTERVAL '1 day' FROM users u":                `SELECT kalam_ts_add(u.ts , kalam_interval( '1 day')) FROM "t_app_users" AS u`,
		"SELECT id FROM users WHERE ts::date = '2015-01-01'":         `SELECT id FROM "t_app_users" AS users WHERE kalam_ts_to_date(ts) = 16436`,
		"SELECT id FROM users WHERE ts::date = $1":                   `SELECT id FROM "t_app_users" AS users WHERE kalam_ts_to_date(ts) = kalam_cast_date(?1)`,
		"SELECT ts = d FROM users":                                   `SELECT ts =kalam_mul( d,86400000000) FROM "t_app_users" AS users`,
		"SELECT score + 1 FROM (SELECT price AS score FROM users) s": `SELECT kalam_add(score , 1) FROM (SELECT price AS score FROM "t_app_users" AS users) s`,
		"SELECT m.id + 1 FROM messages m, users":                     `SELECT kalam_add_i4(m.id , 1) FROM "t_app_messages" AS m, "t_app_users" AS users`,
	} {
		if got := rewriteTyped(t, in); got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
}

// TestRewriteResultColumns: computed booleans, timestamps and dates of
// the outermost select list are typed for the result encoder.
func TestRewriteResultColumns(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT id, id > 3, ts + INTERVAL '1 day' AS t, min(d) FROM users GROUP BY id": ",boolean,timestamp,date",
		"SELECT NOT ok x, EXISTS (SELECT 1), name LIKE 'a%' FROM users":                "boolean,boolean,boolean",
		"SELECT bool_and(ok), 1 FROM users":                                            "boolean,",
		"SELECT name, MAX(ts) AS last_at, min(d) AS first_d FROM users GROUP BY name":  ",timestamp,date",
		"SELECT *, id > 1 FROM users":                                                  "",
		"SELECT id, name FROM users":                                                   "",
	} {
		if got := strings.Join(rewriteTyped(t, in).Columns, ","); got != want {
			t.Errorf("Rewrite(%q).Columns = %q, want %q", in, got, want)
		}
	}
}

// TestRewritePostgresErrors: the errors PostgreSQL raises at plan time
// carry its SQLSTATE.
func TestRewritePostgresErrors(t *testing.T) {
	for in, state := range map[string]string{
		"SELECT id FROM users WHERE id":                   StateDatatype,
		"SELECT id FROM users WHERE 1":                    StateDatatype,
		"SELECT id FROM users GROUP BY name HAVING name":  StateDatatype,
		"SELECT name FROM users GROUP BY ok":              StateGrouping,
		"SELECT name, count(*) FROM users":                StateGrouping,
		"SELECT u.name, count(*) FROM users u GROUP BY 2": StateGrouping,
	} {
		_, err := Rewrite(in, pgTypedResolver{}, testOpt)
		if e, ok := err.(*Error); !ok || e.State != state {
			t.Errorf("Rewrite(%q) = %v, want SQLSTATE %s", in, err, state)
		}
	}
	for _, in := range []string{
		"SELECT id FROM users WHERE ok",
		"SELECT id FROM users WHERE id > 1 AND name",
		"SELECT id, name, count(*) FROM users GROUP BY id",
		"SELECT name, count(*) FROM users GROUP BY 1",
		"SELECT lower(name), count(*) FROM users GROUP BY lower(name)",
		"SELECT count(*) OVER (), name FROM users",
	} {
		if _, err := Rewrite(in, pgTypedResolver{}, testOpt); err != nil {
			t.Errorf("Rewrite(%q): %v", in, err)
		}
	}
}

// TestRewriteScalarSubquery: a scalar subquery that may return several
// rows raises 21000 on the second row; single-row forms stay as written.
func TestRewriteScalarSubquery(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT (SELECT id FROM users)":                                          `SELECT (SELECT CASE WHEN count(*)>1 THEN kalam_raise('21000','more than one row returned by a subquery used as an expression')ELSE min( "kalam_scalar_v")END FROM( SELECT id AS"kalam_scalar_v" FROM "t_app_users" AS users))`,
		"SELECT (SELECT id AS x FROM users u WHERE u.id = m.id) FROM messages m": `SELECT (SELECT CASE WHEN count(*)>1 THEN kalam_raise('21000','more than one row returned by a subquery used as an expression')ELSE min( x)END FROM( SELECT id AS x FROM "t_app_users" AS u WHERE u.id = m.id)) FROM "t_app_messages" AS m`,
		"SELECT (SELECT max(id) FROM users)":                                     `SELECT (SELECT max(id) FROM "t_app_users" AS users)`,
		"SELECT (SELECT id FROM users ORDER BY id LIMIT 1)":                      `SELECT (SELECT id FROM "t_app_users" AS users ORDER BY id LIMIT 1)`,
		"SELECT id FROM users WHERE id IN (SELECT id FROM messages)":             `SELECT id FROM "t_app_users" AS users WHERE id IN (SELECT id FROM "t_app_messages" AS messages)`,
		"SELECT x.id FROM users, (SELECT id FROM messages) x":                    `SELECT x.id FROM "t_app_users" AS users, (SELECT id FROM "t_app_messages" AS messages) x`,
	} {
		if got := rewriteTyped(t, in); got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
}

// TestRewriteQuantified: op ANY/ALL forms SQLite lacks become aggregates
// over the comparisons.
func TestRewriteQuantified(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 5 > ALL (VALUES (1), (5))":                                    `SELECT (SELECT CASE WHEN min("kalam_quantified_c")=0 THEN 0 WHEN count(*)>count("kalam_quantified_c")THEN NULL ELSE 1 END FROM(SELECT(5 > column1)AS"kalam_quantified_c"FROM( VALUES ( 1) , ( 5))))`,
		"SELECT id FROM users WHERE id < ANY (SELECT id AS id FROM messages)": `SELECT id FROM "t_app_users" AS users WHERE (SELECT CASE WHEN max("kalam_quantified_c")=1 THEN 1 WHEN count(*)>count("kalam_quantified_c")THEN NULL ELSE 0 END FROM(SELECT(id < "kalam_scalar_v")AS"kalam_quantified_c"FROM( SELECT id AS"kalam_scalar_v" FROM "t_app_messages" AS messages)))`,
		"SELECT id FROM users WHERE id = ANY (SELECT id FROM messages)":       `SELECT id FROM "t_app_users" AS users WHERE id IN (SELECT id FROM "t_app_messages" AS messages)`,
	} {
		if got := rewriteTyped(t, in); got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
}

// TestRewriteSetOpsAll: INTERSECT ALL / EXCEPT ALL number equal rows.
func TestRewriteSetOpsAll(t *testing.T) {
	got := rewriteTyped(t, "SELECT id FROM users INTERSECT ALL SELECT id FROM messages ORDER BY 1").SQL
	want := `SELECT"kalam_k1"AS id FROM(SELECT*FROM(WITH kalam_a( "kalam_k1")AS(SELECT id FROM "t_app_users" AS users)SELECT "kalam_k1",row_number()OVER(PARTITION BY "kalam_k1")FROM kalam_a) INTERSECT SELECT*FROM (WITH kalam_b("kalam_k1" )AS(SELECT id FROM "t_app_messages" AS messages)SELECT"kalam_k1" ,row_number()OVER(PARTITION BY"kalam_k1" )FROM kalam_b)) ORDER BY 1 NULLS LAST`
	if got != want {
		t.Errorf("got:  %s\nwant: %s", got, want)
	}
}

// TestRewriteDerivedForms: parenthesised compound operands and derived
// table column lists.
func TestRewriteDerivedForms(t *testing.T) {
	for in, want := range map[string]string{
		"(SELECT id FROM users ORDER BY id LIMIT 2) UNION ALL (SELECT id FROM messages LIMIT 1) ORDER BY 1": `SELECT*FROM(SELECT id FROM "t_app_users" AS users ORDER BY id LIMIT 2) UNION ALL SELECT*FROM(SELECT id FROM "t_app_messages" AS messages LIMIT 1) ORDER BY 1 NULLS LAST`,
		"SELECT x FROM (VALUES (3), (1)) AS v(x) ORDER BY x":                                                `SELECT x FROM (WITH kalam_cols_v (x)AS (VALUES ( 3) , ( 1) )SELECT*FROM kalam_cols_v ) AS v ORDER BY x NULLS LAST`,
	} {
		if got := rewriteTyped(t, in); got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
}

// TestRewriteDistinctOn: DISTINCT ON keeps the first row of each
// partition in ORDER BY order.
func TestRewriteDistinctOn(t *testing.T) {
	got := rewriteTyped(t, "SELECT DISTINCT ON (u.name) u.name AS n, u.id x FROM users u WHERE id > 1 ORDER BY u.name, u.id DESC LIMIT 3").SQL
	want := `SELECT"kalam_c1"AS n,"kalam_c2"AS x FROM(SELECT u.name AS"kalam_c1", u.id AS"kalam_c2",row_number()OVER(PARTITION BY u.name ORDER BY u.name NULLS LAST, u.id DESC NULLS FIRST)AS"kalam_rn0", u.name AS"kalam_o1", u.id AS"kalam_o2" FROM "t_app_users" AS u WHERE id > 1)WHERE"kalam_rn0"=1 ORDER BY"kalam_o1" NULLS LAST,"kalam_o2" DESC NULLS FIRST LIMIT 3`
	if got != want {
		t.Errorf("got:  %s\nwant: %s", got, want)
	}
}

// TestRewriteGroupingSets: ROLLUP, CUBE and GROUPING SETS become a UNION
// ALL of plain groupings with the other grouped columns NULL.
func TestRewriteGroupingSets(t *testing.T) {
	got := rewriteTyped(t, "SELECT name, id, count(*) FROM users GROUP BY ROLLUP (name, id) ORDER BY name, id").SQL
	want := `SELECT name ,id ,count(*) FROM "t_app_users" AS users GROUP BY name, id UNION ALL SELECT name ,NULL AS id ,count(*) FROM "t_app_users" AS users GROUP BY name UNION ALL SELECT NULL AS name ,NULL AS id ,count(*) FROM "t_app_users" AS users ORDER BY name NULLS LAST, id NULLS LAST`
	if got != want {
		t.Errorf("got:  %s\nwant: %s", got, want)
	}
	// GROUPING() in ORDER BY is not rewritten: the statement stays as
	// written, for SQLite to refuse (rewrite_grouping_test.go covers the
	// select list and HAVING).
	if got := rewriteTyped(t, "SELECT name, count(*) FROM users GROUP BY ROLLUP (name) ORDER BY GROUPING(name)").SQL; !strings.Contains(got, "ROLLUP") {
		t.Errorf("GROUPING() in ORDER BY was rewritten: %s", got)
	}
}
