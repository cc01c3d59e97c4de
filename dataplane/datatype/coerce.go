package datatype

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Coerce converts v (a literal, a JSON parameter or an SQLite result value)
// to the stored representation of t, or explains why it cannot. Nil stays
// nil; nullability is the caller's business.
func Coerce(t Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else if f, err := n.Float64(); err == nil {
			v = f
		} else {
			v = n.String()
		}
	}
	switch t.Kind {
	case Boolean:
		return toBool(v)
	case SmallInt:
		return toIntRange(v, math.MinInt16, math.MaxInt16, t)
	case Int:
		return toIntRange(v, math.MinInt32, math.MaxInt32, t)
	case BigInt:
		return toIntRange(v, math.MinInt64, math.MaxInt64, t)
	case Float, Double:
		return toFloat(v)
	case Decimal:
		return toDecimal(v, t)
	case Text:
		return toText(v)
	case JSON:
		s, err := toText(v)
		if err != nil {
			return nil, err
		}
		if !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("invalid JSON value %q", truncate(s))
		}
		return s, nil
	case Bytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			if b, ok := strings.CutPrefix(x, "\\x"); ok {
				return decodeHex(b)
			}
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				return b, nil
			}
			return []byte(x), nil
		}
	case Timestamp, DateTime:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		case string:
			us, err := ParseTimestampMicros(x)
			if err != nil {
				return nil, err
			}
			return us, nil
		}
	case Date:
		switch x := v.(type) {
		case int64:
			return x, nil
		case string:
			d, err := time.Parse("2006-01-02", strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("invalid DATE %q, want YYYY-MM-DD", truncate(x))
			}
			return d.Unix() / 86400, nil
		}
	case Time:
		switch x := v.(type) {
		case int64:
			return x, nil
		case string:
			for _, layout := range []string{"15:04:05.999999", "15:04:05", "15:04"} {
				if tm, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
					return int64(tm.Hour())*3600e6 + int64(tm.Minute())*60e6 + int64(tm.Second())*1e6 + int64(tm.Nanosecond()/1000), nil
				}
			}
			return nil, fmt.Errorf("invalid TIME %q, want HH:MM:SS[.ffffff]", truncate(x))
		}
	case UUID:
		s, ok := v.(string)
		if !ok {
			break
		}
		return canonicalUUID(s)
	case Embedding:
		s, err := toText(v)
		if err != nil {
			return nil, err
		}
		var vec []float64
		if err := json.Unmarshal([]byte(s), &vec); err != nil || len(vec) != t.Dim {
			return nil, fmt.Errorf("invalid EMBEDDING(%d) value: want a JSON array of %d numbers", t.Dim, t.Dim)
		}
		return s, nil
	case File:
		return toText(v)
	}
	return nil, fmt.Errorf("cannot use %s value %s as %s", goTypeName(v), truncate(fmt.Sprint(v)), t)
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "t", "yes", "y", "1", "on":
			return true, nil
		case "false", "f", "no", "n", "0", "off":
			return false, nil
		}
	}
	return nil, fmt.Errorf("cannot use %s value %s as BOOLEAN", goTypeName(v), truncate(fmt.Sprint(v)))
}

func toIntRange(v any, lo, hi int64, t Type) (any, error) {
	var i int64
	switch x := v.(type) {
	case int64:
		i = x
	case bool:
		return nil, fmt.Errorf("cannot use boolean as %s", t)
	case float64:
		if x != math.Trunc(x) || x < -9.2e18 || x > 9.2e18 {
			return nil, fmt.Errorf("value %v is not a valid %s", x, t)
		}
		i = int64(x)
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("value %q is not a valid %s", truncate(x), t)
		}
		i = n
	default:
		return nil, fmt.Errorf("cannot use %s value as %s", goTypeName(v), t)
	}
	if i < lo || i > hi {
		return nil, fmt.Errorf("value %d is out of range for %s", i, t)
	}
	return i, nil
}

// errNaN refuses a NaN for a FLOAT/DOUBLE column: the SQL engine (SQLite)
// has no NaN and would read it back as NULL, a silent wrong answer.
var errNaN = fmt.Errorf("NaN is not supported in FLOAT/DOUBLE columns (it would read back as NULL)")

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) {
			return nil, errNaN
		}
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err == nil && math.IsNaN(f) {
			return nil, errNaN
		}
		if err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("cannot use %s value %s as a floating-point number", goTypeName(v), truncate(fmt.Sprint(v)))
}

func toDecimal(v any, t Type) (any, error) {
	var r *big.Rat
	switch x := v.(type) {
	case int64:
		r = new(big.Rat).SetInt64(x)
	case float64:
		r = new(big.Rat)
		if r.SetFloat64(x) == nil {
			return nil, fmt.Errorf("value %v is not a valid %s", x, t)
		}
	case string:
		var ok bool
		r, ok = new(big.Rat).SetString(strings.TrimSpace(x))
		if !ok {
			return nil, fmt.Errorf("value %q is not a valid %s", truncate(x), t)
		}
	default:
		return nil, fmt.Errorf("cannot use %s value as %s", goTypeName(v), t)
	}
	s := r.FloatString(t.Scale)
	digits := strings.TrimLeft(strings.Replace(strings.TrimPrefix(s, "-"), ".", "", 1), "0")
	if len(digits) > t.Precision {
		return nil, fmt.Errorf("value %s overflows %s", s, t)
	}
	return s, nil
}

func toText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("cannot use %s value as TEXT", goTypeName(v))
}

func canonicalUUID(s string) (any, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	if len(h) != 32 {
		return nil, fmt.Errorf("invalid UUID %q", truncate(s))
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return nil, fmt.Errorf("invalid UUID %q", truncate(s))
		}
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func decodeHex(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("invalid hex bytes literal")
	}
	out := make([]byte, len(s)/2)
	for i := 0; i < len(out); i++ {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("invalid hex bytes literal")
		}
		out[i] = byte(n)
	}
	return out, nil
}

// ParseTimestampMicros parses RFC 3339 (with optional fraction and zone),
// "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) or "YYYY-MM-DD" into microseconds
// since the Unix epoch.
func ParseTimestampMicros(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), nil
		}
	}
	return 0, fmt.Errorf("invalid timestamp %q: want RFC 3339 or 'YYYY-MM-DD HH:MM:SS'", truncate(s))
}

func goTypeName(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case int64:
		return "integer"
	case float64:
		return "floating-point"
	case bool:
		return "boolean"
	case []byte:
		return "bytes"
	}
	return fmt.Sprintf("%T", v)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
