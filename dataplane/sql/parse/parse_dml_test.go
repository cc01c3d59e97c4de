package parse

import (
	"fmt"
	"strings"
	"testing"
)

func lit(kind LiteralKind, text string) Expr {
	return Expr{Kind: ExprLiteral, Lit: Literal{Kind: kind, Text: text}}
}

func raw(s string) Expr { return Expr{Kind: ExprRaw, Raw: s} }

func TestParseInsert(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "columns and rows", in: "INSERT INTO app.messages (id, body) VALUES (1, 'hi'), (2, 'it''s')",
			want: &Insert{Table: TableName{"app", "messages"}, Columns: []string{"id", "body"}, Rows: [][]Expr{
				{lit(LitInt, "1"), lit(LitString, "hi")}, {lit(LitInt, "2"), lit(LitString, "it's")},
			}}},
		{name: "no columns", in: "insert into t values (1)", want: &Insert{Table: TableName{Name: "t"}, Rows: [][]Expr{{lit(LitInt, "1")}}}},
		{name: "literals", in: "INSERT INTO t VALUES (-1, +2, -1.5, 1e3, NULL, TRUE, false, x'0a', 0x10, -0x10, 99999999999999999999)",
			want: &Insert{Table: TableName{Name: "t"}, Rows: [][]Expr{{
				lit(LitInt, "-1"), lit(LitInt, "2"), lit(LitFloat, "-1.5"), lit(LitFloat, "1e3"), lit(LitNull, "NULL"),
				{Kind: ExprLiteral, Lit: Literal{Kind: LitBool, Text: "true", Bool: true}}, lit(LitBool, "false"),
				lit(LitBlob, "0A"), lit(LitInt, "16"), lit(LitInt, "-16"), lit(LitFloat, "99999999999999999999"),
			}}}},
		{name: "int64 bounds", in: "INSERT INTO t VALUES (9223372036854775807, -9223372036854775808, 9223372036854775808)",
			want: &Insert{Table: TableName{Name: "t"}, Rows: [][]Expr{{
				lit(LitInt, "9223372036854775807"), lit(LitInt, "-9223372036854775808"), lit(LitFloat, "9223372036854775808"),
			}}}},
		{name: "params funcs default", in: "INSERT INTO t (a, b, c, d, e, f) VALUES ($1, NOW(), CURRENT_TIMESTAMP, snowflake_id(), current_user, DEFAULT)",
			want: &Insert{Table: TableName{Name: "t"}, Columns: []string{"a", "b", "c", "d", "e", "f"}, Rows: [][]Expr{{
				{Kind: ExprParam, Param: 1}, {Kind: ExprFunc, Func: FuncNow}, {Kind: ExprFunc, Func: FuncCurrentTimestamp},
				{Kind: ExprFunc, Func: FuncSnowflakeID}, {Kind: ExprFunc, Func: FuncCurrentUser}, {Kind: ExprDefault},
			}}}},
		{name: "raw expressions", in: "INSERT INTO t VALUES (1 + 2, lower('X'), $1::int, (SELECT max(id) FROM t), -(3), 'a' || 'b', now() + 1, CASE WHEN true THEN 1 END)",
			want: &Insert{Table: TableName{Name: "t"}, Rows: [][]Expr{{
				raw("1 + 2"), raw("lower('X')"), raw("$1::int"), raw("(SELECT max(id) FROM t)"), raw("-(3)"), raw("'a' || 'b'"), raw("now() + 1"), raw("CASE WHEN true THEN 1 END"),
			}}}},
		{name: "trailing semicolon", in: "INSERT INTO t VALUES (1);", want: &Insert{Table: TableName{Name: "t"}, Rows: [][]Expr{{lit(LitInt, "1")}}}},

		{name: "more values than columns", in: "INSERT INTO t (a) VALUES (1, 2)", code: CodeInvalidSQL, msg: "INSERT has more expressions than target columns at position 25"},
		{name: "fewer values than columns", in: "INSERT INTO t (a, b) VALUES (1)", code: CodeInvalidSQL, msg: "INSERT has more target columns than expressions"},
		{name: "ragged rows", in: "INSERT INTO t VALUES (1, 2), (3)", code: CodeInvalidSQL, msg: "VALUES lists must all be the same length"},
		{name: "ragged rows with columns", in: "INSERT INTO t (a, b) VALUES (1, 2), (3)", code: CodeInvalidSQL, msg: "VALUES lists must all be the same length"},
		{name: "insert select", in: "INSERT INTO t SELECT * FROM u", code: CodeInvalidSQL, msg: "INSERT ... SELECT is not supported yet"},
		{name: "insert cols select", in: "INSERT INTO t (a) (SELECT 1)", code: CodeInvalidSQL, msg: "INSERT ... SELECT is not supported yet"},
		{name: "on conflict", in: "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", code: CodeInvalidSQL, msg: "ON CONFLICT is not supported yet"},
		{name: "returning", in: "INSERT INTO t VALUES (1) RETURNING id", code: CodeInvalidSQL, msg: "RETURNING is not supported yet"},
		{name: "default values", in: "INSERT INTO t DEFAULT VALUES", code: CodeInvalidSQL, msg: "DEFAULT VALUES is not supported yet"},
		{name: "insert or replace", in: "INSERT OR REPLACE INTO t VALUES (1)", code: CodeInvalidSQL, msg: "INSERT OR ... is not supported"},
		{name: "missing into", in: "INSERT t VALUES (1)", code: CodeInvalidSQL, msg: `expected INTO after "INSERT"`},
		{name: "missing values", in: "INSERT INTO t (a)", code: CodeInvalidSQL, msg: "expected VALUES after column list"},
		{name: "empty row", in: "INSERT INTO t VALUES ()", code: CodeInvalidSQL, msg: "expected value expression"},
		{name: "empty value", in: "INSERT INTO t VALUES (1,,2)", code: CodeInvalidSQL, msg: "expected value expression"},
		{name: "unterminated row", in: "INSERT INTO t VALUES (1, 2", code: CodeInvalidSQL, msg: "unexpected end of statement in VALUES list"},
		{name: "unbalanced raw", in: "INSERT INTO t VALUES ((1, 2)", code: CodeInvalidSQL, msg: "unexpected end of statement"},
		{name: "duplicate column", in: "INSERT INTO t (a, A) VALUES (1, 2)", code: CodeInvalidInput, msg: "column 'a' specified more than once"},
		{name: "system column", in: "INSERT INTO t (_seq) VALUES (1)", code: CodeInvalidInput, msg: "must not start with '_'"},
		{name: "bad param", in: "INSERT INTO t VALUES ($0)", code: CodeInvalidSQL, msg: "invalid parameter $0"},
		{name: "huge hex", in: "INSERT INTO t VALUES (0x10000000000000000)", code: CodeInvalidInput, msg: "does not fit in 64 bits"},
		{name: "junk after rows", in: "INSERT INTO t VALUES (1) (2)", code: CodeInvalidSQL, msg: `unexpected "("`},
	})
}

