package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// A msgpack map or array header holds its element count, which JSON only
// reveals at the closing bracket. Rather than backpatching headers (and
// moving everything after a header that turns out shorter), the encoder
// makes two passes: the first validates the JSON and records the element
// count of every container in the order they open; the second, trusting
// the validated input, emits each header from that list. Both passes are
// linear and neither recurses.

// countsPool holds the first pass's scratch: one count per container.
var countsPool = sync.Pool{New: func() any { s := make([]uint32, 0, 64); return &s }}

// AppendMsgpackFromJSON appends the MessagePack encoding of the JSON value
// in src (surrounding whitespace allowed) to dst.
func AppendMsgpackFromJSON(dst, src []byte) ([]byte, error) {
	sp := countsPool.Get().(*[]uint32)
	counts, err := countJSON(src, (*sp)[:0])
	if err == nil {
		n := len(dst)
		dst, err = emitMsgpack(dst, src, counts)
		if err != nil {
			dst = dst[:n]
		}
	}
	if cap(counts) <= 1<<16 {
		*sp = counts[:0]
		countsPool.Put(sp)
	}
	if err != nil {
		return dst, fmt.Errorf("while transcoding JSON to MessagePack: %w", err)
	}
	return dst, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(src []byte, i int) int {
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	return i
}

// countJSON validates src as one JSON value and appends the element count
// of each container to counts in opening order. stack holds, per open
// container, its index in counts; bit 31 marks an object.
func countJSON(src []byte, counts []uint32) ([]uint32, error) {
	var stackBuf [32]uint32
	stack := stackBuf[:0]
	const objBit = 1 << 31
	i := skipSpace(src, 0)
	for {
		// A value is expected at i.
		if i >= len(src) {
			return counts, ErrSyntax
		}
		switch c := src[i]; {
		case c == '{' || c == '[':
			if len(stack) >= MaxJSONDepth {
				return counts, ErrDepth
			}
			k := uint32(len(counts))
			counts = append(counts, 0)
			i = skipSpace(src, i+1)
			if c == '{' {
				if i < len(src) && src[i] == '}' {
					i++
					goto after
				}
				stack = append(stack, k|objBit)
				var err error
				if i, err = scanKey(src, i); err != nil {
					return counts, err
				}
			} else {
				if i < len(src) && src[i] == ']' {
					i++
					goto after
				}
				stack = append(stack, k)
			}
			counts[k] = 1
			continue
		case c == '"':
			end, _, err := scanString(src, i)
			if err != nil {
				return counts, err
			}
			i = end
		case c == 't':
			if !hasLiteral(src, i, "true") {
				return counts, ErrSyntax
			}
			i += 4
		case c == 'f':
			if !hasLiteral(src, i, "false") {
				return counts, ErrSyntax
			}
			i += 5
		case c == 'n':
			if !hasLiteral(src, i, "null") {
				return counts, ErrSyntax
			}
			i += 4
		default:
			end, _, ok := scanNumber(src, i)
			if !ok {
				return counts, ErrSyntax
			}
			i = end
		}
	after:
		// A value ended at i: a separator, a closing bracket or the end.
		for {
			i = skipSpace(src, i)
			if len(stack) == 0 {
				if i != len(src) {
					return counts, ErrSyntax
				}
				return counts, nil
			}
			if i >= len(src) {
				return counts, ErrSyntax
			}
			top := stack[len(stack)-1]
			obj := top&objBit != 0
			switch src[i] {
			case ',':
				counts[top&^objBit]++
				i = skipSpace(src, i+1)
				if obj {
					var err error
					if i, err = scanKey(src, i); err != nil {
						return counts, err
					}
				}
			case '}', ']':
				if (src[i] == '}') != obj {
					return counts, ErrSyntax
				}
				stack = stack[:len(stack)-1]
				i++
				continue
			default:
				return counts, ErrSyntax
			}
			break
		}
	}
}

// scanKey checks `"key" :` at i and returns the index after the colon and
// the whitespace following it.
func scanKey(src []byte, i int) (int, error) {
	if i >= len(src) || src[i] != '"' {
		return i, ErrSyntax
	}
	end, _, err := scanString(src, i)
	if err != nil {
		return i, err
	}
	i = skipSpace(src, end)
	if i >= len(src) || src[i] != ':' {
		return i, ErrSyntax
	}
	return skipSpace(src, i+1), nil
}

func hasLiteral(src []byte, i int, lit string) bool {
	return len(src)-i >= len(lit) && string(src[i:i+len(lit)]) == lit
}

// scanString validates the string starting at the quote at i and returns
// the index after its closing quote and whether it holds escapes.
func scanString(src []byte, i int) (end int, escaped bool, err error) {
	for i++; i < len(src); i++ {
		switch c := src[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(src) {
				return i, escaped, ErrSyntax
			}
			i++
			switch src[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(src)-i < 5 {
					return i, escaped, ErrSyntax
				}
				for _, h := range src[i+1 : i+5] {
					if hexVal(h) < 0 {
						return i, escaped, ErrSyntax
					}
				}
				i += 4
			default:
				return i, escaped, ErrSyntax
			}
		case c < 0x20:
			return i, escaped, ErrSyntax
		}
	}
	return i, escaped, ErrSyntax
}

// scanNumber checks the JSON number grammar at i; it returns the end and
// whether the literal is an integer (no fraction or exponent).
func scanNumber(src []byte, i int) (end int, integer, ok bool) {
	if i < len(src) && src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		i = skipDigits(src, i)
	default:
		return i, false, false
	}
	integer = true
	if i < len(src) && src[i] == '.' {
		integer = false
		i++
		start := i
		if i = skipDigits(src, i); i == start {
			return i, false, false
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		integer = false
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		start := i
		if i = skipDigits(src, i); i == start {
			return i, false, false
		}
	}
	return i, integer, true
}

// skipDigits returns the index of the first non-digit at or after i.
func skipDigits(src []byte, i int) int {
	for i < len(src) && src[i] >= '0' && src[i] <= '9' {
		i++
	}
	return i
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// emitMsgpack is the second pass over src, already validated by countJSON:
// separators and closing brackets carry no information any more, so a flat
// loop over the tokens suffices.
func emitMsgpack(dst, src []byte, counts []uint32) ([]byte, error) {
	k := 0
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':', ']', '}':
			i++
		case '{':
			dst = appendMapHeader(dst, counts[k])
			k++
			i++
		case '[':
			dst = appendArrayHeader(dst, counts[k])
			k++
			i++
		case '"':
			end, escaped, _ := scanString(src, i)
			dst = appendStr(dst, src[i+1:end-1], escaped)
			i = end
		case 't':
			dst = append(dst, mpTrue)
			i += 4
		case 'f':
			dst = append(dst, mpFalse)
			i += 5
		case 'n':
			dst = append(dst, mpNil)
			i += 4
		default:
			end, integer, _ := scanNumber(src, i)
			var err error
			if dst, err = appendNumber(dst, src[i:end], integer); err != nil {
				return dst, err
			}
			i = end
		}
	}
	return dst, nil
}

