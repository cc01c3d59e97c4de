package keys

import (
	"encoding/binary"
	"fmt"
	"math"
)

// EncodePK encodes a primary-key value so that byte order equals value
// order. Integers (int64) flip the sign bit and are stored big-endian;
// strings and bytes are stored raw (the PK is always the last key component,
// so no terminator is needed); booleans are one byte.
func EncodePK(v any) ([]byte, error) {
	switch x := v.(type) {
	case int64:
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(x)^(1<<63))
		return b[:], nil
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case bool:
		if x {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case float64:
		bits := math.Float64bits(x)
		if x < 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], bits)
		return b[:], nil
	case nil:
		return nil, fmt.Errorf("primary key must not be NULL")
	}
	return nil, fmt.Errorf("unsupported primary key value %T", v)
}

// DecodeIntPK decodes an integer key produced by EncodePK.
func DecodeIntPK(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), true
}
