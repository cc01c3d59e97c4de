package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeResolver knows namespaces app and chat; the current namespace is app.
type fakeResolver struct{}

var fakeTables = map[string]string{
	"app.users":    "t_app_users",
	"app.messages": "t_app_messages",
	"app.Weird":    `t_app_we"ird`,
	"chat.rooms":   "t_chat_rooms",
	"chat.users":   "t_chat_users",
}

func (fakeResolver) ResolveTable(ns, name string) (string, bool) {
	if ns == "" {
		ns = "app"
	}
	v, ok := fakeTables[ns+"."+name]
	return v, ok
}

func (fakeResolver) IsNamespace(name string) bool { return name == "app" || name == "chat" }

// KeyColumn: every fake table is keyed by id.
func (fakeResolver) KeyColumn(string) string { return "id" }

// TestRewriteNullOrder: every ORDER BY term gets PostgreSQL's NULL order
// unless it says one, or it is the key of the only table of its level.
func TestRewriteNullOrder(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT a FROM users ORDER BY a":                                                          `SELECT a FROM "t_app_users" AS users ORDER BY a NULLS LAST`,
		"SELECT a FROM users ORDER BY a DESC, b ASC LIMIT 3":                                      `SELECT a FROM "t_app_users" AS users ORDER BY a DESC NULLS FIRST, b ASC NULLS LAST LIMIT 3`,
		"SELECT a FROM users ORDER BY a NULLS FIRST, b DESC NULLS LAST":                           `SELECT a FROM "t_app_users" AS users ORDER BY a NULLS FIRST, b DESC NULLS LAST`,
		"SELECT a FROM users ORDER BY id DESC LIMIT 3":                                            `SELECT a FROM "t_app_users" AS users ORDER BY id DESC LIMIT 3`,
		"SELECT a FROM users u ORDER BY u.id":                                                     `SELECT a FROM "t_app_users" AS u ORDER BY u.id`,
		"SELECT a AS id FROM users ORDER BY id":                                                   `SELECT a AS id FROM "t_app_users" AS users ORDER BY id NULLS LAST`,
		"SELECT 1 FROM users u LEFT JOIN messages m ON true ORDER BY m.id":                        `SELECT 1 FROM "t_app_users" AS u LEFT JOIN "t_app_messages" AS m ON true ORDER BY m.id NULLS LAST`,
		"SELECT rank() OVER (PARTITION BY a ORDER BY b DESC ROWS UNBOUNDED PRECEDING) FROM users": `SELECT rank() OVER (PARTITION BY a ORDER BY b DESC NULLS FIRST ROWS UNBOUNDED PRECEDING) FROM "t_app_users" AS users`,
		"SELECT group_concat(a ORDER BY f(b) DESC) FROM users":                                    `SELECT group_concat(a ORDER BY f(b) DESC NULLS FIRST) FROM "t_app_users" AS users`,
		"SELECT a FROM users ORDER BY CASE WHEN a THEN 1 END, (b)":                                `SELECT a FROM "t_app_users" AS users ORDER BY CASE WHEN a THEN 1 END NULLS LAST, ( b) NULLS LAST`,
		"SELECT x FROM (SELECT a AS x FROM users ORDER BY a LIMIT 2) s ORDER BY x OFFSET 1":       `SELECT x FROM (SELECT a AS x FROM "t_app_users" AS users ORDER BY a NULLS LAST LIMIT 2) s ORDER BY x NULLS LAST LIMIT -1 OFFSET 1`,
		"SELECT a FROM users ORDER BY a ILIKE 'x%'":                                               `SELECT a FROM "t_app_users" AS users ORDER BY kalam_ilike(a , 'x%') NULLS LAST`,
	} {
		got, err := Rewrite(in, fakeResolver{}, testOpt)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
}

var testOpt = RewriteOptions{CurrentUser: "o'brien", CurrentRole: "dba"}

func TestRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		limit          bool
		params         int
	}{
		{name: "simple", in: "SELECT * FROM users", want: `SELECT * FROM "t_app_users" AS users`},
		{name: "jsonb ? operator", in: "SELECT doc->>'c' FROM users WHERE doc ? 'c'",
			want: `SELECT doc->>'c' FROM "t_app_users" AS users WHERE json_contains(doc , 'c')`},
		{name: "? after -> tests the nested value", in: "SELECT doc->'a'->'b' ? $1 AND NOT doc ? 'x' OR (doc) ? 'y' = true FROM users",
			want: `SELECT json_contains(doc->'a'->'b' , ?1) AND NOT json_contains(doc , 'x') OR json_contains(( doc) , 'y') = true FROM "t_app_users" AS users`, params: 1},
		{name: "-> binds looser than +", in: "SELECT doc->'a' || 'x', doc->>1 + 1 FROM users",
			want: `SELECT (doc->'a' || 'x') , doc->> kalam_add_i4(1 , 1) FROM "t_app_users" AS users`},
		{name: "qualified", in: "SELECT id FROM app.users", want: `SELECT id FROM "t_app_users" AS users`},
		{name: "alias with AS", in: "SELECT u.id FROM users AS u", want: `SELECT u.id FROM "t_app_users" AS u`},
		{name: "bare alias", in: "SELECT u.id FROM chat.users u WHERE u.id = 1", want: `SELECT u.id FROM "t_chat_users" AS u WHERE u.id = 1`},
		{name: "quoted table", in: `SELECT * FROM "Weird"`, want: `SELECT * FROM "t_app_we""ird" AS "Weird"`},
		{name: "quoted alias", in: `SELECT * FROM users "U"`, want: `SELECT * FROM "t_app_users" AS "U"`},
		{name: "join with aliases", in: "SELECT m.body, u.name FROM messages m JOIN users u ON m.user_id = u.id",
			want: `SELECT m.body, u.name FROM "t_app_messages" AS m JOIN "t_app_users" AS u ON m.user_id = u.id`},
		{name: "left outer join", in: "SELECT 1 FROM users LEFT OUTER JOIN chat.rooms r ON true",
			want: `SELECT 1 FROM "t_app_users" AS users LEFT OUTER JOIN "t_chat_rooms" AS r ON true`},
		{name: "comma join", in: "SELECT * FROM users u, messages m, chat.rooms WHERE u.id = m.user_id",
			want: `SELECT * FROM "t_app_users" AS u, "t_app_messages" AS m, "t_chat_rooms" AS rooms WHERE u.id = m.user_id`},
		{name: "comma after ON continues FROM", in: "SELECT 1 FROM users u JOIN messages m ON u.id = m.user_id, chat.rooms",
			want: `SELECT 1 FROM "t_app_users" AS u JOIN "t_app_messages" AS m ON u.id = m.user_id, "t_chat_rooms" AS rooms`},
		{name: "group by commas are columns", in: "SELECT a, b FROM users GROUP BY a, b ORDER BY a, b LIMIT 1, 2",
			want: `SELECT a, b FROM "t_app_users" AS users GROUP BY a, b ORDER BY a NULLS LAST, b NULLS LAST LIMIT 1, 2`, limit: true},
		{name: "subquery in FROM", in: "SELECT x.n FROM (SELECT count(*) AS n FROM users) x",
			want: `SELECT x.n FROM (SELECT count(*) AS n FROM "t_app_users" AS users) x`},
		{name: "subquery in WHERE", in: "SELECT * FROM users WHERE id IN (SELECT user_id FROM messages)",
			want: `SELECT * FROM "t_app_users" AS users WHERE id IN (SELECT user_id FROM "t_app_messages" AS messages)`},
		{name: "exists subquery", in: "SELECT 1 WHERE EXISTS (SELECT 1 FROM chat.rooms)",
			want: `SELECT 1 WHERE EXISTS (SELECT 1 FROM "t_chat_rooms" AS rooms)`},
		{name: "parenthesised join", in: "SELECT * FROM (users u JOIN messages m ON u.id = m.user_id)",
			want: `SELECT * FROM ("t_app_users" AS u JOIN "t_app_messages" AS m ON u.id = m.user_id)`},
		{name: "CTE names left alone", in: "WITH recent AS (SELECT * FROM messages) SELECT * FROM recent r JOIN users ON true",
			want: `WITH recent AS (SELECT * FROM "t_app_messages" AS messages) SELECT * FROM recent r JOIN "t_app_users" AS users ON true`},
		{name: "recursive CTE", in: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 3) SELECT x FROM n",
			want: `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT kalam_add(x, 1) FROM n WHERE x < 3) SELECT x FROM n`},
		{name: "CTE shadows table", in: "WITH users AS (SELECT 1 AS id) SELECT id FROM users",
			want: `WITH users AS (SELECT 1 AS id) SELECT id FROM users`},
		{name: "CTE scope ends with its subquery", in: "SELECT * FROM (WITH users AS (SELECT 1) SELECT * FROM users) s, users",
			want: `SELECT * FROM (WITH users AS (SELECT 1) SELECT * FROM users) s, "t_app_users" AS users`},
		{name: "limit inside CTE is not top level", in: "WITH c AS (SELECT * FROM users LIMIT 5) SELECT * FROM c",
			want: `WITH c AS (SELECT * FROM "t_app_users" AS users LIMIT 5) SELECT * FROM c`},
		{name: "top level limit", in: "SELECT * FROM users LIMIT 10 OFFSET 5;", want: `SELECT * FROM "t_app_users" AS users LIMIT 10 OFFSET 5`, limit: true},
		{name: "ns.t.col", in: "SELECT app.users.name FROM app.users WHERE app.users.id = 1",
			want: `SELECT users.name FROM "t_app_users" AS users WHERE users.id = 1`},
		{name: "ns.t.col uses alias", in: "SELECT chat.rooms.id, chat.rooms.* FROM chat.rooms AS r",
			want: `SELECT r.id, r.* FROM "t_chat_rooms" AS r`},
		{name: "two-part refs untouched", in: "SELECT users.id FROM users", want: `SELECT users.id FROM "t_app_users" AS users`},
		{name: "params", in: "SELECT * FROM users WHERE id = $1 AND name = $12", want: `SELECT * FROM "t_app_users" AS users WHERE id = ?1 AND name = ?12`, params: 12},
		{name: "cast of column", in: "SELECT id::text FROM users", want: `SELECT kalam_cast_text(id,'') FROM "t_app_users" AS users`},
		{name: "cast of qualified column", in: "SELECT u.id::bigint FROM users u", want: `SELECT kalam_cast_int8(u.id) FROM "t_app_users" AS u`},
		{name: "cast after function call", in: "SELECT count(*)::int FROM users", want: `SELECT kalam_cast_int4(count(*)) FROM "t_app_users" AS users`},
		{name: "cast after parens", in: "SELECT (a + b)::double precision", want: `SELECT kalam_cast_float8(( kalam_add(a , b)) )`},
		{name: "cast chain", in: "SELECT $1::int::text", want: `SELECT kalam_cast_text(kalam_cast_int4(?1) ,'')`, params: 1},
		{name: "cast with params", in: "SELECT x::varchar(20), y::numeric(10, 2)", want: `SELECT kalam_cast_varchar(x,'',20) , kalam_cast_numeric(y,10,2)`},
		{name: "cast binds tighter than minus", in: "SELECT -1::int", want: `SELECT kalam_neg_i4( kalam_cast_int4(1))`},
		{name: "CAST AS pg type", in: "SELECT CAST(id AS bigint), CAST(x AS bool) FROM users",
			want: `SELECT kalam_cast_int8( id) , kalam_cast_bool( x) FROM "t_app_users" AS users`},
		{name: "string cast to timestamp", in: "SELECT '1970-01-01 00:00:01'::timestamp", want: `SELECT 1000000`},
		{name: "ilike", in: "SELECT * FROM users WHERE name ILIKE 'al%'",
			want: `SELECT * FROM "t_app_users" AS users WHERE kalam_ilike(name , 'al%')`},
		{name: "not ilike", in: "SELECT * FROM users WHERE name NOT ILIKE $1 AND id > 1",
			want: `SELECT * FROM "t_app_users" AS users WHERE (NOT kalam_ilike(name , ?1)) AND id > 1`, params: 1},
		{name: "ilike with concatenation", in: "SELECT 1 WHERE a || b ILIKE '%' || $1 || '%'",
			want: `SELECT 1 WHERE kalam_ilike((a || b) , (('%' || ?1) || '%'))`, params: 1},
		{name: "ilike in parens and CASE", in: "SELECT CASE WHEN (u.name ILIKE 'x') THEN 1 END FROM users u",
			want: `SELECT CASE WHEN ( kalam_ilike(u.name , 'x')) THEN 1 END FROM "t_app_users" AS u`},
		{name: "current_user", in: "SELECT * FROM users WHERE name = CURRENT_USER OR name = current_user()",
			want: `SELECT * FROM "t_app_users" AS users WHERE name = 'o''brien' OR name = 'o''brien'`},
		{name: "current_role", in: "SELECT CURRENT_ROLE()", want: `SELECT 'dba'`},
		{name: "alias named current_user kept", in: "SELECT 1 AS current_user", want: `SELECT 1 AS current_user`},
		{name: "now and current_timestamp", in: "SELECT NOW(), CURRENT_TIMESTAMP, snowflake_id(), UUID_V7(), ulid()",
			want: `SELECT kalam_now(), kalam_now(), kalam_snowflake_id(), kalam_uuid_v7(), kalam_ulid()`},
		{name: "column named ulid", in: "SELECT ulid FROM users", want: `SELECT ulid FROM "t_app_users" AS users`},
		{name: "extract", in: "SELECT EXTRACT(YEAR FROM created_at) FROM messages",
			want: `SELECT kalam_extract( 'year', created_at) FROM "t_app_messages" AS messages`},
		{name: "extract of expression with cast", in: "SELECT extract(epoch FROM $1::timestamp)",
			want: `SELECT kalam_extract( 'epoch', kalam_cast_timestamp(?1))`, params: 1},
		{name: "timestamp literal", in: "SELECT * FROM messages WHERE created_at > TIMESTAMP '2025-01-01 00:00:00'",
			want: `SELECT * FROM "t_app_messages" AS messages WHERE created_at > 1735689600000000`},
		{name: "timestamp literal RFC3339", in: "SELECT TIMESTAMP '2025-01-01T00:00:00.5Z'", want: `SELECT 1735689600500000`},
		{name: "negative timestamp is parenthesised", in: "SELECT 1-TIMESTAMP '1969-12-31 23:59:59'", want: `SELECT kalam_sub(1, (-1000000))`},
		{name: "date literal", in: "SELECT DATE '1970-01-11'", want: `SELECT 10`},
		{name: "is distinct from", in: "SELECT 1 FROM users WHERE a IS NOT DISTINCT FROM b",
			want: `SELECT 1 FROM "t_app_users" AS users WHERE a IS NOT DISTINCT FROM b`},
		{name: "values", in: "VALUES (1, 'a'), (2, 'b')", want: `SELECT * FROM (VALUES (1, 'a'), (2, 'b'))`},
		{name: "outer parens stripped", in: "((SELECT 1 FROM users LIMIT 1))", want: `SELECT 1 FROM "t_app_users" AS users LIMIT 1`, limit: true},
		{name: "comments collapse", in: "SELECT /* c */ 1 -- tail\nFROM users", want: `SELECT 1 FROM "t_app_users" AS users`},
		{name: "union", in: "SELECT id FROM users UNION SELECT id FROM chat.users",
			want: `SELECT id FROM "t_app_users" AS users UNION SELECT id FROM "t_chat_users" AS users`},
		{name: "window not a clause keeps FROM open", in: "SELECT count(*) OVER w FROM users WINDOW w AS (ORDER BY id)",
			want: `SELECT count(*) OVER w FROM "t_app_users" AS users WINDOW w AS (ORDER BY id NULLS LAST)`},
		{name: "keyword after table is not alias", in: "SELECT * FROM users WHERE true", want: `SELECT * FROM "t_app_users" AS users WHERE true`},
		{name: "CAST string to timestamp", in: "SELECT CAST('2025-01-01' AS timestamp), CAST('1970-01-02' AS DATE)", want: `SELECT 1735689600000000, 1`},
		{name: "CAST string to text stays", in: "SELECT CAST('x' AS varchar(10))", want: `SELECT kalam_cast_varchar( 'x','',10)`},
		{name: "cast after kalam function", in: "SELECT now()::text", want: `SELECT kalam_cast_text(kalam_now(),'timestamp')`},
		{name: "cast after CASE", in: "SELECT CASE WHEN x THEN 1 END::text", want: `SELECT kalam_cast_text(CASE WHEN x THEN 1 END,'')`},
		{name: "no rewrite after a dot", in: "SELECT t.now, t.current_user FROM users t", want: `SELECT t.now, t.current_user FROM "t_app_users" AS t`},
		{name: "adjacency kept", in: "SELECT id FROM users WHERE id=$1", want: `SELECT id FROM "t_app_users" AS users WHERE id=?1`, params: 1},
		{name: "param then word separated", in: "SELECT $1a", want: `SELECT ?1 a`, params: 1},
		{name: "ilike with escape", in: "SELECT 1 WHERE a ILIKE 'x!%' ESCAPE '!'", want: `SELECT 1 WHERE kalam_ilike(a , 'x!%', '!')`},
		{name: "ilike in function args", in: "SELECT coalesce(a ILIKE b, false)", want: `SELECT coalesce( kalam_ilike(a , b) , false)`},
		{name: "soft keyword alias", in: "SELECT 1 FROM users window", want: `SELECT 1 FROM "t_app_users" AS window`},
		{name: "quoted three-part ref", in: `SELECT "app"."users"."id" FROM app.users`, want: `SELECT users."id" FROM "t_app_users" AS users`},
		{name: "cast to date of string", in: "SELECT '1970-01-03'::date", want: `SELECT 2`},
		{name: "json arrow operators", in: "SELECT data->>'a', data->'b' FROM users", want: `SELECT data->>'a', data->'b' FROM "t_app_users" AS users`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rewrite(tc.in, fakeResolver{}, testOpt)
			if err != nil {
				t.Fatalf("Rewrite(%q): %v", tc.in, err)
			}
			if got.SQL != tc.want {
				t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", tc.in, got.SQL, tc.want)
			}
			if got.HasLimit != tc.limit {
				t.Errorf("HasLimit = %v, want %v", got.HasLimit, tc.limit)
			}
			if got.NumParams != tc.params {
				t.Errorf("NumParams = %d, want %d", got.NumParams, tc.params)
			}
		})
	}
}

