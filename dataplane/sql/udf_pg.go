package sql

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"strings"

	sqlite "modernc.org/sqlite"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// This file registers PostgreSQL's functions, operators and casts (package
// pgfn) as SQLite functions. Some replace SQLite built-ins of the same
// name whose semantics differ (upper/lower are ASCII-only, round is
// binary, like has no default escape, sqrt(-1) is NULL, ...); the kalam_*
// ones are targets of the rewriter (operators, casts, syntax forms).

// udfFunc is one scalar function: name, arity (-1: variadic) and body.
type udfFunc struct {
	name string
	n    int32
	fn   func([]driver.Value) (driver.Value, error)
}

// textArg converts an argument to text the way PostgreSQL's implicit
// text conversion prints it; ok is false for NULL.
func textArg(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	case float64:
		return pgfn.FloatText(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return fmt.Sprint(v), true
}

// intArg converts an integer argument (numbers round, text must parse).
func intArg(v driver.Value) (int64, bool, error) {
	if v == nil {
		return 0, false, nil
	}
	r, err := pgfn.CastInt(v, pgfn.Int8)
	if err != nil {
		return 0, false, err
	}
	return r.(int64), true, nil
}

// str1 adapts a text -> text function.
func str1(f func(string) string) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := textArg(a[0])
		if !ok {
			return nil, nil
		}
		return f(s), nil
	}
}

// num1 adapts a one-argument numeric function.
func num1(f func(any) (any, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) { return f(a[0]) }
}

// num2 adapts a two-argument numeric function.
func num2(f func(any, any) (any, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) { return f(a[0], a[1]) }
}

// textInt adapts f(text, int) for left/right/repeat.
func textInt(f func(string, int64) (string, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := textArg(a[0])
		n, okn, err := intArg(a[1])
		if !ok || !okn || err != nil {
			return nil, err
		}
		return f(s, n)
	}
}

