// Package rowcodec encodes table rows as hot-tier values.
//
// Layout (version 1):
//
//	[0]      format version (1)
//	[1:9]    _seq, big-endian uint64; 0 until the apply path stamps it
//	[9]      flags: bit 0 = _deleted (tombstone)
//	[10:14]  schema version the row was written under, big-endian uint32
//	[14:]    uvarint column count, then per column:
//	         uvarint column id, tag byte, payload
//
// Columns are keyed by their stable column id, not their position, so rows
// written under an older schema stay readable after ALTER TABLE. A column
// missing from a row reads as NULL. The seq sits at a fixed offset so the
// apply path can stamp it without re-encoding the row.
package rowcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Value tags.
const (
	tagNull  byte = 0
	tagFalse byte = 1
	tagTrue  byte = 2
	tagInt   byte = 3
	tagFloat byte = 4
	tagText  byte = 5
	tagBytes byte = 6
)

const (
	version    = 1
	headerSize = 14
	flagDel    = 1
)

// ErrCorrupt reports an undecodable row value.
var ErrCorrupt = errors.New("rowcodec: corrupt row")

// Column is one column value to encode.
type Column struct {
	ID    uint32
	Value any
}

// Encode encodes a row. seq may be 0 (stamped later by SetSeq).
func Encode(seq uint64, deleted bool, schemaVersion uint32, cols []Column) ([]byte, error) {
	b := make([]byte, headerSize, headerSize+8*len(cols)+16)
	b[0] = version
	binary.BigEndian.PutUint64(b[1:9], seq)
	if deleted {
		b[9] = flagDel
	}
	binary.BigEndian.PutUint32(b[10:14], schemaVersion)
	b = binary.AppendUvarint(b, uint64(len(cols)))
	for _, c := range cols {
		b = binary.AppendUvarint(b, uint64(c.ID))
		switch x := c.Value.(type) {
		case nil:
			b = append(b, tagNull)
		case bool:
			if x {
				b = append(b, tagTrue)
			} else {
				b = append(b, tagFalse)
			}
		case int64:
			b = append(b, tagInt)
			b = binary.AppendVarint(b, x)
		case float64:
			b = append(b, tagFloat)
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(x))
		case string:
			b = append(b, tagText)
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case []byte:
			b = append(b, tagBytes)
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		default:
			return nil, fmt.Errorf("rowcodec: unsupported value type %T for column %d", c.Value, c.ID)
		}
	}
	return b, nil
}

// Header is the fixed part of an encoded row.
type Header struct {
	Seq           uint64
	Deleted       bool
	SchemaVersion uint32
}

// ReadHeader decodes the fixed header of an encoded row.
func ReadHeader(b []byte) (Header, error) {
	if len(b) < headerSize || b[0] != version {
		return Header{}, ErrCorrupt
	}
	return Header{
		Seq:           binary.BigEndian.Uint64(b[1:9]),
		Deleted:       b[9]&flagDel != 0,
		SchemaVersion: binary.BigEndian.Uint32(b[10:14]),
	}, nil
}

// Tombstone returns a copy of the encoded row b marked deleted: a DELETE
// keeps the deleted row's values in its tombstone, so a read that asks for
// soft-deleted rows (a filter on _deleted) shows them, as the original
// KalamDB's does.
func Tombstone(b []byte) ([]byte, error) {
	if _, err := ReadHeader(b); err != nil {
		return nil, err
	}
	t := append([]byte(nil), b...)
	t[9] |= flagDel
	return t, nil
}

// SetSeq stamps seq into an encoded row in place.
func SetSeq(b []byte, seq uint64) { binary.BigEndian.PutUint64(b[1:9], seq) }

