package sql

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// registerUDFs installs the functions the rewriter targets (kalam_now,
// kalam_extract, ...). They are registered driver-wide, once.
func registerUDFs() error {
	fns := []struct {
		name string
		n    int32
		fn   func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
	}{
		{"kalam_now", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return time.Now().UnixMicro(), nil
		}},
		{"kalam_snowflake_id", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return globalSnowflake.Next(), nil
		}},
		{"kalam_uuid_v7", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return NewUUIDv7(), nil
		}},
		{"kalam_ulid", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return NewULID(), nil
		}},
		{"kalam_extract", 2, extractUDF},
	}
	for _, f := range fns {
		if err := sqlite.RegisterScalarFunction(f.name, f.n, f.fn); err != nil {
			return fmt.Errorf("while registering %s: %w", f.name, err)
		}
	}
	return nil
}

// extractUDF implements EXTRACT(field FROM ts) over microsecond timestamps.
func extractUDF(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	field, _ := args[0].(string)
	var micros int64
	switch v := args[1].(type) {
	case nil:
		return nil, nil
	case int64:
		micros = v
	case float64:
		micros = int64(v)
	case string:
		m, err := datatype.ParseTimestampMicros(v)
		if err != nil {
			return nil, err
		}
		micros = m
	default:
		return nil, fmt.Errorf("EXTRACT: unsupported argument %T", v)
	}
	t := time.UnixMicro(micros).UTC()
	switch strings.ToLower(field) {
	case "year":
		return int64(t.Year()), nil
	case "month":
		return int64(t.Month()), nil
	case "day":
		return int64(t.Day()), nil
	case "hour":
		return int64(t.Hour()), nil
	case "minute":
		return int64(t.Minute()), nil
	case "second":
		return float64(t.Second()) + float64(t.Nanosecond())/1e9, nil
	case "dow":
		return int64(t.Weekday()), nil
	case "doy":
		return int64(t.YearDay()), nil
	case "epoch":
		return float64(micros) / 1e6, nil
	case "quarter":
		return int64((t.Month()-1)/3 + 1), nil
	case "week":
		_, w := t.ISOWeek()
		return int64(w), nil
	case "microsecond", "microseconds":
		return int64(t.Second())*1e6 + int64(t.Nanosecond()/1000), nil
	case "millisecond", "milliseconds":
		return float64(t.Second())*1e3 + float64(t.Nanosecond())/1e6, nil
	}
	return nil, fmt.Errorf("EXTRACT: unknown field %q", field)
}

// NewUUIDv7 returns a time-ordered RFC 9562 UUID version 7.
func NewUUIDv7() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewULID returns a lexicographically sortable ULID.
func NewULID() string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	// 128 bits -> 26 base32 chars, big-endian.
	out := make([]byte, 26)
	var acc uint64
	bits := uint(0)
	j := 25
	for i := 15; i >= 0; i-- {
		acc |= uint64(b[i]) << bits
		bits += 8
		for bits >= 5 && j >= 0 {
			out[j] = crockford[acc&31]
			acc >>= 5
			bits -= 5
			j--
		}
	}
	if j >= 0 {
		out[j] = crockford[acc&31]
	}
	return string(out)
}