// texts converts every argument to text; ok is false if one is NULL.
func texts(a []driver.Value) ([]string, bool) {
	out := make([]string, len(a))
	for i, v := range a {
		s, ok := textArg(v)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func boolValue(b bool) driver.Value {
	if b {
		return int64(1)
	}
	return int64(0)
}

// pgScalarFuncs lists the scalar functions. rx is the engine's regular
// expression cache.
func pgScalarFuncs(rx *pgfn.Regexps) []udfFunc {
	fns := []udfFunc{
		{"upper", 1, str1(pgfn.Upper)},
		{"lower", 1, str1(pgfn.Lower)},
		{"initcap", 1, str1(pgfn.Initcap)},
		{"reverse", 1, str1(pgfn.Reverse)},
		{"md5", 1, str1(pgfn.MD5)},
		{"char_length", 1, charLength},
		{"character_length", 1, charLength},
		{"octet_length", 1, func(a []driver.Value) (driver.Value, error) {
			s, ok := textArg(a[0])
			if !ok {
				return nil, nil
			}
			return int64(len(s)), nil
		}},
		{"left", 2, textInt(func(s string, n int64) (string, error) { return pgfn.Left(s, n), nil })},
		{"right", 2, textInt(func(s string, n int64) (string, error) { return pgfn.Right(s, n), nil })},
		{"kalam_left", 2, textInt(func(s string, n int64) (string, error) { return pgfn.Left(s, n), nil })},
		{"kalam_right", 2, textInt(func(s string, n int64) (string, error) { return pgfn.Right(s, n), nil })},
		{"repeat", 2, textInt(pgfn.Repeat)},
		{"btrim", 1, str1(func(s string) string { return pgfn.Btrim(s, " ") })},
		{"btrim", 2, textsFn(func(s []string) (driver.Value, error) { return pgfn.Btrim(s[0], s[1]), nil })},
		{"strpos", 2, textsFn(func(s []string) (driver.Value, error) { return pgfn.Strpos(s[0], s[1]), nil })},
		{"starts_with", 2, textsFn(func(s []string) (driver.Value, error) { return boolValue(pgfn.StartsWith(s[0], s[1])), nil })},
		{"translate", 3, textsFn(func(s []string) (driver.Value, error) { return pgfn.Translate(s[0], s[1], s[2]), nil })},
		{"ascii", 1, str1Any(func(s string) any { return pgfn.Ascii(s) })},
		{"chr", 1, func(a []driver.Value) (driver.Value, error) {
			n, ok, err := intArg(a[0])
			if !ok || err != nil {
				return nil, err
			}
			return pgfn.Chr(n)
		}},
		{"lpad", 2, padFn(pgfn.Lpad)},
		{"lpad", 3, padFn(pgfn.Lpad)},
		{"rpad", 2, padFn(pgfn.Rpad)},
		{"rpad", 3, padFn(pgfn.Rpad)},
		{"split_part", 3, func(a []driver.Value) (driver.Value, error) {
			s, ok1 := textArg(a[0])
			d, ok2 := textArg(a[1])
			n, ok3, err := intArg(a[2])
			if !ok1 || !ok2 || !ok3 || err != nil {
				return nil, err
			}
			return pgfn.SplitPart(s, d, n)
		}},
		{"substr", 2, substrFn},
		{"substr", 3, substrFn},
		{"substring", 2, substrFn},
		{"substring", 3, substrFn},
		{"kalam_overlay", 3, overlayFn},
		{"kalam_overlay", 4, overlayFn},
		{"greatest", -1, extremeFn(1)},
		{"least", -1, extremeFn(-1)},

		// LIKE: SQLite calls like(pattern, text[, escape]) for the LIKE
		// operator; PostgreSQL's default escape is the backslash.
		{"like", 2, likeFn(false)},
		{"like", 3, likeFn(false)},
		{"kalam_ilike", 2, ilikeFn},
		{"kalam_ilike", 3, ilikeFn},
		{"kalam_similar", 2, similarFn(rx)},
		{"kalam_similar", 3, similarFn(rx)},
		{"kalam_regex", 3, func(a []driver.Value) (driver.Value, error) {
			s, ok := texts(a[:2])
			if !ok {
				return nil, nil
			}
			m, err := rx.Match(s[0], s[1], a[2] == int64(1))
			if err != nil {
				return nil, err
			}
			return boolValue(m), nil
		}},
		{"regexp_replace", 3, regexpReplaceFn(rx)},
		{"regexp_replace", 4, regexpReplaceFn(rx)},

		// Numbers.
		{"round", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.Round(a[0], 0) }},
		{"round", 2, roundFn(pgfn.Round)},
		{"trunc", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.Trunc(a[0], 0) }},
		{"trunc", 2, roundFn(pgfn.Trunc)},
		{"div", 2, num2(pgfn.Div)},
		{"mod", 2, num2(pgfn.Mod)},
		{"ln", 1, num1(pgfn.Ln)},
		{"log", 1, num1(pgfn.Log10)},
		{"log10", 1, num1(pgfn.Log10)},
		{"log", 2, num2(pgfn.LogBase)},
		{"sqrt", 1, num1(pgfn.Sqrt)},
		{"cbrt", 1, num1(pgfn.Cbrt)},
		{"exp", 1, num1(pgfn.Exp)},
		{"power", 2, num2(pgfn.Power)},
		{"pow", 2, num2(pgfn.Power)},
		{"abs", 1, num1(pgfn.Abs)},
		{"ceil", 1, num1(pgfn.Ceil)},
		{"ceiling", 1, num1(pgfn.Ceil)},
		{"floor", 1, num1(pgfn.Floor)},
		{"sign", 1, num1(pgfn.Sign)},
		{"gcd", 2, num2(pgfn.Gcd)},
		{"kalam_no_operator", 2, func(a []driver.Value) (driver.Value, error) {
			op, _ := a[0].(string)
			return nil, &pgfn.Error{State: pgfn.StateUndefinedFunction, Msg: "operator does not exist: " + op}
		}},
		{"kalam_raise", 2, func(a []driver.Value) (driver.Value, error) {
			// The rewriter's way to raise PostgreSQL's error where SQLite
			// would answer (a scalar subquery's second row: 21000).
			state, _ := a[0].(string)
			msg, _ := a[1].(string)
			return nil, &pgfn.Error{State: state, Msg: msg}
		}},
		{"kalam_neg", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.Neg(a[0], pgfn.Int8) }},
		{"kalam_neg_i4", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.Neg(a[0], pgfn.Int4) }},

		// Dates and times.
		{"date_part", 2, func(a []driver.Value) (driver.Value, error) {
			f, ok := textArg(a[0])
			if !ok {
				return nil, nil
			}
			return pgfn.DatePart(f, a[1], false)
		}},
		{"kalam_extract_date", 2, func(a []driver.Value) (driver.Value, error) {
			f, ok := textArg(a[0])
			if !ok {
				return nil, nil
			}
			return pgfn.DatePart(f, a[1], true)
		}},
		{"kalam_extract_interval", 2, intervalPartFn(pgfn.IntervalPart)},
		{"date_trunc", 2, func(a []driver.Value) (driver.Value, error) {
			f, ok := textArg(a[0])
			if !ok {
				return nil, nil
			}
			return pgfn.DateTrunc(f, a[1])
		}},
		{"make_date", 3, func(a []driver.Value) (driver.Value, error) {
			var n [3]int64
			for i := range n {
				v, ok, err := intArg(a[i])
				if !ok || err != nil {
					return nil, err
				}
				n[i] = v
			}
			return pgfn.MakeDate(n[0], n[1], n[2])
		}},
		{"make_timestamp", 6, func(a []driver.Value) (driver.Value, error) {
			var n [5]int64
			for i := range n {
				v, ok, err := intArg(a[i])
				if !ok || err != nil {
					return nil, err
				}
				n[i] = v
			}
			sec, err := pgfn.CastFloat(a[5], false)
			if sec == nil || err != nil {
				return nil, err
			}
			return pgfn.MakeTimestamp(n[0], n[1], n[2], n[3], n[4], sec.(float64))
		}},
		{"to_char", 2, func(a []driver.Value) (driver.Value, error) {
			f, ok := textArg(a[1])
			if a[0] == nil || !ok {
				return nil, nil
			}
			ts, err := pgfn.CastTimestamp(a[0])
			if err != nil {
				return nil, err
			}
			return pgfn.ToChar(ts.(int64), f), nil
		}},
		{"to_timestamp", 1, func(a []driver.Value) (driver.Value, error) {
			f, err := pgfn.CastFloat(a[0], false)
			if f == nil || err != nil {
				return nil, err
			}
			return int64(math.Round(f.(float64) * 1e6)), nil
		}},
		{"kalam_interval", 1, func(a []driver.Value) (driver.Value, error) {
			s, ok := textArg(a[0])
			if !ok {
				return nil, nil
			}
			return pgfn.IntervalText(s)
		}},
		{"kalam_ts_add", 2, tsIntervalFn(1)},
		{"kalam_ts_sub", 2, tsIntervalFn(-1)},
		{"kalam_date_add", 2, func(a []driver.Value) (driver.Value, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			d, ok := a[0].(int64)
			s, _ := textArg(a[1])
			iv, err := pgfn.ParseInterval(s)
			if !ok || err != nil {
				return nil, err
			}
			return pgfn.AddInterval(d*86_400_000_000, iv, 1), nil
		}},
		{"kalam_ts_diff", 2, func(a []driver.Value) (driver.Value, error) {
			x, ok1 := a[0].(int64)
			y, ok2 := a[1].(int64)
			if !ok1 || !ok2 {
				return nil, nil
			}
			return pgfn.SubTimestamps(x, y).String(), nil
		}},
		{"kalam_iv_add", 2, ivIntervalFn(1)},
		{"kalam_iv_sub", 2, ivIntervalFn(-1)},
		{"kalam_iv_mul", 2, func(a []driver.Value) (driver.Value, error) {
			s, ok := textArg(a[0])
			if !ok || a[1] == nil {
				return nil, nil
			}
			iv, err := pgfn.ParseInterval(s)
			if err != nil {
				return nil, err
			}
			f, err := pgfn.CastFloat(a[1], false)
			if err != nil {
				return nil, err
			}
			return pgfn.MulInterval(iv, f.(float64)).String(), nil
		}},

		// Casts.
		{"kalam_cast_int2", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.CastInt(a[0], pgfn.Int2) }},
		{"kalam_cast_int4", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.CastInt(a[0], pgfn.Int4) }},
		{"kalam_cast_int8", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.CastInt(a[0], pgfn.Int8) }},
		{"kalam_cast_bool", 1, num1(pgfn.CastBool)},
		{"kalam_cast_float8", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.CastFloat(a[0], false) }},
		{"kalam_cast_float4", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.CastFloat(a[0], true) }},
		{"kalam_cast_numeric", 3, func(a []driver.Value) (driver.Value, error) {
			p, _, _ := intArg(a[1])
			s, _, _ := intArg(a[2])
			return pgfn.CastNumeric(a[0], p, s)
		}},
		{"kalam_cast_text", 2, func(a []driver.Value) (driver.Value, error) {
			h, _ := a[1].(string)
			return pgfn.TextOf(a[0], h)
		}},
		{"kalam_cast_varchar", 3, varcharFn(false)},
		{"kalam_cast_char", 3, varcharFn(true)},
		{"kalam_ts_to_date", 1, func(a []driver.Value) (driver.Value, error) {
			m, ok := a[0].(int64)
			if !ok {
				return nil, nil
			}
			return pgfn.TimestampDate(m), nil
		}},
		{"kalam_cast_timestamp", 1, num1(pgfn.CastTimestamp)},
		{"kalam_cast_date", 1, num1(pgfn.CastDate)},
	}
	for _, op := range []struct {
		name string
		op   byte
	}{{"add", '+'}, {"sub", '-'}, {"mul", '*'}, {"div", '/'}, {"mod", '%'}} {
		for _, k := range []struct {
			suffix string
			kind   pgfn.IntKind
		}{{"", pgfn.Int8}, {"_i4", pgfn.Int4}, {"_i2", pgfn.Int2}} {
			op, kind := op.op, k.kind
			fns = append(fns, udfFunc{"kalam_" + opName(op) + k.suffix, 2, func(a []driver.Value) (driver.Value, error) {
				return pgfn.Arith(op, a[0], a[1], kind)
			}})
		}
		op := op.op
		fns = append(fns, udfFunc{"kalam_" + opName(op) + "_f", 2, func(a []driver.Value) (driver.Value, error) {
			return pgfn.FloatArith(op, a[0], a[1])
		}})
	}
	return append(fns, exactFuncs()...)
}