func TestParseUpdateDelete(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "update", in: "UPDATE app.users SET name = 'x', age = age + 1 WHERE id = $1",
			want: &Update{Table: TableName{"app", "users"}, Set: []Assignment{
				{Column: "name", Expr: lit(LitString, "x")}, {Column: "age", Expr: raw("age + 1")},
			}, Where: "id = $1"}},
		{name: "update where with subquery", in: "UPDATE t SET a = (SELECT 1 WHERE 1 = 1) WHERE b IN (SELECT x FROM y WHERE z) ;",
			want: &Update{Table: TableName{Name: "t"}, Set: []Assignment{{Column: "a", Expr: raw("(SELECT 1 WHERE 1 = 1)")}}, Where: "b IN (SELECT x FROM y WHERE z)"}},
		{name: "update default and func", in: "UPDATE t SET a = DEFAULT, b = NOW() WHERE true",
			want: &Update{Table: TableName{Name: "t"}, Set: []Assignment{{Column: "a", Expr: Expr{Kind: ExprDefault}}, {Column: "b", Expr: Expr{Kind: ExprFunc, Func: FuncNow}}}, Where: "true"}},
		{name: "update distinct from", in: "UPDATE t SET a = b IS DISTINCT FROM c WHERE true",
			want: &Update{Table: TableName{Name: "t"}, Set: []Assignment{{Column: "a", Expr: raw("b IS DISTINCT FROM c")}}, Where: "true"}},
		{name: "update without where", in: "UPDATE t SET a = 1", code: CodeInvalidSQL, msg: "UPDATE requires a WHERE clause"},
		{name: "update raw without where", in: "UPDATE t SET a = a + 1", code: CodeInvalidSQL, msg: "UPDATE requires a WHERE clause"},
		{name: "update empty where", in: "UPDATE t SET a = 1 WHERE", code: CodeInvalidSQL, msg: `expected condition after "WHERE"`},
		{name: "update from", in: "UPDATE t SET a = u.a FROM u WHERE t.id = u.id", code: CodeInvalidSQL, msg: "UPDATE ... FROM is not supported"},
		{name: "update returning", in: "UPDATE t SET a = 1 RETURNING a", code: CodeInvalidSQL, msg: "RETURNING is not supported yet"},
		{name: "update where returning", in: "UPDATE t SET a = 1 WHERE true RETURNING a", code: CodeInvalidSQL, msg: "RETURNING is not supported yet"},
		{name: "update duplicate", in: "UPDATE t SET a = 1, a = 2 WHERE true", code: CodeInvalidInput, msg: "assigned more than once"},
		{name: "update missing set", in: "UPDATE t a = 1 WHERE true", code: CodeInvalidSQL, msg: `expected SET after table name "t"`},
		{name: "update missing =", in: "UPDATE t SET a 1 WHERE true", code: CodeInvalidSQL, msg: `expected "=" after column 'a'`},
		{name: "update unbalanced", in: "UPDATE t SET a = 1 WHERE (b", code: CodeInvalidSQL, msg: `unbalanced "(" in WHERE clause`},
		{name: "update unbalanced close", in: "UPDATE t SET a = 1 WHERE b) OR (c", code: CodeInvalidSQL, msg: `unbalanced ")" in WHERE clause`},
		{name: "update unbalanced value", in: "UPDATE t SET a = 1) WHERE b", code: CodeInvalidSQL, msg: `unbalanced ")" in expression`},
		{name: "delete", in: "DELETE FROM app.users WHERE id = 1 AND name <> 'x'",
			want: &Delete{Table: TableName{"app", "users"}, Where: "id = 1 AND name <> 'x'"}},
		{name: "delete without where", in: "DELETE FROM t", code: CodeInvalidSQL, msg: "DELETE requires a WHERE clause"},
		{name: "delete without from", in: "DELETE t WHERE 1", code: CodeInvalidSQL, msg: `expected FROM after "DELETE"`},
		{name: "delete using", in: "DELETE FROM t USING u WHERE true", code: CodeInvalidSQL, msg: "DELETE ... USING is not supported"},
		{name: "delete returning", in: "DELETE FROM t RETURNING *", code: CodeInvalidSQL, msg: "RETURNING is not supported yet"},
		{name: "delete junk", in: "DELETE FROM t LIMIT 1", code: CodeInvalidSQL, msg: "expected WHERE after DELETE target"},
	})
}

