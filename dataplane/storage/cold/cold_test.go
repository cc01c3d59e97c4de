package cold

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

var testSchema = Schema{
	Columns: []Column{{ID: 1, Name: "id", Kind: datatype.BigInt}, {ID: 2, Name: "name", Kind: datatype.Text},
		{ID: 3, Name: "score", Kind: datatype.Double}, {ID: 4, Name: "ok", Kind: datatype.Boolean}, {ID: 5, Name: "blob", Kind: datatype.Bytes}},
	PK: 0, Version: 1,
}

func pk(t testing.TB, v any) []byte {
	b, err := keys.EncodePK(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeRows builds rows for ids [from, to) step, with seq = base+id.
func makeRows(t testing.TB, from, to, step int, base uint64) []Row {
	var rows []Row
	for i := from; i < to; i += step {
		id := int64(i)
		var name any = fmt.Sprintf("name-%d", i)
		if i%7 == 0 {
			name = nil
		}
		rows = append(rows, Row{PK: pk(t, id), Seq: base + uint64(i), Values: []any{id, name, float64(i) / 2, i%2 == 0, []byte{byte(i)}}})
	}
	return rows
}

func TestWriteDecodeRoundTrip(t *testing.T) {
	for _, comp := range []string{"snappy", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			rows := makeRows(t, -50, 1000, 1, 1000)
			rows[10].Deleted, rows[10].Values = true, []any{rows[10].Values[0], nil, nil, nil, nil}
			data, seg, err := WriteSegment(testSchema, rows, WriteOptions{Compression: comp, RowGroupRows: 300})
			if err != nil {
				t.Fatal(err)
			}
			seg.Path = "ns/t/batch-1.parquet"
			if seg.RowCount != int64(len(rows)) || seg.Tombstones != 1 || seg.MinSeq != 950 || seg.MaxSeq != 1999 {
				t.Fatalf("segment meta %+v", seg)
			}
			if st := seg.ColumnStats["1"]; st.Min != int64(-50) || st.Max != int64(999) {
				t.Fatalf("stats %+v", st)
			}
			f, err := Decode(context.Background(), &seg, data)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				var buf [8]byte
				if !bytes.Equal(f.PKAt(i, &buf), r.PK) || f.Seq(i) != r.Seq || f.Deleted(i) != r.Deleted {
					t.Fatalf("row %d header mismatch", i)
				}
				for c := range testSchema.Columns {
					got, want := f.Value(i, c), r.Values[c]
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("row %d col %d: got %v want %v", i, c, got, want)
					}
				}
			}
			// Footer probe: stats rule out a far key, bloom filters most absent keys.
			if may, err := ProbePK(&seg, data, int64(5000)); err != nil || may {
				t.Fatalf("probe 5000: %v %v", may, err)
			}
			if may, err := ProbePK(&seg, data, int64(500)); err != nil || !may {
				t.Fatalf("probe 500: %v %v", may, err)
			}
			if i, ok := f.Find(pk(t, int64(500))); !ok || f.Value(i, 0) != int64(500) {
				t.Fatal("find 500")
			}
			checkIndependentReader(t, data, rows)
		})
	}
}

// checkIndependentReader reads the file with parquet-go (not arrow-go).
func checkIndependentReader(t *testing.T, data []byte, rows []Row) {
	t.Helper()
	pf, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("parquet-go open: %v", err)
	}
	if pf.NumRows() != int64(len(rows)) {
		t.Fatalf("parquet-go rows %d want %d", pf.NumRows(), len(rows))
	}
	var names []string
	for _, f := range pf.Schema().Fields() {
		names = append(names, f.Name())
	}
	if fmt.Sprint(names) != "[id name score ok blob _seq _deleted]" {
		t.Fatalf("parquet-go schema %v", names)
	}
	r := pq.NewReader(pf)
	defer r.Close()
	i := 0
	buf := make([]pq.Row, 128)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			want := rows[i]
			vals := map[int]pq.Value{}
			for _, v := range row {
				vals[v.Column()] = v
			}
			if vals[0].Int64() != want.Values[0].(int64) || uint64(vals[5].Int64()) != want.Seq || vals[6].Boolean() != want.Deleted {
				t.Fatalf("parquet-go row %d: %v", i, row)
			}
			if !want.Deleted {
				if name, _ := want.Values[1].(string); !vals[1].IsNull() && string(vals[1].ByteArray()) != name {
					t.Fatalf("parquet-go row %d name %q want %q", i, vals[1].ByteArray(), name)
				}
			}
			i++
		}
		if err != nil {
			break
		}
	}
	if i != len(rows) {
		t.Fatalf("parquet-go read %d rows, want %d", i, len(rows))
	}
}

