package pgfn

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Interval is PostgreSQL's interval: months, days and microseconds kept
// apart (a month is not a fixed number of days). In SQLite an interval
// travels as its PostgreSQL output text, e.g. "1 day 02:00:00".
type Interval struct {
	Months, Days, Micros int64
}

var intervalUnits = map[string]struct {
	months, days int64
	micros       int64
}{
	"microsecond": {0, 0, 1}, "microseconds": {0, 0, 1}, "us": {0, 0, 1}, "usec": {0, 0, 1}, "usecs": {0, 0, 1},
	"millisecond": {0, 0, 1000}, "milliseconds": {0, 0, 1000}, "ms": {0, 0, 1000}, "msec": {0, 0, 1000}, "msecs": {0, 0, 1000},
	"second": {0, 0, microsPerSecond}, "seconds": {0, 0, microsPerSecond}, "sec": {0, 0, microsPerSecond}, "secs": {0, 0, microsPerSecond}, "s": {0, 0, microsPerSecond},
	"minute": {0, 0, microsPerMinute}, "minutes": {0, 0, microsPerMinute}, "min": {0, 0, microsPerMinute}, "mins": {0, 0, microsPerMinute}, "m": {0, 0, microsPerMinute},
	"hour": {0, 0, microsPerHour}, "hours": {0, 0, microsPerHour}, "hr": {0, 0, microsPerHour}, "hrs": {0, 0, microsPerHour}, "h": {0, 0, microsPerHour},
	"day": {0, 1, 0}, "days": {0, 1, 0}, "d": {0, 1, 0},
	"week": {0, 7, 0}, "weeks": {0, 7, 0}, "w": {0, 7, 0},
	"month": {1, 0, 0}, "months": {1, 0, 0}, "mon": {1, 0, 0}, "mons": {1, 0, 0},
	"year": {12, 0, 0}, "years": {12, 0, 0}, "yr": {12, 0, 0}, "yrs": {12, 0, 0}, "y": {12, 0, 0},
	"decade": {120, 0, 0}, "decades": {120, 0, 0},
	"century": {1200, 0, 0}, "centuries": {1200, 0, 0},
	"millennium": {12000, 0, 0}, "millennia": {12000, 0, 0}, "millenniums": {12000, 0, 0},
}

// ParseInterval reads PostgreSQL interval input: "N unit" pairs (units
// from microseconds to millennia, fractions spill into smaller units as
// PostgreSQL does), an optional [-]HH:MM[:SS[.f]] time, "@" and "ago".
func ParseInterval(s string) (Interval, error) {
	bad := func() (Interval, error) {
		return Interval{}, errorf(StateInvalidDatetime, "invalid input syntax for type interval: %q", s)
	}
	f := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	if len(f) > 0 && f[0] == "@" {
		f = f[1:]
	}
	ago := false
	if len(f) > 0 && f[len(f)-1] == "ago" {
		ago, f = true, f[:len(f)-1]
	}
	if len(f) == 0 {
		return bad()
	}
	var iv Interval
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.Contains(tok, ":") {
			m, ok := parseClock(tok)
			if !ok {
				return bad()
			}
			iv.Micros += m
			continue
		}
		num, unit := tok, ""
		if k := strings.IndexFunc(tok, func(r rune) bool { return r >= 'a' && r <= 'z' }); k > 0 {
			num, unit = tok[:k], tok[k:]
		} else if i+1 < len(f) {
			unit = f[i+1]
			i++
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return bad()
		}
		u, ok := intervalUnits[unit]
		if !ok {
			return bad()
		}
		iv = iv.add(scaleUnit(v, u.months, u.days, u.micros))
	}
	if ago {
		iv = iv.neg()
	}
	return iv, nil
}

