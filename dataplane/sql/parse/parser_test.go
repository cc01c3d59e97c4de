package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// parseCase is shared by the statement tests: want is the expected AST,
// or code/msg the expected error.
type parseCase struct {
	name string
	in   string
	want Statement
	code string
	msg  string
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.in, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Parse(%q)\n got: %#v\nwant: %#v", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %#v, want error", tc.in, got)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not *Error", tc.in, err)
			}
			if pe.Code != tc.code || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("Parse(%q) error = %s %q, want %s containing %q", tc.in, pe.Code, pe.Msg, tc.code, tc.msg)
			}
		})
	}
}

func TestParseDispatch(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "select", in: "SELECT 1", want: &Select{SQL: "SELECT 1"}},
		{name: "select keeps text", in: "  select * from t;  ", want: &Select{SQL: "  select * from t;  "}},
		{name: "with", in: "WITH a AS (SELECT 1) SELECT * FROM a", want: &Select{SQL: "WITH a AS (SELECT 1) SELECT * FROM a"}},
		{name: "values", in: "VALUES (1)", want: &Select{SQL: "VALUES (1)"}},
		{name: "parenthesised select", in: "((SELECT 1))", want: &Select{SQL: "((SELECT 1))"}},
		{name: "empty", in: " -- nothing\n", code: CodeInvalidSQL, msg: "empty statement"},
		{name: "only semicolon", in: ";", code: CodeInvalidSQL, msg: "empty statement"},
		{name: "two statements", in: "SELECT 1; SELECT 2", code: CodeInvalidSQL, msg: "one statement expected"},
		{name: "grant", in: "GRANT SELECT ON t TO bob", code: CodeInvalidSQL, msg: `unsupported statement "GRANT"`},
		{name: "pragma", in: "PRAGMA table_info(t)", code: CodeInvalidSQL, msg: `unsupported statement "PRAGMA"`},
		{name: "attach", in: "ATTACH 'x.db' AS x", code: CodeInvalidSQL, msg: `unsupported statement "ATTACH"`},
		{name: "create view", in: "CREATE VIEW i AS SELECT 1", code: CodeInvalidSQL, msg: `unsupported statement "CREATE VIEW"`},
		{name: "vacuum", in: "VACUUM", code: CodeInvalidSQL, msg: `unsupported statement "VACUUM"`},
		{name: "set other", in: "SET search_path = x", code: CodeInvalidSQL, msg: `unsupported statement "SET SEARCH_PATH"`},
		{name: "alter index", in: "ALTER INDEX i RENAME TO j", code: CodeInvalidSQL, msg: `unsupported statement "ALTER INDEX"`},
		{name: "number first", in: "1", code: CodeInvalidSQL, msg: "unsupported statement starting with"},
		{name: "lex error", in: "SELECT 'x", code: CodeInvalidSQL, msg: "unterminated string literal at position 7"},
		{name: "lex error wins over parse error", in: "INSERT INTO t VALUES (1, #)", code: CodeInvalidSQL, msg: "unexpected character '#' at position 25"},
		{name: "lex error after terminator", in: "SELECT 1; 'x", code: CodeInvalidSQL, msg: "unterminated string literal at position 10"},
		{name: "lex error in query tail", in: "SELECT 1 FROM t WHERE x = `y`", code: CodeInvalidSQL, msg: "unexpected character '`'"},
	})
}
