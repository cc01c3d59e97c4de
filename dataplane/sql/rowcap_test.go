package sql

import (
	"strings"
	"testing"
)

// TestRowCapIsNeverSilent: an answer cut by the default limit (no LIMIT)
// or the maximum (LIMIT above it) says so; a complete one does not. Both
// the SQLite path and the GROUP BY pushdown.
func TestRowCapIsNeverSilent(t *testing.T) {
	e := newTestEngine(t)
	e.opts.DefaultQueryLimit, e.opts.MaxQueryLimit = 2, 3
	exec(t, e, rootSess, `CREATE NAMESPACE rc; CREATE SHARED TABLE rc.t (id INT PRIMARY KEY, g TEXT)`)
	exec(t, e, rootSess, `INSERT INTO rc.t (id, g) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')`)
	for _, tc := range []struct {
		sql       string
		rows      int
		truncated bool
		cap       string
	}{
		{"SELECT id FROM rc.t", 2, true, "default_query_limit"},
		{"SELECT id FROM rc.t WHERE id > 2", 2, false, ""},
		{"SELECT id FROM rc.t ORDER BY id LIMIT 10", 3, true, "max_query_limit"},
		{"SELECT id FROM rc.t ORDER BY id LIMIT 3", 3, false, ""},
		{"SELECT id FROM rc.t ORDER BY id LIMIT 3 OFFSET 1", 3, false, ""},
		{"SELECT id FROM rc.t ORDER BY id OFFSET 1", 3, false, ""}, // OFFSET alone: no LIMIT added, max applies
		{"SELECT g, count(*) FROM rc.t GROUP BY g", 2, true, "default_query_limit"},
		{"SELECT g, count(*) FROM rc.t GROUP BY g LIMIT 10", 3, true, "max_query_limit"},
		{"SELECT g, count(*) FROM rc.t GROUP BY g LIMIT 3", 3, false, ""},
		{"SELECT count(*) FROM rc.t", 1, false, ""},
	} {
		res := exec(t, e, rootSess, tc.sql)[0]
		if len(res.Rows) != tc.rows || res.Truncated != tc.truncated || !strings.Contains(res.Message, tc.cap) || (tc.cap == "") != (res.Message == "") {
			t.Errorf("%s: %d rows, truncated %v, message %q; want %d rows, truncated %v (%s)", tc.sql, len(res.Rows), res.Truncated, res.Message, tc.rows, tc.truncated, tc.cap)
		}
	}
}