func parseClock(tok string) (int64, bool) {
	neg := strings.HasPrefix(tok, "-")
	tok = strings.TrimLeft(tok, "+-")
	parts := strings.Split(tok, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	var sec float64
	if len(parts) == 3 {
		var err error
		if sec, err = strconv.ParseFloat(parts[2], 64); err != nil {
			return 0, false
		}
	}
	r := h*microsPerHour + m*microsPerMinute + int64(math.Round(sec*1e6))
	if neg {
		r = -r
	}
	return r, true
}

// scaleUnit multiplies a unit by v, carrying fractions down as
// PostgreSQL does (a fractional month is 30 days, a fractional day 24h).
func scaleUnit(v float64, months, days, micros int64) Interval {
	var iv Interval
	m := v * float64(months)
	iv.Months = int64(m)
	fracDays := (m - float64(iv.Months)) * 30
	d := v*float64(days) + fracDays
	iv.Days = int64(d)
	iv.Micros = int64(math.Round((d-float64(iv.Days))*float64(microsPerDay) + v*float64(micros)))
	return iv
}

func (iv Interval) add(o Interval) Interval {
	return Interval{iv.Months + o.Months, iv.Days + o.Days, iv.Micros + o.Micros}
}

func (iv Interval) neg() Interval { return Interval{-iv.Months, -iv.Days, -iv.Micros} }

// String is PostgreSQL's interval output in the "postgres" style.
func (iv Interval) String() string {
	var parts []string
	prevNeg := false
	unit := func(n int64, singular, plural string) {
		if n == 0 {
			return
		}
		sign := ""
		if prevNeg && n > 0 {
			sign = "+"
		}
		name := plural
		if n == 1 {
			name = singular
		}
		parts = append(parts, fmt.Sprintf("%s%d %s", sign, n, name))
		prevNeg = n < 0
	}
	unit(iv.Months/12, "year", "years")
	unit(iv.Months%12, "mon", "mons")
	unit(iv.Days, "day", "days")
	if iv.Micros != 0 || len(parts) == 0 {
		m := iv.Micros
		sign := ""
		if m < 0 {
			sign, m = "-", -m
		} else if prevNeg {
			sign = "+"
		}
		h := m / microsPerHour
		m -= h * microsPerHour
		mi := m / microsPerMinute
		m -= mi * microsPerMinute
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, mi, m/microsPerSecond)
		if us := m % microsPerSecond; us != 0 {
			s += "." + strings.TrimRight(fmt.Sprintf("%06d", us), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// IntervalText parses and re-prints interval input (INTERVAL '...').
func IntervalText(s string) (string, error) {
	iv, err := ParseInterval(s)
	if err != nil {
		return "", err
	}
	return iv.String(), nil
}

// AddInterval is timestamp ± interval over microseconds: months first
// (clamping the day to the month's end), then days, then time.
func AddInterval(micros int64, iv Interval, sign int64) int64 {
	if sign < 0 {
		iv = iv.neg()
	}
	if iv.Months != 0 {
		t := timeOf(micros)
		y, mo, d := t.Date()
		total := int64(y)*12 + int64(mo-1) + iv.Months
		ny, nm := int(floorDiv(total, 12)), time.Month(total-floorDiv(total, 12)*12+1)
		last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if d > last {
			d = last
		}
		tod := micros - floorDiv(micros, microsPerDay)*microsPerDay
		micros = time.Date(ny, nm, d, 0, 0, 0, 0, time.UTC).UnixMicro() + tod
	}
	return micros + iv.Days*microsPerDay + iv.Micros
}

// SubTimestamps is timestamp - timestamp: an interval of days and time.
func SubTimestamps(a, b int64) Interval {
	d := a - b
	days := d / microsPerDay
	return Interval{Days: days, Micros: d - days*microsPerDay}
}

// MulInterval is interval * factor.
func MulInterval(iv Interval, f float64) Interval {
	r := scaleUnit(f, iv.Months, 0, 0)
	r = r.add(scaleUnit(f, 0, iv.Days, 0))
	r.Micros += int64(math.Round(float64(iv.Micros) * f))
	return r
}

// AddIntervals is interval + interval (sign -1: minus).
func AddIntervals(a, b Interval, sign int64) Interval {
	if sign < 0 {
		b = b.neg()
	}
	return a.add(b)
}

// IntervalPart is EXTRACT(field FROM interval).
func IntervalPart(field string, iv Interval) (any, error) {
	switch strings.ToLower(field) {
	case "epoch":
		return float64(iv.Months/12)*365.25*86400 + float64(iv.Months%12)*30*86400 + float64(iv.Days)*86400 + float64(iv.Micros)/1e6, nil
	case "year", "years":
		return iv.Months / 12, nil
	case "month", "months", "mon":
		return iv.Months % 12, nil
	case "day", "days":
		return iv.Days, nil
	case "hour", "hours":
		return iv.Micros / microsPerHour, nil
	case "minute", "minutes":
		return iv.Micros % microsPerHour / microsPerMinute, nil
	case "second", "seconds":
		return float64(iv.Micros%microsPerMinute) / 1e6, nil
	case "microseconds", "microsecond":
		return iv.Micros % microsPerMinute, nil
	case "milliseconds", "millisecond":
		return float64(iv.Micros%microsPerMinute) / 1e3, nil
	}
	return nil, errorf(StateInvalidParameter, "unit %q not supported for type interval", field)
}
