package parse

import (
	"time"
)

// ParseTimestampMicros parses a timestamp literal and returns microseconds
// since the Unix epoch (UTC). Accepted forms:
//
//	YYYY-MM-DD
//	YYYY-MM-DD HH:MM[:SS[.fraction]][zone]
//	YYYY-MM-DDTHH:MM[:SS[.fraction]][zone]   (RFC 3339)
//
// where zone is Z, ±HH, ±HHMM or ±HH:MM (absent means UTC) and the
// fraction has 1..9 digits, rounded to microseconds. Fields are range
// checked (no February 30th). The error is an *Error (CodeInvalidInput).
func ParseTimestampMicros(s string) (int64, error) {
	sec, micros, err := parseTimestamp(s)
	if err != nil {
		return 0, err
	}
	return sec*1_000_000 + micros, nil
}

// ParseDateDays parses a YYYY-MM-DD date and returns days since the Unix
// epoch (negative before 1970).
func ParseDateDays(s string) (int64, error) {
	y, m, d, rest, ok := parseDatePart(s)
	if !ok || rest != "" {
		return 0, errDatetime(StateInvalidDatetime, "invalid date '%s' (expected YYYY-MM-DD)", printable(s))
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1 || t.Day() != d || int(t.Month()) != m {
		return 0, errDatetime(StateDatetimeOverflow, "invalid date '%s' (day out of range)", printable(s))
	}
	// Midnight UTC is an exact multiple of a day, so plain division is
	// exact for negative values too.
	return t.Unix() / 86400, nil
}

func parseTimestamp(s string) (sec, micros int64, err error) {
	bad := func(why string) error {
		return errDatetime(StateInvalidDatetime, "invalid timestamp '%s' (%s)", printable(s), why)
	}
	outOfRange := func(why string) error {
		return errDatetime(StateDatetimeOverflow, "invalid timestamp '%s' (%s)", printable(s), why)
	}
	y, mo, d, rest, ok := parseDatePart(s)
	if !ok {
		return 0, 0, bad("expected YYYY-MM-DD[ HH:MM:SS[.ffffff]][zone]")
	}
	var hh, mi, ss, nanos int
	offset := 0
	if rest != "" {
		if rest[0] != ' ' && rest[0] != 'T' && rest[0] != 't' {
			return 0, 0, bad("expected ' ' or 'T' after the date")
		}
		rest = rest[1:]
		if hh, rest, ok = fixedDigits(rest, 2); !ok {
			return 0, 0, bad("expected HH:MM")
		}
		if len(rest) == 0 || rest[0] != ':' {
			return 0, 0, bad("expected HH:MM")
		}
		if mi, rest, ok = fixedDigits(rest[1:], 2); !ok {
			return 0, 0, bad("expected HH:MM")
		}
		if len(rest) > 0 && rest[0] == ':' {
			if ss, rest, ok = fixedDigits(rest[1:], 2); !ok {
				return 0, 0, bad("expected seconds after HH:MM:")
			}
			if len(rest) > 0 && rest[0] == '.' {
				rest = rest[1:]
				n := 0
				for n < len(rest) && isDigit(rest[n]) {
					n++
				}
				if n == 0 || n > 9 {
					return 0, 0, bad("fraction must have 1 to 9 digits")
				}
				frac, _, _ := fixedDigits(rest, n)
				for k := n; k < 9; k++ {
					frac *= 10
				}
				nanos = frac
				rest = rest[n:]
			}
		}
		if offset, ok = parseZone(rest); !ok {
			return 0, 0, bad("bad time zone; use Z, +HH, +HHMM or +HH:MM")
		}
		if hh > 23 || mi > 59 || ss > 59 {
			return 0, 0, outOfRange("time out of range")
		}
	}
	t := time.Date(y, time.Month(mo), d, hh, mi, ss, 0, time.UTC)
	if y < 1 || t.Day() != d || int(t.Month()) != mo {
		return 0, 0, outOfRange("day out of range")
	}
	sec = t.Unix() - int64(offset)
	micros = int64((nanos + 500) / 1000)
	if micros == 1_000_000 {
		sec++
		micros = 0
	}
	return sec, micros, nil
}

// parseDatePart parses YYYY-MM-DD at the start of s.
func parseDatePart(s string) (y, m, d int, rest string, ok bool) {
	if y, s, ok = fixedDigits(s, 4); !ok || len(s) == 0 || s[0] != '-' {
		return 0, 0, 0, "", false
	}
	if m, s, ok = fixedDigits(s[1:], 2); !ok || len(s) == 0 || s[0] != '-' {
		return 0, 0, 0, "", false
	}
	if d, s, ok = fixedDigits(s[1:], 2); !ok {
		return 0, 0, 0, "", false
	}
	// The ranges are the callers' (22008, not a format error).
	return y, m, d, s, true
}

// errDatetime is a date/time input error with PostgreSQL's SQLSTATE:
// StateInvalidDatetime for text that is no date, StateDatetimeOverflow
// for a field out of range ('2020-13-01', '2020-02-30').
func errDatetime(state, format string, args ...any) *Error {
	e := errInput(-1, format, args...)
	e.State = state
	return e
}

// parseZone parses "", Z, ±HH, ±HHMM or ±HH:MM into seconds east of UTC.
func parseZone(s string) (int, bool) {
	switch {
	case s == "":
		return 0, true
	case s == "Z" || s == "z":
		return 0, true
	case s[0] != '+' && s[0] != '-':
		return 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	h, rest, ok := fixedDigits(s[1:], 2)
	if !ok {
		return 0, false
	}
	m := 0
	if len(rest) > 0 && rest[0] == ':' {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if m, rest, ok = fixedDigits(rest, 2); !ok || rest != "" {
			return 0, false
		}
	}
	if h > 15 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// fixedDigits parses exactly n decimal digits at the start of s.
func fixedDigits(s string, n int) (int, string, bool) {
	if len(s) < n {
		return 0, s, false
	}
	v := 0
	for i := 0; i < n; i++ {
		if !isDigit(s[i]) {
			return 0, s, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, s[n:], true
}