func TestRewriteTables(t *testing.T) {
	got, err := Rewrite("SELECT * FROM users a JOIN users b ON true, chat.users WHERE x IN (SELECT 1 FROM app.users)", fakeResolver{}, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	want := []ResolvedTable{
		{Name: "users", VTab: "t_app_users"},
		{Namespace: "chat", Name: "users", VTab: "t_chat_users"},
	}
	if !reflect.DeepEqual(got.Tables, want) {
		t.Errorf("Tables = %+v, want %+v", got.Tables, want)
	}
}

func TestRewriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, code, msg string
	}{
		{"not found", "SELECT * FROM nope", CodeNotFound, "table 'nope' not found"},
		{"not found qualified", "SELECT * FROM chat.nope", CodeNotFound, "table 'chat.nope' not found"},
		{"not found in join", "SELECT * FROM users JOIN ghosts ON true", CodeNotFound, "table 'ghosts' not found"},
		{"not found in subquery", "SELECT (SELECT 1 FROM ghosts)", CodeNotFound, "table 'ghosts' not found"},
		{"sqlite_master", "SELECT * FROM sqlite_master", CodeNotFound, "table 'sqlite_master' not found"},
		{"sqlite_schema quoted", `SELECT * FROM "SQLITE_SCHEMA"`, CodeNotFound, "not found"},
		{"main schema", "SELECT * FROM main.users", CodeNotFound, "table 'main.users' not found"},
		{"temp schema", "SELECT * FROM temp.sqlite_temp_master", CodeNotFound, "not found"},
		{"sqlite_master after comma", "SELECT * FROM users, sqlite_master", CodeNotFound, "not found"},
		{"sqlite_master after window alias", "SELECT * FROM users window, sqlite_master", CodeNotFound, "not found"},
		{"sqlite_master in parens", "SELECT * FROM (sqlite_master)", CodeNotFound, "not found"},
		{"table function", "SELECT * FROM pragma_table_info('users')", CodeInvalidSQL, "table functions are not supported"},
		{"table function qualified", "SELECT * FROM main.pragma_table_info('x')", CodeInvalidSQL, "table functions are not supported"},
		{"string as table", "SELECT * FROM 'sqlite_master'", CodeInvalidSQL, "expected table name"},
		{"IN table", "SELECT 1 WHERE 'x' IN sqlite_master", CodeInvalidSQL, "IN needs a list or a subquery"},
		{"brackets", "SELECT [a'] FROM sqlite_master --']", CodeInvalidSQL, "square brackets are not supported"},
		{"question mark", "SELECT ?", CodeInvalidSQL, "placeholders"},
		{"question mark operand", "SELECT 1 FROM users WHERE id = ?", CodeInvalidSQL, "placeholders"},
		{"question mark after operator", "SELECT doc ? FROM users", CodeInvalidSQL, "placeholders"},
		{"question mark list", "SELECT 1 FROM users WHERE id IN (?, ?)", CodeInvalidSQL, "placeholders"},
		{"named param", "SELECT :x", CodeInvalidSQL, "unexpected"},
		{"backtick", "SELECT * FROM `sqlite_master`", CodeInvalidSQL, "unexpected character"},
		{"not a query", "DELETE FROM users WHERE 1", CodeInvalidSQL, "only SELECT"},
		{"with then delete", "WITH x AS (SELECT 1) DELETE FROM users", CodeInvalidSQL, "expected SELECT after the WITH clause"},
		{"multiple statements", "SELECT 1; SELECT * FROM sqlite_master", CodeInvalidSQL, "one statement"},
		{"unbalanced open", "SELECT (1", CodeInvalidSQL, `unbalanced "("`},
		{"unbalanced close", "SELECT 1)", CodeInvalidSQL, `unbalanced ")"`},
		{"case without end", "SELECT CASE WHEN 1 THEN 2", CodeInvalidSQL, "CASE without END"},
		{"missing table", "SELECT * FROM", CodeInvalidSQL, "expected table name"},
		{"clause for a table", "SELECT FROM WHERE", CodeInvalidSQL, "syntax error: expected table name after \"FROM\", found WHERE"},
		{"clause after JOIN", "SELECT * FROM users JOIN ON true", CodeInvalidSQL, "syntax error: expected table name after \"JOIN\", found ON"},
		{"cast without operand", "SELECT ::int", CodeInvalidSQL, `"::" must follow an expression`},
		{"unknown cast type", "SELECT x::wibble", CodeInvalidSQL, "unsupported type WIBBLE"},
		{"array cast", "SELECT x::int[]", CodeInvalidSQL, "array types"},
		{"ilike without left", "SELECT ILIKE 'x'", CodeInvalidSQL, "ILIKE needs a left operand"},
		{"ilike without right", "SELECT a ILIKE", CodeInvalidSQL, "ILIKE needs a right operand"},
		{"bad timestamp", "SELECT TIMESTAMP '2025-02-30'", CodeInvalidInput, "invalid timestamp"},
		{"bad date", "SELECT DATE 'soon'", CodeInvalidInput, "invalid date"},
		{"param zero", "SELECT $0", CodeInvalidSQL, "invalid parameter"},
		{"param too big", "SELECT $40000", CodeInvalidSQL, "invalid parameter"},
		{"malformed extract", "SELECT EXTRACT(year, x)", CodeInvalidSQL, "malformed EXTRACT"},
		{"three-part table", "SELECT * FROM a.b.c", CodeInvalidSQL, "at most two parts"},
		{"NUL", "SELECT 1\x00", CodeInvalidSQL, "NUL byte"},
		{"empty", " ; ", CodeInvalidSQL, "empty statement"},
		{"CTE named sqlite_", "WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master", CodeInvalidInput, "must not start with 'sqlite_'"},
		{"CTE shadowing a vtab", "WITH t_app_users AS (SELECT 1) SELECT * FROM users", CodeInvalidSQL, "conflicts with table 'users'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rewrite(tc.in, fakeResolver{}, testOpt)
			if err == nil {
				t.Fatalf("Rewrite(%q) = %q, want error", tc.in, got.SQL)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Code != tc.code || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("Rewrite(%q) error = %s %q, want %s containing %q", tc.in, pe.Code, pe.Msg, tc.code, tc.msg)
			}
		})
	}
}

