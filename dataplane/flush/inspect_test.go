package flush

import (
	"fmt"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
)

// TestNullRanges checks which key ranges SET NOT NULL reads: only those of
// segments that may hold a live NULL, merged where they overlap.
func TestNullRanges(t *testing.T) {
	cols := []cold.Column{{ID: 1, Name: "id"}, {ID: 2, Name: "c"}}
	seg := func(lo, hi string, nulls int64, version uint32, withC bool) cold.Segment {
		s := cold.Segment{MinPK: []byte(lo), MaxPK: []byte(hi), RowCount: 10, SchemaVersion: version, Columns: cols[:1]}
		if withC {
			s.Columns = cols
			s.ColumnStats = map[string]cold.ColumnStat{"2": {NullCount: nulls}}
		}
		return s
	}
	noDefault := func(uint32) any { return nil }
	withDefault := func(v uint32) any {
		if v < 3 {
			return int64(7)
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		segs []cold.Segment
		fill func(uint32) any
		want string
	}{
		{"all clean", []cold.Segment{seg("a", "c", 0, 3, true), seg("d", "f", 0, 3, true)}, noDefault, "[]"},
		{"one dirty", []cold.Segment{seg("a", "c", 0, 3, true), seg("d", "f", 2, 3, true)}, noDefault, "[d-f]"},
		{"overlapping dirty merge", []cold.Segment{seg("d", "f", 1, 3, true), seg("a", "e", 1, 3, true), seg("x", "z", 1, 3, true)}, noDefault, "[a-f x-z]"},
		{"touching at a key merge", []cold.Segment{seg("a", "c", 1, 3, true), seg("c", "e", 1, 3, true)}, noDefault, "[a-e]"},
		{"pre-column segment without default", []cold.Segment{seg("a", "c", 0, 2, false), seg("d", "f", 0, 3, true)}, noDefault, "[a-c]"},
		{"pre-column segment with default", []cold.Segment{seg("a", "c", 0, 2, false), seg("d", "f", 0, 3, true)}, withDefault, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range nullRanges(tc.segs, 2, tc.fill) {
				hi := r.hi
				if len(hi) == 0 || hi[len(hi)-1] != 0 {
					t.Fatalf("upper bound %q is not a key successor", hi)
				}
				got = append(got, string(r.lo)+"-"+string(hi[:len(hi)-1]))
			}
			if s := fmt.Sprint(got); s != tc.want {
				t.Fatalf("got %s, want %s", s, tc.want)
			}
		})
	}
}
