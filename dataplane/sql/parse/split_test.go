package parse

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"single", "SELECT 1", []string{"SELECT 1"}},
		{"trailing semicolon and blanks", " SELECT 1 ;\n\n", []string{"SELECT 1"}},
		{"several", "CREATE NAMESPACE a; USE a;SELECT 2", []string{"CREATE NAMESPACE a", "USE a", "SELECT 2"}},
		{"empty ones dropped", ";;SELECT 1;; ;", []string{"SELECT 1"}},
		{"semicolons in strings and identifiers", `INSERT INTO t VALUES ('a;b'); SELECT "x;y"`, []string{`INSERT INTO t VALUES ('a;b')`, `SELECT "x;y"`}},
		{"escaped quotes", `SELECT 'it''s;'; SELECT 2`, []string{`SELECT 'it''s;'`, "SELECT 2"}},
		{"comments", "SELECT 1 -- a;b\n; /* c;d */ SELECT 2", []string{"SELECT 1 -- a;b", "/* c;d */ SELECT 2"}},
		{"comment-only statement dropped", "SELECT 1; -- done", []string{"SELECT 1"}},
		{"lexically bad statement still split", "SELECT #; SELECT 2", []string{"SELECT #", "SELECT 2"}},
		{"nothing", "  ", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitStatements(tc.in)
			if err != nil {
				t.Fatalf("SplitStatements(%q): %v", tc.in, err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("SplitStatements(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitStatementsErrors(t *testing.T) {
	for _, in := range []string{"SELECT 'a; SELECT 2", `SELECT "a; SELECT 2`, "SELECT 1; /* x"} {
		_, err := SplitStatements(in)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeInvalidSQL {
			t.Errorf("SplitStatements(%q) error = %v, want INVALID_SQL *Error", in, err)
		}
	}
}
