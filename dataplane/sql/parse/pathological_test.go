package parse

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestPathologicalInputs feeds inputs built to trigger deep recursion or
// quadratic work. Each must finish promptly with a result or an *Error;
// a regression shows up as a hang or a stack overflow, not a flake.
func TestPathologicalInputs(t *testing.T) {
	const n = 50_000
	cols := make([]string, n)
	vals := make([]string, n)
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i)
		vals[i] = "1"
	}
	for _, tc := range []struct {
		name string
		in   string
		fn   func(string) error
	}{
		{"deep parens parse", "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n), parseErr},
		{"deep parens rewrite", "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n), rewriteErr},
		{"deep outer parens rewrite", strings.Repeat("(", n) + "SELECT 1" + strings.Repeat(")", n), rewriteErr},
		{"paren END trick", "SELECT " + strings.Repeat("(END ", n) + "1", rewriteErr},
		{"deep CASE", "SELECT " + strings.Repeat("CASE WHEN 1 THEN ", n) + "1" + strings.Repeat(" END", n), rewriteErr},
		{"deep default", "CREATE TABLE t (a INT DEFAULT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + ")", parseErr},
		{"long cast chain", "SELECT x" + strings.Repeat("::int", n), rewriteErr},
		{"many tables", "SELECT 1 FROM users" + strings.Repeat(", users", n), rewriteErr},
		{"many CTEs", "WITH " + strings.Repeat("a AS (SELECT 1), ", n) + "b AS (SELECT 1) SELECT 1 FROM users" + strings.Repeat(", b", 1000), rewriteErr},
		{"many ILIKE operands", "SELECT 1 WHERE " + strings.Repeat("a ILIKE b AND ", n) + "true", rewriteErr},
		{"wide insert column list", "INSERT INTO t (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")", parseErr},
		{"wide update", "UPDATE t SET " + strings.Join(cols, " = 1, ") + " = 2 WHERE true", parseErr},
		{"many quotes", "SELECT '" + strings.Repeat("''", n) + "'", rewriteErr},
		{"many semicolons", "SELECT 1" + strings.Repeat(";", n), parseErr},
		{"many statements split", strings.Repeat("SELECT 1;", n), splitErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fn(tc.in)
			if strings.HasPrefix(tc.name, "wide") && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not *Error: %v", err, err)
				}
			}
		})
	}
}

func parseErr(s string) error { _, err := Parse(s); return err }

func rewriteErr(s string) error { _, err := Rewrite(s, fakeResolver{}, testOpt); return err }

func splitErr(s string) error { _, err := SplitStatements(s); return err }

func TestNestingLimits(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"SELECT " + strings.Repeat("(", MaxNesting+1) + "1" + strings.Repeat(")", MaxNesting+1), "nested too deeply"},
		{"SELECT " + strings.Repeat("(END ", MaxNesting+1), "nested too deeply"},
		{"SELECT x" + strings.Repeat("::int", maxCastChain+1), "chained casts"},
	} {
		_, err := Rewrite(tc.in, fakeResolver{}, testOpt)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Rewrite(%.40q...) = %v, want %q", tc.in, err, tc.msg)
		}
	}
	deep := "SELECT " + strings.Repeat("(", MaxNesting) + "1" + strings.Repeat(")", MaxNesting)
	if _, err := Rewrite(deep, fakeResolver{}, testOpt); err != nil {
		t.Errorf("nesting of exactly MaxNesting rejected: %v", err)
	}
}
