package cold

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// SegmentError is a failure to read one segment; the message names it.
type SegmentError struct {
	Path string
	Err  error
}

func (e *SegmentError) Error() string { return fmt.Sprintf("cold segment %s: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *SegmentError) Unwrap() error { return e.Err }

// File is a decoded segment held in memory. The key, _seq and _deleted
// columns are decoded when the file is opened; user columns are decoded on
// first use (a count(*) or a key lookup never pays for wide text columns).
type File struct {
	Meta *Segment
	n    int
	// pk holds the primary-key array; pkInt its values when integer-like.
	pkKind datatype.Kind
	pkInt  []int64
	pk     arrow.Array
	seq    []int64
	del    *array.Boolean
	cols   []atomic.Pointer[arrow.Array]
	byID   map[uint32]int
	bytes  atomic.Int64
	// mu serialises lazy column decoding through fr (not concurrency-safe).
	mu sync.Mutex
	fr *pqarrow.FileReader
}

// Len is the number of rows.
func (f *File) Len() int { return f.n }

// Seq returns row i's _seq.
func (f *File) Seq(i int) uint64 { return uint64(f.seq[i]) }

// Deleted reports whether row i is a tombstone.
func (f *File) Deleted(i int) bool { return f.del.Value(i) }

// PKAt returns row i's encoded primary key, using buf for integer keys.
// The result aliases f or buf: do not keep it past the next call.
func (f *File) PKAt(i int, buf *[8]byte) []byte {
	switch a := f.pk.(type) {
	case *array.Int64:
		binary.BigEndian.PutUint64(buf[:], uint64(f.pkInt[i])^(1<<63))
		return buf[:]
	case *array.String:
		s := a.Value(i)
		return unsafe.Slice(unsafe.StringData(s), len(s))
	case *array.Binary:
		return a.Value(i)
	case *array.Boolean:
		if a.Value(i) {
			buf[0] = 1
		} else {
			buf[0] = 0
		}
		return buf[:1]
	}
	return nil
}

// ColumnIndex returns the segment column holding column id, or -1.
func (f *File) ColumnIndex(id uint32) int {
	if i, ok := f.byID[id]; ok {
		return i
	}
	return -1
}

// Column returns segment column c, decoding it on first use.
func (f *File) Column(c int) (arrow.Array, error) {
	if p := f.cols[c].Load(); p != nil {
		return *p, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.cols[c].Load(); p != nil {
		return *p, nil
	}
	arr, err := f.readColumn(c)
	if err != nil {
		return nil, &SegmentError{Path: f.Meta.Path, Err: err}
	}
	f.cols[c].Store(&arr)
	f.bytes.Add(arrayBytes(arr))
	return arr, nil
}

// LoadAll decodes every column (callers that then use Value).
func (f *File) LoadAll() error {
	for c := range f.cols {
		if _, err := f.Column(c); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) readColumn(c int) (arr arrow.Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			arr, err = nil, fmt.Errorf("corrupt column %d: %v", c, r)
		}
	}()
	tbl, err := f.fr.ReadRowGroups(context.Background(), []int{c}, allRowGroups(f.fr.ParquetReader()))
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	if tbl.NumRows() != int64(f.n) {
		return nil, fmt.Errorf("column %d has %d rows, want %d", c, tbl.NumRows(), f.n)
	}
	return single(tbl.Column(0).Data())
}

func allRowGroups(pr *file.Reader) []int {
	rg := make([]int, pr.NumRowGroups())
	for i := range rg {
		rg[i] = i
	}
	return rg
}

func single(ch *arrow.Chunked) (arrow.Array, error) {
	switch len(ch.Chunks()) {
	case 0:
		return nil, fmt.Errorf("column has no data")
	case 1:
		a := ch.Chunk(0)
		a.Retain()
		return a, nil
	}
	return array.Concatenate(ch.Chunks(), memory.DefaultAllocator)
}

func arrayBytes(a arrow.Array) int64 {
	n := int64(0)
	for _, b := range a.Data().Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	return n
}

// Value returns the value of segment column c in row i (nil for NULL or
// c < 0); the column must have been decoded (LoadAll) or a decoding error
// reads as NULL. Strings alias the segment's buffers, which live as long
// as f.
func (f *File) Value(i, c int) any {
	v, _ := f.ValueErr(i, c)
	return v
}

// ValueErr is Value that decodes the column on first use and reports
// decoding errors.
func (f *File) ValueErr(i, c int) (any, error) {
	if c < 0 {
		return nil, nil
	}
	arr, err := f.Column(c)
	if err != nil {
		return nil, err
	}
	if arr.IsNull(i) {
		return nil, nil
	}
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.Boolean:
		return a.Value(i), nil
	case *array.String:
		return a.Value(i), nil
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...), nil
	}
	return nil, nil
}