// TestRewriteErrorStates: errors PostgreSQL raises at the same point carry
// its SQLSTATE, also after withPos adds the position.
func TestRewriteErrorStates(t *testing.T) {
	for _, tc := range []struct{ in, state, msg string }{
		{"SELECT 1 LIMIT -1", StateLimitNegative, "LIMIT must not be negative"},
		{"SELECT 1 LIMIT 5 OFFSET -2", StateOffsetNegative, "OFFSET must not be negative"},
		{"SELECT 1 OFFSET - 1.5 ROWS", StateOffsetNegative, "OFFSET must not be negative"},
		{"SELECT DATE 'soon'", StateInvalidDatetime, "invalid date"},
		{"SELECT DATE '2020-13-01'", StateDatetimeOverflow, "day out of range"},
		{"SELECT TIMESTAMP '2025-02-30'", StateDatetimeOverflow, "invalid timestamp"},
		{"SELECT TIMESTAMP '2025-02-03 25:00'", StateDatetimeOverflow, "time out of range"},
		{"SELECT TIMESTAMP 'later'", StateInvalidDatetime, "invalid timestamp"},
	} {
		_, err := Rewrite(tc.in, fakeResolver{}, testOpt)
		var pe *Error
		if !errors.As(err, &pe) || pe.State != tc.state || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("Rewrite(%q) error = %+v, want SQLSTATE %s containing %q", tc.in, err, tc.state, tc.msg)
		}
	}
	for _, in := range []string{"SELECT 1 LIMIT -1 + 2", "SELECT 1 LIMIT -0", "SELECT 1 LIMIT -0.4", "SELECT 1 OFFSET 0", "SELECT 1 LIMIT ALL"} {
		if _, err := Rewrite(in, fakeResolver{}, testOpt); err != nil {
			t.Errorf("Rewrite(%q) = %v, want no error (PostgreSQL answers)", in, err)
		}
	}
}

