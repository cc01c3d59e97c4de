package client

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/jsonstr"
)

// UnmarshalJSON reads a result column. A server running with
// compat.kalam_type_names sends data_type as the original project's
// KalamDataType ("BigInt", {"Embedding": 384}, {"Decimal": {...}}); the
// field keeps a unit type's name as it is and renders the others in the
// SQL spelling ("EMBEDDING(384)", "DECIMAL(18,4)"), so callers read one
// string either way.
func (f *Field) UnmarshalJSON(b []byte) error {
	if fast, ok := decodeFieldFast(b); ok {
		*f = fast
		return nil
	}
	return f.decodeSlow(b)
}

// decodeSlow is UnmarshalJSON through encoding/json, for every shape.
func (f *Field) decodeSlow(b []byte) error {
	var raw struct {
		Name     string          `json:"name"`
		DataType json.RawMessage `json:"data_type"`
		Index    int             `json:"index"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	f.Name, f.Index, f.DataType = raw.Name, raw.Index, ""
	if len(raw.DataType) == 0 || string(raw.DataType) == "null" {
		return nil
	}
	if raw.DataType[0] == '"' {
		if plain, next, ok := jsonstr.ReadPlain(raw.DataType, 0); ok && next == len(raw.DataType) {
			f.DataType = string(plain)
			return nil
		}
		return json.Unmarshal(raw.DataType, &f.DataType)
	}
	var obj struct {
		Embedding *int `json:"Embedding"`
		Decimal   *struct {
			Precision int `json:"precision"`
			Scale     int `json:"scale"`
		} `json:"Decimal"`
	}
	if err := json.Unmarshal(raw.DataType, &obj); err != nil {
		return fmt.Errorf("while reading data_type of %s: %w", raw.Name, err)
	}
	switch {
	case obj.Embedding != nil:
		f.DataType = fmt.Sprintf("EMBEDDING(%d)", *obj.Embedding)
	case obj.Decimal != nil:
		f.DataType = fmt.Sprintf("DECIMAL(%d,%d)", obj.Decimal.Precision, obj.Decimal.Scale)
	default:
		f.DataType = strings.TrimSpace(string(raw.DataType))
	}
	return nil
}

// decodeFieldFast reads the server's usual column shape,
// {"name":"…","data_type":"…","index":N} (any key order, plain strings, a
// small non-negative index), without encoding/json's reflection and second
// scan: a point lookup's response has one per column. Invariant: it yields
// what the encoding/json path yields for the same bytes or declines (ok
// false) for anything else: other or repeated keys, escapes, an object
// data_type, other numbers. FuzzFieldFast checks the invariant.
func decodeFieldFast(b []byte) (f Field, ok bool) {
	i := jsonstr.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return Field{}, false
	}
	var seen [3]bool
	for i++; ; {
		i = jsonstr.SkipSpace(b, i)
		keyb, next, ok := jsonstr.ReadPlain(b, i)
		if !ok {
			return Field{}, false
		}
		i = jsonstr.SkipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return Field{}, false
		}
		i = jsonstr.SkipSpace(b, i+1)
		var k int
		switch string(keyb) {
		case "name":
			if f.Name, i, ok = plainValue(b, i); !ok {
				return Field{}, false
			}
		case "data_type":
			if f.DataType, i, ok = plainValue(b, i); !ok {
				return Field{}, false
			}
			k = 1
		case "index":
			n, next, ok := smallUint(b, i)
			if !ok {
				return Field{}, false
			}
			f.Index, k, i = n, 2, next
		default:
			return Field{}, false
		}
		if seen[k] {
			return Field{}, false
		}
		seen[k] = true
		i = jsonstr.SkipSpace(b, i)
		if i >= len(b) {
			return Field{}, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return f, jsonstr.SkipSpace(b, i+1) == len(b)
		default:
			return Field{}, false
		}
	}
}

func plainValue(b []byte, i int) (string, int, bool) {
	v, next, ok := jsonstr.ReadPlain(b, i)
	return string(v), next, ok
}

// smallUint reads a JSON integer of 1..9 digits without a leading zero
// (or 0 itself) at b[i].
func smallUint(b []byte, i int) (int, int, bool) {
	start, n := i, 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 9 || (digits > 1 && b[start] == '0') {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, 0, false
	}
	return n, i, true
}
