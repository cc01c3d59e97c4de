package pgwire

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// PostgreSQL type OIDs of the types KalamDB values are sent as.
const (
	oidUnspecified uint32 = 0
	oidBool        uint32 = pgtype.BoolOID
	oidBytea       uint32 = pgtype.ByteaOID
	oidInt8        uint32 = pgtype.Int8OID
	oidInt2        uint32 = pgtype.Int2OID
	oidInt4        uint32 = pgtype.Int4OID
	oidText        uint32 = pgtype.TextOID
	oidJSON        uint32 = pgtype.JSONOID
	oidFloat4      uint32 = pgtype.Float4OID
	oidFloat8      uint32 = pgtype.Float8OID
	oidVarchar     uint32 = pgtype.VarcharOID
	oidDate        uint32 = pgtype.DateOID
	oidTime        uint32 = pgtype.TimeOID
	oidTimestamp   uint32 = pgtype.TimestampOID
	oidTimestamptz uint32 = pgtype.TimestamptzOID
	oidNumeric     uint32 = pgtype.NumericOID
	oidUUID        uint32 = pgtype.UUIDOID
	oidJSONB       uint32 = pgtype.JSONBOID
	oidName        uint32 = pgtype.NameOID
	oidOID         uint32 = pgtype.OIDOID
	oidChar        uint32 = pgtype.QCharOID
	oidUnknown     uint32 = 705
)

// colType is how one result column goes on the wire.
type colType struct {
	oid    uint32
	size   int16
	mod    int32
	kind   datatype.Kind
	scale  int
	native bool // a KalamDB column type, not a dynamic SQLite one
}

// typeForDataType maps a result field's data_type (sql.Field.DataType) to
// its PostgreSQL type.
func typeForDataType(dt string) colType {
	t, err := datatype.Parse(dt)
	if err != nil {
		return colType{oid: oidText, size: -1, mod: -1}
	}
	return typeForKind(t)
}

func typeForKind(t datatype.Type) colType {
	ct := colType{size: -1, mod: -1, kind: t.Kind, scale: t.Scale, native: true}
	switch t.Kind {
	case datatype.Boolean:
		ct.oid, ct.size = oidBool, 1
	case datatype.SmallInt:
		ct.oid, ct.size = oidInt2, 2
	case datatype.Int:
		ct.oid, ct.size = oidInt4, 4
	case datatype.BigInt:
		ct.oid, ct.size = oidInt8, 8
	case datatype.Float:
		ct.oid, ct.size = oidFloat4, 4
	case datatype.Double:
		ct.oid, ct.size = oidFloat8, 8
	case datatype.Decimal:
		ct.oid = oidNumeric
		ct.mod = int32((t.Precision<<16)|t.Scale) + 4
	case datatype.Bytes:
		ct.oid = oidBytea
	case datatype.JSON:
		ct.oid = oidJSON
	case datatype.Timestamp:
		ct.oid, ct.size = oidTimestamp, 8
	case datatype.DateTime:
		ct.oid, ct.size = oidTimestamptz, 8
	case datatype.Date:
		ct.oid, ct.size = oidDate, 4
	case datatype.Time:
		ct.oid, ct.size = oidTime, 8
	case datatype.UUID:
		ct.oid, ct.size = oidUUID, 16
	default: // TEXT, EMBEDDING (JSON array text), FILE
		ct.oid = oidText
	}
	return ct
}

// pgTypeName is format_type's spelling of a KalamDB column type.
func pgTypeName(t datatype.Type) string {
	switch t.Kind {
	case datatype.Boolean:
		return "boolean"
	case datatype.SmallInt:
		return "smallint"
	case datatype.Int:
		return "integer"
	case datatype.BigInt:
		return "bigint"
	case datatype.Float:
		return "real"
	case datatype.Double:
		return "double precision"
	case datatype.Decimal:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	case datatype.Bytes:
		return "bytea"
	case datatype.JSON:
		return "json"
	case datatype.Timestamp:
		return "timestamp without time zone"
	case datatype.DateTime:
		return "timestamp with time zone"
	case datatype.Date:
		return "date"
	case datatype.Time:
		return "time without time zone"
	case datatype.UUID:
		return "uuid"
	}
	return "text"
}

const (
	tsLayout   = "2006-01-02 15:04:05.999999"
	tstzLayout = "2006-01-02 15:04:05.999999-07"
)

