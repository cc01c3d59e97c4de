package datatype

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, want string
		err      bool
	}{
		{"bigint", "BIGINT", false}, {"INT8", "BIGINT", false}, {"integer", "INT", false},
		{"varchar(20)", "TEXT", false}, {"double  precision", "DOUBLE", false},
		{"decimal(10,2)", "DECIMAL(10,2)", false}, {"numeric", "DECIMAL(38,10)", false},
		{"DECIMAL(39,2)", "", true}, {"decimal(5,6)", "", true},
		{"embedding(384)", "EMBEDDING(384)", false}, {"embedding", "", true},
		{"timestamptz", "DATETIME", false}, {"jsonb", "JSON", false}, {"bytea", "BYTES", false},
		{"int unsigned", "INT", false}, {"wibble", "", true}, {"decimal(1", "", true},
	}
	for _, tc := range cases {
		got, err := Parse(tc.in)
		if (err != nil) != tc.err || (err == nil && got.String() != tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %q err=%v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil {
			back, ok := FromSQLiteDecl(got.SQLiteDecl())
			if !ok || back != got {
				t.Errorf("decl round trip of %v: %v %v", got, back, ok)
			}
		}
	}
}

func TestCoerce(t *testing.T) {
	ty := func(s string) Type { t, _ := Parse(s); return t }
	cases := []struct {
		typ  string
		in   any
		want any
		err  bool
	}{
		{"INT", int64(5), int64(5), false},
		{"INT", json.Number("7"), int64(7), false},
		{"INT", "42", int64(42), false},
		{"INT", int64(1 << 40), nil, true},
		{"SMALLINT", int64(40000), nil, true},
		{"BIGINT", 1.5, nil, true},
		{"BIGINT", true, nil, true},
		{"BOOLEAN", "t", true, false},
		{"BOOLEAN", int64(0), false, false},
		{"BOOLEAN", "maybe", nil, true},
		{"DOUBLE", int64(2), 2.0, false},
		{"DECIMAL(6,2)", "12.345", "12.35", false},
		{"DECIMAL(4,2)", "123.4", nil, true},
		{"TEXT", int64(3), "3", false},
		{"JSON", `{"a":1}`, `{"a":1}`, false},
		{"JSON", `{a}`, nil, true},
		{"UUID", "550E8400E29B41D4A716446655440000", "550e8400-e29b-41d4-a716-446655440000", false},
		{"UUID", "nope", nil, true},
		{"TIMESTAMP", "2025-01-01T00:00:01Z", int64(1735689601000000), false},
		{"TIMESTAMP", "2025-01-01 00:00:01.5", int64(1735689601500000), false},
		{"TIMESTAMP", "soon", nil, true},
		{"DATE", "1970-01-11", int64(10), false},
		{"TIME", "01:00:00", int64(3600e6), false},
		{"EMBEDDING(2)", "[1, 2]", "[1, 2]", false},
		{"EMBEDDING(2)", "[1]", nil, true},
		{"BYTES", `\x0102`, []byte{1, 2}, false},
		{"TEXT", nil, nil, false},
	}
	for _, tc := range cases {
		got, err := Coerce(ty(tc.typ), tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Coerce(%s, %#v) = %#v, %v; want %#v err=%v", tc.typ, tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestCoerceNaN: a NaN for a FLOAT/DOUBLE column is refused (the SQL
// engine would read it back as NULL); infinities are kept.
func TestCoerceNaN(t *testing.T) {
	for _, v := range []any{"NaN", " nan ", math.NaN()} {
		if got, err := Coerce(Type{Kind: Double}, v); err == nil {
			t.Errorf("Coerce(DOUBLE, %v) = %v, want an error", v, got)
		}
	}
	if got, err := Coerce(Type{Kind: Double}, "Infinity"); err != nil || got != math.Inf(1) {
		t.Errorf("Coerce(DOUBLE, Infinity) = %v, %v", got, err)
	}
}
