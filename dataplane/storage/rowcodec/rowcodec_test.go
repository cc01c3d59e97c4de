package rowcodec

import (
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	cols := []Column{{1, int64(-42)}, {2, "héllo"}, {3, true}, {4, false}, {5, 3.25}, {6, []byte{0, 1}}, {7, nil}}
	b, err := Encode(99, false, 3, cols)
	if err != nil {
		t.Fatal(err)
	}
	SetSeq(b, 1234)
	pos := func(id uint32) (int, bool) { return int(id - 1), id <= 7 }
	dst := make([]any, 7)
	h, err := Decode(b, pos, nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != 1234 || h.Deleted || h.SchemaVersion != 3 {
		t.Fatalf("header %+v", h)
	}
	want := []any{int64(-42), "héllo", true, false, 3.25, []byte{0, 1}, nil}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("got %v want %v", dst, want)
	}
	// Projection: only position 1 decoded; dropped column id 9 ignored.
	dst = make([]any, 7)
	if _, err := Decode(b, pos, []bool{false, true}, dst); err != nil {
		t.Fatal(err)
	}
	if dst[0] != nil || dst[1] != "héllo" {
		t.Fatalf("projection: %v", dst)
	}
}

func TestCorruptInputNeverPanics(t *testing.T) {
	b, _ := Encode(1, true, 1, []Column{{1, "abc"}, {2, int64(7)}})
	pos := func(id uint32) (int, bool) { return 0, true }
	for i := 0; i < len(b); i++ {
		dst := make([]any, 1)
		_, _ = Decode(b[:i], pos, nil, dst)
	}
	if _, err := Decode([]byte{9, 9, 9}, pos, nil, make([]any, 1)); err != ErrCorrupt {
		t.Fatalf("want ErrCorrupt, got %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(1, false, 1, []Column{{1, "abc"}, {2, int64(7)}, {3, 1.5}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		pos := func(id uint32) (int, bool) { return int(id % 4), true }
		_, _ = Decode(data, pos, nil, make([]any, 4))
	})
}

func TestTombstoneKeepsValues(t *testing.T) {
	row, err := Encode(77, false, 4, []Column{{ID: 1, Value: int64(5)}, {ID: 2, Value: "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	tomb, err := Tombstone(row)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, 2)
	h, err := Decode(tomb, func(id uint32) (int, bool) { return int(id) - 1, true }, nil, vals)
	if err != nil || !h.Deleted || h.Seq != 77 || h.SchemaVersion != 4 || vals[0] != int64(5) || vals[1] != "bob" {
		t.Fatalf("tombstone %+v %v %v", h, vals, err)
	}
	if h, _ := ReadHeader(row); h.Deleted {
		t.Fatal("Tombstone changed its input")
	}
	if _, err := Tombstone([]byte{9}); err == nil {
		t.Fatal("corrupt row accepted")
	}
}
