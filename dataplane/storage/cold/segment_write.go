package cold

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// System column names in segments.
const (
	SeqColumn     = "_seq"
	DeletedColumn = "_deleted"
)

// Row is one row to write: PK is the order-preserving key encoding
// (package keys), Values are indexed by Schema position (for tombstones
// only the primary key is set).
type Row struct {
	PK      []byte
	Seq     uint64
	Deleted bool
	Values  []any
}

// WriteOptions tune segment files.
type WriteOptions struct {
	// Compression is snappy (default), zstd or none.
	Compression string
	// RowGroupRows caps rows per row group (default 128k).
	RowGroupRows int64
}

// ArrowType is the Parquet/Arrow physical type of a column kind. Stored
// values are int64, float64, bool, string or []byte (package datatype);
// temporal kinds stay int64 (µs or days) exactly as in the hot tier.
func ArrowType(k datatype.Kind) arrow.DataType {
	switch k {
	case datatype.Boolean:
		return arrow.FixedWidthTypes.Boolean
	case datatype.SmallInt, datatype.Int, datatype.BigInt, datatype.Timestamp, datatype.DateTime, datatype.Date, datatype.Time:
		return arrow.PrimitiveTypes.Int64
	case datatype.Float, datatype.Double:
		return arrow.PrimitiveTypes.Float64
	case datatype.Bytes:
		return arrow.BinaryTypes.Binary
	}
	return arrow.BinaryTypes.String
}

func arrowSchema(s Schema) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(s.Columns)+2)
	for i, c := range s.Columns {
		md := arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{strconv.FormatUint(uint64(c.ID), 10)})
		fields = append(fields, arrow.Field{Name: c.Name, Type: ArrowType(c.Kind), Nullable: i != s.PK, Metadata: md})
	}
	fields = append(fields,
		arrow.Field{Name: SeqColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: DeletedColumn, Type: arrow.FixedWidthTypes.Boolean})
	return arrow.NewSchema(fields, nil)
}

