package keys

import (
	"bytes"
	"sort"
	"testing"
)

func TestPKOrderMatchesValueOrder(t *testing.T) {
	ints := []int64{-1 << 62, -5, -1, 0, 1, 7, 1 << 40}
	var enc [][]byte
	for _, v := range ints {
		b, err := EncodePK(v)
		if err != nil {
			t.Fatal(err)
		}
		if back, ok := DecodeIntPK(b); !ok || back != v {
			t.Fatalf("decode %d -> %d", v, back)
		}
		enc = append(enc, b)
	}
	if !sort.SliceIsSorted(enc, func(i, j int) bool { return bytes.Compare(enc[i], enc[j]) < 0 }) {
		t.Fatal("int encoding does not preserve order")
	}
	floats := []float64{-10.5, -0.1, 0, 0.1, 3, 1e9}
	enc = nil
	for _, v := range floats {
		b, _ := EncodePK(v)
		enc = append(enc, b)
	}
	if !sort.SliceIsSorted(enc, func(i, j int) bool { return bytes.Compare(enc[i], enc[j]) < 0 }) {
		t.Fatal("float encoding does not preserve order")
	}
	if _, err := EncodePK(nil); err == nil {
		t.Fatal("NULL primary key accepted")
	}
}

func TestScopesAreDisjointRanges(t *testing.T) {
	// "ab" must not be a prefix-range of "a": the terminator separates them.
	g := UserGroup("a")
	a := ScopePrefix(g, 7, "a", true)
	ab := ScopePrefix(g, 7, "ab", true)
	if bytes.HasPrefix(ab, a) {
		t.Fatal("scope of user 'a' contains user 'ab'")
	}
	row := Row(a, []byte("x"))
	if !bytes.HasPrefix(row, a) || bytes.Compare(row, PrefixEnd(a)) >= 0 {
		t.Fatal("row outside its scope range")
	}
	if !bytes.HasPrefix(row, GroupPrefix(g)) {
		t.Fatal("row outside its group")
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if g := UserGroup(u); g < firstUserGroup || g >= firstUserGroup+UserGroups {
			t.Fatalf("user group %d out of range", g)
		}
	}
	if got := PrefixEnd([]byte{1, 0xff}); !bytes.Equal(got, []byte{2}) {
		t.Fatalf("PrefixEnd: %v", got)
	}
}

func TestHistoryHorizonKeys(t *testing.T) {
	for _, perUser := range []bool{true, false} {
		h := HistoryHorizon(70, 9, "alice", perUser)
		if got := HistoryHorizonOf(ColdPointer(70, 9, "alice", perUser)); string(got) != string(h) {
			t.Fatalf("perUser=%v: from pointer %x, want %x", perUser, got, h)
		}
		if got := HistoryHorizonOf(ScopePrefix(70, 9, "alice", perUser)); string(got) != string(h) {
			t.Fatalf("perUser=%v: from scope %x, want %x", perUser, got, h)
		}
		// Horizon keys never fall inside the group's row range.
		rows := TablePrefix(70, 9)
		if string(h[:3]) == string(rows[:3]) {
			t.Fatal("horizon key collides with row keys")
		}
	}
}
