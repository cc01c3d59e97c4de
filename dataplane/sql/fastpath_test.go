package sql

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// TestFastPathMatchesSQLite runs point queries through the fast path and
// through SQLite and requires identical results.
func TestFastPathMatchesSQLite(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE f;
		CREATE SHARED TABLE f.ints (id BIGINT PRIMARY KEY, b BOOLEAN, d DECIMAL(8,3), x DOUBLE, s TEXT, j JSON, ts TIMESTAMP, bl BYTES, small SMALLINT);
		CREATE SHARED TABLE f.texts (k TEXT PRIMARY KEY, v INT);
		CREATE USER TABLE f.mine (id INT PRIMARY KEY, v TEXT)`)
	exec(t, e, rootSess, `INSERT INTO f.ints VALUES (1, true, 12.5, 1.25, 'one', '{"a":1}', '2025-01-02T03:04:05Z', X'0102', 7),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), (-3, false, -0.001, -2, '', '[]', 0, X'', -1)`)
	exec(t, e, rootSess, `INSERT INTO f.texts VALUES ('a', 1), ('5', 5), ('', 0)`)
	exec(t, e, rootSess, `INSERT INTO f.mine VALUES (1, 'root')`)
	exec(t, e, Session{UserID: "u", Role: auth.RoleUser}, `INSERT INTO f.mine VALUES (1, 'u')`)
	exec(t, e, rootSess, `DELETE FROM f.ints WHERE id = 2`)

	queries := []struct {
		sql    string
		params []any
	}{
		{`SELECT * FROM f.ints WHERE id = 1`, nil},
		{`SELECT * FROM f.ints WHERE id = -3`, nil},
		{`SELECT * FROM f.ints WHERE id = 2`, nil},
		{`SELECT * FROM f.ints WHERE id = 99`, nil},
		{`SELECT id, s, _seq FROM f.ints WHERE id = 1;`, nil},
		{`SELECT ID, S FROM f.ints WHERE id = 1 LIMIT 1`, nil},
		{`SELECT s FROM f.ints WHERE id = 1 LIMIT 0`, nil},
		{`SELECT * FROM f.ints WHERE id = $1`, []any{json.Number("1")}},
		{`SELECT * FROM f.ints WHERE id = $1`, []any{int64(-3)}},
		{`SELECT * FROM f.texts WHERE k = 'a'`, nil},
		{`SELECT v FROM f.texts WHERE k = ''`, nil},
		{`SELECT v FROM f.texts WHERE k = $1`, []any{"5"}},
		{`SELECT v FROM f.texts WHERE k = 'A'`, nil},
		{`SELECT * FROM f.mine WHERE id = 1`, nil},
		// The rest of the condition is checked on the row by package expr.
		{`SELECT * FROM f.ints WHERE id = 1 AND s = 'one'`, nil},
		{`SELECT * FROM f.ints WHERE id = 1 AND s = 'two'`, nil},
		{`SELECT id FROM f.ints WHERE s = 'one' AND id = 1`, nil},
		{`SELECT id FROM f.ints WHERE id = 1 AND b AND ts > '2025-01-01'`, nil},
		{`SELECT id FROM f.ints WHERE id = -3 AND b = 'f' AND ts < '1970-01-01 00:00:01'`, nil},
		{`SELECT id FROM f.ints WHERE id = 1 AND id = -3`, nil},
		{`SELECT id FROM f.ints WHERE id = 1 AND (s LIKE 'o%' OR x > 5) AND small BETWEEN 1 AND 7`, nil},
		{`SELECT id FROM f.ints WHERE id = -3 AND s IS NOT NULL AND NOT b`, nil},
		{`SELECT id FROM f.ints WHERE id = $1 AND s = $2`, []any{json.Number("1"), "one"}},
		{`SELECT v FROM f.texts WHERE k = 'a' AND v IN (1, 2)`, nil},
	}
	for _, q := range queries {
		fastPathEnabled = true
		// A USER table's point lookup is a user's own: root's SELECT reads
		// every user's rows (below), which the fast path does not.
		as := Session{UserID: "root", Role: auth.RoleSystem, Namespace: "default"}
		if strings.Contains(q.sql, "f.mine") {
			as = Session{UserID: "u", Role: auth.RoleUser, Namespace: "default"}
		}
		if _, ok := e.matchPointQuery(&as, lexed(q.sql), q.params); !ok && q.sql != `SELECT * FROM f.ints WHERE id = -3` {
			t.Errorf("%s: fast path did not apply", q.sql)
		}
		fast := exec(t, e, as, q.sql, q.params...)
		fastPathEnabled = false
		slow := exec(t, e, as, q.sql, q.params...)
		fastPathEnabled = true
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s:\n fast %+v\n slow %+v", q.sql, fast, slow)
		}
	}
	if _, ok := e.matchPointQuery(&Session{UserID: "root", Role: auth.RoleSystem, Namespace: "default"}, lexed(`SELECT * FROM f.mine WHERE id = 1`), nil); ok {
		t.Error("root's point lookup of a USER table took the per-user fast path")
	}
	if res := exec(t, e, rootSess, `SELECT v FROM f.mine WHERE id = 1 ORDER BY v`); fmt.Sprint(res[0].Rows) != "[[root] [u]]" {
		t.Errorf("root's point lookup of a USER table: %v", res[0].Rows)
	}
	// Shapes that must fall back.
	for _, sql := range []string{
		`SELECT * FROM f.ints WHERE id = '1'`, `SELECT * FROM f.ints WHERE id = 1.5`,
		`SELECT * FROM f.ints WHERE id = 1 AND d > 1`, `SELECT s AS x FROM f.ints WHERE id = 1`,
		`SELECT * FROM f.ints WHERE id = 1 OR id = 2`, `SELECT * FROM f.ints WHERE id = 1 AND abs(x) > 1`,
		`SELECT * FROM f.ints WHERE id = 1 ORDER BY s`, `SELECT * FROM f.ints WHERE b = 'yes'`,
		`SELECT * FROM f.texts WHERE k = 5`, `SELECT * FROM f.ints i WHERE id = 1`, `SELECT nope FROM f.ints WHERE id = 1`,
	} {
		if _, ok := e.matchPointQuery(&Session{UserID: "root", Role: auth.RoleSystem, Namespace: "default"}, lexed(sql), nil); ok {
			t.Errorf("%s: fast path applied but must not", sql)
		}
	}
}

// lexed is what execSelect hands the fast paths: the tokens, or none when
// the text does not lex.
func lexed(text string) []parse.Token {
	toks, err := parse.Lex(text)
	if err != nil {
		return nil
	}
	return toks
}
