package server

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// decodeSQLRequestSlow is the reference: what decodeBody does without the
// fast path.
func decodeSQLRequestSlow(body []byte) (sqlRequest, error) {
	var req sqlRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return req, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, io.ErrUnexpectedEOF // trailing data
	}
	return req, nil
}

var sqlRequestSeeds = []string{
	`{"sql":"SELECT 1"}`,
	` { "sql" : "INSERT INTO t VALUES (1, 'a')" , "namespace_id" : "app" } `,
	`{"namespace_id":"app","sql":"SELECT * FROM t"}`,
	`{}`,
	`{"sql":""}`,
	`{"sql":"é ☃ 😀"}`,
	`{"sql":"a\"b"}`,        // escape: declined
	`{"sql":"a\u003eb"}`,    // escape: declined
	`{"SQL":"SELECT 1"}`,    // case variant: declined
	`{"sql":"x","sql":"y"}`, // duplicate: declined
	`{"sql":null}`,          // null: declined
	`{"sql":"SELECT $1","params":[1]}`,
	`{"sql":"SELECT 1"} trailing`,
	`{"sql":"SELECT 1"}{"sql":"2"}`,
	`{"sql":"SELECT 1",}`,
	`{"sql":"SELECT 1"`,
	`{"sql":"bad` + "\xff" + `utf8"}`,
	"{\"sql\":\"tab\there\"}",
	`[]`,
	``,
	`{"other":"x"}`,
}

// TestSQLRequestFastAgrees: whenever the fast path accepts a body, the
// result equals encoding/json's and encoding/json accepts it too; and the
// common shapes are accepted.
func TestSQLRequestFastAgrees(t *testing.T) {
	accepted := 0
	for _, s := range sqlRequestSeeds {
		checkSQLRequestFast(t, []byte(s))
		if _, ok := decodeSQLRequestFast([]byte(s)); ok {
			accepted++
		}
	}
	for _, s := range sqlRequestSeeds[:6] {
		if _, ok := decodeSQLRequestFast([]byte(s)); !ok {
			t.Errorf("common shape %q declined", s)
		}
	}
	if accepted != 6 {
		t.Errorf("%d seeds accepted, want exactly the 6 plain ones", accepted)
	}
}

func checkSQLRequestFast(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := decodeSQLRequestFast(body)
	if !ok {
		return
	}
	slow, err := decodeSQLRequestSlow(body)
	if err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: fast %+v (sql %v), encoding/json %+v (sql %v)", body, fast, deref(fast.SQL), slow, deref(slow.SQL))
	}
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func FuzzSQLRequestFast(f *testing.F) {
	for _, s := range sqlRequestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSQLRequestFast(t, body) })
}
