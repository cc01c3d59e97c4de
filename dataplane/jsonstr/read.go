package jsonstr

import "unicode/utf8"

// The reading side: the request and column fast paths (server's SQL body,
// the client's result columns) read the usual shapes by hand and leave
// anything else to encoding/json; these are the two primitives they share.

// ReadPlain reads a JSON string starting at b[i] that has no escape, no
// control character and valid UTF-8: its bytes are then exactly what
// encoding/json decodes it to. ok is false for any other string (the
// caller falls back to encoding/json).
func ReadPlain(b []byte, i int) (val []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			val = b[i+1 : j]
			if !utf8.Valid(val) {
				return nil, 0, false
			}
			return val, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// SkipSpace skips JSON whitespace from i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