func codec(name string) (compress.Compression, error) {
	switch name {
	case "", "snappy":
		return compress.Codecs.Snappy, nil
	case "zstd":
		return compress.Codecs.Zstd, nil
	case "none":
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown compression %q", name)
}

// WriteSegment encodes rows (sorted by PK, one per key) as a Parquet file
// with column statistics and bloom filters on the primary key and _seq,
// and returns the file plus its manifest entry (Path, ID and CreatedAt
// are left for the caller).
func WriteSegment(s Schema, rows []Row, o WriteOptions) ([]byte, Segment, error) {
	w, err := NewWriter(s, o, len(rows))
	if err != nil {
		return nil, Segment{}, err
	}
	for i := range rows {
		if err := w.Append(rows[i]); err != nil {
			w.Abort()
			return nil, Segment{}, err
		}
	}
	return w.Finish()
}

// Writer streams rows into one segment file. Rows must arrive sorted by
// encoded primary key, one per key.
type Writer struct {
	s      Schema
	fw     *pqarrow.FileWriter
	buf    bytes.Buffer
	rb     *array.RecordBuilder
	ints   []*array.Int64Builder
	floats []*array.Float64Builder
	bools  []*array.BooleanBuilder
	bins   []*array.BinaryBuilder
	seqB   *array.Int64Builder
	delB   *array.BooleanBuilder
	stats  []statAcc
	// delMark holds each column's null count before the current row when
	// it is a tombstone, so its NULLs can be told from live rows' NULLs.
	delMark []int64
	seg     Segment
	n       int
	inBatch int
	lastPK  []byte
	posByID []int32
	offs    []int32
	pkKind  datatype.Kind
}

const writerBatch = 64 * 1024

// NewWriter starts a segment; sizeHint is the expected row count (bloom
// filter sizing).
func NewWriter(s Schema, o WriteOptions, sizeHint int) (*Writer, error) {
	cc, err := codec(o.Compression)
	if err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = 128 * 1024
	}
	sch := arrowSchema(s)
	pkName := s.Columns[s.PK].Name
	wp := []parquet.WriterProperty{
		parquet.WithCompression(cc),
		parquet.WithStats(true),
		parquet.WithDictionaryDefault(true),
		parquet.WithMaxRowGroupLength(o.RowGroupRows),
		parquet.WithBloomFilterEnabledFor(pkName, true),
		parquet.WithBloomFilterEnabledFor(SeqColumn, true),
		parquet.WithBloomFilterNDV(int64(max(sizeHint, 1024))),
		parquet.WithBloomFilterFPP(0.01),
		parquet.WithCreatedBy("kalamdb"),
		parquet.WithDictionaryFor(SeqColumn, false),
	}
	// Dictionaries pay off for repetitive text; numbers (ids, timestamps)
	// are mostly distinct and only cost hashing.
	for _, c := range s.Columns {
		if id := ArrowType(c.Kind).ID(); id == arrow.INT64 || id == arrow.FLOAT64 || c.Name == pkName {
			wp = append(wp, parquet.WithDictionaryFor(c.Name, false))
		}
	}
	w := &Writer{s: s, stats: make([]statAcc, len(s.Columns)), pkKind: s.Columns[s.PK].Kind}
	w.seg = Segment{SchemaVersion: s.Version, Columns: s.Columns, PKColumn: s.Columns[s.PK].ID, Compression: o.Compression, Status: "active"}
	if w.seg.Compression == "" {
		w.seg.Compression = "snappy"
	}
	if w.fw, err = pqarrow.NewFileWriter(sch, &w.buf, parquet.NewWriterProperties(wp...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		return nil, fmt.Errorf("while creating parquet writer: %w", err)
	}
	w.rb = array.NewRecordBuilder(memory.DefaultAllocator, sch)
	w.rb.Reserve(min(max(sizeHint, 16), writerBatch))
	nc := len(s.Columns)
	w.ints, w.floats = make([]*array.Int64Builder, nc), make([]*array.Float64Builder, nc)
	w.bools, w.bins = make([]*array.BooleanBuilder, nc), make([]*array.BinaryBuilder, nc)
	maxID := uint32(0)
	for i, c := range s.Columns {
		maxID = max(maxID, c.ID)
		switch b := w.rb.Field(i).(type) {
		case *array.Int64Builder:
			w.ints[i] = b
		case *array.Float64Builder:
			w.floats[i] = b
		case *array.BooleanBuilder:
			w.bools[i] = b
		case *array.StringBuilder:
			w.bins[i] = b.BinaryBuilder
		case *array.BinaryBuilder:
			w.bins[i] = b
		}
	}
	w.posByID = make([]int32, maxID+1)
	for i := range w.posByID {
		w.posByID[i] = -1
	}
	for i, c := range s.Columns {
		w.posByID[c.ID] = int32(i)
	}
	w.offs = make([]int32, nc)
	w.seqB = w.rb.Field(nc).(*array.Int64Builder)
	w.delB = w.rb.Field(nc + 1).(*array.BooleanBuilder)
	return w, nil
}

// Len is the number of rows appended.
func (w *Writer) Len() int { return w.n }

func (w *Writer) begin(pk []byte, seq uint64, deleted bool) error {
	if w.n > 0 && bytes.Compare(w.lastPK, pk) >= 0 {
		return fmt.Errorf("cold: rows not strictly sorted by primary key at row %d", w.n)
	}
	w.lastPK = append(w.lastPK[:0], pk...)
	if w.n == 0 {
		w.seg.MinPK = append([]byte(nil), pk...)
		w.seg.MinSeq = seq
	}
	w.seg.MinSeq, w.seg.MaxSeq = min(w.seg.MinSeq, seq), max(w.seg.MaxSeq, seq)
	if deleted {
		w.seg.Tombstones++
	}
	w.seqB.Append(int64(seq))
	w.delB.Append(deleted)
	w.delMark = w.delMark[:0]
	if deleted {
		for c := range w.stats {
			w.delMark = append(w.delMark, w.stats[c].nulls)
		}
	}
	return nil
}

func (w *Writer) end() error {
	for c, before := range w.delMark {
		w.stats[c].tombNulls += w.stats[c].nulls - before
	}
	w.n++
	w.inBatch++
	if w.inBatch >= writerBatch {
		return w.flushBatch()
	}
	return nil
}

func (w *Writer) flushBatch() error {
	if w.inBatch == 0 {
		return nil
	}
	rec := w.rb.NewRecordBatch()
	err := w.fw.WriteBuffered(rec)
	rec.Release()
	w.inBatch = 0
	if err != nil {
		return fmt.Errorf("while writing parquet: %w", err)
	}
	return nil
}

// Append adds a decoded row.
func (w *Writer) Append(r Row) error {
	if err := w.begin(r.PK, r.Seq, r.Deleted); err != nil {
		return err
	}
	for c := range w.s.Columns {
		var v any
		if c < len(r.Values) {
			v = r.Values[c]
		}
		if err := appendValue(w.rb.Field(c), v); err != nil {
			return fmt.Errorf("column %s: %w", w.s.Columns[c].Name, err)
		}
		w.stats[c].add(v)
	}
	return w.end()
}

// AppendEncoded adds a hot-tier row (package rowcodec encoding) whose
// encoded primary key is pk, decoding straight into the column builders.
func (w *Writer) AppendEncoded(pk, row []byte) error {
	h, err := rowcodec.Index(row, w.posByID, w.offs)
	if err != nil {
		return err
	}
	if err := w.begin(pk, h.Seq, h.Deleted); err != nil {
		return err
	}
	// A tombstone keeps the deleted row's values (rowcodec.Tombstone); one
	// written before that has none and stores NULLs (its key aside).
	bare := h.Deleted
	for _, off := range w.offs {
		if off >= 0 {
			bare = false
			break
		}
	}
	for c := range w.s.Columns {
		st := &w.stats[c]
		off := w.offs[c]
		if off < 0 && !bare && c < len(w.s.Missing) && w.s.Missing[c] != nil && h.SchemaVersion < w.s.AddedIn[c] {
			// The row predates the column: store what readers show.
			if err := appendValue(w.rb.Field(c), w.s.Missing[c]); err != nil {
				return fmt.Errorf("column %s: %w", w.s.Columns[c].Name, err)
			}
			st.add(w.s.Missing[c])
			continue
		}
		switch {
		case w.ints[c] != nil:
			v, ok := rowcodec.IntAt(row, off)
			if !ok && h.Deleted && c == w.s.PK {
				v, ok = keys.DecodeIntPK(pk)
			}
			appendOrNull(w.ints[c], v, ok, st, st.addInt)
		case w.floats[c] != nil:
			v, ok := rowcodec.FloatAt(row, off)
			appendOrNull(w.floats[c], v, ok, st, st.addFloat)
		case w.bools[c] != nil:
			v, ok := rowcodec.BoolAt(row, off)
			if !ok && h.Deleted && c == w.s.PK && len(pk) == 1 {
				v, ok = pk[0] == 1, true
			}
			appendOrNull(w.bools[c], v, ok, st, nil)
		default:
			v, ok := rowcodec.BytesAt(row, off)
			if !ok && h.Deleted && c == w.s.PK {
				v, ok = pk, true
			}
			var add func([]byte)
			if w.s.Columns[c].Kind != datatype.Bytes {
				add = st.addBytes
			}
			appendOrNull(w.bins[c], v, ok, st, add)
		}
	}
	return w.end()
}

// appendOrNull appends v to a typed column builder, or NULL when !ok, and
// feeds the column statistics (add may be nil: no min/max kept).
func appendOrNull[T any](b interface {
	Append(T)
	AppendNull()
}, v T, ok bool, st *statAcc, add func(T)) {
	if !ok {
		b.AppendNull()
		st.nulls++
		return
	}
	b.Append(v)
	if add != nil {
		add(v)
	}
}

// Abort releases the writer without producing a file.
func (w *Writer) Abort() {
	w.rb.Release()
	_ = w.fw.Close()
}

// Finish closes the file and returns it with its manifest entry.
func (w *Writer) Finish() ([]byte, Segment, error) {
	defer w.rb.Release()
	if w.n == 0 {
		_ = w.fw.Close()
		return nil, Segment{}, fmt.Errorf("cold: empty segment")
	}
	if err := w.flushBatch(); err != nil {
		_ = w.fw.Close()
		return nil, Segment{}, err
	}
	if err := w.fw.Close(); err != nil {
		return nil, Segment{}, fmt.Errorf("while closing parquet writer: %w", err)
	}
	w.seg.RowCount = int64(w.n)
	w.seg.MaxPK = append([]byte(nil), w.lastPK...)
	w.seg.SizeBytes = int64(w.buf.Len())
	sum := sha256.Sum256(w.buf.Bytes())
	w.seg.SHA256 = hex.EncodeToString(sum[:])
	w.seg.ColumnStats = map[string]ColumnStat{}
	for c, col := range w.s.Columns {
		w.seg.ColumnStats[strconv.FormatUint(uint64(col.ID), 10)] = w.stats[c].stat()
	}
	return w.buf.Bytes(), w.seg, nil
}

func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch bb := b.(type) {
	case *array.Int64Builder:
		x, ok := v.(int64)
		if !ok {
			return fmt.Errorf("want int64, got %T", v)
		}
		bb.Append(x)
	case *array.Float64Builder:
		x, ok := v.(float64)
		if !ok {
			return fmt.Errorf("want float64, got %T", v)
		}
		bb.Append(x)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want bool, got %T", v)
		}
		bb.Append(x)
	case *array.StringBuilder:
		switch x := v.(type) {
		case string:
			bb.Append(x)
		case []byte:
			bb.BinaryBuilder.Append(x)
		default:
			return fmt.Errorf("want string, got %T", v)
		}
	case *array.BinaryBuilder:
		switch x := v.(type) {
		case []byte:
			bb.Append(x)
		case string:
			bb.AppendString(x)
		default:
			return fmt.Errorf("want bytes, got %T", v)
		}
	default:
		return fmt.Errorf("unsupported builder %T", b)
	}
	return nil
}