// textValue renders an engine result value (its JSON wire form: BIGINT as
// decimal strings, timestamps as epoch microseconds, DATE as epoch days,
// bytes as base64) in PostgreSQL's text format.
func textValue(ct colType, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if x {
			return []byte("t"), nil
		}
		return []byte("f"), nil
	case int64:
		switch ct.kind {
		case datatype.Timestamp:
			return []byte(time.UnixMicro(x).UTC().Format(tsLayout)), nil
		case datatype.DateTime:
			return []byte(time.UnixMicro(x).UTC().Format(tstzLayout)), nil
		case datatype.Date:
			return []byte(time.Unix(x*86400, 0).UTC().Format("2006-01-02")), nil
		case datatype.Time:
			return []byte(formatTimeOfDay(x)), nil
		case datatype.Boolean:
			return textValue(ct, x != 0)
		}
		return strconv.AppendInt(nil, x, 10), nil
	case int:
		return textValue(ct, int64(x))
	case float64:
		switch {
		case math.IsInf(x, 1):
			return []byte("Infinity"), nil
		case math.IsInf(x, -1):
			return []byte("-Infinity"), nil
		case math.IsNaN(x):
			return []byte("NaN"), nil
		}
		if ct.kind == datatype.Float {
			return appendPGFloat(nil, x, 32), nil
		}
		if ct.oid == oidInt8 || ct.oid == oidInt4 || ct.oid == oidInt2 {
			return strconv.AppendInt(nil, int64(x), 10), nil
		}
		return appendPGFloat(nil, x, 64), nil
	case string:
		if ct.kind == datatype.Double || ct.kind == datatype.Float {
			// The engine sends non-finite doubles as JSON strings.
			switch x {
			case "+Inf", "Inf":
				return []byte("Infinity"), nil
			case "-Inf":
				return []byte("-Infinity"), nil
			}
		}
		if ct.kind == datatype.Bytes && ct.native {
			b, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return []byte(x), nil
			}
			return []byte(`\x` + hex.EncodeToString(b)), nil
		}
		return []byte(x), nil
	case []byte:
		return []byte(`\x` + hex.EncodeToString(x)), nil
	}
	return []byte(fmt.Sprint(v)), nil
}

// appendPGFloat appends f as PostgreSQL's float8out/float4out print it
// with extra_float_digits = 1 (the default since PostgreSQL 12): the
// shortest digits that read back exactly, in exponent form ("1e+20",
// "1e-05") when the decimal exponent is below -4 or at least DBL_DIG (15)
// or FLT_DIG (6) — not Go's 'g', which switches at the digit count.
func appendPGFloat(b []byte, f float64, bits int) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	e := strconv.AppendFloat(nil, f, 'e', -1, bits) // d.ddde±XX
	i := strings.LastIndexByte(string(e), 'e')
	exp, _ := strconv.Atoi(string(e[i+1:]))
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		// Go writes at least two exponent digits, as PostgreSQL does.
		return append(b, e...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, bits)
}

func formatTimeOfDay(us int64) string {
	d := time.Duration(us) * time.Microsecond
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	sec := d / time.Second
	d -= sec * time.Second
	s := fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
	if d > 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", d/time.Microsecond), "0")
	}
	return s
}

// binaryValue renders v in the binary format of ct.oid, through pgtype's
// codecs (the same encoders pgx uses), so every binary form is PostgreSQL's.
func binaryValue(m *pgtype.Map, ct colType, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	gv, err := goValue(ct, v)
	if err != nil {
		return nil, err
	}
	return m.Encode(ct.oid, pgtype.BinaryFormatCode, gv, nil)
}

