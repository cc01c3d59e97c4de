package sql

import (
	"context"
	"testing"
)

// TestExactNumericResults: numeric result columns print PostgreSQL 15's
// text (exact digits, display scale); the expected answers are
// PostgreSQL's (psql -At, same rows). test/pgdiff covers cold and merged
// rows, USER and STREAM tables.
func TestExactNumericResults(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE xn; CREATE SHARED TABLE xn.t (id INT PRIMARY KEY, g TEXT, n INT, big BIGINT, d DECIMAL(10,2))`)
	exec(t, e, rootSess, `INSERT INTO xn.t (id, g, n, big, d) VALUES (1, 'a', 1, 9223372036854775000, 18.99), (2, 'a', 2, 9223372036854775001, 18.99), (3, 'b', 4, -5, 18.99), (4, 'b', 7, NULL, 0.10), (5, 'b', NULL, 3, 0.20)`)
	cases := []struct{ sql, want string }{
		{`SELECT 7 / 2.0, 1 / 3.0, 1.5 + 0.5, 2.675 * 100, 1.5 % 0.5`, "3.5000000000000000|0.33333333333333333333|2.0|267.500|0.0"},
		{`SELECT 12.345::numeric(10,4), -12.345::numeric(10,4), 7::numeric / 2`, "12.3450|-12.3450|3.5000000000000000"},
		{`SELECT sum(d), avg(d), min(d), max(d) FROM xn.t`, "57.27|11.4540000000000000|0.10|18.99"},
		{`SELECT avg(n), stddev(n), var_pop(n) FROM xn.t`, "3.5000000000000000|2.6457513110645906|5.2500000000000000"},
		{`SELECT avg(big) FROM xn.t WHERE id < 3`, "9223372036854775001"},
		{`SELECT id, d * 2, d + 1, -d, d / 4 FROM xn.t ORDER BY d * 2 DESC, id LIMIT 2`, "1|37.98|19.99|-18.99|4.7475000000000000\n2|37.98|19.99|-18.99|4.7475000000000000"},
		{`SELECT g, sum(d) FROM xn.t GROUP BY g ORDER BY 2`, "b|19.29\na|37.98"},
		{`SELECT avg(x) FROM (SELECT 1 AS x UNION ALL SELECT 2) s`, "1.5000000000000000"},
	}
	for _, c := range cases {
		res, err := e.Execute(context.Background(), rootSess, Request{SQL: c.sql})
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got := rowsText(res); got != c.want {
			t.Errorf("%s\n got: %s\nwant: %s", c.sql, got, c.want)
		}
	}

	// DECIMAL(38,10) carries more digits than a double: twins and bare
	// columns read the stored text.
	exec(t, e, rootSess, `CREATE SHARED TABLE xn.w (id INT PRIMARY KEY, g TEXT, d DECIMAL(38,10))`)
	exec(t, e, rootSess, `INSERT INTO xn.w (id, g, d) VALUES (1, 'a', 12345678901234567890.1234567890), (2, 'a', 0.0000000001), (3, 'b', -98765432109876543.21)`)
	for _, c := range []struct{ sql, want string }{
		{`SELECT id, d FROM xn.w ORDER BY id`, "1|12345678901234567890.1234567890\n2|0.0000000001\n3|-98765432109876543.2100000000"},
		{`SELECT sum(d), avg(d), max(d) FROM xn.w`, "12246913469124691346.9134567891|4082304489708230448.9711522630|12345678901234567890.1234567890"},
		{`SELECT g, sum(d) FROM xn.w GROUP BY g ORDER BY g`, "a|12345678901234567890.1234567891\nb|-98765432109876543.2100000000"},
		{`SELECT w.id, w.d * 2, d + 1, d / 3 FROM xn.w AS w WHERE id = 1`, "1|24691357802469135780.2469135780|12345678901234567891.1234567890|4115226300411522630.0411522630"},
		// An expression inserted into a DECIMAL column is stored exactly.
		{`INSERT INTO xn.w (id, g, d) VALUES (10, 'c', 12345678901234567890.1234567890 + 0.2)`, ""},
		{`SELECT d FROM xn.w WHERE id = 10`, "12345678901234567890.3234567890"},
	} {
		res, err := e.Execute(context.Background(), rootSess, Request{SQL: c.sql})
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got := rowsText(res); got != c.want {
			t.Errorf("%s\n got: %s\nwant: %s", c.sql, got, c.want)
		}
	}
}