// Decode decodes the columns of b into dst, which is indexed by position:
// pos maps a column id to its position (ids not in pos are skipped, e.g.
// dropped columns), and want, when non-nil, limits decoding to positions
// with want[pos] true (projection pushdown). Undecoded positions are nil.
func Decode(b []byte, pos func(id uint32) (int, bool), want []bool, dst []any) (Header, error) {
	h, err := ReadHeader(b)
	if err != nil {
		return h, err
	}
	for i := range dst {
		dst[i] = nil
	}
	p := b[headerSize:]
	n, k := binary.Uvarint(p)
	if k <= 0 {
		return h, ErrCorrupt
	}
	p = p[k:]
	for i := uint64(0); i < n; i++ {
		id, k := binary.Uvarint(p)
		if k <= 0 || len(p) < k+1 {
			return h, ErrCorrupt
		}
		tag := p[k]
		p = p[k+1:]
		at, keep := pos(uint32(id))
		if keep && want != nil && (at >= len(want) || !want[at]) {
			keep = false
		}
		var v any
		switch tag {
		case tagNull:
		case tagFalse:
			v = false
		case tagTrue:
			v = true
		case tagInt:
			x, k := binary.Varint(p)
			if k <= 0 {
				return h, ErrCorrupt
			}
			v, p = x, p[k:]
		case tagFloat:
			if len(p) < 8 {
				return h, ErrCorrupt
			}
			v, p = math.Float64frombits(binary.BigEndian.Uint64(p)), p[8:]
		case tagText, tagBytes:
			l, k := binary.Uvarint(p)
			if k <= 0 || uint64(len(p)-k) < l {
				return h, ErrCorrupt
			}
			if keep {
				if tag == tagText {
					v = string(p[k : k+int(l)])
				} else {
					v = append([]byte(nil), p[k:k+int(l)]...)
				}
			}
			p = p[k+int(l):]
		default:
			return h, ErrCorrupt
		}
		if keep && at < len(dst) {
			dst[at] = v
		}
	}
	return h, nil
}

// Index records where each column's value starts in an encoded row, so a
// reader can decode only the columns it is asked for (DecodeAt) without
// allocating for the others. offs is indexed by position: posByID[id] is
// the position of column id (or -1 when the column was dropped); offs[pos]
// is set to -1 for columns absent from the row (NULL).
func Index(b []byte, posByID []int32, offs []int32) (Header, error) {
	h, err := ReadHeader(b)
	if err != nil {
		return h, err
	}
	for i := range offs {
		offs[i] = -1
	}
	p := headerSize
	n, k := binary.Uvarint(b[p:])
	if k <= 0 {
		return h, ErrCorrupt
	}
	p += k
	for i := uint64(0); i < n; i++ {
		id, k := binary.Uvarint(b[p:])
		if k <= 0 || p+k >= len(b) {
			return h, ErrCorrupt
		}
		p += k
		if id < uint64(len(posByID)) {
			if at := posByID[id]; at >= 0 && int(at) < len(offs) {
				offs[at] = int32(p)
			}
		}
		tag := b[p]
		p++
		switch tag {
		case tagNull, tagFalse, tagTrue:
		case tagInt:
			_, k := binary.Varint(b[p:])
			if k <= 0 {
				return h, ErrCorrupt
			}
			p += k
		case tagFloat:
			if p+8 > len(b) {
				return h, ErrCorrupt
			}
			p += 8
		case tagText, tagBytes:
			l, k := binary.Uvarint(b[p:])
			if k <= 0 || uint64(len(b)-p-k) < l {
				return h, ErrCorrupt
			}
			p += k + int(l)
		default:
			return h, ErrCorrupt
		}
	}
	return h, nil
}

// DecodeAt decodes the value whose tag starts at off (from Index). Text is
// returned as a string that aliases b when alias is true: the caller must
// not keep it beyond b's lifetime.
func DecodeAt(b []byte, off int32, alias bool) any {
	if off < 0 || int(off) >= len(b) {
		return nil
	}
	p := b[off:]
	switch p[0] {
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		x, _ := binary.Varint(p[1:])
		return x
	case tagFloat:
		return math.Float64frombits(binary.BigEndian.Uint64(p[1:9]))
	case tagText, tagBytes:
		l, k := binary.Uvarint(p[1:])
		v := p[1+k : 1+k+int(l)]
		if p[0] == tagBytes {
			return append([]byte(nil), v...)
		}
		if alias {
			return unsafe.String(unsafe.SliceData(v), len(v))
		}
		return string(v)
	}
	return nil
}
