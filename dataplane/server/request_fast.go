package server

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/jsonstr"
)

// Fast path for the body of POST /v1/api/sql.
//
// encoding/json decodes a request by reflection; on a server that idles
// between requests (every request of a paced client) that cost ~33 µs, the
// largest step before the SQL parser (docs/benchmarks.md, "W5: where the
// time goes"). Nearly every body is `{"sql":"..."}`, sometimes with
// "namespace_id", so that shape is read here by hand.
//
// Invariant: the fast path either yields exactly what encoding/json (with
// UseNumber, trailing data refused) yields for the same bytes, or declines
// and the caller decodes with encoding/json, which also produces every
// error. It declines anything it does not fully handle: other keys
// (including "params" and case variants, which encoding/json matches
// case-insensitively), duplicate keys, null values, strings with escapes,
// control characters or invalid UTF-8 (which encoding/json rewrites),
// and trailing bytes. FuzzSQLRequestFast checks the invariant.

// decodeSQLRequestFast reads body as a sqlRequest; ok is false when the
// caller must use encoding/json instead.
func decodeSQLRequestFast(body []byte) (req sqlRequest, ok bool) {
	i := jsonstr.SkipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return sqlRequest{}, false
	}
	i = jsonstr.SkipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return sqlRequest{}, jsonstr.SkipSpace(body, i+1) == len(body)
	}
	var seenSQL, seenNS bool
	for {
		key, next, ok := jsonstr.ReadPlain(body, i)
		if !ok {
			return sqlRequest{}, false
		}
		i = jsonstr.SkipSpace(body, next)
		if i >= len(body) || body[i] != ':' {
			return sqlRequest{}, false
		}
		val, next, ok := jsonstr.ReadPlain(body, jsonstr.SkipSpace(body, i+1))
		if !ok {
			return sqlRequest{}, false
		}
		switch string(key) {
		case "sql":
			if seenSQL {
				return sqlRequest{}, false
			}
			seenSQL = true
			s := string(val)
			req.SQL = &s
		case "namespace_id":
			if seenNS {
				return sqlRequest{}, false
			}
			seenNS = true
			req.NamespaceID = string(val)
		default:
			return sqlRequest{}, false
		}
		i = jsonstr.SkipSpace(body, next)
		if i >= len(body) {
			return sqlRequest{}, false
		}
		switch body[i] {
		case ',':
			i = jsonstr.SkipSpace(body, i+1)
		case '}':
			return req, jsonstr.SkipSpace(body, i+1) == len(body)
		default:
			return sqlRequest{}, false
		}
	}
}