// Search returns the first row whose key is >= pk.
func (f *File) Search(pk []byte) int {
	var buf [8]byte
	return sort.Search(f.n, func(i int) bool { return bytes.Compare(f.PKAt(i, &buf), pk) >= 0 })
}

// Range returns the rows [start, end) whose keys lie in [lo, hi); a nil
// bound is open. start >= end means no row of the file is in range.
func (f *File) Range(lo, hi []byte) (start, end int) {
	start, end = 0, f.n
	if lo != nil {
		start = f.Search(lo)
	}
	if hi != nil {
		end = f.Search(hi)
	}
	return start, end
}

// Find returns the row holding pk.
func (f *File) Find(pk []byte) (int, bool) {
	i := f.Search(pk)
	var buf [8]byte
	if i < f.n && bytes.Equal(f.PKAt(i, &buf), pk) {
		return i, true
	}
	return 0, false
}

// Decode opens a segment file and decodes its key, _seq and _deleted
// columns (user columns decode on first use). Any inconsistency between
// the file and its manifest entry is an error, never a panic.
func Decode(ctx context.Context, meta *Segment, data []byte) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, &SegmentError{Path: meta.Path, Err: fmt.Errorf("corrupt parquet file: %v", r)}
		}
	}()
	pr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, &SegmentError{Path: meta.Path, Err: err}
	}
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024}, memory.DefaultAllocator)
	if err != nil {
		return nil, &SegmentError{Path: meta.Path, Err: err}
	}
	sch, err := fr.Schema()
	if err != nil {
		return nil, &SegmentError{Path: meta.Path, Err: err}
	}
	nc := len(meta.Columns)
	if sch.NumFields() != nc+2 || pr.NumRows() != meta.RowCount {
		return nil, &SegmentError{Path: meta.Path, Err: fmt.Errorf("file has %d columns and %d rows, manifest says %d and %d",
			sch.NumFields(), pr.NumRows(), nc+2, meta.RowCount)}
	}
	for i := 0; i < nc+2; i++ {
		want := SeqColumn
		if i < nc {
			want = meta.Columns[i].Name
		} else if i == nc+1 {
			want = DeletedColumn
		}
		if got := sch.Field(i).Name; got != want {
			return nil, &SegmentError{Path: meta.Path, Err: fmt.Errorf("column %d is %q, manifest says %q", i, got, want)}
		}
	}
	pkPos := meta.pkPosition()
	if pkPos < 0 {
		return nil, &SegmentError{Path: meta.Path, Err: fmt.Errorf("no primary key column recorded")}
	}
	f = &File{Meta: meta, n: int(meta.RowCount), cols: make([]atomic.Pointer[arrow.Array], nc), byID: map[uint32]int{}, fr: fr}
	f.bytes.Store(int64(len(data)))
	for i, c := range meta.Columns {
		f.byID[c.ID] = i
	}
	tbl, err := fr.ReadRowGroups(ctx, []int{pkPos, nc, nc + 1}, allRowGroups(pr))
	if err != nil {
		return nil, &SegmentError{Path: meta.Path, Err: err}
	}
	defer tbl.Release()
	sys := make([]arrow.Array, 3)
	for i := range sys {
		if sys[i], err = single(tbl.Column(i).Data()); err != nil {
			return nil, &SegmentError{Path: meta.Path, Err: err}
		}
		f.bytes.Add(arrayBytes(sys[i]))
	}
	seqArr, ok := sys[1].(*array.Int64)
	delArr, ok2 := sys[2].(*array.Boolean)
	if !ok || !ok2 || seqArr.Len() != f.n || delArr.Len() != f.n || sys[0].Len() != f.n {
		return nil, &SegmentError{Path: meta.Path, Err: fmt.Errorf("bad _seq/_deleted columns")}
	}
	f.seq, f.del = seqArr.Int64Values(), delArr
	f.pk, f.pkKind = sys[0], meta.Columns[pkPos].Kind
	f.cols[pkPos].Store(&sys[0])
	if a, ok := f.pk.(*array.Int64); ok {
		f.pkInt = a.Int64Values()
	}
	if f.pk.NullN() > 0 {
		return nil, &SegmentError{Path: meta.Path, Err: fmt.Errorf("primary key column has NULLs")}
	}
	return f, nil
}

