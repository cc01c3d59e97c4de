package sql

import (
	"reflect"
	"testing"
)

func TestAutoParameterize(t *testing.T) {
	cases := []struct {
		in, out string
		params  []any
		want    []any
	}{
		{"SELECT * FROM t WHERE id = 5", "SELECT * FROM t WHERE id = $1", nil, []any{int64(5)}},
		{"SELECT 1 FROM t WHERE a='x' AND b >= 2.5", "SELECT 1 FROM t WHERE a=$1 AND b >= $2", nil, []any{"x", 2.5}},
		{"SELECT * FROM t WHERE id IN (1, 2,3)", "SELECT * FROM t WHERE id IN ($1, $2,$3)", nil, []any{int64(1), int64(2), int64(3)}},
		{"SELECT * FROM t WHERE a = $1 AND b = 7", "SELECT * FROM t WHERE a = $1 AND b = $2", []any{"p"}, []any{"p", int64(7)}},
		{"SELECT * FROM t WHERE a = 5 * b", "SELECT * FROM t WHERE a = 5 * b", nil, nil},
		{"SELECT * FROM t WHERE a LIKE 'x%' ORDER BY 1 LIMIT 10", "SELECT * FROM t WHERE a LIKE 'x%' ORDER BY 1 LIMIT 10", nil, nil},
		{"SELECT * FROM t WHERE ts > TIMESTAMP '2025-01-01'", "SELECT * FROM t WHERE ts > TIMESTAMP '2025-01-01'", nil, nil},
		{"SELECT * FROM t WHERE a = -5", "SELECT * FROM t WHERE a = -5", nil, nil},
		{"SELECT 'it''s' FROM t WHERE s = 'it''s'", "SELECT 'it''s' FROM t WHERE s = $1", nil, []any{"it's"}},
		{"SELECT * FROM t WHERE id = 0x1F", "SELECT * FROM t WHERE id = 0x1F", nil, nil},
	}
	for _, tc := range cases {
		got, params := autoParameterize(tc.in, tc.params)
		if got != tc.out || !reflect.DeepEqual(params, tc.want) && !(len(params) == 0 && len(tc.want) == 0) {
			t.Errorf("%s\n got  %s %v\n want %s %v", tc.in, got, params, tc.out, tc.want)
		}
	}
}
