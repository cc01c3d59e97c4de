package parse

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are realistic statements covering every statement form and
// rewrite rule; the fuzzer mutates from here.
var fuzzSeeds = []string{
	"SELECT x.id, l.m FROM users x LEFT JOIN LATERAL (SELECT y.id AS m FROM users y WHERE y.id > x.id ORDER BY y.id LIMIT 1) l ON true ORDER BY l.m",
	"SELECT x.id, l.c FROM users x, LATERAL (SELECT count(*) AS c FROM users y WHERE y.n < x.n) l, LATERAL (SELECT max(l.c) AS d FROM users z) k",
	"SELECT a.x, b.y FROM users AS a(x, y) JOIN chat.rooms b(y) ON a.x = b.y",
	// PostgreSQL operators, casts and call forms (rewrite_pg.go).
	"SELECT 1 + 2 * 3 - 4 / 5 % 6 ^ 2, -x, 'a' || 1 + 2 FROM users",
	"SELECT x::int::text, CAST(y AS numeric(10,2)), z::varchar(3), '1'::boolean, d::date FROM users",
	"SELECT a ~ 'b', a !~* 'c', a SIMILAR TO '(x|y)%' ESCAPE '#', a NOT ILIKE 'q' ESCAPE '!' FROM users",
	"SELECT doc->'a'->>'b', doc ? 'k', NOT (doc->'x') ? $1, doc->>1 + 2 FROM users WHERE doc ? 'c' AND id IN (?)",
	"SELECT POSITION('a' IN b), SUBSTRING(s FROM 2 FOR 3), TRIM(LEADING 'x' FROM s), OVERLAY(s PLACING 'z' FROM 1 FOR 2)",
	"SELECT TIMESTAMP '2020-01-01' + INTERVAL '1 day' - TIMESTAMP '2019-01-01', EXTRACT(isodow FROM DATE '2020-01-01')",
	"SELECT (a < b)::text, CASE WHEN x THEN 1 END + 1, sum(x * 2) OVER (PARTITION BY y) FROM users",
	"CREATE NAMESPACE IF NOT EXISTS app",
	"DROP NAMESPACE IF EXISTS app CASCADE",
	"SHOW NAMESPACES",
	"USE NAMESPACE app",
	"SET NAMESPACE app",
	"SHOW TABLES IN app",
	"DESCRIBE TABLE app.users HISTORY",
	"CREATE USER TABLE app.messages (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), body TEXT NOT NULL, created_at TIMESTAMP DEFAULT NOW()) WITH (FLUSH_POLICY = 'rows:1000')",
	"CREATE TABLE t (id BIGSERIAL, n DECIMAL(10, 2) DEFAULT -1.5, e EMBEDDING(384), CONSTRAINT pk PRIMARY KEY (id)) USING kalam WITH (TYPE = 'SHARED')",
	"CREATE STREAM TABLE ev (id INT GENERATED ALWAYS AS IDENTITY, payload JSON) WITH (TTL_SECONDS = 60)",
	"DROP USER TABLE IF EXISTS app.messages",
	"CREATE USER IF NOT EXISTS 'alice' WITH PASSWORD 'pw' ROLE dba EMAIL 'a@x.io'",
	"ALTER USER alice SET PASSWORD 'new'",
	"DROP USER IF EXISTS 'alice'",
	"INSERT INTO app.messages (id, body, at) VALUES (1, 'hi', NOW()), ($1, $2, CURRENT_TIMESTAMP), (-3, 'it''s', x'00ff')",
	"INSERT INTO t VALUES (1 + 2, (SELECT max(id) FROM t), DEFAULT, NULL, TRUE, 0x10)",
	"UPDATE app.users SET name = 'x', n = n + 1 WHERE id = $1",
	"DELETE FROM app.users WHERE id IN (SELECT user_id FROM messages)",
	"SELECT u.id, m.body FROM app.users u JOIN messages AS m ON m.user_id = u.id WHERE u.name ILIKE '%a%' LIMIT 10",
	"WITH recent AS (SELECT * FROM messages WHERE created_at > TIMESTAMP '2025-01-01 00:00:00') SELECT count(*)::int FROM recent, users",
	"SELECT app.users.name, EXTRACT(year FROM created_at), CURRENT_USER, current_role() FROM app.users WHERE name NOT ILIKE $1",
	"SELECT CAST(x AS bigint), (a + b)::double precision, DATE '2025-01-01' FROM (SELECT 1 AS x, 2 AS a, 3 AS b) s",
	"SELECT * FROM (users u JOIN messages m ON true), chat.rooms WINDOW w AS (ORDER BY id)",
	"SELECT 1 WHERE 1 IN sqlite_master; SELECT * FROM pragma_table_info('t')",
	"SELECT CASE WHEN a IS NOT DISTINCT FROM b THEN 1 ELSE 2 END FROM users window, rooms",
	"VALUES (1, 'a'), (2, 'b')",
	"((SELECT 1))",
	"SELECT [a'] FROM sqlite_master --']\n",
	"SELECT /* c */ 1 -- x",
}

