package rowcodec

import (
	"encoding/binary"
	"math"
)

// Typed accessors for offsets from Index: they decode one value without
// boxing it in an interface (the cold tier's bulk encoders call them per
// value). ok is false for NULL or a value of another tag.

// IntAt decodes an integer value.
func IntAt(b []byte, off int32) (int64, bool) {
	if off < 0 || int(off) >= len(b) || b[off] != tagInt {
		return 0, false
	}
	x, _ := binary.Varint(b[off+1:])
	return x, true
}

// FloatAt decodes a float value.
func FloatAt(b []byte, off int32) (float64, bool) {
	if off < 0 || int(off)+9 > len(b) || b[off] != tagFloat {
		return 0, false
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b[off+1:])), true
}

// BoolAt decodes a boolean value.
func BoolAt(b []byte, off int32) (v, ok bool) {
	if off < 0 || int(off) >= len(b) {
		return false, false
	}
	switch b[off] {
	case tagTrue:
		return true, true
	case tagFalse:
		return false, true
	}
	return false, false
}

// BytesAt returns the payload of a text or bytes value, aliasing b.
func BytesAt(b []byte, off int32) ([]byte, bool) {
	if off < 0 || int(off) >= len(b) || (b[off] != tagText && b[off] != tagBytes) {
		return nil, false
	}
	l, k := binary.Uvarint(b[off+1:])
	start := int(off) + 1 + k
	if k <= 0 || start+int(l) > len(b) {
		return nil, false
	}
	return b[start : start+int(l)], true
}

// SeqOf reads the _seq of an encoded row without validating the rest.
func SeqOf(b []byte) (uint64, bool) {
	if len(b) < headerSize || b[0] != version {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[1:9]), true
}
