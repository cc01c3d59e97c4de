package sql

import (
	"reflect"
	"testing"
)

// TestBigIntsAsStrings: BIGINT columns of Go-built results (SHOW STATS,
// SHOW BACKUPS) go on the wire as strings like SELECT's, other columns keep
// their values.
func TestBigIntsAsStrings(t *testing.T) {
	res := &Result{
		Schema: []Field{{"name", "TEXT", 0}, {"version", "INT", 1}, {"seq_high_water", "BIGINT", 2}, {"size_bytes", "BIGINT", 3}},
		Rows:   [][]any{{"a", 3, int64(382764209231888384), nil}, {"b", 4, 7, "9"}},
	}
	bigIntsAsStrings(res)
	want := [][]any{{"a", 3, "382764209231888384", nil}, {"b", 4, "7", "9"}}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Fatalf("rows = %#v, want %#v", res.Rows, want)
	}
}
