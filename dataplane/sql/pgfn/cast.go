package pgfn

import (
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// This file holds PostgreSQL's casts and text output. SQLite has no
// boolean, timestamp or interval values, so the caller names the type a
// value has when it knows it (TextOf's hint); booleans are int64 1/0.

// CastInt is x::smallint / ::integer / ::bigint: non-integers round half
// away from zero (NUMERIC's rule), text must be an integer literal
// (22P02), and the result must fit the type (22003).
func CastInt(v any, kind IntKind) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return kind.check(x)
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, errorf(StateFeatureNotSupported, "cannot convert %s to %s", floatText(x), kind.name())
		}
		r, err := Round(x, 0)
		if err != nil {
			return nil, err
		}
		f := r.(float64)
		lo, _ := kind.bounds()
		if f < float64(lo) || f >= -float64(lo) {
			return nil, errIntRange(kind.name())
		}
		return kind.check(int64(f))
	case string:
		t := strings.TrimSpace(x)
		i, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, errorf(StateOutOfRange, "value %q is out of range for type %s", x, kind.name())
			}
			return nil, errorf(StateInvalidText, "invalid input syntax for type %s: %q", kind.name(), x)
		}
		if _, err := kind.check(i); err != nil {
			return nil, errorf(StateOutOfRange, "value %q is out of range for type %s", x, kind.name())
		}
		return i, nil
	}
	return nil, errorf(StateFeatureNotSupported, "cannot cast this value to %s", kind.name())
}

// ParseBool reads PostgreSQL boolean input: true/false, yes/no, on/off,
// 1/0 and their unique prefixes, any case, surrounding blanks ignored.
func ParseBool(s string) (bool, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t != "" {
		switch {
		case strings.HasPrefix("true", t), strings.HasPrefix("yes", t), t == "1" || t == "on":
			return true, nil
		case strings.HasPrefix("false", t), strings.HasPrefix("no", t), t == "0" || t == "off" || t == "of":
			return false, nil
		}
	}
	return false, errorf(StateInvalidText, "invalid input syntax for type boolean: %q", s)
}

// CastBool is x::boolean, as SQLite's 1/0.
func CastBool(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		if x != 0 {
			return int64(1), nil
		}
		return int64(0), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case string:
		b, err := ParseBool(x)
		if err != nil {
			return nil, err
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, errorf("42846", "cannot cast type numeric to boolean")
}

// CastFloat is x::double precision (x::real when single is set).
func CastFloat(v any, single bool) (any, error) {
	var f float64
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		f = float64(x)
	case float64:
		f = x
	case string:
		t := strings.TrimSpace(x)
		if sp, ok := parseFloatSpecial(t); ok {
			f = sp
			break
		}
		var err error
		f, err = strconv.ParseFloat(t, 64)
		if err != nil || strings.ContainsAny(t, "_xXpP") {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, errorf(StateOutOfRange, "%q is out of range for type double precision", x)
			}
			return nil, errorf(StateInvalidText, "invalid input syntax for type double precision: %q", x)
		}
	default:
		return nil, errorf(StateFeatureNotSupported, "cannot cast this value to double precision")
	}
	if single {
		// real: keep the value float4 prints (0.1, not 0.100000001...).
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return nil, errorf(StateOutOfRange, "value out of range: overflow")
		}
		f, _ = strconv.ParseFloat(strconv.FormatFloat(float64(f32), 'g', -1, 32), 64)
	}
	return f, nil
}

// CastNumeric is x::numeric(p,s): rounded half away from zero to s
// places; more than p-s integer digits is an overflow (22003). p == 0
// means unconstrained numeric.
func CastNumeric(v any, p, s int64) (any, error) {
	if v == nil {
		return nil, nil
	}
	if x, ok := v.(string); ok {
		t := strings.TrimSpace(x)
		if sp, ok := parseFloatSpecial(t); ok {
			return sp, nil
		}
		d, err := parseNumeric(x)
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return floatOfDec(d)
		}
		v, _ = floatOfDec(d)
	}
	if b, ok := v.(bool); ok {
		return nil, errorf("42846", "cannot cast type boolean to numeric: %v", b)
	}
	if p == 0 {
		if i, ok := v.(int64); ok {
			return float64(i), nil
		}
		return v, nil
	}
	r, err := Round(v, s)
	if err != nil {
		return nil, err
	}
	d, ok, err := DecimalOf(r)
	if err != nil || !ok {
		return r, err
	}
	if intDigits(d) > int(p-s) {
		return nil, errorf(StateOutOfRange, "numeric field overflow")
	}
	if i, ok := r.(int64); ok {
		return float64(i), nil
	}
	return r, nil
}

