package parse

import (
	"strings"
	"testing"
)

// TestRewriteGroupingCalls: GROUPING(...) becomes its bit mask per
// grouping set (first argument most significant), a non-grouping
// argument raises 42803, and GROUPING in ORDER BY is left alone.
func TestRewriteGroupingCalls(t *testing.T) {
	for in, want := range map[string][]string{
		"SELECT a, b, grouping(a, b), count(*) FROM users GROUP BY ROLLUP (a, b)": {
			`SELECT a, b, 0 AS "grouping", count(*) FROM`,
			`SELECT a, NULL AS b, 1 AS "grouping", count(*) FROM`,
			`SELECT NULL AS a, NULL AS b, 3 AS "grouping", count(*) FROM`,
		},
		"SELECT a, count(*) FROM users GROUP BY CUBE (a) HAVING grouping(a) = 1": {
			"GROUP BY a HAVING 0 = 1", "HAVING 1 = 1",
		},
		"SELECT a, grouping(z) FROM users GROUP BY ROLLUP (a)": {
			"kalam_raise('42803', 'arguments to GROUPING must be grouping expressions of the associated query level')",
		},
	} {
		got, err := Rewrite(in, fakeResolver{}, testOpt)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		squash := func(s string) string { return strings.ReplaceAll(s, " ", "") }
		for _, w := range want {
			if !strings.Contains(squash(got.SQL), squash(w)) {
				t.Errorf("%s:\n got %s\nwant %s", in, got.SQL, w)
			}
		}
	}
	got, err := Rewrite("SELECT a, count(*) FROM users GROUP BY ROLLUP (a) ORDER BY grouping(a)", fakeResolver{}, testOpt)
	if err == nil && strings.Contains(got.SQL, "UNION ALL") {
		t.Errorf("GROUPING in ORDER BY was rewritten: %s", got.SQL)
	}
}