func appendMapHeader(dst []byte, n uint32) []byte {
	return appendContainerHeader(dst, n, 0x80, mpMap16, mpMap32)
}

func appendArrayHeader(dst []byte, n uint32) []byte {
	return appendContainerHeader(dst, n, 0x90, mpArray16, mpArray32)
}

// appendContainerHeader appends the smallest header for n elements: the
// fix form (fix|n) up to 15, else the 16- or 32-bit form.
func appendContainerHeader(dst []byte, n uint32, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(dst, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, b32), n)
}

// strHeaderLen is the size of the smallest str header for n bytes.
func strHeaderLen(n int) int {
	switch {
	case n <= 31:
		return 1
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

func putStrHeader(b []byte, n int) {
	switch len(b) {
	case 1:
		b[0] = 0xa0 | byte(n)
	case 2:
		b[0], b[1] = mpStr8, byte(n)
	case 3:
		b[0] = mpStr16
		binary.BigEndian.PutUint16(b[1:], uint16(n))
	default:
		b[0] = mpStr32
		binary.BigEndian.PutUint32(b[1:], uint32(n))
	}
}

// appendStr appends the msgpack str for the body of a JSON string (between
// the quotes). An escaped body is unescaped after a header sized for the
// raw body, which is never shorter; the bytes move back when the header
// turns out smaller.
func appendStr(dst, body []byte, escaped bool) []byte {
	h := strHeaderLen(len(body))
	at := len(dst)
	dst = append(dst, make([]byte, h)...)
	if !escaped {
		dst = append(dst, body...)
		putStrHeader(dst[at:at+h], len(body))
		return dst
	}
	dst = appendUnescaped(dst, body)
	n := len(dst) - at - h
	if h2 := strHeaderLen(n); h2 < h {
		copy(dst[at+h2:], dst[at+h:])
		dst = dst[:len(dst)-(h-h2)]
		h = h2
	}
	putStrHeader(dst[at:at+h], n)
	return dst
}

// appendUnescaped decodes a validated JSON string body as encoding/json
// does (a lone or invalid surrogate becomes U+FFFD).
func appendUnescaped(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch body[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(body[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if len(body)-i >= 6 && body[i] == '\\' && body[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(body[i+2:])); r2 != utf8.RuneError {
						i += 6
						r = r2
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, body[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// appendNumber encodes a validated JSON number literal.
func appendNumber(dst, lit []byte, integer bool) ([]byte, error) {
	if integer {
		neg := lit[0] == '-'
		digits := lit
		if neg {
			digits = lit[1:]
		}
		var u uint64
		fits := len(digits) <= 20
		for _, d := range digits {
			if !fits {
				break
			}
			v := uint64(d - '0')
			if u > (math.MaxUint64-v)/10 {
				fits = false
				break
			}
			u = u*10 + v
		}
		switch {
		case fits && !neg:
			return appendUint(dst, u), nil
		case fits && u <= 1<<63:
			return appendInt(dst, int64(-u)), nil // -(1<<63) wraps to MinInt64
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return dst, fmt.Errorf("%s: %w", lit, ErrRange)
	}
	return binary.BigEndian.AppendUint64(append(dst, mpFloat64), math.Float64bits(f)), nil
}

func appendUint(dst []byte, u uint64) []byte {
	switch {
	case u <= 0x7f:
		return append(dst, byte(u))
	case u <= math.MaxUint8:
		return append(dst, mpUint8, byte(u))
	case u <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, mpUint16), uint16(u))
	case u <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, mpUint32), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(dst, mpUint64), u)
}

// appendInt encodes a negative integer in the smallest signed format.
func appendInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(dst, uint64(v))
	case v >= -32:
		return append(dst, byte(v))
	case v >= math.MinInt8:
		return append(dst, mpInt8, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(dst, mpInt16), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(dst, mpInt32), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, mpInt64), uint64(v))
}