// statAcc accumulates min/max/nulls of int64, float64 and text values.
type statAcc struct {
	hasI, hasF, hasS bool
	iMin, iMax       int64
	fMin, fMax       float64
	sMin, sMax       []byte
	nulls            int64
	// tombNulls counts the NULLs of tombstone rows (part of nulls).
	tombNulls int64
}

func (a *statAcc) addInt(x int64) {
	if !a.hasI {
		a.iMin, a.iMax, a.hasI = x, x, true
		return
	}
	a.iMin, a.iMax = min(a.iMin, x), max(a.iMax, x)
}

func (a *statAcc) addFloat(x float64) {
	if !a.hasF {
		a.fMin, a.fMax, a.hasF = x, x, true
		return
	}
	a.fMin, a.fMax = min(a.fMin, x), max(a.fMax, x)
}

func (a *statAcc) addBytes(x []byte) {
	if !a.hasS {
		a.sMin, a.sMax, a.hasS = append([]byte(nil), x...), append([]byte(nil), x...), true
		return
	}
	if bytes.Compare(x, a.sMin) < 0 {
		a.sMin = append(a.sMin[:0], x...)
	}
	if bytes.Compare(x, a.sMax) > 0 {
		a.sMax = append(a.sMax[:0], x...)
	}
}

func (a *statAcc) add(v any) {
	switch x := v.(type) {
	case nil:
		a.nulls++
	case int64:
		a.addInt(x)
	case float64:
		a.addFloat(x)
	case string:
		a.addBytes([]byte(x))
	}
}

func (a *statAcc) stat() ColumnStat {
	st := ColumnStat{NullCount: a.nulls, TombstoneNulls: a.tombNulls}
	switch {
	case a.hasI:
		st.Min, st.Max = a.iMin, a.iMax
	case a.hasF:
		st.Min, st.Max = a.fMin, a.fMax
	case a.hasS:
		st.Min, st.Max = string(a.sMin), string(a.sMax)
	}
	return st
}