// intDigits counts the digits before the decimal point (0 for |d| < 1).
func intDigits(d *apd.Decimal) int {
	n := int(d.NumDigits()) + int(d.Exponent)
	if n < 0 || d.IsZero() {
		return 0
	}
	return n
}

// TextOf is x::text with PostgreSQL's output for the type hint names
// ("boolean", "timestamp", "date", "numeric", "interval", or "" for the
// value's own type).
func TextOf(v any, hint string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		switch hint {
		case "boolean":
			if x != 0 {
				return "true", nil
			}
			return "false", nil
		case "timestamp":
			return FormatTimestamp(x), nil
		case "date":
			return FormatDate(x), nil
		}
		return strconv.FormatInt(x, 10), nil
	case float64:
		if hint == "numeric" {
			d, ok, _ := DecimalOf(x)
			if ok {
				return d.Text('f'), nil
			}
		}
		return floatText(x), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case string:
		return x, nil
	case []byte:
		return `\x` + hex.EncodeToString(x), nil
	}
	return nil, errorf(StateFeatureNotSupported, "cannot cast this value to text")
}

// floatText is PostgreSQL's float8 output: the shortest representation
// that round-trips, in exponent form when the decimal exponent is below
// -4 or at least 15.
func floatText(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= 15 {
		sign := "+"
		if x < 0 {
			sign, x = "-", -x
		}
		es := strconv.Itoa(x)
		if len(es) < 2 {
			es = "0" + es
		}
		return mant + "e" + sign + es
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// FloatText is floatText for callers outside the package.
func FloatText(f float64) string { return floatText(f) }

// CastVarchar is x::varchar(n) / ::char(n): the text cut to n characters
// (an explicit cast truncates silently in PostgreSQL). n <= 0 means no
// limit. char(n) pads with blanks (padChar).
func CastVarchar(v any, hint string, n int64, padChar bool) (any, error) {
	t, err := TextOf(v, hint)
	if err != nil || t == nil {
		return t, err
	}
	s := t.(string)
	if n <= 0 {
		return s, nil
	}
	if int64(utf8.RuneCountInString(s)) > n {
		s = string([]rune(s)[:n])
	} else if padChar {
		s += strings.Repeat(" ", int(n)-utf8.RuneCountInString(s))
	}
	return s, nil
}

// datetimeError is PostgreSQL's error for text x that is no typ: 22008
// when a field is out of range ('2020-02-30'), else 22007.
func datetimeError(typ, x string, err error) *Error {
	var pe *parse.Error
	if errors.As(err, &pe) && pe.State == StateDatetimeOutOfRange {
		return errorf(StateDatetimeOutOfRange, "date/time field value out of range: %q", x)
	}
	return errorf(StateInvalidDatetime, "invalid input syntax for type %s: %q", typ, x)
}

// CastTimestamp is x::timestamp: text parsed at run time, numbers passed
// through as microseconds (they already are timestamps in SQLite).
func CastTimestamp(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return x, nil
	case string:
		m, err := parse.ParseTimestampMicros(strings.TrimSpace(x))
		if err != nil {
			return nil, datetimeError("timestamp", x, err)
		}
		return m, nil
	}
	return nil, errorf(StateFeatureNotSupported, "cannot cast this value to timestamp")
}

// CastDate is x::date: text parsed at run time (a timestamp's time of day
// is dropped).
func CastDate(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return x, nil
	case string:
		t := strings.TrimSpace(x)
		if d, err := parse.ParseDateDays(t); err == nil {
			return d, nil
		}
		m, err := parse.ParseTimestampMicros(t)
		if err != nil {
			return nil, datetimeError("date", x, err)
		}
		return floorDiv(m, microsPerDay), nil
	}
	return nil, errorf(StateFeatureNotSupported, "cannot cast this value to date")
}
