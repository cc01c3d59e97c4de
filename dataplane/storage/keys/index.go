package keys

// Secondary-index keys.
//
//	[group u16][0x04][table u32]                                       index set of a table in a data group
//	[group u16][0x11][table u32][user...][0x00][index u32][value][pk]  USER/STREAM index entry
//	[group u16][0x11][table u32][index u32][value][pk]                 SHARED index entry
//
// Invariants:
//   - An index entry lives in the same group and under the same scope
//     (table, user) as the row it points at, so a USER-table index never
//     leaves its user's key range and a group stays one contiguous range.
//   - The value is encoded order-preservingly and self-delimiting
//     (EncodeIndexValue), so equal values share a prefix whose entries are
//     sorted by primary key, and the pk is the last component.
//   - The entry's value is empty: the pk in the key is the pointer.
//   - Entries exist only for live hot rows; the apply path writes them in
//     the same batch as the row (engine/index.go).

import (
	"encoding/binary"
	"errors"
	"math"
)

const (
	kindIndexSet   byte = 0x04
	kindIndexEntry byte = 0x11
)

// Index-value tags; their order is the sort order of the encodings.
const (
	// IndexAbsent marks a row stored before its indexed column was added
	// (its value is the column's projected default, resolved by readers).
	IndexAbsent byte = 0x00
	idxNull     byte = 0x01
	idxFalse    byte = 0x02
	idxTrue     byte = 0x03
	idxInt      byte = 0x04
	idxFloat    byte = 0x05
	idxText     byte = 0x06
	idxBytes    byte = 0x07
)

// ErrIndexValue reports a value type that cannot be indexed.
var ErrIndexValue = errors.New("keys: unsupported index value")

// IndexSet is the key of a table's index set in data group g.
func IndexSet(g uint16, table uint32) []byte {
	return []byte{byte(g >> 8), byte(g), kindIndexSet, byte(table >> 24), byte(table >> 16), byte(table >> 8), byte(table)}
}

// IndexTablePrefix is the prefix of every index entry of a table in group g.
func IndexTablePrefix(g uint16, table uint32) []byte {
	k := TablePrefix(g, table)
	k[2] = kindIndexEntry
	return k
}

// IndexScopeOf turns a row scope prefix (ScopePrefix) into the prefix of
// the same scope's index entries.
func IndexScopeOf(rowScope []byte) []byte {
	k := append(make([]byte, 0, len(rowScope)+16), rowScope...)
	if len(k) > 2 {
		k[2] = kindIndexEntry
	}
	return k
}

// IndexPrefix appends an index id to an index scope prefix.
func IndexPrefix(indexScope []byte, index uint32) []byte {
	k := append(make([]byte, 0, len(indexScope)+32), indexScope...)
	return binary.BigEndian.AppendUint32(k, index)
}

// SplitRowKey splits a row key into its scope prefix and encoded pk.
func SplitRowKey(k []byte, perUser bool) (scope, pk []byte, ok bool) {
	if len(k) < 7 || k[2] != kindTableRows {
		return nil, nil, false
	}
	if !perUser {
		return k[:7], k[7:], true
	}
	for i := 7; i < len(k); i++ {
		if k[i] == scopeTerminator {
			return k[:i+1], k[i+1:], true
		}
	}
	return nil, nil, false
}

// IndexEntry builds the entry key of (index, encoded value, pk) under the
// row scope rowScope.
func IndexEntry(rowScope []byte, index uint32, value, pk []byte) []byte {
	k := make([]byte, 0, len(rowScope)+4+len(value)+len(pk))
	k = append(k, rowScope...)
	k[2] = kindIndexEntry
	k = binary.BigEndian.AppendUint32(k, index)
	k = append(k, value...)
	return append(k, pk...)
}

// EncodeIndexValue appends the order-preserving, self-delimiting encoding
// of a stored column value to dst. Text and bytes escape 0x00 as 0x00 0xff
// and end with 0x00 0x01, so no encoding is a prefix of another.
func EncodeIndexValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, idxNull), nil
	case bool:
		if x {
			return append(dst, idxTrue), nil
		}
		return append(dst, idxFalse), nil
	case int64:
		dst = append(dst, idxInt)
		return binary.BigEndian.AppendUint64(dst, uint64(x)^(1<<63)), nil
	case float64:
		bits := math.Float64bits(x)
		if x < 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		dst = append(dst, idxFloat)
		return binary.BigEndian.AppendUint64(dst, bits), nil
	case string:
		return appendEscaped(append(dst, idxText), []byte(x)), nil
	case []byte:
		return appendEscaped(append(dst, idxBytes), x), nil
	}
	return dst, ErrIndexValue
}

func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		if c == 0 {
			dst = append(dst, 0, 0xff)
			continue
		}
		dst = append(dst, c)
	}
	return append(dst, 0, 1)
}
