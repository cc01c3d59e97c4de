package sql

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"time"

	sqlite "modernc.org/sqlite"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
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
	if err := registerJSONFuncs(); err != nil {
		return err
	}
	return registerPGFuncs()
}

// extractUDF implements EXTRACT(field FROM ts) over microsecond timestamps
// (PostgreSQL's fields, pgfn.DatePart).
func extractUDF(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	field, _ := args[0].(string)
	return pgfn.DatePart(field, args[1], false)
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
