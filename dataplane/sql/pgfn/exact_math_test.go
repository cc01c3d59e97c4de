package pgfn

import (
	"errors"
	"testing"
)

// TestExactMath: the numeric math functions' values and scales, as
// PostgreSQL 15 answers them (recorded in test/pgdiff/expected/numeric-exact2.expected).
func TestExactMath(t *testing.T) {
	for _, c := range []struct {
		name string
		got  func() (any, error)
		want string
	}{
		{"sqrt(2.0)", func() (any, error) { return ExactSqrtOf("2.0") }, "1.414213562373095"},
		{"sqrt(0.0)", func() (any, error) { return ExactSqrtOf("0.0") }, "0.000000000000000"},
		{"sqrt(1e-10)", func() (any, error) { return ExactSqrtOf("1e-10") }, "0.000010000000000000000"},
		{"sqrt(12345678.9)", func() (any, error) { return ExactSqrtOf("12345678.9") }, "3513.6418286444622"},
		{"sqrt(0.5)", func() (any, error) { return ExactSqrtOf("0.5") }, "0.70710678118654752"},
		{"sqrt(2.25)", func() (any, error) { return ExactSqrtOf("2.25") }, "1.500000000000000"},
		{"ln(1.0001)", func() (any, error) { return ExactLn("1.0001") }, "0.00009999500033330834"},
		{"ln(0.5)", func() (any, error) { return ExactLn("0.5") }, "-0.6931471805599453"},
		{"ln(10000.0)", func() (any, error) { return ExactLn("10000.0") }, "9.2103403719761827"},
		{"ln(123456789.123)", func() (any, error) { return ExactLn("123456789.123") }, "18.631401767164318"},
		{"log(2.0)", func() (any, error) { return ExactLog(int64(10), "2.0") }, "0.3010299956639812"},
		{"log(0.001)", func() (any, error) { return ExactLog(int64(10), "0.001") }, "-3.0000000000000000"},
		{"log(2, 1024)", func() (any, error) { return ExactLog(int64(2), int64(1024)) }, "10.0000000000000000"},
		{"log(3, 10.5)", func() (any, error) { return ExactLog(int64(3), "10.5") }, "2.1403139955899648"},
		{"exp(1.0)", func() (any, error) { return ExactExp("1.0") }, "2.7182818284590452"},
		{"exp(-1.5)", func() (any, error) { return ExactExp("-1.5") }, "0.2231301601484298"},
		{"exp(100.0)", func() (any, error) { return ExactExp("100.0") }, "26881171418161354484126255515800135873611118.8"},
		{"exp(0.00001)", func() (any, error) { return ExactExp("0.00001") }, "1.0000100000500002"},
		{"power(2, 0.5)", func() (any, error) { return ExactPower(int64(2), "0.5") }, "1.4142135623730950"},
		{"power(2.0, 10)", func() (any, error) { return ExactPower("2.0", int64(10)) }, "1024.0000000000000000"},
		{"power(-2.0, 3)", func() (any, error) { return ExactPower("-2.0", int64(3)) }, "-8.0000000000000000"},
		{"power(10.0, -2)", func() (any, error) { return ExactPower("10.0", int64(-2)) }, "0.0100000000000000"},
		{"power(0.0, 2.5)", func() (any, error) { return ExactPower("0.0", "2.5") }, "0.0000000000000000"},
	} {
		got, err := c.got()
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %s", c.name, got, err, c.want)
		}
	}
	for _, c := range []struct {
		name  string
		got   func() (any, error)
		state string
	}{
		{"sqrt(-1.0)", func() (any, error) { return ExactSqrtOf("-1.0") }, StateInvalidPower},
		{"ln(0.0)", func() (any, error) { return ExactLn("0.0") }, StateInvalidLog},
		{"ln(-2.5)", func() (any, error) { return ExactLn("-2.5") }, StateInvalidLog},
		{"log(1, 10.0)", func() (any, error) { return ExactLog(int64(1), "10.0") }, StateDivisionByZero},
		{"log(0, 10.0)", func() (any, error) { return ExactLog(int64(0), "10.0") }, StateInvalidLog},
		{"power(0.0, -1)", func() (any, error) { return ExactPower("0.0", int64(-1)) }, StateInvalidPower},
		{"power(-8.0, 0.5)", func() (any, error) { return ExactPower("-8.0", "0.5") }, StateInvalidPower},
		{"exp(100000.0)", func() (any, error) { return ExactExp("100000.0") }, StateOutOfRange},
	} {
		_, err := c.got()
		var pe *Error
		if !errors.As(err, &pe) || pe.State != c.state {
			t.Errorf("%s: error %v, want SQLSTATE %s", c.name, err, c.state)
		}
	}
}
