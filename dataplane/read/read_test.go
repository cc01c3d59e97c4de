package read

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// The fixture is a table (id BIGINT PRIMARY KEY, tag TEXT) with an index
// (id 7) on tag, in one USER scope of an in-memory Pebble, plus cold
// segments in a filesystem store.

const (
	tableID  = 42
	indexID  = 7
	colID    = 1
	colTag   = 2
	testUser = "alice"
)

var schema = cold.Schema{Columns: []cold.Column{{ID: colID, Name: "id", Kind: datatype.BigInt}, {ID: colTag, Name: "tag", Kind: datatype.Text}}, PK: 0, Version: 1}

type fixture struct {
	t     *testing.T
	db    *pebble.DB
	scope []byte
	store objstore.Store
	segs  []cold.Segment
	seq   uint64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	st, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := keys.UserGroup(testUser)
	return &fixture{t: t, db: db, scope: keys.ScopePrefix(g, tableID, testUser, true), store: st, seq: 1000}
}

func pkOf(t testing.TB, id int64) []byte {
	b, err := keys.EncodePK(id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tagOf(id int64) string { return fmt.Sprintf("t%d", id%3) }

// hot writes hot versions of ids (tombstones when del), with their index
// entries (a tombstone has none), as the engine does.
func (f *fixture) hot(del bool, ids ...int64) {
	f.t.Helper()
	b := f.db.NewBatch()
	for _, id := range ids {
		f.seq++
		var cols []rowcodec.Column
		if !del {
			cols = []rowcodec.Column{{ID: colID, Value: id}, {ID: colTag, Value: tagOf(id)}}
		}
		v, err := rowcodec.Encode(f.seq, del, 1, cols)
		if err != nil {
			f.t.Fatal(err)
		}
		pk := pkOf(f.t, id)
		if err := b.Set(keys.Row(f.scope, pk), v, nil); err != nil {
			f.t.Fatal(err)
		}
		if !del {
			enc, _ := keys.EncodeIndexValue(nil, tagOf(id))
			if err := b.Set(keys.IndexEntry(f.scope, indexID, enc, pk), nil, nil); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		f.t.Fatal(err)
	}
}

// cold writes one segment holding ids (tombstones for the ids in del).
func (f *fixture) cold(ids []int64, del ...int64) {
	f.t.Helper()
	slices.Sort(ids)
	var rows []cold.Row
	for _, id := range ids {
		f.seq++
		r := cold.Row{PK: pkOf(f.t, id), Seq: f.seq, Values: []any{id, tagOf(id)}}
		if slices.Contains(del, id) {
			r.Deleted, r.Values = true, []any{id, nil}
		}
		rows = append(rows, r)
	}
	data, seg, err := cold.WriteSegment(schema, rows, cold.WriteOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	seg.ID = uint64(len(f.segs) + 1)
	seg.Path = fmt.Sprintf("seg-%d.parquet", seg.ID)
	if err := f.store.Put(context.Background(), seg.Path, data); err != nil {
		f.t.Fatal(err)
	}
	f.segs = append(f.segs, seg)
}

func (f *fixture) source() (Source, func()) {
	snap := f.db.NewSnapshot()
	var view *cold.View
	if len(f.segs) > 0 {
		view = &cold.View{StorageID: "test", Store: f.store, Reader: cold.NewReader(1 << 20),
			Manifest: &cold.Manifest{TableID: tableID, UserID: testUser, Segments: slices.Clone(f.segs)}}
	}
	return Source{Reader: snap, Scope: f.scope, Cold: view}, func() { _ = snap.Close() }
}

// visible describes a row as "id:side" (side h or c), runs expanded.
func visible(t *testing.T, r Row) []string {
	t.Helper()
	if r.Hot() {
		vals := make([]any, 1)
		if _, err := rowcodec.Decode(r.Value, func(c uint32) (int, bool) { return 0, c == colID }, nil, vals); err != nil {
			t.Fatal(err)
		}
		return []string{fmt.Sprintf("%d:h", vals[0])}
	}
	end := r.Index + 1
	if r.IsRun() {
		end = r.End
	}
	var out []string
	for i := r.Index; i < end; i++ {
		if r.File.Deleted(i) {
			t.Fatalf("run holds a tombstone at row %d", i)
		}
		out = append(out, fmt.Sprintf("%d:c", r.File.Value(i, 0)))
	}
	return out
}

// drainer returns a function reading an iterator to its end.
func drainer(t *testing.T) func(*Iter, error) []string {
	return func(it *Iter, err error) []string { return drain(t, it, err) }
}

func drain(t *testing.T, it *Iter, err error) []string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for ; it.Valid(); it.Next() {
		out = append(out, visible(t, it.Row())...)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(side string, list ...int64) []string {
	var out []string
	for _, id := range list {
		out = append(out, fmt.Sprintf("%d:%s", id, side))
	}
	return out
}

func rng(from, to int64) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestScanHotOnly(t *testing.T) {
	f := newFixture(t)
	f.hot(false, rng(1, 11)...)
	f.hot(true, 4, 5)
	src, done := f.source()
	defer done()
	ctx := context.Background()
	d := drainer(t)
	want := ids("h", 1, 2, 3, 6, 7, 8, 9, 10)
	if got := d(src.Scan(ctx, ScanOptions{})); !slices.Equal(got, want) {
		t.Fatalf("asc %v want %v", got, want)
	}
	slices.Reverse(want)
	if got := d(src.Scan(ctx, ScanOptions{Desc: true})); !slices.Equal(got, want) {
		t.Fatalf("desc %v want %v", got, want)
	}
	got := d(src.Scan(ctx, ScanOptions{Lo: pkOf(t, 3), Hi: pkOf(t, 8)}))
	if !slices.Equal(got, ids("h", 3, 6, 7)) {
		t.Fatalf("bounded %v", got)
	}
}

func TestScanColdOnlyAndRuns(t *testing.T) {
	f := newFixture(t)
	f.cold(rng(1, 6), 3)
	f.cold(rng(10, 13))
	src, done := f.source()
	defer done()
	ctx := context.Background()
	d := drainer(t)
	want := ids("c", 1, 2, 4, 5, 10, 11, 12)
	if got := d(src.Scan(ctx, ScanOptions{})); !slices.Equal(got, want) {
		t.Fatalf("asc %v want %v", got, want)
	}
	it, err := src.Scan(ctx, ScanOptions{Runs: true})
	if err != nil {
		t.Fatal(err)
	}
	var runs int
	var got []string
	for ; it.Valid(); it.Next() {
		if it.Row().IsRun() {
			runs++
		}
		got = append(got, visible(t, it.Row())...)
	}
	_ = it.Close()
	// The first segment holds a tombstone: a run never includes one, so
	// that segment is read row by row, the second as a run.
	if !slices.Equal(got, want) || runs == 0 {
		t.Fatalf("runs %v (%d runs) want %v", got, runs, want)
	}
}

func TestScanMergedHotWinsAndTombstones(t *testing.T) {
	f := newFixture(t)
	f.cold(rng(1, 11), 9)     // 9 deleted cold
	f.cold([]int64{5, 6, 20}) // overlaps: newer cold versions of 5, 6
	f.hot(false, 2, 6, 15)    // hot versions win over cold
	f.hot(true, 3, 20)        // hot tombstones hide cold rows
	src, done := f.source()
	defer done()
	ctx := context.Background()
	d := drainer(t)
	want := []string{"1:c", "2:h", "4:c", "5:c", "6:h", "7:c", "8:c", "10:c", "15:h"}
	if got := d(src.Scan(ctx, ScanOptions{})); !slices.Equal(got, want) {
		t.Fatalf("asc %v want %v", got, want)
	}
	slices.Reverse(want)
	if got := d(src.Scan(ctx, ScanOptions{Desc: true})); !slices.Equal(got, want) {
		t.Fatalf("desc %v want %v", got, want)
	}
	got := d(src.Scan(ctx, ScanOptions{Lo: pkOf(t, 2), Hi: pkOf(t, 7), Runs: true}))
	if !slices.Equal(got, []string{"2:h", "4:c", "5:c", "6:h"}) {
		t.Fatalf("bounded %v", got)
	}
	// Disjoint segments with hot rows between and inside: runs only
	// where no hot key falls.
	g := newFixture(t)
	g.cold(rng(1, 5))
	g.cold(rng(10, 15))
	g.hot(false, 7, 12)
	gs, gdone := g.source()
	defer gdone()
	got = d(gs.Scan(ctx, ScanOptions{Runs: true}))
	want = []string{"1:c", "2:c", "3:c", "4:c", "7:h", "10:c", "11:c", "12:h", "13:c", "14:c"}
	if !slices.Equal(got, want) {
		t.Fatalf("runs %v want %v", got, want)
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t)
	f.cold(rng(1, 6), 4)
	f.hot(false, 2, 7)
	f.hot(true, 3)
	src, done := f.source()
	defer done()
	ctx := context.Background()
	for id, want := range map[int64]string{1: "1:c", 2: "2:h", 3: "", 4: "", 5: "5:c", 7: "7:h", 8: ""} {
		r, ok, err := src.Get(ctx, pkOf(t, id), id, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if ok {
			got = visible(t, r)[0]
		}
		if got != want {
			t.Fatalf("get %d = %q want %q", id, got, want)
		}
	}
}

func TestIndexScanRangeRead(t *testing.T) {
	f := newFixture(t)
	f.cold(rng(1, 31), 12) // tag t0: 3,6,...; 12 deleted cold
	f.hot(false, rng(20, 200)...)
	f.hot(true, 21, 24, 150) // tombstones: 24 and 150 were t0
	src, done := f.source()
	defer done()
	ctx := context.Background()
	d := drainer(t)
	enc, _ := keys.EncodeIndexValue(nil, "t0")
	var want []string
	for id := int64(1); id < 200; id++ {
		switch {
		case id < 20 && id != 12:
			want = append(want, fmt.Sprintf("%d:c", id)) // cold candidates: re-checked by the caller
		case id >= 20 && id%3 == 0 && id != 21 && id != 24 && id != 150:
			want = append(want, fmt.Sprintf("%d:h", id))
		}
	}
	it, err := src.IndexScan(ctx, IndexOptions{Index: indexID, Value: enc})
	got := d(it, err)
	if !slices.Equal(got, want) {
		t.Fatalf("index scan\n got %v\nwant %v", got, want)
	}
	// Dense keys are stepped to, not sought: far fewer seeks than rows.
	if it.Stats.Seeks*4 > it.Stats.HotRows {
		t.Fatalf("%d seeks for %d hot rows: not a range read", it.Stats.Seeks, it.Stats.HotRows)
	}
	slices.Reverse(want)
	if got := d(src.IndexScan(ctx, IndexOptions{Index: indexID, Value: enc, Desc: true})); !slices.Equal(got, want) {
		t.Fatalf("desc index scan\n got %v\nwant %v", got, want)
	}
	// Bounded by primary key.
	got = d(src.IndexScan(ctx, IndexOptions{Index: indexID, Value: enc, Lo: pkOf(t, 15), Hi: pkOf(t, 40)}))
	if !slices.Equal(got, []string{"15:c", "16:c", "17:c", "18:c", "19:c", "27:h", "30:h", "33:h", "36:h", "39:h"}) {
		t.Fatalf("bounded index scan %v", got)
	}
	// Another value: hot rows only through the index.
	enc1, _ := keys.EncodeIndexValue(nil, "t1")
	got = d(src.IndexScan(ctx, IndexOptions{Index: indexID, Value: enc1, Lo: pkOf(t, 20)}))
	if len(got) != 60 || got[0] != "22:h" || got[len(got)-1] != "199:h" {
		t.Fatalf("t1 index scan %d rows %v", len(got), got[:3])
	}
}

func TestIndexScanAbsentEntries(t *testing.T) {
	f := newFixture(t)
	f.hot(false, 3, 6, 9)
	// Rows stored before the column existed carry "absent" entries.
	b := f.db.NewBatch()
	for _, id := range []int64{4, 7} {
		v, _ := rowcodec.Encode(1, false, 1, []rowcodec.Column{{ID: colID, Value: id}})
		_ = b.Set(keys.Row(f.scope, pkOf(t, id)), v, nil)
		_ = b.Set(keys.IndexEntry(f.scope, indexID, []byte{keys.IndexAbsent}, pkOf(t, id)), nil, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	src, done := f.source()
	defer done()
	enc, _ := keys.EncodeIndexValue(nil, "t0")
	ctx := context.Background()
	d := drainer(t)
	if got := d(src.IndexScan(ctx, IndexOptions{Index: indexID, Value: enc, Absent: true})); !slices.Equal(got, ids("h", 3, 4, 6, 7, 9)) {
		t.Fatalf("with absent %v", got)
	}
	if got := d(src.IndexScan(ctx, IndexOptions{Index: indexID, Value: enc, Absent: true, Desc: true})); !slices.Equal(got, ids("h", 9, 7, 6, 4, 3)) {
		t.Fatalf("desc with absent %v", got)
	}
}

func TestPlanColdStatsOnlyWithoutHotOverlap(t *testing.T) {
	f := newFixture(t)
	f.cold(rng(1, 10))
	f.cold(rng(20, 30))
	f.hot(false, 25)
	src, done := f.source()
	defer done()
	all := func(*cold.Segment) bool { return true }
	files, statsOnly, err := src.PlanCold(context.Background(), nil, nil, nil, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(statsOnly) != 1 || statsOnly[0].ID != 1 || len(files) != 1 || files[0].Meta.ID != 2 {
		t.Fatalf("statsOnly %d files %d", len(statsOnly), len(files))
	}
	got := drainer(t)(src.Scan(context.Background(), ScanOptions{Files: files}))
	if len(got) != 10 || got[5] != "25:h" {
		t.Fatalf("scan of the planned files %v", got)
	}
}

func TestReadyIndex(t *testing.T) {
	f := newFixture(t)
	src, done := f.source()
	spec, err := ReadyIndex(src.Reader, f.scope, tableID, colTag)
	done()
	if err != nil || spec != nil {
		t.Fatalf("no index set: %v %v", spec, err)
	}
	_ = engine.IndexSpec{}
}

// quiet drops Pebble's informational logging.
type quiet struct{}

func (quiet) Infof(string, ...any)           {}
func (quiet) Errorf(string, ...any)          {}
func (quiet) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// blockTag tags ids in blocks of 100 consecutive keys, like peerbench's
// user_id: a value's rows are one dense run.
func blockTag(id int64) string { return fmt.Sprintf("b%d", (id-1)/100) }

func TestIndexScanDenseRuns(t *testing.T) {
	f := newFixture(t)
	var ids []int64
	b := f.db.NewBatch()
	for id := int64(1); id <= 1000; id++ {
		f.seq++
		v, _ := rowcodec.Encode(f.seq, false, 1, []rowcodec.Column{{ID: colID, Value: id}, {ID: colTag, Value: blockTag(id)}})
		_ = b.Set(keys.Row(f.scope, pkOf(t, id)), v, nil)
		enc, _ := keys.EncodeIndexValue(nil, blockTag(id))
		_ = b.Set(keys.IndexEntry(f.scope, indexID, enc, pkOf(t, id)), nil, nil)
		ids = append(ids, id)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	f.hot(true, 250, 251, 290) // tombstones inside block b2
	f.cold(rng(240, 260))      // older cold versions (hidden by hot) and none new
	src, done := f.source()
	defer done()
	ctx := context.Background()
	// matching returns the ids among rows whose tag is tag, and how many
	// rows were returned in all.
	matching := func(it *Iter, err error, tag string) (got []int64, n int) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		for ; it.Valid(); it.Next() {
			n++
			r := it.Row()
			var id int64
			var tg any
			if r.Hot() {
				vals := make([]any, 2)
				if _, err := rowcodec.Decode(r.Value, func(c uint32) (int, bool) { return int(c) - 1, c <= 2 }, nil, vals); err != nil {
					t.Fatal(err)
				}
				id, tg = vals[0].(int64), vals[1]
			} else {
				id, tg = r.File.Value(r.Index, 0).(int64), r.File.Value(r.Index, 1)
			}
			if tg == tag {
				got = append(got, id)
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return got, n
	}
	for _, tc := range []struct {
		tag    string
		lo, hi int64
		want   []int64
	}{
		{tag: "b2", want: slices.DeleteFunc(rng(201, 301), func(id int64) bool { return id == 250 || id == 251 || id == 290 })},
		{tag: "b0", want: rng(1, 101)},
		{tag: "b9", want: rng(901, 1001)},
		{tag: "b5", lo: 520, hi: 580, want: rng(520, 580)},
	} {
		enc, _ := keys.EncodeIndexValue(nil, tc.tag)
		o := IndexOptions{Index: indexID, Value: enc}
		if tc.lo != 0 {
			o.Lo, o.Hi = pkOf(t, tc.lo), pkOf(t, tc.hi)
		}
		it, err := src.IndexScan(ctx, o)
		got, n := matching(it, err, tc.tag)
		if !slices.Equal(got, tc.want) {
			t.Fatalf("%s [%d,%d): got %v want %v", tc.tag, tc.lo, tc.hi, got, tc.want)
		}
		if n > len(tc.want)+resyncEvery {
			t.Fatalf("%s: %d rows returned for %d matches: a dense run overran", tc.tag, n, len(tc.want))
		}
		if tc.lo == 0 && it.Stats.IndexEntries > int64(len(tc.want))/2 {
			t.Fatalf("%s: %d index entries read for %d rows: no dense run", tc.tag, it.Stats.IndexEntries, len(tc.want))
		}
		if tc.lo != 0 && n != len(tc.want) {
			t.Fatalf("%s: bounded scan returned %d rows, want %d (rows outside [lo, hi) returned)", tc.tag, n, len(tc.want))
		}
		// Descending scans never run dense; they return exactly the named rows.
		o.Desc = true
		it, err = src.IndexScan(ctx, o)
		gotDesc, nDesc := matching(it, err, tc.tag)
		slices.Reverse(gotDesc)
		if !slices.Equal(gotDesc, tc.want) || nDesc != len(tc.want) {
			t.Fatalf("%s desc: got %v (%d rows)", tc.tag, gotDesc, nDesc)
		}
	}
	_ = ids
}

// hotTomb writes tombstones of ids that keep the deleted row's values, as
// DELETE writes them.
func (f *fixture) hotTomb(ids ...int64) {
	f.t.Helper()
	b := f.db.NewBatch()
	for _, id := range ids {
		f.seq++
		v, err := rowcodec.Encode(f.seq, true, 1, []rowcodec.Column{{ID: colID, Value: id}, {ID: colTag, Value: tagOf(id)}})
		if err != nil {
			f.t.Fatal(err)
		}
		if err := b.Set(keys.Row(f.scope, pkOf(f.t, id)), v, nil); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		f.t.Fatal(err)
	}
}

// version describes a row as "id:side[:del]:tag", tombstones included.
func version(t *testing.T, r Row) string {
	t.Helper()
	var id, tag any
	side := "c"
	if r.Hot() {
		side = "h"
		vals := make([]any, 2)
		h, err := rowcodec.Decode(r.Value, func(c uint32) (int, bool) { return int(c) - 1, c == colID || c == colTag }, nil, vals)
		if err != nil {
			t.Fatal(err)
		}
		if h.Deleted != r.Deleted {
			t.Fatalf("row %v: Deleted %v, header %v", vals, r.Deleted, h.Deleted)
		}
		id, tag = vals[0], vals[1]
	} else {
		if r.File.Deleted(r.Index) != r.Deleted {
			t.Fatalf("segment row %d: Deleted %v", r.Index, r.Deleted)
		}
		id, tag = r.File.Value(r.Index, 0), r.File.Value(r.Index, 1)
	}
	if r.Deleted {
		side += ":del"
	}
	return fmt.Sprintf("%v:%s:%v", id, side, tag)
}

func TestTombstonesOnRequest(t *testing.T) {
	f := newFixture(t)
	f.cold(rng(1, 6), 4) // 4: a cold tombstone (flushed without values)
	f.hot(false, 2)
	f.hotTomb(3, 7) // 3 hides its cold row; 7 was hot only
	src, done := f.source()
	defer done()
	ctx := context.Background()
	scan := func(o ScanOptions) []string {
		it, err := src.Scan(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		var out []string
		for ; it.Valid(); it.Next() {
			out = append(out, version(t, it.Row()))
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Plain reads are unchanged: tombstones hide their keys.
	if got, want := scan(ScanOptions{Runs: true}), []string{"1:c:t1", "2:h:t2", "5:c:t2"}; !slices.Equal(got, want) {
		t.Fatalf("plain scan %v want %v", got, want)
	}
	// Asked for, each key's newest version: hot and cold tombstones in key
	// order, the hot tombstone over its cold row, with the deleted values.
	want := []string{"1:c:t1", "2:h:t2", "3:h:del:t0", "4:c:del:<nil>", "5:c:t2", "7:h:del:t1"}
	if got := scan(ScanOptions{Tombstones: true, Runs: true}); !slices.Equal(got, want) {
		t.Fatalf("tombstone scan %v want %v", got, want)
	}
	slices.Reverse(want)
	if got := scan(ScanOptions{Tombstones: true, Desc: true}); !slices.Equal(got, want) {
		t.Fatalf("tombstone desc scan %v want %v", got, want)
	}
	for id, want := range map[int64]string{1: "1:c:t1", 3: "3:h:del:t0", 4: "4:c:del:<nil>", 7: "7:h:del:t1", 8: ""} {
		r, ok, err := src.GetVersion(ctx, pkOf(t, id), id, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if ok {
			got = version(t, r)
		}
		if got != want {
			t.Fatalf("GetVersion %d = %q want %q", id, got, want)
		}
		if _, ok, _ := src.Get(ctx, pkOf(t, id), id, nil); ok && r.Deleted {
			t.Fatalf("Get %d returned a tombstone", id)
		}
	}
}

func TestTableUsers(t *testing.T) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := db.NewBatch()
	set := func(k []byte) {
		if err := b.Set(k, []byte{1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"carol", "alice", "bob"} {
		for id := int64(1); id <= 3; id++ {
			set(keys.Row(keys.ScopePrefix(keys.UserGroup(u), tableID, u, true), pkOf(t, id)))
		}
	}
	// dave has only cold data; erin rows of another table.
	set(keys.ColdPointer(keys.UserGroup("dave"), tableID, "dave", true))
	set(keys.Row(keys.ScopePrefix(keys.UserGroup("erin"), tableID+1, "erin", true), pkOf(t, 1)))
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	got, err := TableUsers(db, tableID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice", "bob", "carol", "dave"}; !slices.Equal(got, want) {
		t.Fatalf("TableUsers = %v want %v", got, want)
	}
	if got, err := TableUsers(db, tableID+2); err != nil || len(got) != 0 {
		t.Fatalf("empty table: %v %v", got, err)
	}
}
