package pgdiff

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Answer is one statement's outcome in PostgreSQL's text form: either an
// error (SQLSTATE or our code) or column names and rows of text values
// (nil for NULL).
type Answer struct {
	Err string // "" when the statement succeeded
	// State is the SQLSTATE of our error (Err holds our code), through the
	// mapping the PostgreSQL wire protocol uses; "" for PostgreSQL's
	// answers, whose Err is the SQLSTATE.
	State string
	Cols  []string
	Rows  [][]*string
}

// RenderOurs renders a value of our JSON envelope as PostgreSQL prints the
// value of the same type. This is the wire encoding's inverse, not a
// normalisation: timestamps travel as epoch microseconds, dates as days,
// booleans as JSON booleans. dataType is the column's data_type.
func RenderOurs(dataType string, v any) *string {
	if v == nil {
		return nil
	}
	s := renderOurs(strings.ToUpper(dataType), v)
	return &s
}

func renderOurs(dt string, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "t"
		}
		return "f"
	case json.Number:
		switch {
		case dt == "TIMESTAMP" || dt == "DATETIME":
			if us, err := x.Int64(); err == nil {
				return FormatTimestamp(us)
			}
		case dt == "DATE":
			if days, err := x.Int64(); err == nil {
				return time.Unix(days*86400, 0).UTC().Format("2006-01-02")
			}
		case dt == "DOUBLE" || dt == "FLOAT":
			if f, err := strconv.ParseFloat(x.String(), 64); err == nil {
				return FormatFloat(f)
			}
		}
		return x.String()
	case string:
		if dt == "DOUBLE" || dt == "FLOAT" {
			switch x {
			case "NaN":
				return "NaN"
			case "+Inf":
				return "Infinity"
			case "-Inf":
				return "-Infinity"
			}
		}
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// FormatTimestamp prints epoch microseconds as PostgreSQL prints a
// timestamp without time zone (ISO DateStyle): fractional seconds only
// when non-zero, trailing zeros trimmed.
func FormatTimestamp(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.999999")
}

// FormatFloat prints f as PostgreSQL prints a double precision value
// with extra_float_digits = 1 (the default): the shortest exact digits,
// in exponent form when the decimal exponent is below -4 or at least 15.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 15 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
