package sql

import (
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// TestSQLState: errors with PostgreSQL semantics keep their exact SQLSTATE
// (also after a trip through the HTTP API, which keeps code and message
// only), and the other codes map to the condition they mean.
func TestSQLState(t *testing.T) {
	viaHTTP := func(e *Error) *Error { return &Error{Code: e.Code, Message: e.Message} }
	cases := []struct {
		err  *Error
		want string
	}{
		{pgStateError(&pgfn.Error{State: pgfn.StateDivisionByZero, Msg: "division by zero"}), "22012"},
		{pgStateError(&pgfn.Error{State: pgfn.StateCardinality, Msg: "more than one row returned by a subquery used as an expression"}), "21000"},
		{pgStateError(&pgfn.Error{State: "42P10", Msg: "a state without a condition name"}), "42P10"},
		{sqliteError(errString("SQL logic error: cannot join using column id - column not present in both tables (1)")).(*Error), "42703"},
		{sqliteError(errString("no such column: zz")).(*Error), "42703"},
		{sqliteError(errString("something else")).(*Error), "22000"},
		{sqliteError(errString("misuse of aggregate function count()")).(*Error), "42803"},
		{sqliteError(errString("misuse of window function row_number()")).(*Error), "42P20"},
		{sqliteError(errString("1st ORDER BY term out of range - should be between 1 and 1")).(*Error), "42P10"},
		{sqliteError(errString("SELECTs to the left and right of UNION do not have the same number of result columns")).(*Error), "42601"},
		{sqliteError(errString("sub-select returns 2 columns - expected 1")).(*Error), "42601"},
		{badRequest(CodeInvalidSQL, "syntax error near FROM"), "42601"},
		{badRequest(CodeInvalidSQL, "EXPLAIN is not supported"), "0A000"},
		{notFound("table pd.x not found"), "42P01"},
		{errf(CodeResultTooLarge, 400, "too large"), "54000"},
		{errf(CodeInternal, 500, "boom"), "XX000"},
	}
	for _, c := range cases {
		for _, e := range []*Error{c.err, viaHTTP(c.err)} {
			if got := e.SQLState(); got != c.want {
				t.Errorf("%s %q: SQLState() = %s, want %s", e.Code, e.Message, got, c.want)
			}
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
