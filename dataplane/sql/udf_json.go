package sql

// The original KalamDB's JSON functions (datafusion-functions-json, which
// its query engine registers): json_get, json_get_str, json_get_int,
// json_get_float, json_get_bool, json_get_json, json_get_array,
// json_as_text, json_contains, json_length and json_object_keys, each
// f(json, key, ...). A key is an object member name (text) or an array
// index (integer, from 0); the keys walk into the document one level each,
// and a missing member, an index out of range or a value of the wrong
// kind gives NULL (json_contains: false). A NULL document gives NULL; a
// document that is not JSON gives NULL (json_contains: false). The jsonb
// operator x ? k is json_contains(x, k) (parse/rewrite_pg.go); -> and ->>
// are SQLite's own.
//
// Results in SQLite's values: booleans are 1/0 (typed boolean in result
// schemas, parse funcTypes), json_get_json / json_get_array and
// json_get of an object or array return JSON text, and json_object_keys
// returns the keys as a JSON array text (SQLite has no list type; the
// original returns a list).

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	sqlite "modernc.org/sqlite"
)

// jsonFuncs maps each function to its result given the value the keys
// reach (raw JSON, found) — found is false when the path does not exist.
func jsonFuncs() map[string]func(raw []byte, found bool) (driver.Value, error) {
	return map[string]func(raw []byte, found bool) (driver.Value, error){
		"json_contains": func(_ []byte, found bool) (driver.Value, error) { return found, nil },
		"json_get":      jsonGet,
		"json_get_str": func(raw []byte, found bool) (driver.Value, error) {
			if !found || jsonKind(raw) != '"' {
				return nil, nil
			}
			return jsonString(raw)
		},
		"json_get_int": func(raw []byte, found bool) (driver.Value, error) {
			if !found || jsonKind(raw) != '0' {
				return nil, nil
			}
			if v, ok := jsonInt(raw); ok {
				return v, nil
			}
			return nil, nil
		},
		"json_get_float": func(raw []byte, found bool) (driver.Value, error) {
			if !found || jsonKind(raw) != '0' {
				return nil, nil
			}
			return jsonFloat(raw)
		},
		"json_get_bool": func(raw []byte, found bool) (driver.Value, error) {
			if !found || (jsonKind(raw) != 't' && jsonKind(raw) != 'f') {
				return nil, nil
			}
			return raw[0] == 't', nil
		},
		"json_get_json": func(raw []byte, found bool) (driver.Value, error) {
			if !found {
				return nil, nil
			}
			return string(raw), nil
		},
		"json_get_array": func(raw []byte, found bool) (driver.Value, error) {
			if !found || jsonKind(raw) != '[' {
				return nil, nil
			}
			return string(raw), nil
		},
		"json_as_text": func(raw []byte, found bool) (driver.Value, error) {
			if k := jsonKind(raw); found && (k == '0' || k == 't' || k == 'f') {
				return string(raw), nil // numbers and booleans as their JSON text
			}
			return jsonGet(raw, found)
		},
		"json_length": func(raw []byte, found bool) (driver.Value, error) {
			if !found {
				return nil, nil
			}
			n, _, ok := jsonMembers(raw, false)
			if !ok {
				return nil, nil
			}
			return int64(n), nil
		},
		"json_object_keys": func(raw []byte, found bool) (driver.Value, error) {
			if !found || jsonKind(raw) != '{' {
				return nil, nil
			}
			_, keys, ok := jsonMembers(raw, true)
			if !ok {
				return nil, nil
			}
			if keys == nil {
				keys = []string{}
			}
			out, err := json.Marshal(keys)
			return string(out), err
		},
	}
}

// jsonGet is json_get: the value as SQL (a string unquoted, a boolean,
// an integer or a double; an object or array as JSON text).
func jsonGet(raw []byte, found bool) (driver.Value, error) {
	if !found {
		return nil, nil
	}
	switch jsonKind(raw) {
	case '"':
		return jsonString(raw)
	case 'n':
		return nil, nil
	case 't', 'f':
		return raw[0] == 't', nil
	case '0':
		if v, ok := jsonInt(raw); ok {
			return v, nil
		}
		return jsonFloat(raw)
	}
	return string(raw), nil
}

