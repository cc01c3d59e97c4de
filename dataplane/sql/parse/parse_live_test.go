package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSubscribeAndKill(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "table only", in: "SUBSCRIBE TO app.messages", want: &Subscribe{Table: TableName{"app", "messages"}}},
		{name: "unqualified", in: "subscribe to messages;", want: &Subscribe{Table: TableName{Name: "messages"}}},
		{name: "where", in: "SUBSCRIBE TO app.m WHERE a = 1 AND b IN (1, 2)",
			want: &Subscribe{Table: TableName{"app", "m"}, Where: "a = 1 AND b IN (1, 2)"}},
		{name: "where and options", in: "SUBSCRIBE TO app.m WHERE (a = 'options') OPTIONS (last_rows = 10, batch_size=5, FROM = 123)",
			want: &Subscribe{Table: TableName{"app", "m"}, Where: "(a = 'options')",
				Options: map[string]string{"last_rows": "10", "batch_size": "5", "from": "123"}}},
		{name: "options without where", in: "SUBSCRIBE TO app.m OPTIONS (from_seq_id = '99')",
			want: &Subscribe{Table: TableName{"app", "m"}, Options: map[string]string{"from_seq_id": "99"}}},
		{name: "column named options", in: "SUBSCRIBE TO app.m WHERE options = 1",
			want: &Subscribe{Table: TableName{"app", "m"}, Where: "options = 1"}},
		{name: "kill", in: "KILL LIVE QUERY 'root-c1-s1'", want: &KillLiveQuery{LiveID: "root-c1-s1"}},

		{name: "missing to", in: "SUBSCRIBE app.m", code: CodeInvalidSQL, msg: `expected TO after "SUBSCRIBE"`},
		{name: "empty where", in: "SUBSCRIBE TO app.m WHERE", code: CodeInvalidSQL, msg: "expected condition"},
		{name: "where then options only", in: "SUBSCRIBE TO app.m WHERE OPTIONS (a=1)", code: CodeInvalidSQL, msg: "expected condition"},
		{name: "order by", in: "SUBSCRIBE TO app.m WHERE a = 1 ORDER BY a", code: CodeInvalidSQL, msg: "ORDER is not supported in live queries"},
		{name: "subquery", in: "SUBSCRIBE TO app.m WHERE a IN (SELECT b FROM t)", code: CodeInvalidSQL, msg: "subqueries are not supported"},
		{name: "unbalanced close", in: "SUBSCRIBE TO app.m WHERE a = 1) OR (1 = 1", code: CodeInvalidSQL, msg: `unbalanced ")"`},
		{name: "unbalanced open", in: "SUBSCRIBE TO app.m WHERE (a = 1", code: CodeInvalidSQL, msg: `unbalanced "("`},
		{name: "duplicate option", in: "SUBSCRIBE TO app.m OPTIONS (from = 1, FROM = 2)", code: CodeInvalidSQL, msg: "given twice"},
		{name: "bad options", in: "SUBSCRIBE TO app.m OPTIONS last_rows = 1", code: CodeInvalidSQL, msg: `expected "("`},
		{name: "kill without live", in: "KILL QUERY 'x'", code: CodeInvalidSQL, msg: `unsupported statement "KILL"`},
		{name: "kill unquoted", in: "KILL LIVE QUERY x", code: CodeInvalidSQL, msg: "live query id"},
		{name: "kill empty", in: "KILL LIVE QUERY ''", code: CodeInvalidInput, msg: "must not be empty"},
		{name: "kill trailing", in: "KILL LIVE QUERY 'a' 'b'", code: CodeInvalidSQL, msg: "unexpected"},
	})
}

