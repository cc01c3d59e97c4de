package parse

import (
	"fmt"
	"strings"
	"testing"
)

// pgScaledResolver adds DECIMAL scales to pgTypedResolver: price is
// numeric(10,2).
type pgScaledResolver struct{ pgTypedResolver }

func (pgScaledResolver) ColumnNumeric(vtab, col string) (int, int, bool) {
	if vtab == "t_app_users" && col == "price" {
		return 10, 2, true
	}
	return 0, 0, false
}

// TestRewriteExactTwins: numeric result columns get a hidden exact twin
// after the user's columns; other columns, and statements whose rows an
// added column could change, get none.
func TestRewriteExactTwins(t *testing.T) {
	opt := testOpt
	opt.ExactTwins = true
	for in, want := range map[string]struct {
		exact string
		twins []string // expected twin expressions, in order
	}{
		"SELECT id, price + 1 FROM users ORDER BY 2":    {"-1,2", []string{"kalam_x_add(kalam_x_col(price,2) , 1)"}},
		"SELECT sum(price), avg(id) AS a FROM users":    {"2,3", []string{"kalam_x_sum(kalam_x_col(price,2))", "kalam_x_avg(id)"}},
		"SELECT 7 / 2.0, -price, 1.5e-7 * 2 FROM users": {"3,4,5", []string{"kalam_x_div(7 , kalam_x_cast('2.0',0,0))", "kalam_x_neg(kalam_x_col(price,2))", "kalam_x_mul(kalam_x_cast('1.5e-7',0,0) , 2)"}},
		"SELECT 12.345::numeric(10,4)":                  {"1", []string{"kalam_x_cast(kalam_x_cast('12.345',0,0),10,4)"}},
		"SELECT avg(x) FROM (SELECT 1 AS x) s":          {"1", []string{"kalam_xi_avg(x)"}},
		// Math functions on numerics, ^ on numerics, scalar subqueries.
		"SELECT sqrt(price), log(2, 8), power(9, 0.5) FROM users": {"3,4,5", []string{"kalam_x_sqrt(kalam_x_col(price,2))", "kalam_x_log(2 , 8)", "kalam_x_power(9 , kalam_x_cast('0.5',0,0))"}},
		"SELECT 2.0 ^ 10": {"1", []string{"kalam_x_power(kalam_x_cast('2.0',0,0) , 10)"}},
		"SELECT (SELECT sum(price) FROM users) + 0.1":       {"1", []string{`kalam_x_add((SELECT kalam_x_sum(kalam_x_col(price,2)) FROM "t_app_users" AS users), kalam_x_cast('0.1',0,0))`}},
		"SELECT (SELECT count(*) FROM users) * 1.5":         {"1", []string{`kalam_x_mul((SELECT count(*) FROM "t_app_users" AS users), kalam_x_cast('1.5',0,0))`}},
		"SELECT (SELECT price FROM users WHERE id = 3) + 1": {"1", []string{`kalam_x_add((SELECT CASE WHEN count(*) > 1 THEN kalam_raise('21000', 'more than one row returned by a subquery used as an expression') ELSE min("kalam_scalar_v") END FROM (SELECT kalam_x_col(price,2) AS "kalam_scalar_v" FROM "t_app_users" AS users WHERE id = 3)), 1)`}},
		// Aggregates over a derived table's literal numeric column.
		"SELECT sum(x), avg(s.x) FROM (SELECT 0.1 AS x UNION ALL SELECT 1.25 AS x) s": {"2,3", []string{"kalam_x_sum(kalam_x_col(x,2))", "kalam_x_avg(kalam_x_col(s.x,2))"}},
		// Not all literals, or min/max (each value keeps its own scale).
		"SELECT avg(x) FROM (SELECT 0.1 AS x UNION ALL SELECT id AS x FROM users) s": {"1", []string{"kalam_xi_avg(x)"}},
		"SELECT min(x) FROM (SELECT 0.1 AS x UNION ALL SELECT 1.25 AS x) s":          {"", nil},
		// Integers only: the float8 versions.
		"SELECT sqrt(2), power(2, 10), 2 ^ 3, sqrt(score) FROM users": {"", nil},
		// No twins: bare columns, integers, floats, unknown arithmetic,
		// DISTINCT, set operations, and sum of int4 (an int8).
		"SELECT price, id + 1, score * 2 FROM users":   {"", nil},
		"SELECT sum(id), min(id), max(big) FROM users": {"", nil},
		"SELECT DISTINCT price + 1 FROM users":         {"", nil},
		"SELECT price + 1 FROM users UNION SELECT 1":   {"", nil},
		"SELECT x + 1.5 FROM (SELECT 1 AS x) s":        {"", nil},
		"SELECT * FROM users":                          {"", nil},
	} {
		got, err := Rewrite(in, pgScaledResolver{}, opt)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		ex := ""
		if got.Exact != nil {
			ex = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(got.Exact)), ","), "[]")
		}
		if ex != want.exact {
			t.Errorf("%s: Exact = %q, want %q (SQL %s)", in, ex, want.exact, got.SQL)
		}
		for k, tw := range want.twins {
			if !strings.Contains(strings.ReplaceAll(got.SQL, " ", ""), strings.ReplaceAll(tw, " ", "")+`AS"`+TwinColumn) {
				t.Errorf("%s: twin %d %q missing in %s", in, k, tw, got.SQL)
			}
		}
		// Without the option, no twins.
		plain, err := Rewrite(in, pgScaledResolver{}, testOpt)
		if err != nil || plain.Exact != nil || strings.Contains(plain.SQL, TwinColumn) {
			t.Errorf("%s without ExactTwins: %v %v %s", in, err, plain.Exact, plain.SQL)
		}
	}
}

