package sql

import (
	"encoding/base64"
	"math"
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/jsonstr"
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
		return jsonstr.Append(dst, x)
	case []byte:
		return jsonstr.Append(dst, base64.StdEncoding.EncodeToString(x))
	}
	return jsonstr.Append(dst, "unsupported value")
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
