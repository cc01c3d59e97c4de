package pgwire

import (
	"math"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// TestFloatText holds float text output to PostgreSQL 15's (SELECT
// x::float8 / x::float4 with the default extra_float_digits).
func TestFloatText(t *testing.T) {
	f8 := colType{kind: datatype.Double, oid: oidFloat8}
	f4 := colType{kind: datatype.Float, oid: oidFloat4}
	for _, c := range []struct {
		ct   colType
		in   any
		want string
	}{
		{f8, 946684800.0, "946684800"},
		{f8, 15241578750.190521, "15241578750.190521"},
		{f8, 1e20, "1e+20"},
		{f8, 1e15, "1e+15"},
		{f8, 999999999999999.0, "999999999999999"},
		{f8, 1e-8, "1e-08"},
		{f8, 0.0001, "0.0001"},
		{f8, 0.30000000000000004, "0.30000000000000004"},
		{f8, math.Copysign(0, -1), "-0"},
		{f8, math.Inf(1), "Infinity"},
		{f8, "+Inf", "Infinity"},
		{f8, "-Inf", "-Infinity"},
		{f4, 123456.0, "123456"},
		{f4, 1234567.0, "1.234567e+06"},
		{f4, float64(float32(0.1)), "0.1"},
	} {
		got, err := textValue(c.ct, c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("textValue(%v, %v) = %q, %v; want %q", c.ct.oid, c.in, got, err, c.want)
		}
	}
}

// TestTimestampParamWithOffset: a text timestamp with a zone offset in
// PostgreSQL's short form (JDBC's setTimestamp sends "+00") is read like
// the RFC 3339 forms: as its instant in UTC.
func TestTimestampParamWithOffset(t *testing.T) {
	for _, c := range []struct {
		oid  uint32
		in   string
		want string
	}{
		{oidTimestamp, "2024-01-01 10:00:00+00", "2024-01-01 10:00:00"},
		{oidTimestamp, "2024-01-01 10:00:00.25+05:30", "2024-01-01 04:30:00.25"},
		{oidTimestamp, "2024-01-01 10:00:00-03", "2024-01-01 13:00:00"},
		{oidTimestamptz, "2024-01-01 10:00:00+02", "2024-01-01 08:00:00"},
	} {
		v, err := decodeTextParam(c.oid, c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		got, _ := textValue(colType{kind: datatype.Timestamp}, v)
		if string(got) != c.want {
			t.Errorf("%s as OID %d: %s, want %s", c.in, c.oid, got, c.want)
		}
	}
}
