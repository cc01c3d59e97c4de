package cold

import (
	"encoding/json"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// TestLiveNulls checks that the writer counts tombstones' NULLs apart from
// live rows' NULLs, on both write paths (decoded rows and hot rows).
func TestLiveNulls(t *testing.T) {
	rows := makeRows(t, 1, 15, 1, 100) // name is NULL for ids 7 and 14
	rows[6].Deleted, rows[6].Values = true, []any{rows[6].Values[0]}
	rows[2].Deleted, rows[2].Values = true, []any{rows[2].Values[0]}
	_, seg, err := WriteSegment(testSchema, rows, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	name, _ := seg.Stat(2)
	if name.NullCount != 3 || name.TombstoneNulls != 2 {
		t.Fatalf("name stats %+v", name)
	}
	score, _ := seg.Stat(3)
	if score.NullCount != 2 || score.TombstoneNulls != 2 {
		t.Fatalf("score stats %+v", score)
	}
	if !seg.MayHoldLiveNull(2, nil) || seg.MayHoldLiveNull(3, nil) || seg.MayHoldLiveNull(1, nil) {
		t.Fatal("MayHoldLiveNull disagrees with the stats")
	}

	w, err := NewWriter(testSchema, WriteOptions{}, 4)
	if err != nil {
		t.Fatal(err)
	}
	live, err := rowcodec.Encode(1, false, 1, []rowcodec.Column{{ID: 1, Value: int64(1)}, {ID: 2, Value: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := rowcodec.Encode(2, true, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AppendEncoded(pk(t, int64(1)), live); err != nil {
		t.Fatal(err)
	}
	if err := w.AppendEncoded(pk(t, int64(2)), dead); err != nil {
		t.Fatal(err)
	}
	_, seg, err = w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := seg.Stat(2); st.NullCount != 1 || st.TombstoneNulls != 1 || seg.MayHoldLiveNull(2, nil) {
		t.Fatalf("encoded path: name stats %+v", st)
	}
	if st, _ := seg.Stat(3); st.NullCount != 2 || st.TombstoneNulls != 1 || !seg.MayHoldLiveNull(3, nil) {
		t.Fatalf("encoded path: score stats %+v", st)
	}
}

func TestMayHoldLiveNull(t *testing.T) {
	cols := []Column{{ID: 1, Name: "id"}, {ID: 2, Name: "c"}}
	for _, tc := range []struct {
		name  string
		seg   Segment
		id    uint32
		fill  any
		maybe bool
	}{
		{"no nulls", Segment{Columns: cols, RowCount: 5, ColumnStats: map[string]ColumnStat{"2": {NullCount: 0}}}, 2, nil, false},
		{"live nulls", Segment{Columns: cols, RowCount: 5, ColumnStats: map[string]ColumnStat{"2": {NullCount: 2, TombstoneNulls: 1}}}, 2, nil, true},
		{"only tombstone nulls", Segment{Columns: cols, RowCount: 5, Tombstones: 2, ColumnStats: map[string]ColumnStat{"2": {NullCount: 2, TombstoneNulls: 2}}}, 2, nil, false},
		{"old manifest with nulls", Segment{Columns: cols, RowCount: 5, Tombstones: 2, ColumnStats: map[string]ColumnStat{"2": {NullCount: 2}}}, 2, nil, true},
		{"no stats", Segment{Columns: cols, RowCount: 5}, 2, nil, true},
		{"column added later, default", Segment{Columns: cols, RowCount: 5}, 3, int64(7), false},
		{"column added later, no default", Segment{Columns: cols, RowCount: 5, Tombstones: 1}, 3, nil, true},
		{"column added later, only tombstones", Segment{Columns: cols, RowCount: 5, Tombstones: 5}, 3, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Round-trip through JSON: what readers see of a manifest.
			b, err := json.Marshal(&tc.seg)
			if err != nil {
				t.Fatal(err)
			}
			var seg Segment
			if err := json.Unmarshal(b, &seg); err != nil {
				t.Fatal(err)
			}
			if got := seg.MayHoldLiveNull(tc.id, tc.fill); got != tc.maybe {
				t.Fatalf("got %v, want %v", got, tc.maybe)
			}
		})
	}
}
