package pgfn

import (
	"errors"
	"testing"
)

// FuzzPatterns feeds arbitrary text to the pattern, interval and format
// parsers: they must never panic, and every failure must be an *Error
// with a SQLSTATE.
func FuzzPatterns(f *testing.F) {
	for _, s := range []string{`a\_b`, `%\%`, `(a|b)%`, `1 day 02:00:00`, `@ 2 weeks ago`, `YYYY-MM-DD FMHH12 "x"`, `\`, `[`, `1.5e3`, ` 12 `} {
		f.Add(s, "abc")
	}
	rx := NewRegexps()
	f.Fuzz(func(t *testing.T, pattern, s string) {
		check := func(err error) {
			var pe *Error
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("untyped error %v for %q", err, pattern)
			}
		}
		_, err := Like(s, pattern, `\`, true)
		check(err)
		_, err = rx.Similar(s, pattern, `\`)
		check(err)
		_, err = ParseInterval(pattern)
		check(err)
		_, err = CastInt(pattern, Int4)
		check(err)
		_, err = CastBool(pattern)
		check(err)
		_, err = Arith('+', pattern, s, Int8)
		check(err)
		_ = ToChar(int64(len(s))*1e12, pattern)
	})
}