func TestRewriteNotFoundMessage(t *testing.T) {
	_, err := Rewrite("SELECT * FROM app.nope", fakeResolver{}, testOpt)
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != CodeNotFound || pe.Msg != "table 'app.nope' not found" || pe.Pos != 14 {
		t.Errorf("error = %+v, want NOT_FOUND \"table 'app.nope' not found\" at 14", err)
	}
}

func TestMustSeparate(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"x", "y", true},
		{"1", "a", true},
		{"'a'", "'b'", true},
		{`"a"`, `"b"`, true},
		{"-", "-1", true},
		{"/", "*", true},
		{"(", "a", false},
		{"a", ".", false},
		{"a", "(", false},
		{"'a'", ")", false},
		{"", "x", false},
	} {
		if got := mustSeparate(tc.a, tc.b); got != tc.want {
			t.Errorf("mustSeparate(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// typedResolver adds column types to fakeResolver: users(ts timestamp,
// d date, ok boolean, name text).
type typedResolver struct{ fakeResolver }

func (typedResolver) ColumnKind(vtab, col string) string {
	if vtab != "t_app_users" {
		return ""
	}
	return map[string]string{"ts": "timestamp", "d": "date", "ok": "boolean", "name": "other", "id": "other"}[col]
}

// TestRewriteCoerceLiterals: string literals compared with typed columns
// take the column's type at plan time.
func TestRewriteCoerceLiterals(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT id FROM users WHERE d IS NOT DISTINCT FROM '1970-01-02' OR d IS DISTINCT FROM TIMESTAMP '1970-01-03 00:00:00'": `SELECT id FROM "t_app_users" AS users WHERE d IS NOT DISTINCT FROM 1 OR d IS DISTINCT FROM 2`,
		"SELECT id FROM users WHERE ts < '2015-01-01'":                                          `SELECT id FROM "t_app_users" AS users WHERE ts < 1420070400000000`,
		"SELECT id FROM users u WHERE u.ts BETWEEN '2015-01-01' AND '2015-01-02 00:00:01'":      `SELECT id FROM "t_app_users" AS u WHERE u.ts BETWEEN 1420070400000000 AND 1420156801000000`,
		"SELECT id FROM users WHERE d NOT IN ('1970-01-02', '1969-12-31')":                      `SELECT id FROM "t_app_users" AS users WHERE d NOT IN (1, (-1))`,
		"SELECT id FROM users WHERE ok = 'yes' OR ok <> 'F'":                                    `SELECT id FROM "t_app_users" AS users WHERE ok = 1 OR ok <> 0`,
		"SELECT ts >= DATE '1970-01-02' FROM users":                                             `SELECT ts >= 86400000000 FROM "t_app_users" AS users`,
		"SELECT id FROM users WHERE d < TIMESTAMP '1970-01-02 12:00:00'":                        `SELECT id FROM "t_app_users" AS users WHERE d < 1.5`,
		"SELECT id FROM users WHERE d BETWEEN TIMESTAMP '1970-01-02 00:00:00' AND '1970-01-01'": `SELECT id FROM "t_app_users" AS users WHERE d BETWEEN 1 AND 0`,
		"SELECT id FROM users WHERE name = '2015-01-01' AND d = DATE '1970-01-03'":              `SELECT id FROM "t_app_users" AS users WHERE name = '2015-01-01' AND d = 2`,
		"SELECT id FROM users WHERE '2015-01-01' < ts":                                          `SELECT id FROM "t_app_users" AS users WHERE '2015-01-01' < ts`,
		"SELECT id FROM users WHERE ts = '2015-01-01'::text":                                    `SELECT id FROM "t_app_users" AS users WHERE ts = kalam_cast_text('2015-01-01','')`,
		"SELECT id FROM users WHERE id + ts > '2015-01-01'":                                     `SELECT id FROM "t_app_users" AS users WHERE kalam_add(id , ts) > '2015-01-01'`,
		"SELECT (SELECT count(*) FROM users x WHERE x.ts = '1970-01-01') FROM messages m":       `SELECT (SELECT count(*) FROM "t_app_users" AS x WHERE x.ts = 0) FROM "t_app_messages" AS m`,
	} {
		got, err := Rewrite(in, typedResolver{}, testOpt)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
	for _, in := range []string{
		"SELECT id FROM users WHERE ok = 'maybe'",
		"SELECT id FROM users WHERE ts > 'soon'",
	} {
		if _, err := Rewrite(in, typedResolver{}, testOpt); err == nil {
			t.Errorf("%s: want an error", in)
		}
	}
	for in, want := range map[string]bool{"t": true, "TRUE": true, " yes ": true, "on": true, "1": true, "f": false, "No": false, "off": false, "0": false} {
		if v, ok := ParseBool(in); !ok || v != want {
			t.Errorf("ParseBool(%q) = %v, %v", in, v, ok)
		}
	}
	for _, in := range []string{"", "o", "2", "yess", "maybe"} {
		if _, ok := ParseBool(in); ok {
			t.Errorf("ParseBool(%q) accepted", in)
		}
	}
}

// TestRewriteSyntax: PostgreSQL forms SQLite lacks become equivalents.
func TestRewriteSyntax(t *testing.T) {
	for in, want := range map[string]string{
		"VALUES (1, 'a'), (2, 'b')":                                                   `SELECT * FROM (VALUES (1, 'a'), (2, 'b'))`,
		"VALUES (1), (2) ORDER BY 1 DESC LIMIT 1":                                     `SELECT * FROM (VALUES ( 1) , ( 2)) ORDER BY 1 DESC NULLS FIRST LIMIT 1`,
		"SELECT a FROM users WHERE ok IS NOT UNKNOWN":                                 `SELECT a FROM "t_app_users" AS users WHERE ok IS NOT NULL`,
		"SELECT a FROM users LIMIT ALL":                                               `SELECT a FROM "t_app_users" AS users LIMIT -1`,
		"SELECT a FROM users OFFSET 5":                                                `SELECT a FROM "t_app_users" AS users LIMIT -1 OFFSET 5`,
		"SELECT a FROM users ORDER BY id OFFSET 2 ROWS FETCH NEXT $1 ROWS ONLY":       `SELECT a FROM "t_app_users" AS users ORDER BY id LIMIT ?1 OFFSET 2`,
		"SELECT a FROM users FETCH FIRST ROW ONLY":                                    `SELECT a FROM "t_app_users" AS users LIMIT 1`,
		"SELECT (SELECT a FROM users LIMIT 1 OFFSET 1) FROM users u LIMIT 2 OFFSET 1": `SELECT (SELECT a FROM "t_app_users" AS users LIMIT 1 OFFSET 1) FROM "t_app_users" AS u LIMIT 2 OFFSET 1`,
		"SELECT a FROM users WHERE a = ANY (SELECT b FROM messages)":                  `SELECT a FROM "t_app_users" AS users WHERE a IN (SELECT b FROM "t_app_messages" AS messages)`,
		"SELECT a FROM users WHERE a <> ALL (VALUES (1))":                             `SELECT a FROM "t_app_users" AS users WHERE a NOT IN ( VALUES (1))`,
		"SELECT a FROM users WHERE a NOT BETWEEN SYMMETRIC $2 AND b":                  `SELECT a FROM "t_app_users" AS users WHERE a NOT BETWEEN min(?2, b) AND max(?2, b)`,
	} {
		got, err := Rewrite(in, fakeResolver{}, testOpt)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got.SQL != want {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
	for _, in := range []string{
		"SELECT a FROM users FETCH FIRST 3 ROWS WITH TIES",
		"SELECT a FROM users WHERE a BETWEEN SYMMETRIC b + 1 AND 3",
		"SELECT a FROM users LIMIT 3 FETCH FIRST 2 ROWS ONLY",
	} {
		if _, err := Rewrite(in, fakeResolver{}, testOpt); err == nil {
			t.Errorf("%s: want an error", in)
		}
	}
}
