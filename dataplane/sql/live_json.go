package sql

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// This file encodes live-query rows as JSON without reflection: a change
// is encoded once and shared by every subscriber, and initial-data pages
// can hold thousands of rows. The output is byte-for-byte what
// encoding/json (with HTML escaping off, as the HTTP API uses) produces
// for the same wire values; a test holds it to that.

// appendWire appends the JSON wire form of v, a value as SQLite computes
// with it (what the vtab hands SQLite, or what SQLite returns for a plain
// column reference), for a column of type t. It is the single conversion
// used for initial data, replay and change events, so they cannot differ.
func appendWire(dst []byte, t datatype.Type, v any) []byte {
	return appendJSONValue(dst, wireValue(t, true, v))
}

// appendJSONValue appends a value produced by wireValue.
func appendJSONValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if x {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return appendJSONFloat(dst, x)
	case string:
		return appendJSONString(dst, x)
	case []byte:
		return appendJSONString(dst, base64.StdEncoding.EncodeToString(x))
	}
	return appendJSONString(dst, "unsupported value")
}

// appendJSONFloat formats like encoding/json: shortest representation,
// exponent form only for very small or large magnitudes. NaN and Inf never
// get here (wireValue turns them into strings).
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD and U+2028/U+2029 are escaped, as in encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
