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

func TestIndexValueOrderAndDelimiting(t *testing.T) {
	vals := []any{nil, false, true, int64(-5), int64(0), int64(7), -1.5, 2.5, "", "a", "a\x00", "a\x00b", "ab", "b", []byte{0}, []byte{1}}
	var prev []byte
	for i, v := range vals {
		enc, err := EncodeIndexValue(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && string(prev) >= string(enc) {
			t.Fatalf("encoding of %v (%x) not after %v (%x)", v, enc, vals[i-1], prev)
		}
		// A pk appended after the value must not change the order of values.
		if i > 0 && string(append(append([]byte(nil), prev...), 0xff, 0xff)) >= string(enc) {
			t.Fatalf("encoding of %v is a prefix of the next", vals[i-1])
		}
		prev = enc
	}
	scope := ScopePrefix(UserGroup("u1"), 9, "u1", true)
	row := Row(scope, []byte("pk"))
	s, pk, ok := SplitRowKey(row, true)
	if !ok || string(s) != string(scope) || string(pk) != "pk" {
		t.Fatalf("SplitRowKey = %x %q %v", s, pk, ok)
	}
	e := IndexEntry(scope, 3, []byte{1}, pk)
	if p := IndexPrefix(IndexScopeOf(scope), 3); string(e[:len(p)]) != string(p) {
		t.Fatalf("entry %x lacks prefix %x", e, p)
	}
}