// registerJSONFuncs registers jsonFuncs as variadic SQLite functions.
func registerJSONFuncs() error {
	for name, fn := range jsonFuncs() {
		fn, name := fn, name
		err := sqlite.RegisterFunction(name, &sqlite.FunctionImpl{
			NArgs:         -1,
			Deterministic: true,
			Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				return jsonCall(name, fn, args)
			},
		})
		if err != nil {
			return fmt.Errorf("while registering %s: %w", name, err)
		}
	}
	return nil
}

// jsonCall walks the keys args[1:] into the document args[0] and applies
// fn to what they reach.
func jsonCall(name string, fn func([]byte, bool) (driver.Value, error), args []driver.Value) (driver.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s needs a JSON document argument", name)
	}
	var doc []byte
	switch x := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		doc = []byte(x)
	case []byte:
		doc = x
	default:
		// A number or boolean is a JSON scalar: no member, no index.
		doc = []byte(fmt.Sprint(x))
	}
	raw := bytes.TrimSpace(doc)
	if !json.Valid(raw) {
		if name == "json_contains" {
			return false, nil
		}
		return nil, nil
	}
	for _, k := range args[1:] {
		var ok bool
		switch key := k.(type) {
		case string:
			raw, ok = jsonMember(raw, key)
		case []byte:
			raw, ok = jsonMember(raw, string(key))
		case int64:
			raw, ok = jsonIndex(raw, key)
		default:
			// NULL, float or boolean keys reach nothing.
		}
		if !ok {
			return fn(nil, false)
		}
	}
	return fn(raw, true)
}

// jsonKind classifies valid JSON text by its first byte: '{', '[', '"',
// 't', 'f', 'n', or '0' for a number.
func jsonKind(raw []byte) byte {
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '{', '[', '"', 't', 'f', 'n':
		return c
	}
	return '0'
}

func jsonString(raw []byte) (driver.Value, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return s, nil
}

// jsonInt reads an integer that fits int64 (not 1.0, not 1e3).
func jsonInt(raw []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(raw), 10, 64)
	return v, err == nil
}

func jsonFloat(raw []byte) (driver.Value, error) {
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(v, 0) {
		return nil, nil
	}
	return v, nil
}

// jsonMember returns the value of member key of the object raw (the last
// one when a key repeats, as a JSON object decoded into a map keeps).
func jsonMember(raw []byte, key string) ([]byte, bool) {
	if jsonKind(raw) != '{' {
		return nil, false
	}
	var found []byte
	ok := false
	walk := func(k string, v json.RawMessage) {
		if k == key {
			found, ok = v, true
		}
	}
	if !jsonWalk(raw, walk) {
		return nil, false
	}
	return found, ok
}

// jsonIndex returns element i of the array raw.
func jsonIndex(raw []byte, i int64) ([]byte, bool) {
	if jsonKind(raw) != '[' || i < 0 {
		return nil, false
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil || i >= int64(len(elems)) {
		return nil, false
	}
	return bytes.TrimSpace(elems[i]), true
}

// jsonMembers counts the members of an object or the elements of an
// array, and lists an object's keys in document order when keys is set.
func jsonMembers(raw []byte, keys bool) (n int, names []string, ok bool) {
	switch jsonKind(raw) {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return 0, nil, false
		}
		return len(elems), nil, true
	case '{':
		ok = jsonWalk(raw, func(k string, _ json.RawMessage) {
			n++
			if keys {
				names = append(names, k)
			}
		})
		return n, names, ok
	}
	return 0, nil, false
}

// jsonWalk calls fn for each member of the object raw in document order.
func jsonWalk(raw []byte, fn func(key string, v json.RawMessage)) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		k, isKey := t.(string)
		if !isKey {
			return false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
		fn(k, bytes.TrimSpace(v))
	}
	return true
}
