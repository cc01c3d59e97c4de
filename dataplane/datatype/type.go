// Package datatype defines KalamDB's column types, their SQL spellings, and
// the Go values that carry them through storage, the SQL engine and the wire.
//
// Invariants:
//   - Every stored value is one of: nil, bool, int64, float64, string, []byte.
//   - Integer-like types (SMALLINT, INT, BIGINT) are int64 in memory; their
//     range is enforced by Coerce on write.
//   - TIMESTAMP, DATETIME and TIME are int64 microseconds; DATE is int64 days
//     since the Unix epoch. DECIMAL is a canonical decimal string.
package datatype

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the canonical KalamDB data type.
type Kind uint8

// Kinds. The numeric values are persisted in schemas: never renumber.
const (
	Invalid Kind = iota
	Boolean
	SmallInt
	Int
	BigInt
	Float
	Double
	Decimal
	Text
	Bytes
	JSON
	Timestamp
	Date
	DateTime
	Time
	UUID
	Embedding
	File
)

// Type is a column type: a kind plus its parameters.
type Type struct {
	Kind      Kind `json:"kind"`
	Precision int  `json:"precision,omitempty"`
	Scale     int  `json:"scale,omitempty"`
	Dim       int  `json:"dim,omitempty"`
}

var kindNames = map[Kind]string{
	Boolean: "BOOLEAN", SmallInt: "SMALLINT", Int: "INT", BigInt: "BIGINT",
	Float: "FLOAT", Double: "DOUBLE", Decimal: "DECIMAL", Text: "TEXT",
	Bytes: "BYTES", JSON: "JSON", Timestamp: "TIMESTAMP", Date: "DATE",
	DateTime: "DATETIME", Time: "TIME", UUID: "UUID", Embedding: "EMBEDDING",
	File: "FILE",
}

// aliases maps every accepted SQL spelling (upper case, no parameters) to a kind.
var aliases = map[string]Kind{
	"BOOLEAN": Boolean, "BOOL": Boolean,
	"SMALLINT": SmallInt, "INT2": SmallInt, "TINYINT": SmallInt, "SMALLSERIAL": SmallInt,
	"INT": Int, "INTEGER": Int, "INT4": Int, "MEDIUMINT": Int, "SERIAL": Int,
	"BIGINT": BigInt, "INT8": BigInt, "BIGSERIAL": BigInt,
	"FLOAT": Float, "REAL": Float, "FLOAT4": Float,
	"DOUBLE": Double, "DOUBLE PRECISION": Double, "FLOAT8": Double,
	"DECIMAL": Decimal, "NUMERIC": Decimal,
	"TEXT": Text, "VARCHAR": Text, "CHAR": Text, "STRING": Text, "NVARCHAR": Text,
	"CLOB": Text, "CHARACTER VARYING": Text, "CHARACTER": Text,
	"ARRAY": Text, "ENUM": Text, "SET": Text, "STRUCT": Text,
	"BYTES": Bytes, "BINARY": Bytes, "VARBINARY": Bytes, "BLOB": Bytes, "BYTEA": Bytes,
	"JSON": JSON, "JSONB": JSON,
	"TIMESTAMP": Timestamp, "TIMESTAMP WITHOUT TIME ZONE": Timestamp,
	"DATE":     Date,
	"DATETIME": DateTime, "TIMESTAMPTZ": DateTime, "TIMESTAMP WITH TIME ZONE": DateTime,
	"TIME":      Time,
	"UUID":      UUID,
	"EMBEDDING": Embedding, "VECTOR": Embedding,
	"FILE": File,
}