func opName(op byte) string {
	return map[byte]string{'+': "add", '-': "sub", '*': "mul", '/': "div", '%': "mod"}[op]
}

func charLength(a []driver.Value) (driver.Value, error) {
	s, ok := textArg(a[0])
	if !ok {
		return nil, nil
	}
	return pgfn.CharLength(s), nil
}

func str1Any(f func(string) any) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := textArg(a[0])
		if !ok {
			return nil, nil
		}
		return f(s), nil
	}
}

func textsFn(f func([]string) (driver.Value, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := texts(a)
		if !ok {
			return nil, nil
		}
		return f(s)
	}
}

func padFn(f func(string, int64, string) (string, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := textArg(a[0])
		n, okn, err := intArg(a[1])
		if !ok || !okn || err != nil {
			return nil, err
		}
		fill := " "
		if len(a) == 3 {
			if fill, ok = textArg(a[2]); !ok {
				return nil, nil
			}
		}
		return f(s, n, fill)
	}
}

func substrFn(a []driver.Value) (driver.Value, error) {
	s, ok := textArg(a[0])
	start, oks, err := intArg(a[1])
	if !ok || !oks || err != nil {
		return nil, err
	}
	if len(a) == 2 {
		return pgfn.Substr(s, start, 0, false)
	}
	n, okn, err := intArg(a[2])
	if !okn || err != nil {
		return nil, err
	}
	return pgfn.Substr(s, start, n, true)
}