func TestCursorMergesNewestVersion(t *testing.T) {
	ctx := context.Background()
	write := func(rows []Row, path string) *File {
		data, seg, err := WriteSegment(testSchema, rows, WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seg.Path = path
		f, err := Decode(ctx, &seg, data)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := write(makeRows(t, 0, 100, 1, 0), "a")     // 0..99 seq = id
	b := write(makeRows(t, 50, 150, 2, 1000), "b") // evens 50..148 newer
	tomb := makeRows(t, 60, 61, 1, 5000)
	tomb[0].Deleted = true
	c := write(tomb, "c")
	for _, desc := range []bool{false, true} {
		cur := NewCursor([]*File{a, c, b}, pk(t, int64(10)), pk(t, int64(120)), desc)
		var got []int64
		for ; cur.Valid(); cur.Next() {
			id := cur.File().Value(cur.Row(), 0).(int64)
			want := uint64(id)
			if id >= 50 && id%2 == 0 {
				want = 1000 + uint64(id)
			}
			if id == 60 {
				want = 5060
				if !cur.File().Deleted(cur.Row()) {
					t.Fatal("tombstone lost")
				}
			}
			if cur.File().Seq(cur.Row()) != want {
				t.Fatalf("id %d seq %d want %d", id, cur.File().Seq(cur.Row()), want)
			}
			got = append(got, id)
		}
		// 10..99 all, plus evens 100..118
		if len(got) != 90+10 {
			t.Fatalf("desc=%v got %d keys", desc, len(got))
		}
		if desc && got[0] != 118 || !desc && got[0] != 10 {
			t.Fatalf("desc=%v first %d", desc, got[0])
		}
	}
}

func TestTemplates(t *testing.T) {
	for _, tc := range []struct {
		tmpl    string
		perUser bool
		ok      bool
	}{
		{DefaultSharedTemplate, false, true},
		{DefaultUserTemplate, true, true},
		{"data/{namespace}/{tableName}/u/{userId}", true, true},
		{"{namespace}/{tableName}", true, false},
		{"../{namespace}/{tableName}", false, false},
		{"/abs/{tableName}", false, false},
		{"{namespace}//{tableName}", false, false},
		{"{namespace}/{tableName}/{bogus}", false, false},
		{"{namespace}/{tableName}/{userId}", false, false},
	} {
		err := ValidateTemplate(tc.tmpl, tc.perUser)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateTemplate(%q, %v) = %v", tc.tmpl, tc.perUser, err)
		}
	}
	if _, err := ExpandTemplate(DefaultUserTemplate, "ns", "t", ".."); err == nil {
		t.Error("user id .. accepted")
	}
	if _, err := ExpandTemplate(DefaultUserTemplate, "ns", "t", "a/b"); err == nil {
		t.Error("user id with slash accepted")
	}
	if p, err := ExpandTemplate(DefaultUserTemplate, "ns", "t", "alice"); err != nil || p != "ns/t/alice" {
		t.Errorf("expand: %q %v", p, err)
	}
}

func TestCorruptSegmentIsNamedError(t *testing.T) {
	rows := makeRows(t, 0, 100, 1, 0)
	data, seg, err := WriteSegment(testSchema, rows, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seg.Path = "ns/t/batch-9.parquet"
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"garbage":   bytes.Repeat([]byte{0x5a}, len(data)),
		"flipped":   append(append([]byte(nil), data[:len(data)-20]...), bytes.Repeat([]byte{0xff}, 20)...),
	} {
		_, err := Decode(context.Background(), &seg, bad)
		if err == nil {
			t.Fatalf("%s: decode succeeded", name)
		}
		if se, ok := err.(*SegmentError); !ok || se.Path != seg.Path {
			t.Fatalf("%s: want SegmentError naming the file, got %v", name, err)
		}
	}
}

// TestAppendEncodedMatchesAppend: the flush path (hot-tier row bytes
// straight into the column builders) writes exactly what Append writes.
func TestAppendEncodedMatchesAppend(t *testing.T) {
	rows := makeRows(t, -20, 300, 3, 500)
	rows[4].Deleted = true
	rows[4].Values = []any{rows[4].Values[0], nil, nil, nil, nil}
	rows[7].Deleted = true // a tombstone that keeps the deleted row's values
	w, err := NewWriter(testSchema, WriteOptions{Compression: "zstd"}, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var cols []rowcodec.Column
		if !r.Deleted || r.Values[1] != nil {
			for c, v := range r.Values {
				if v != nil {
					cols = append(cols, rowcodec.Column{ID: testSchema.Columns[c].ID, Value: v})
				}
			}
		}
		enc, err := rowcodec.Encode(r.Seq, r.Deleted, 1, cols)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AppendEncoded(r.PK, enc); err != nil {
			t.Fatal(err)
		}
	}
	data, seg, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	want, wantSeg, err := WriteSegment(testSchema, rows, WriteOptions{Compression: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seg.ColumnStats) != fmt.Sprint(wantSeg.ColumnStats) || seg.Tombstones != 2 || seg.RowCount != wantSeg.RowCount {
		t.Fatalf("stats differ:\n%+v\n%+v", seg, wantSeg)
	}
	seg.Path, wantSeg.Path = "a", "b"
	f, err := Decode(context.Background(), &seg, data)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode(context.Background(), &wantSeg, want)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for c := range testSchema.Columns {
			if fmt.Sprint(f.Value(i, c)) != fmt.Sprint(g.Value(i, c)) {
				t.Fatalf("row %d col %d: %v vs %v", i, c, f.Value(i, c), g.Value(i, c))
			}
		}
	}
	if err := w.AppendEncoded(pk(t, int64(-1000)), want[:0]); err == nil {
		t.Fatal("append after finish / unsorted accepted")
	}
}

// TestCursorDisjointChain covers the heap-free walk over segments whose
// key ranges do not overlap, in both directions and with bounds.
func TestCursorDisjointChain(t *testing.T) {
	var files []*File
	for s := 2; s >= 0; s-- { // out of order on purpose
		data, seg, err := WriteSegment(testSchema, makeRows(t, s*100, s*100+100, 1, 0), WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seg.Path = fmt.Sprint(s)
		f, err := Decode(context.Background(), &seg, data)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for _, tc := range []struct {
		lo, hi      any
		desc        bool
		first, last int64
		n           int
	}{
		{nil, nil, false, 0, 299, 300},
		{nil, nil, true, 299, 0, 300},
		{int64(50), int64(250), false, 50, 249, 200},
		{int64(50), int64(250), true, 249, 50, 200},
		{int64(100), int64(200), false, 100, 199, 100},
		{int64(400), nil, false, 0, 0, 0},
	} {
		var lo, hi []byte
		if tc.lo != nil {
			lo = pk(t, tc.lo)
		}
		if tc.hi != nil {
			hi = pk(t, tc.hi)
		}
		c := NewCursor(files, lo, hi, tc.desc)
		var got []int64
		for ; c.Valid(); c.Next() {
			id := c.File().Value(c.Row(), 0).(int64)
			if !bytes.Equal(c.Key(), pk(t, id)) {
				t.Fatalf("key mismatch at %d", id)
			}
			got = append(got, id)
		}
		if len(got) != tc.n || (tc.n > 0 && (got[0] != tc.first || got[len(got)-1] != tc.last)) {
			t.Fatalf("%+v: got %d rows %v..", tc, len(got), got[:min(3, len(got))])
		}
	}
}