// goValue converts an engine value to the Go value pgtype encodes as ct.
func goValue(ct colType, v any) (any, error) {
	txt, err := textValue(ct, v)
	if err != nil {
		return nil, err
	}
	s := string(txt)
	switch ct.oid {
	case oidBool:
		return s == "t", nil
	case oidInt2:
		n, err := strconv.ParseInt(s, 10, 16)
		return int16(n), err
	case oidInt4:
		n, err := strconv.ParseInt(s, 10, 32)
		return int32(n), err
	case oidInt8:
		return strconv.ParseInt(s, 10, 64)
	case oidFloat4:
		f, err := strconv.ParseFloat(s, 32)
		return float32(f), err
	case oidFloat8:
		return strconv.ParseFloat(s, 64)
	case oidNumeric:
		var n pgtype.Numeric
		err := n.Scan(s)
		return n, err
	case oidBytea:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			if b, err := base64.StdEncoding.DecodeString(x); err == nil {
				return b, nil
			}
			return []byte(x), nil
		}
	case oidTimestamp, oidTimestamptz:
		if us, ok := v.(int64); ok {
			return time.UnixMicro(us).UTC(), nil
		}
		t, err := time.Parse(tsLayout, s)
		return t, err
	case oidDate:
		if d, ok := v.(int64); ok {
			return time.Unix(d*86400, 0).UTC(), nil
		}
		return time.Parse("2006-01-02", s)
	case oidTime:
		if us, ok := v.(int64); ok {
			return pgtype.Time{Microseconds: us, Valid: true}, nil
		}
	case oidOID:
		n, err := strconv.ParseUint(s, 10, 32)
		return uint32(n), err
	case oidChar:
		if s == "" {
			return byte(0), nil
		}
		return s[0], nil
	case oidUUID:
		var u pgtype.UUID
		err := u.Scan(s)
		return u, err
	}
	return s, nil
}

// decodeParam turns one Bind parameter into the value the SQL engine takes:
// integers as int64, floats as float64, booleans, text, bytes, timestamps
// as epoch microseconds, dates as epoch days, numerics as decimal text.
func decodeParam(m *pgtype.Map, oid uint32, format int16, src []byte) (any, error) {
	if src == nil {
		return nil, nil
	}
	if format == pgtype.TextFormatCode {
		return decodeTextParam(oid, string(src))
	}
	switch oid {
	case oidJSON, oidText, oidVarchar, oidName, oidUnspecified, oidUnknown:
		return string(src), nil
	case oidJSONB:
		if len(src) > 0 && src[0] == 1 {
			return string(src[1:]), nil
		}
		return nil, fmt.Errorf("unsupported binary jsonb version")
	}
	t, ok := m.TypeForOID(oid)
	if !ok {
		return nil, fmt.Errorf("binary parameters of type OID %d are not supported; send them as text", oid)
	}
	v, err := t.Codec.DecodeValue(m, oid, format, src)
	if err != nil {
		return nil, err
	}
	return engineValue(oid, v)
}

func decodeTextParam(oid uint32, s string) (any, error) {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid input syntax for type integer: %q", s)
		}
		return n, nil
	case oidFloat4, oidFloat8:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("invalid input syntax for type double precision: %q", s)
		}
		return f, nil
	case oidBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "yes", "on", "1", "y":
			return true, nil
		case "f", "false", "no", "off", "0", "n":
			return false, nil
		}
		return nil, fmt.Errorf("invalid input syntax for type boolean: %q", s)
	case oidBytea:
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type bytea")
			}
			return b, nil
		}
		return []byte(s), nil
	case oidTimestamp, oidTimestamptz:
		us, err := datatype.ParseTimestampMicros(s)
		if err != nil {
			if us, ok := parsePGTimestamp(s); ok {
				return us, nil
			}
			return nil, err
		}
		return us, nil
	case oidDate:
		ds := strings.TrimSpace(s)
		if len(ds) > 10 && (ds[10] == 'T' || ds[10] == ' ') {
			ds = ds[:10] // a timestamp sent for a date (node-postgres Date)
		}
		d, err := time.Parse("2006-01-02", ds)
		if err != nil {
			return nil, fmt.Errorf("invalid input syntax for type date: %q", s)
		}
		return d.Unix() / 86400, nil
	}
	return s, nil
}

// pgTimestampLayouts are PostgreSQL's text forms of a timestamp with a
// zone offset, as JDBC's setTimestamp sends them ("2024-01-01
// 10:00:00+00").
var pgTimestampLayouts = []string{"2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07:00:00"}

// parsePGTimestamp reads the offset forms datatype.ParseTimestampMicros
// does not ("+00", "+05:30:00") the way it reads "+05:30": as the instant,
// stored in UTC (the engine's rule for timestamps with an offset).
func parsePGTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range pgTimestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMicro(), true
		}
	}
	return 0, false
}

func engineValue(oid uint32, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case float64, bool, string, []byte:
		return x, nil
	case time.Time:
		if oid == oidDate {
			return x.Unix() / 86400, nil
		}
		return x.UnixMicro(), nil
	case pgtype.Numeric:
		b, err := x.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16]), nil
	case pgtype.Time:
		return x.Microseconds, nil
	case map[string]any, []any:
		return nil, fmt.Errorf("parameter of type OID %d: send JSON as text", oid)
	}
	return fmt.Sprint(v), nil
}