// Parse parses an SQL type spelling such as "BIGINT", "varchar(20)",
// "DECIMAL(10,2)" or "EMBEDDING(384)".
func Parse(s string) (Type, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), " "))
	s = strings.TrimSuffix(s, " UNSIGNED")
	name, params := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return Type{}, fmt.Errorf("invalid type %q", s)
		}
		name, params = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	k, ok := aliases[name]
	if !ok {
		return Type{}, fmt.Errorf("unknown data type %q", s)
	}
	t := Type{Kind: k}
	var nums []int
	if params != "" {
		for _, p := range strings.Split(params, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 0 {
				return Type{}, fmt.Errorf("invalid type parameter in %q", s)
			}
			nums = append(nums, n)
		}
	}
	switch k {
	case Decimal:
		t.Precision, t.Scale = 38, 10
		if len(nums) >= 1 {
			t.Precision, t.Scale = nums[0], 0
		}
		if len(nums) == 2 {
			t.Scale = nums[1]
		}
		if len(nums) > 2 || t.Precision < 1 || t.Precision > 38 || t.Scale > t.Precision {
			return Type{}, fmt.Errorf("invalid DECIMAL parameters in %q: precision 1..38, scale <= precision", s)
		}
	case Embedding:
		if len(nums) != 1 || nums[0] < 1 || nums[0] > 8192 {
			return Type{}, fmt.Errorf("EMBEDDING needs a dimension 1..8192, got %q", s)
		}
		t.Dim = nums[0]
	default:
		// VARCHAR(20), CHAR(3), TIMESTAMP(6): the length/precision is accepted
		// for compatibility and not enforced.
		if len(nums) > 2 {
			return Type{}, fmt.Errorf("invalid type parameters in %q", s)
		}
	}
	return t, nil
}

// String returns the canonical SQL spelling.
func (t Type) String() string {
	switch t.Kind {
	case Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case Embedding:
		return fmt.Sprintf("EMBEDDING(%d)", t.Dim)
	}
	if n, ok := kindNames[t.Kind]; ok {
		return n
	}
	return "INVALID"
}

// SQLiteDecl is the declared column type used in the SQLite virtual-table
// schema. It is chosen so SQLite derives the right affinity (INT -> INTEGER,
// TEXT -> TEXT, FLOA/DOUB -> REAL) and so the result decoder can map the
// declared type of a result column back to its KalamDB type (FromSQLiteDecl).
func (t Type) SQLiteDecl() string {
	switch t.Kind {
	case JSON:
		return "JSON_TEXT"
	case UUID:
		return "UUID_TEXT"
	case File:
		return "FILE_TEXT"
	case Embedding:
		return fmt.Sprintf("EMBEDDING_TEXT(%d)", t.Dim)
	case Bytes:
		return "BLOB"
	case Decimal:
		return fmt.Sprintf("DECIMAL_DOUBLE(%d,%d)", t.Precision, t.Scale)
	case Timestamp:
		return "TIMESTAMP_INT"
	case DateTime:
		return "DATETIME_INT"
	case Date:
		return "DATE_INT"
	case Time:
		return "TIME_INT"
	}
	return t.String()
}

// FromSQLiteDecl maps a declared type reported by SQLite for a result column
// back to a KalamDB type. ok is false for expressions (no declared type).
func FromSQLiteDecl(decl string) (Type, bool) {
	switch decl {
	case "":
		return Type{}, false
	case "JSON_TEXT":
		return Type{Kind: JSON}, true
	case "UUID_TEXT":
		return Type{Kind: UUID}, true
	case "FILE_TEXT":
		return Type{Kind: File}, true
	case "BLOB":
		return Type{Kind: Bytes}, true
	case "TIMESTAMP_INT":
		return Type{Kind: Timestamp}, true
	case "DATETIME_INT":
		return Type{Kind: DateTime}, true
	case "DATE_INT":
		return Type{Kind: Date}, true
	case "TIME_INT":
		return Type{Kind: Time}, true
	}
	if strings.HasPrefix(decl, "EMBEDDING_TEXT") {
		t, err := Parse("EMBEDDING" + strings.TrimPrefix(decl, "EMBEDDING_TEXT"))
		return t, err == nil
	}
	if strings.HasPrefix(decl, "DECIMAL_DOUBLE") {
		t, err := Parse("DECIMAL" + strings.TrimPrefix(decl, "DECIMAL_DOUBLE"))
		return t, err == nil
	}
	t, err := Parse(decl)
	return t, err == nil
}

// IsInteger reports whether values of t are int64 integers in SQL.
func (t Type) IsInteger() bool {
	switch t.Kind {
	case SmallInt, Int, BigInt, Timestamp, DateTime, Date, Time:
		return true
	}
	return false
}

// CanBePrimaryKey reports whether t may be a primary-key column type.
func (t Type) CanBePrimaryKey() bool {
	switch t.Kind {
	case SmallInt, Int, BigInt, Text, UUID, Bytes, Timestamp, DateTime, Date, Boolean:
		return true
	}
	return false
}