func overlayFn(a []driver.Value) (driver.Value, error) {
	s, ok1 := textArg(a[0])
	r, ok2 := textArg(a[1])
	start, ok3, err := intArg(a[2])
	if !ok1 || !ok2 || !ok3 || err != nil {
		return nil, err
	}
	if len(a) == 3 {
		return pgfn.Overlay(s, r, start, 0, false)
	}
	n, ok, err := intArg(a[3])
	if !ok || err != nil {
		return nil, err
	}
	return pgfn.Overlay(s, r, start, n, true)
}

// extremeFn is greatest (dir 1) / least (dir -1): NULLs are ignored, the
// result is NULL only when every argument is.
func extremeFn(dir int) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		var best driver.Value
		for _, v := range a {
			if v == nil {
				continue
			}
			if best == nil || compareValues(v, best)*dir > 0 {
				best = v
			}
		}
		return best, nil
	}
}

// compareValues orders two non-NULL SQLite values the way SQLite does:
// numbers (int or float) before text before blobs.
func compareValues(a, b driver.Value) int {
	rank := func(v driver.Value) int {
		switch v.(type) {
		case int64, float64:
			return 0
		case string:
			return 1
		}
		return 2
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 0:
		if x, ok := a.(int64); ok {
			if y, ok := b.(int64); ok {
				switch {
				case x < y:
					return -1
				case x > y:
					return 1
				}
				return 0
			}
		}
		fa, fb := toF(a), toF(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case 1:
		return strings.Compare(a.(string), b.(string))
	}
	x, _ := a.([]byte)
	y, _ := b.([]byte)
	return strings.Compare(string(x), string(y))
}

func toF(v driver.Value) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func likeFn(fold bool) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		// like(pattern, text[, escape])
		p, ok1 := textArg(a[0])
		s, ok2 := textArg(a[1])
		esc := `\`
		if len(a) == 3 {
			var ok bool
			if esc, ok = textArg(a[2]); !ok {
				return nil, nil
			}
		}
		if !ok1 || !ok2 {
			return nil, nil
		}
		m, err := pgfn.Like(s, p, esc, fold)
		if err != nil {
			return nil, err
		}
		return boolValue(m), nil
	}
}

// ilikeFn is kalam_ilike(text, pattern[, escape]) (operand order).
func ilikeFn(a []driver.Value) (driver.Value, error) {
	b := append([]driver.Value{a[1], a[0]}, a[2:]...)
	return likeFn(true)(b)
}

func similarFn(rx *pgfn.Regexps) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := texts(a)
		if !ok {
			return nil, nil
		}
		esc := `\`
		if len(s) == 3 {
			esc = s[2]
		}
		m, err := rx.Similar(s[0], s[1], esc)
		if err != nil {
			return nil, err
		}
		return boolValue(m), nil
	}
}

func regexpReplaceFn(rx *pgfn.Regexps) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := texts(a)
		if !ok {
			return nil, nil
		}
		flags := ""
		if len(s) == 4 {
			flags = s[3]
		}
		return rx.Replace(s[0], s[1], s[2], flags)
	}
}

func roundFn(f func(any, int64) (any, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		n, ok, err := intArg(a[1])
		if !ok || err != nil {
			return nil, err
		}
		return f(a[0], n)
	}
}

func tsIntervalFn(sign int64) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		ts, err := pgfn.CastTimestamp(a[0])
		if err != nil {
			return nil, err
		}
		s, _ := textArg(a[1])
		iv, err := pgfn.ParseInterval(s)
		if err != nil {
			return nil, err
		}
		return pgfn.AddInterval(ts.(int64), iv, sign), nil
	}
}

func ivIntervalFn(sign int64) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := texts(a)
		if !ok {
			return nil, nil
		}
		x, err := pgfn.ParseInterval(s[0])
		if err != nil {
			return nil, err
		}
		y, err := pgfn.ParseInterval(s[1])
		if err != nil {
			return nil, err
		}
		return pgfn.AddIntervals(x, y, sign).String(), nil
	}
}

// intervalPartFn adapts EXTRACT(field FROM interval text) to SQLite.
func intervalPartFn(part func(string, pgfn.Interval) (any, error)) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		s, ok := texts(a)
		if !ok {
			return nil, nil
		}
		iv, err := pgfn.ParseInterval(s[1])
		if err != nil {
			return nil, err
		}
		return part(s[0], iv)
	}
}

func varcharFn(pad bool) func([]driver.Value) (driver.Value, error) {
	return func(a []driver.Value) (driver.Value, error) {
		h, _ := a[1].(string)
		n, _, _ := intArg(a[2])
		return pgfn.CastVarchar(a[0], h, n, pad)
	}
}

// aggregate adapts a pgfn accumulator to SQLite's aggregate interface.
type aggregate struct {
	add    func(any) error
	remove func(any) error
	value  func() (any, error)
}

func (a *aggregate) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	return a.add(args[0])
}

func (a *aggregate) WindowInverse(_ *sqlite.FunctionContext, args []driver.Value) error {
	if a.remove == nil {
		return fmt.Errorf("this aggregate cannot be used with a moving window frame")
	}
	return a.remove(args[0])
}

func (a *aggregate) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return a.value() }

func (a *aggregate) Final(*sqlite.FunctionContext) {}

// pgAggregates lists the aggregate functions by name.
func pgAggregates() map[string]func() *aggregate {
	moments := func(kind pgfn.VarianceKind) func() *aggregate {
		return func() *aggregate {
			m := &pgfn.Moments{}
			return &aggregate{add: m.Add, remove: m.Remove, value: func() (any, error) { return m.Result(kind) }}
		}
	}
	boolAgg := func(or bool) func() *aggregate {
		return func() *aggregate {
			b := &pgfn.BoolAgg{Or: or}
			return &aggregate{add: b.Add, remove: b.Remove, value: func() (any, error) { return b.Result(), nil }}
		}
	}
	aggs := map[string]func() *aggregate{
		"stddev":      moments(pgfn.StddevSamp),
		"stddev_samp": moments(pgfn.StddevSamp),
		"stddev_pop":  moments(pgfn.StddevPop),
		"variance":    moments(pgfn.VarSamp),
		"var_samp":    moments(pgfn.VarSamp),
		"var_pop":     moments(pgfn.VarPop),
		"bool_and":    boolAgg(false),
		"every":       boolAgg(false),
		"bool_or":     boolAgg(true),
		"sum": func() *aggregate {
			s := &pgfn.Sum{}
			return &aggregate{add: s.Add, remove: s.Remove, value: s.Result}
		},
		"avg": func() *aggregate {
			s := &pgfn.Sum{}
			return &aggregate{add: s.Add, remove: s.Remove, value: s.Avg}
		},
	}
	for name, mk := range exactAggregates() {
		aggs[name] = mk
	}
	return aggs
}

// registerPGFuncs registers the scalar and aggregate functions above.
func registerPGFuncs() error {
	rx := pgfn.NewRegexps()
	// The driver keys functions by name only, so a name with several
	// arities is registered once as variadic and dispatched here.
	byName := map[string]map[int32]func([]driver.Value) (driver.Value, error){}
	var order []string
	for _, f := range pgScalarFuncs(rx) {
		if byName[f.name] == nil {
			byName[f.name] = map[int32]func([]driver.Value) (driver.Value, error){}
			order = append(order, f.name)
		}
		byName[f.name][f.n] = f.fn
	}
	for _, name := range order {
		arities := byName[name]
		n := int32(-1)
		var fn func([]driver.Value) (driver.Value, error)
		if len(arities) == 1 {
			for k, f := range arities {
				n, fn = k, f
			}
		} else {
			fn = func(args []driver.Value) (driver.Value, error) {
				f := arities[int32(len(args))]
				if f == nil {
					return nil, &pgfn.Error{State: pgfn.StateUndefinedFunction, Msg: fmt.Sprintf("function %s with %d arguments does not exist", name, len(args))}
				}
				return f(args)
			}
		}
		err := sqlite.RegisterFunction(name, &sqlite.FunctionImpl{
			NArgs:         n,
			Deterministic: true,
			Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				v, err := fn(args)
				return refuseNaN(name, v, err)
			},
		})
		if err != nil {
			return fmt.Errorf("while registering %s: %w", name, err)
		}
	}
	for name, mk := range pgAggregates() {
		mk := mk
		err := sqlite.RegisterFunction(name, &sqlite.FunctionImpl{
			NArgs:         1,
			Deterministic: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return mk(), nil },
		})
		if err != nil {
			return fmt.Errorf("while registering aggregate %s: %w", name, err)
		}
	}
	return nil
}

// pgStateError turns a PostgreSQL-semantics failure of a function or cast
// into a statement error whose code is PostgreSQL's condition name
// (DIVISION_BY_ZERO, NUMERIC_VALUE_OUT_OF_RANGE, ...) and whose message
// keeps the SQLSTATE, so clients can branch on either.
func pgStateError(pe *pgfn.Error) *Error {
	code := strings.ToUpper(pe.Name())
	if code == "" {
		code = CodeExecution
	}
	return badRequest(code, "%s (SQLSTATE %s)", pe.Msg, pe.State)
}
