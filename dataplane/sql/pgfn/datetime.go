package pgfn

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds date/time functions over SQLite's representations:
// TIMESTAMP as int64 microseconds since the epoch (UTC), DATE as int64
// days since the epoch.

const (
	microsPerSecond = int64(1_000_000)
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute
	microsPerDay    = 24 * microsPerHour
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func timeOf(micros int64) time.Time { return time.UnixMicro(micros).UTC() }

// FormatTimestamp is PostgreSQL's timestamp output:
// "YYYY-MM-DD HH:MM:SS[.ffffff]" with trailing fraction zeros dropped.
func FormatTimestamp(micros int64) string {
	t := timeOf(micros)
	s := t.Format("2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		f := strings.TrimRight(fmt.Sprintf("%06d", us), "0")
		s += "." + f
	}
	if t.Year() <= 0 {
		// PostgreSQL writes year 0 as 1 BC.
		s = fmt.Sprintf("%04d", 1-t.Year()) + s[strings.IndexByte(s[1:], '-')+1:] + " BC"
	}
	return s
}

// FormatDate is PostgreSQL's date output, YYYY-MM-DD.
func FormatDate(days int64) string {
	return timeOf(days * microsPerDay).Format("2006-01-02")
}

// timestampArg reads a timestamp argument: microseconds, or text parsed
// as a timestamp; ok is false for NULL.
func timestampArg(v any) (micros int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case float64:
		return int64(x), true, nil
	case string:
		m, err := CastTimestamp(x)
		if err != nil {
			return 0, false, err
		}
		return m.(int64), true, nil
	}
	return 0, false, errorf(StateFeatureNotSupported, "expected a timestamp argument")
}

// DatePart is date_part(field, ts) / EXTRACT(field FROM ts) for a
// timestamp in microseconds (isDate: days).
func DatePart(field string, v any, isDate bool) (any, error) {
	micros, ok, err := timestampArg(v)
	if !ok || err != nil {
		return nil, err
	}
	if isDate {
		micros *= microsPerDay
	}
	t := timeOf(micros)
	f := strings.ToLower(field)
	if isDate {
		switch f {
		case "hour", "minute", "second", "milliseconds", "millisecond", "microseconds", "microsecond":
			return nil, errorf(StateFeatureNotSupported, "unit %q not supported for type date", f)
		}
	}
	year := int64(t.Year())
	switch f {
	case "year", "years":
		return year, nil
	case "month", "months", "mon":
		return int64(t.Month()), nil
	case "day", "days":
		return int64(t.Day()), nil
	case "hour", "hours":
		return int64(t.Hour()), nil
	case "minute", "minutes", "min":
		return int64(t.Minute()), nil
	case "second", "seconds", "sec":
		return float64(t.Second()) + float64(t.Nanosecond()/1000)/1e6, nil
	case "milliseconds", "millisecond", "ms":
		return float64(t.Second())*1e3 + float64(t.Nanosecond()/1000)/1e3, nil
	case "microseconds", "microsecond", "us":
		return int64(t.Second())*1e6 + int64(t.Nanosecond()/1000), nil
	case "dow":
		return int64(t.Weekday()), nil
	case "isodow":
		d := int64(t.Weekday())
		if d == 0 {
			d = 7
		}
		return d, nil
	case "doy":
		return int64(t.YearDay()), nil
	case "week":
		_, w := t.ISOWeek()
		return int64(w), nil
	case "isoyear":
		y, _ := t.ISOWeek()
		return int64(y), nil
	case "quarter":
		return int64((t.Month()-1)/3 + 1), nil
	case "decade":
		return floorDiv(year, 10), nil
	case "century":
		if year > 0 {
			return (year + 99) / 100, nil
		}
		return -((99 - (year - 1)) / 100), nil
	case "millennium":
		if year > 0 {
			return (year + 999) / 1000, nil
		}
		return -((999 - (year - 1)) / 1000), nil
	case "epoch":
		if isDate {
			return micros / microsPerSecond, nil
		}
		return float64(micros) / 1e6, nil
	case "julian":
		jd := floorDiv(micros, microsPerDay) + 2440588
		if isDate {
			return jd, nil
		}
		return float64(jd) + float64(micros-floorDiv(micros, microsPerDay)*microsPerDay)/float64(microsPerDay), nil
	case "timezone", "timezone_hour", "timezone_minute":
		return int64(0), nil
	}
	return nil, errorf(StateInvalidParameter, "unit %q not recognized for type timestamp", f)
}