// wideResolver makes price numeric(38,10): more digits than a double.
type wideResolver struct{ pgTypedResolver }

func (wideResolver) ColumnNumeric(vtab, col string) (int, int, bool) {
	if vtab == "t_app_users" && col == "price" {
		return 38, 10, true
	}
	return 0, 0, false
}

// TestRewriteExactStoredText: twins of a wide DECIMAL read its hidden
// stored-text column (bare columns too) where every name is a base
// table's column, and get no twin elsewhere.
func TestRewriteExactStoredText(t *testing.T) {
	opt := testOpt
	opt.ExactTwins = true
	for in, want := range map[string]string{
		"SELECT u.price, sum(price) FROM users u GROUP BY u.price":        `kalam_x_col(u."__kalam_exact_price",10)AS"__kalam_exact_0",kalam_x_sum(kalam_x_col("__kalam_exact_price",10))AS"__kalam_exact_1"`,
		"SELECT sum(price) FROM users WHERE id IN (SELECT id FROM users)": "",
	} {
		got, err := Rewrite(in, wideResolver{}, opt)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		sql := strings.ReplaceAll(got.SQL, " ", "")
		if want == "" {
			if got.Exact != nil {
				t.Errorf("%s: twins %v in %s", in, got.Exact, got.SQL)
			}
			continue
		}
		if !strings.Contains(sql, want) {
			t.Errorf("%s:\n got: %s\nwant: ...%s...", in, got.SQL, want)
		}
	}
}

// TestRewriteExactTwinsSeeds runs the fuzz seeds through the typed,
// twinned rewrite: no panic, output that lexes, twins numbered after the
// user's columns.
func TestRewriteExactTwinsSeeds(t *testing.T) {
	opt := testOpt
	opt.ExactTwins = true
	seeds := append([]string{
		"SELECT price / 3, avg(id), round(price, 1), EXTRACT(epoch FROM ts) FROM users",
		"SELECT (price + 1) * 2 AS a, -price, sum(big) FROM users GROUP BY price HAVING sum(big) > 1 ORDER BY a",
	}, fuzzSeeds...)
	for _, in := range seeds {
		for _, r := range []Resolver{pgScaledResolver{}, wideResolver{}} {
			out, err := Rewrite(in, r, opt)
			if err != nil {
				continue
			}
			if _, err := Lex(strings.ReplaceAll(out.SQL, "?", "$")); err != nil {
				t.Fatalf("Rewrite(%q) = %q which does not lex: %v", in, out.SQL, err)
			}
			for k, x := range out.Exact {
				if x >= 0 && x < len(out.Exact) {
					t.Fatalf("Rewrite(%q): twin of column %d at %d, among the user's columns", in, k, x)
				}
			}
		}
	}
}
