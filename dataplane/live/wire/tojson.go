package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/jsonstr"
)

// AppendJSONFromMsgpack appends the compact JSON form of the one
// MessagePack value in src to dst. Trailing bytes after the value are an
// error, as trailing data after a JSON message is.
func AppendJSONFromMsgpack(dst, src []byte) ([]byte, error) {
	n := len(dst)
	d := mpDecoder{src: src}
	dst, err := d.value(dst, 0)
	if err == nil && d.pos != len(src) {
		err = fmt.Errorf("%d bytes after the value: %w", len(src)-d.pos, ErrSyntax)
	}
	if err != nil {
		return dst[:n], fmt.Errorf("while transcoding MessagePack to JSON at byte %d: %w", d.pos, err)
	}
	return dst, nil
}

// mpDecoder reads src from pos; every read is bounds-checked.
type mpDecoder struct {
	src []byte
	pos int
}

// take returns the next n bytes, or fails when fewer remain.
func (d *mpDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.src)-d.pos {
		return nil, ErrTruncated
	}
	b := d.src[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

// length reads a big-endian length of size bytes (1, 2 or 4).
func (d *mpDecoder) length(size int) (int, error) {
	b, err := d.take(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int(b[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(b)), nil
	}
	return int(binary.BigEndian.Uint32(b)), nil
}

// value transcodes the value at pos.
func (d *mpDecoder) value(dst []byte, depth int) ([]byte, error) {
	b, err := d.take(1)
	if err != nil {
		return dst, err
	}
	c := b[0]
	switch {
	case c <= 0x7f:
		return strconv.AppendUint(dst, uint64(c), 10), nil
	case c >= 0xe0:
		return strconv.AppendInt(dst, int64(int8(c)), 10), nil
	case c <= 0x8f:
		return d.mapBody(dst, int(c&0x0f), depth)
	case c <= 0x9f:
		return d.arrayBody(dst, int(c&0x0f), depth)
	case c <= 0xbf:
		return d.str(dst, int(c&0x1f))
	}
	switch c {
	case mpNil:
		return append(dst, "null"...), nil
	case mpFalse:
		return append(dst, "false"...), nil
	case mpTrue:
		return append(dst, "true"...), nil
	case mpUint8, mpUint16, mpUint32, mpUint64:
		b, err := d.take(1 << (c - mpUint8))
		if err != nil {
			return dst, err
		}
		return strconv.AppendUint(dst, beUint(b), 10), nil
	case mpInt8, mpInt16, mpInt32, mpInt64:
		size := 1 << (c - mpInt8)
		b, err := d.take(size)
		if err != nil {
			return dst, err
		}
		// Sign-extend from the value's width.
		shift := 64 - 8*size
		return strconv.AppendInt(dst, int64(beUint(b)<<shift)>>shift, 10), nil
	case mpFloat32:
		b, err := d.take(4)
		if err != nil {
			return dst, err
		}
		return appendFloat(dst, float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32)
	case mpFloat64:
		b, err := d.take(8)
		if err != nil {
			return dst, err
		}
		return appendFloat(dst, math.Float64frombits(binary.BigEndian.Uint64(b)), 64)
	case mpStr8, mpStr16, mpStr32:
		n, err := d.length(1 << (c - mpStr8))
		if err != nil {
			return dst, err
		}
		return d.str(dst, n)
	case mpArray16, mpArray32:
		n, err := d.length(2 << (c - mpArray16))
		if err != nil {
			return dst, err
		}
		return d.arrayBody(dst, n, depth)
	case mpMap16, mpMap32:
		n, err := d.length(2 << (c - mpMap16))
		if err != nil {
			return dst, err
		}
		return d.mapBody(dst, n, depth)
	case mpBin8, mpBin16, mpBin32:
		return dst, fmt.Errorf("bin value: %w", ErrUnsupported)
	case mpExt8, mpExt16, mpExt32, mpFixExt1, mpFixExt2, mpFixExt4, mpFixExt8, mpFixExt16:
		return dst, fmt.Errorf("ext value: %w", ErrUnsupported)
	}
	return dst, fmt.Errorf("format byte 0x%02x: %w", c, ErrSyntax) // 0xc1, never used
}

func beUint(b []byte) uint64 {
	var u uint64
	for _, x := range b {
		u = u<<8 | uint64(x)
	}
	return u
}

func (d *mpDecoder) arrayBody(dst []byte, n, depth int) ([]byte, error) {
	if depth >= MaxMsgpackDepth {
		return dst, ErrDepth
	}
	// Each element takes at least one byte.
	if n > len(d.src)-d.pos {
		return dst, ErrTruncated
	}
	dst = append(dst, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = d.value(dst, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func (d *mpDecoder) mapBody(dst []byte, n, depth int) ([]byte, error) {
	if depth >= MaxMsgpackDepth {
		return dst, ErrDepth
	}
	// Each entry takes at least two bytes (a key and a value).
	if n > (len(d.src)-d.pos)/2 {
		return dst, ErrTruncated
	}
	dst = append(dst, '{')
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = d.key(dst); err != nil {
			return dst, err
		}
		dst = append(dst, ':')
		if dst, err = d.value(dst, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// key transcodes a map key, which must be a str.
func (d *mpDecoder) key(dst []byte) ([]byte, error) {
	b, err := d.take(1)
	if err != nil {
		return dst, err
	}
	c := b[0]
	switch {
	case c >= 0xa0 && c <= 0xbf:
		return d.str(dst, int(c&0x1f))
	case c >= mpStr8 && c <= mpStr32:
		n, err := d.length(1 << (c - mpStr8))
		if err != nil {
			return dst, err
		}
		return d.str(dst, n)
	}
	return dst, fmt.Errorf("map key of format 0x%02x, not a string: %w", c, ErrUnsupported)
}

// str appends the next n bytes as a JSON string.
func (d *mpDecoder) str(dst []byte, n int) ([]byte, error) {
	b, err := d.take(n)
	if err != nil {
		return dst, err
	}
	return jsonstr.Append(dst, b), nil
}

// appendFloat formats f as encoding/json does (shortest form, exponent
// only for very small or large magnitudes), except that a magnitude from
// which on every value is integral (2^53, 2^24 for float32) also takes
// the exponent: the shortest digits of such a float are not its exact
// value, and without '.' or 'e' the next reader would take them for an
// exact integer. NaN and Inf have no JSON form.
func appendFloat(dst []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("float %v: %w", f, ErrUnsupported)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1<<53) || bits == 32 && (float32(abs) < 1e-6 || abs >= 1<<24) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}