// DateTrunc is date_trunc(field, ts) over microseconds.
func DateTrunc(field string, v any) (any, error) {
	micros, ok, err := timestampArg(v)
	if !ok || err != nil {
		return nil, err
	}
	t := timeOf(micros)
	y, mo, d := t.Date()
	day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).UnixMicro() }
	switch strings.ToLower(field) {
	case "microseconds", "microsecond":
		return micros, nil
	case "milliseconds", "millisecond":
		return floorDiv(micros, 1000) * 1000, nil
	case "second", "seconds":
		return floorDiv(micros, microsPerSecond) * microsPerSecond, nil
	case "minute", "minutes":
		return floorDiv(micros, microsPerMinute) * microsPerMinute, nil
	case "hour", "hours":
		return floorDiv(micros, microsPerHour) * microsPerHour, nil
	case "day", "days":
		return floorDiv(micros, microsPerDay) * microsPerDay, nil
	case "week", "weeks":
		wd := (int(t.Weekday()) + 6) % 7 // days since Monday
		return day(y, mo, d-wd), nil
	case "month", "months":
		return day(y, mo, 1), nil
	case "quarter":
		return day(y, time.Month((int(mo)-1)/3*3+1), 1), nil
	case "year", "years":
		return day(y, 1, 1), nil
	case "decade":
		return day(int(floorDiv(int64(y), 10)*10), 1, 1), nil
	case "century":
		c := (y-1)/100*100 + 1
		return day(c, 1, 1), nil
	case "millennium":
		c := (y-1)/1000*1000 + 1
		return day(c, 1, 1), nil
	}
	return nil, errorf(StateInvalidParameter, "unit %q not recognized for type timestamp", field)
}