// ProbePK opens only the footer of a segment and reports whether pk may be
// in it, using row-group statistics and the primary key's bloom filter.
// pkVal is the decoded key value (int64, string, []byte or bool).
func ProbePK(meta *Segment, data []byte, pkVal any) (may bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			may, err = false, &SegmentError{Path: meta.Path, Err: fmt.Errorf("corrupt parquet footer: %v", r)}
		}
	}()
	pr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return false, &SegmentError{Path: meta.Path, Err: err}
	}
	defer pr.Close()
	col := meta.pkPosition()
	if col < 0 {
		return true, nil
	}
	bfr := pr.GetBloomFilterReader()
	for rg := 0; rg < pr.NumRowGroups(); rg++ {
		if !statsMayHold(pr.MetaData().RowGroup(rg), col, pkVal) {
			continue
		}
		if bfr == nil {
			return true, nil
		}
		rgr, err := bfr.RowGroup(rg)
		if err != nil || rgr == nil {
			return true, nil
		}
		bf, err := rgr.GetColumnBloomFilter(col)
		if err != nil || bf == nil {
			return true, nil
		}
		var h uint64
		switch v := pkVal.(type) {
		case int64:
			h = metadata.GetHash(bf.Hasher(), v)
		case string:
			h = metadata.GetHash(bf.Hasher(), parquet.ByteArray(v))
		case []byte:
			h = metadata.GetHash(bf.Hasher(), parquet.ByteArray(v))
		default:
			return true, nil
		}
		if bf.CheckHash(h) {
			return true, nil
		}
	}
	return false, nil
}

func statsMayHold(rg *metadata.RowGroupMetaData, col int, pkVal any) bool {
	cc, err := rg.ColumnChunk(col)
	if err != nil {
		return true
	}
	ok, err := cc.StatsSet()
	if err != nil || !ok {
		return true
	}
	st, err := cc.Statistics()
	if err != nil || st == nil || !st.HasMinMax() {
		return true
	}
	switch s := st.(type) {
	case *metadata.Int64Statistics:
		v, ok := pkVal.(int64)
		return !ok || (v >= s.Min() && v <= s.Max())
	case *metadata.ByteArrayStatistics:
		var v []byte
		switch x := pkVal.(type) {
		case string:
			v = []byte(x)
		case []byte:
			v = x
		default:
			return true
		}
		return bytes.Compare(v, s.Min()) >= 0 && bytes.Compare(v, s.Max()) <= 0
	}
	return true
}

// pkPosition returns the segment column of the primary key (PKColumn).
func (s *Segment) pkPosition() int {
	for i, c := range s.Columns {
		if c.ID == s.PKColumn {
			return i
		}
	}
	return -1
}

// DecodePK turns an encoded key (package keys) back into a value of the
// column kind; used to write tombstones, whose row bytes carry no columns.
func DecodePK(k datatype.Kind, b []byte) (any, error) {
	switch ArrowType(k).ID() {
	case arrow.INT64:
		v, ok := keys.DecodeIntPK(b)
		if !ok {
			return nil, fmt.Errorf("bad integer key %x", b)
		}
		return v, nil
	case arrow.BOOL:
		if len(b) != 1 {
			return nil, fmt.Errorf("bad boolean key %x", b)
		}
		return b[0] == 1, nil
	case arrow.BINARY:
		return append([]byte(nil), b...), nil
	case arrow.STRING:
		return string(b), nil
	}
	return nil, fmt.Errorf("unsupported key kind %d", k)
}
