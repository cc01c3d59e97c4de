package node

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBadInputIsRejectedAndChangesNothing(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT NOT NULL, price DOUBLE, tags JSON, at TIMESTAMP)`)
	mustSQL(t, root, `INSERT INTO app.items (id, name) VALUES (1, 'one')`)

	cases := []struct {
		name, sql, code string
		status          int
		params          []any
	}{
		{"syntax", `SELEC * FROM app.items`, "INVALID_SQL", 400, nil},
		{"unknown table", `SELECT * FROM app.nope`, "NOT_FOUND", 400, nil},
		{"unknown namespace", `SELECT * FROM nope.items`, "NOT_FOUND", 400, nil},
		{"unknown column select", `SELECT nope FROM app.items`, "SQL_EXECUTION_ERROR", 400, nil},
		{"unknown column insert", `INSERT INTO app.items (id, nope) VALUES (2, 'x')`, "NOT_FOUND", 400, nil},
		{"type mismatch", `INSERT INTO app.items (id, name) VALUES ('abc', 'x')`, "TYPE_MISMATCH", 400, nil},
		{"int overflow", `INSERT INTO app.items (id, name) VALUES (3000000000, 'x')`, "TYPE_MISMATCH", 400, nil},
		{"bad json", `INSERT INTO app.items (id, name, tags) VALUES (5, 'x', '{bad')`, "TYPE_MISMATCH", 400, nil},
		{"bad timestamp", `INSERT INTO app.items (id, name, at) VALUES (5, 'x', 'yesterday')`, "TYPE_MISMATCH", 400, nil},
		{"not null", `INSERT INTO app.items (id) VALUES (6)`, "CONSTRAINT_VIOLATION", 400, nil},
		{"duplicate pk", `INSERT INTO app.items (id, name) VALUES (1, 'again')`, "DUPLICATE_KEY", 400, nil},
		{"duplicate pk in batch", `INSERT INTO app.items (id, name) VALUES (7, 'a'), (7, 'b')`, "DUPLICATE_KEY", 400, nil},
		{"update without where", `UPDATE app.items SET name = 'x'`, "INVALID_SQL", 400, nil},
		{"delete without where", `DELETE FROM app.items`, "INVALID_SQL", 400, nil},
		{"update pk", `UPDATE app.items SET id = 9 WHERE id = 1`, "INVALID_SQL", 400, nil},
		{"invalid identifier", `CREATE SHARED TABLE app.bad-name (id INT PRIMARY KEY)`, "INVALID_SQL", 400, nil},
		{"reserved column", `CREATE SHARED TABLE app.t2 (_seq INT PRIMARY KEY)`, "INVALID_INPUT", 400, nil},
		{"composite primary key", `CREATE SHARED TABLE app.t3 (a INT, b INT, PRIMARY KEY (a, b))`, "INVALID_SQL", 400, nil},
		{"unknown type", `CREATE SHARED TABLE app.t4 (a WIBBLE PRIMARY KEY)`, "INVALID_INPUT", 400, nil},
		{"unknown option", `CREATE SHARED TABLE app.t5 (a INT PRIMARY KEY) WITH (COLOR = 'red')`, "INVALID_SQL", 400, nil},
		{"bad flush policy", `CREATE SHARED TABLE app.t6 (a INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:0')`, "INVALID_INPUT", 400, nil},
		{"stream without ttl", `CREATE STREAM TABLE app.t7 (a INT)`, "INVALID_INPUT", 400, nil},
		{"table exists", `CREATE SHARED TABLE app.items (id INT PRIMARY KEY)`, "ALREADY_EXISTS", 400, nil},
		{"params with batch", `SELECT 1; SELECT 2`, "PARAMS_WITH_BATCH", 400, []any{1}},
		{"missing param", `SELECT * FROM app.items WHERE id = $2`, "INVALID_PARAMETER", 400, []any{1}},
		{"empty", `   `, "EMPTY_SQL", 400, nil},
		{"sqlite internals", `SELECT * FROM sqlite_master`, "NOT_FOUND", 400, nil},
		{"unsupported statement", `PRAGMA table_info(x)`, "INVALID_SQL", 400, nil},
		{"system table write", `INSERT INTO system.users (user_id) VALUES ('x')`, "INVALID_SQL", 400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, root, tc.code, tc.status, tc.sql, tc.params...)
		})
	}
	// Nothing changed.
	rows := mustRows(t, root, `SELECT id, name FROM app.items`)
	if len(rows) != 1 || rows[0][1] != "one" {
		t.Fatalf("table changed by rejected statements: %v", rows)
	}
	if len(mustRows(t, root, `SELECT * FROM system.tables WHERE namespace_id = 'app'`)) != 1 {
		t.Fatal("a rejected CREATE TABLE left a table behind")
	}
}

func TestHTTPLevelErrors(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	anon := login(t, n, "root", rootPW)
	anon.Token = ""

	type body struct {
		Status string `json:"status"`
		Error  struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	check := func(name string, status int, code string, gotStatus int, data []byte) {
		t.Helper()
		var b body
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatalf("%s: response is not JSON: %q", name, data)
		}
		if gotStatus != status || b.Error.Code != code || b.Status != "error" {
			t.Fatalf("%s: want %d/%s, got %d/%s (%s)", name, status, code, gotStatus, b.Error.Code, data)
		}
	}
	s, d, _ := anon.Do(ctx(t), "POST", "/v1/api/sql", []byte(`{"sql":"SELECT 1"}`), false)
	check("no token", 401, "MISSING_AUTHORIZATION", s, d)
	anon.Token = "garbage.token.here"
	s, d, _ = anon.Do(ctx(t), "POST", "/v1/api/sql", []byte(`{"sql":"SELECT 1"}`), true)
	check("bad token", 401, "INVALID_CREDENTIALS", s, d)
	s, d, _ = root.Do(ctx(t), "POST", "/v1/api/sql", []byte(`{"sql": 42}`), true)
	check("wrong field type", 400, "INVALID_INPUT", s, d)
	s, d, _ = root.Do(ctx(t), "POST", "/v1/api/sql", []byte(`{"sql": "SELECT 1"`), true)
	check("truncated json", 400, "INVALID_INPUT", s, d)
	s, d, _ = root.Do(ctx(t), "POST", "/v1/api/sql", []byte(`{}`), true)
	check("missing sql", 400, "EMPTY_SQL", s, d)
	big := `{"sql":"SELECT '` + strings.Repeat("x", 11<<20) + `'"}`
	s, d, _ = root.Do(ctx(t), "POST", "/v1/api/sql", []byte(big), true)
	check("oversize body", http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", s, d)
	s, d, _ = anon.Do(ctx(t), "POST", "/v1/api/auth/login", []byte(`{"user":"root","password":"wrong"}`), false)
	check("bad password", 401, "INVALID_CREDENTIALS", s, d)
	s, d, _ = anon.Do(ctx(t), "POST", "/v1/api/auth/login", []byte(`{"user":"nobody","password":"wrong"}`), false)
	check("unknown user", 401, "INVALID_CREDENTIALS", s, d)
	for _, p := range []string{"/healthz", "/readyz"} {
		if s, _, _ := anon.Do(ctx(t), "GET", p, nil, false); s != 200 {
			t.Fatalf("%s: %d", p, s)
		}
	}
}