// TestUpdateDeleteWhereMessages pins the exact wording the API returns.
func TestUpdateDeleteWhereMessages(t *testing.T) {
	for in, want := range map[string]string{
		"UPDATE t SET a = 1": "UPDATE requires a WHERE clause",
		"DELETE FROM t":      "DELETE requires a WHERE clause",
	} {
		_, err := Parse(in)
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error = %v, want %q", in, err, want)
		}
	}
}

// multiRowInsert builds an INSERT of n rows × 5 columns with typical
// values.
func multiRowInsert(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO app.messages (id, user_id, body, score, created_at) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, 'user_%d', 'message body number %d', %d.5, NOW())", i, i%17, i, i%100)
	}
	return b.String()
}

func TestParseLargeInsert(t *testing.T) {
	st, err := Parse(multiRowInsert(1000))
	if err != nil {
		t.Fatal(err)
	}
	ins := st.(*Insert)
	if len(ins.Rows) != 1000 || len(ins.Rows[999]) != 5 {
		t.Fatalf("got %d rows", len(ins.Rows))
	}
	if got := ins.Rows[999][2].Lit.Text; got != "message body number 999" {
		t.Errorf("row 999 body = %q", got)
	}
	if cap(ins.Rows[0]) != 5 {
		t.Errorf("rows must not share spare capacity: cap = %d", cap(ins.Rows[0]))
	}
}

func BenchmarkParseInsert1000(b *testing.B) {
	sql := multiRowInsert(1000)
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(sql); err != nil {
			b.Fatal(err)
		}
	}
}