// checkError asserts the package's error contract.
func checkError(t *testing.T, what, in string, err error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("%s(%q) error %T %v is not *Error", what, in, err, err)
	}
	switch pe.Code {
	case CodeInvalidSQL, CodeInvalidInput, CodeNotFound:
	default:
		t.Fatalf("%s(%q) error has unknown code %q", what, in, pe.Code)
	}
	if pe.Msg == "" || pe.Pos > len(in) {
		t.Fatalf("%s(%q) error %+v has an empty message or a bad position", what, in, pe)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := Lex(in); err != nil {
			checkError(t, "Lex", in, err)
		}
		stmts, err := SplitStatements(in)
		if err != nil {
			checkError(t, "SplitStatements", in, err)
		}
		for _, s := range stmts {
			if s == "" {
				t.Fatalf("SplitStatements(%q) returned an empty statement", in)
			}
		}
		st, err := Parse(in)
		if err != nil {
			checkError(t, "Parse", in, err)
			return
		}
		switch s := st.(type) {
		case *Insert:
			for _, row := range s.Rows {
				if len(row) != len(s.Rows[0]) || (len(s.Columns) > 0 && len(row) != len(s.Columns)) {
					t.Fatalf("Parse(%q): ragged rows", in)
				}
				for _, e := range row {
					if e.Kind == ExprRaw && e.Raw == "" {
						t.Fatalf("Parse(%q): empty raw expression", in)
					}
				}
			}
		case *Update:
			if s.Where == "" || len(s.Set) == 0 {
				t.Fatalf("Parse(%q): UPDATE without WHERE or SET", in)
			}
		case *Delete:
			if s.Where == "" {
				t.Fatalf("Parse(%q): DELETE without WHERE", in)
			}
		case *Select:
			if s.SQL != in {
				t.Fatalf("Parse(%q): Select.SQL changed", in)
			}
		}
	})
}

func FuzzRewrite(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Rewrite(in, starResolver{}, testOpt)
		if err != nil {
			checkError(t, "Rewrite", in, err)
			return
		}
		// The output must lex (no unbalanced quotes or comments were
		// produced) and must not reintroduce what the input rules refuse.
		// "?" only occurs as SQLite's ?N or inside quotes, so mapping it
		// back to "$" lets our lexer check the SQLite text.
		toks, err := Lex(strings.ReplaceAll(out.SQL, "?", "$"))
		if err != nil {
			t.Fatalf("Rewrite(%q) = %q which does not lex: %v", in, out.SQL, err)
		}
		for _, tk := range toks {
			if tk.Kind == TokOp && (tk.Value == "[" || tk.Value == ";") {
				t.Fatalf("Rewrite(%q) = %q contains %q", in, out.SQL, tk.Text)
			}
			if tk.Kind == TokIdent && strings.HasPrefix(tk.Value, "sqlite_") && !strings.HasPrefix(tk.Value, "sqlite_version") {
				// Allowed only where the input had it as a plain name
				// (column, function); never as a table, which Rewrite
				// refuses. Cheap sanity check: the input must contain it.
				if !strings.Contains(asciiLower(in), tk.Value) {
					t.Fatalf("Rewrite(%q) = %q invents %q", in, out.SQL, tk.Text)
				}
			}
		}
		if out.NumParams < 0 || out.NumParams > MaxRewriteParam {
			t.Fatalf("Rewrite(%q): NumParams %d", in, out.NumParams)
		}
		for _, tb := range out.Tables {
			if _, ok := (fakeResolver{}).ResolveTable(tb.Namespace, tb.Name); !ok || tb.VTab == "" {
				t.Fatalf("Rewrite(%q): unresolved table %+v reported", in, tb)
			}
		}
	})
}