func TestParseLiveQuery(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want *LiveQuery
		msg  string
	}{
		{name: "star", in: "SELECT * FROM app.m", want: &LiveQuery{Table: TableName{"app", "m"}}},
		{name: "columns and where", in: `select id, "Body" from app.m where id >= 10 and body like 'a%';`,
			want: &LiveQuery{Table: TableName{"app", "m"}, Columns: []string{"id", "Body"}, Where: "id >= 10 and body like 'a%'"}},
		{name: "rich where", in: "SELECT * FROM m WHERE a IS NULL OR b BETWEEN 1 AND 2 OR lower(c) IN ('x') OR d IS DISTINCT FROM 3",
			want: &LiveQuery{Table: TableName{Name: "m"}, Where: "a IS NULL OR b BETWEEN 1 AND 2 OR lower(c) IN ('x') OR d IS DISTINCT FROM 3"}},

		{name: "not select", in: "DELETE FROM m WHERE a = 1", msg: "a live query must be SELECT"},
		{name: "empty", in: "  ", msg: "empty statement"},
		{name: "join", in: "SELECT * FROM a.m JOIN a.n ON m.id = n.id", msg: "no joins"},
		{name: "comma join", in: "SELECT * FROM a.m, a.n", msg: "no joins"},
		{name: "order", in: "SELECT * FROM a.m ORDER BY id", msg: "ORDER is not supported"},
		{name: "limit", in: "SELECT * FROM a.m WHERE id > 1 LIMIT 5", msg: "LIMIT is not supported"},
		{name: "group", in: "SELECT * FROM a.m GROUP BY id", msg: "GROUP is not supported"},
		{name: "union", in: "SELECT * FROM a.m WHERE id = 1 UNION SELECT * FROM a.m", msg: "UNION is not supported"},
		{name: "expression", in: "SELECT lower(a) FROM a.m", msg: "plain columns only"},
		{name: "alias", in: "SELECT a AS b FROM a.m", msg: "aliases are not supported"},
		{name: "table alias", in: "SELECT * FROM a.m x", msg: "table aliases are not supported"},
		{name: "subquery from", in: "SELECT * FROM (SELECT 1)", msg: "subqueries are not supported"},
		{name: "subquery where", in: "SELECT * FROM a.m WHERE id IN (SELECT id FROM a.n)", msg: "subqueries are not supported"},
		{name: "distinct", in: "SELECT DISTINCT a FROM a.m", msg: "DISTINCT is not supported"},
		{name: "cte", in: "WITH x AS (SELECT 1) SELECT * FROM x", msg: "a live query must be SELECT"},
		{name: "two statements", in: "SELECT * FROM a.m; SELECT 1", msg: "one statement expected"},
		{name: "unbalanced", in: "SELECT * FROM a.m WHERE (a = 1", msg: `unbalanced "("`},
		{name: "nul", in: "SELECT * FROM a.m\x00", msg: "NUL byte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLiveQuery(tc.in)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("ParseLiveQuery(%q): %v", tc.in, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("ParseLiveQuery(%q)\n got: %#v\nwant: %#v", tc.in, got, tc.want)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLiveQuery(%q) = %#v, %v; want *Error", tc.in, got, err)
			}
			if !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("ParseLiveQuery(%q) error %q, want it to contain %q", tc.in, pe.Msg, tc.msg)
			}
		})
	}
}

// FuzzParseLiveQuery checks that ParseLiveQuery never panics and that an
// accepted condition is balanced (the executor wraps it in parentheses).
func FuzzParseLiveQuery(f *testing.F) {
	for _, s := range []string{"SELECT * FROM a.m WHERE (x = 1) OR y", "SELECT a, b FROM m WHERE a IN (1,2)", "select * from m where ((a))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseLiveQuery(s)
		if err != nil || q.Where == "" {
			return
		}
		toks, err := Lex(q.Where)
		if err != nil {
			t.Fatalf("accepted WHERE %q does not lex: %v", q.Where, err)
		}
		depth := 0
		for _, tk := range toks {
			if isOp(tk, "(") {
				depth++
			} else if isOp(tk, ")") {
				depth--
				if depth < 0 {
					t.Fatalf("accepted unbalanced WHERE %q", q.Where)
				}
			}
		}
		if depth != 0 {
			t.Fatalf("accepted unbalanced WHERE %q", q.Where)
		}
	})
}