// MakeDate is make_date(y, m, d) as days since the epoch.
func MakeDate(y, m, d int64) (any, error) {
	if y == 0 || m < 1 || m > 12 || d < 1 || d > 31 {
		return nil, errorf(StateDatetimeOutOfRange, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	yy := y
	if yy < 0 {
		yy++ // 1 BC is year 0
	}
	t := time.Date(int(yy), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	if t.Day() != int(d) {
		return nil, errorf(StateDatetimeOutOfRange, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	return floorDiv(t.UnixMicro(), microsPerDay), nil
}

// MakeTimestamp is make_timestamp(y, mo, d, h, mi, sec).
func MakeTimestamp(y, mo, d, h, mi int64, sec float64) (any, error) {
	days, err := MakeDate(y, mo, d)
	if err != nil {
		return nil, err
	}
	if h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 || sec > 60 {
		return nil, errorf(StateDatetimeOutOfRange, "time field value out of range: %d:%02d:%v", h, mi, sec)
	}
	return days.(int64)*microsPerDay + h*microsPerHour + mi*microsPerMinute + int64(math.Round(sec*1e6)), nil
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// ToChar is to_char(ts, format) for the common template patterns: YYYY
// YYY YY Y, MM, DD, DDD, D, ID, HH HH12 HH24, MI, SS, MS, US, AM/PM (and
// a.m./p.m.), Month/MONTH/month, Mon/MON/mon, Day/DAY/day, Dy/DY/dy, Q,
// WW, IW, IYYY, J, TZ; the FM prefix suppresses padding; "quoted" text
// and backslash escapes are literal.
func ToChar(micros int64, format string) string {
	t := timeOf(micros)
	var b strings.Builder
	fm := false
	pad := func(n int64, width int) string {
		if fm {
			return strconv.FormatInt(n, 10)
		}
		return fmt.Sprintf("%0*d", width, n)
	}
	name := func(s string, upper, lower bool, width int) string {
		switch {
		case upper:
			s = strings.ToUpper(s)
		case lower:
			s = strings.ToLower(s)
		}
		if !fm && len(s) < width {
			s += strings.Repeat(" ", width-len(s))
		}
		return s
	}
	hour12 := int64(t.Hour() % 12)
	if hour12 == 0 {
		hour12 = 12
	}
	for i := 0; i < len(format); {
		rest := format[i:]
		has := func(p string) bool { return strings.HasPrefix(rest, p) }
		word := func(p string) (ok, upper, lower bool) {
			if len(rest) < len(p) || !strings.EqualFold(rest[:len(p)], p) {
				return false, false, false
			}
			w := rest[:len(p)]
			return true, w == strings.ToUpper(w), w == strings.ToLower(w)
		}
		if has("FM") || has("fm") {
			fm = true
			i += 2
			continue
		}
		emit := func(s string, n int) {
			b.WriteString(s)
			i += n
			fm = false
		}
		switch {
		case rest[0] == '"':
			j := strings.IndexByte(rest[1:], '"')
			if j < 0 {
				b.WriteString(rest[1:])
				i = len(format)
			} else {
				b.WriteString(rest[1 : j+1])
				i += j + 2
			}
			continue
		case rest[0] == '\\' && len(rest) > 1:
			b.WriteByte(rest[1])
			i += 2
			continue
		case has("YYYY") || has("yyyy"):
			emit(pad(int64(t.Year()), 4), 4)
		case has("IYYY") || has("iyyy"):
			y, _ := t.ISOWeek()
			emit(pad(int64(y), 4), 4)
		case has("YYY") || has("yyy"):
			emit(fmt.Sprintf("%03d", t.Year()%1000), 3)
		case has("YY") || has("yy"):
			emit(fmt.Sprintf("%02d", t.Year()%100), 2)
		case has("Y") || has("y"):
			emit(strconv.Itoa(t.Year()%10), 1)
		case has("HH24") || has("hh24"):
			emit(pad(int64(t.Hour()), 2), 4)
		case has("HH12") || has("hh12"):
			emit(pad(hour12, 2), 4)
		case has("HH") || has("hh"):
			emit(pad(hour12, 2), 2)
		case has("MI") || has("mi"):
			emit(pad(int64(t.Minute()), 2), 2)
		case has("SS") || has("ss"):
			emit(pad(int64(t.Second()), 2), 2)
		case has("MS") || has("ms"):
			emit(pad(int64(t.Nanosecond()/1e6), 3), 2)
		case has("US") || has("us"):
			emit(pad(int64(t.Nanosecond()/1e3), 6), 2)
		case has("AM") || has("PM"):
			emit(map[bool]string{true: "AM", false: "PM"}[t.Hour() < 12], 2)
		case has("am") || has("pm"):
			emit(map[bool]string{true: "am", false: "pm"}[t.Hour() < 12], 2)
		case has("A.M.") || has("P.M."):
			emit(map[bool]string{true: "A.M.", false: "P.M."}[t.Hour() < 12], 4)
		case has("a.m.") || has("p.m."):
			emit(map[bool]string{true: "a.m.", false: "p.m."}[t.Hour() < 12], 4)
		case has("DDD") || has("ddd"):
			emit(pad(int64(t.YearDay()), 3), 3)
		case has("DD") || has("dd"):
			emit(pad(int64(t.Day()), 2), 2)
		case has("ID") || has("id"):
			d := int64(t.Weekday())
			if d == 0 {
				d = 7
			}
			emit(strconv.FormatInt(d, 10), 2)
		case has("IW") || has("iw"):
			_, w := t.ISOWeek()
			emit(pad(int64(w), 2), 2)
		case has("WW") || has("ww"):
			emit(pad(int64((t.YearDay()-1)/7+1), 2), 2)
		case has("TZ") || has("tz"):
			emit(map[bool]string{true: "", false: ""}[true], 2)
		case has("Q") || has("q"):
			emit(strconv.Itoa((int(t.Month())-1)/3+1), 1)
		case has("J"):
			emit(strconv.FormatInt(floorDiv(micros, microsPerDay)+2440588, 10), 1)
		default:
			if ok, up, lo := word("month"); ok {
				emit(name(monthNames[t.Month()-1], up, lo, 9), 5)
			} else if ok, up, lo := word("mon"); ok {
				emit(name(monthNames[t.Month()-1][:3], up, lo, 3), 3)
			} else if has("MM") || has("mm") {
				emit(pad(int64(t.Month()), 2), 2)
			} else if ok, up, lo := word("day"); ok {
				emit(name(dayNames[t.Weekday()], up, lo, 9), 3)
			} else if ok, up, lo := word("dy"); ok {
				emit(name(dayNames[t.Weekday()][:3], up, lo, 3), 2)
			} else if has("D") || has("d") {
				emit(strconv.Itoa(int(t.Weekday())+1), 1)
			} else {
				b.WriteByte(rest[0])
				i++
			}
		}
	}
	return b.String()
}

// TimestampDate is timestamp::date: the day of a microsecond timestamp.
func TimestampDate(micros int64) int64 { return floorDiv(micros, microsPerDay) }
