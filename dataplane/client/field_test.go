package client

import (
	"encoding/json"
	"testing"
)

func TestFieldReadsBothTypeSpellings(t *testing.T) {
	for in, want := range map[string]string{
		`{"name":"a","data_type":"BIGINT","index":1}`:                               "BIGINT",
		`{"name":"a","data_type":"BigInt","index":1}`:                               "BigInt",
		`{"name":"a","data_type":{"Embedding":384},"index":1}`:                      "EMBEDDING(384)",
		`{"name":"a","data_type":{"Decimal":{"precision":18,"scale":4}},"index":1}`: "DECIMAL(18,4)",
		`{"name":"a","data_type":{"Other":1},"index":1}`:                            `{"Other":1}`,
		`{"name":"a","index":1}`:                                                    "",
	} {
		var f Field
		if err := json.Unmarshal([]byte(in), &f); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if f.Name != "a" || f.Index != 1 || f.DataType != want {
			t.Errorf("%s: got %+v, want data_type %q", in, f, want)
		}
	}
	var f Field
	if err := json.Unmarshal([]byte(`{"name":"a","data_type":[1]}`), &f); err == nil {
		t.Error("an array data_type should be refused")
	}
}

// FuzzFieldFast checks decodeFieldFast's invariant: for valid JSON it
// yields what the encoding/json path yields, or declines.
func FuzzFieldFast(f *testing.F) {
	for _, s := range []string{
		`{"name":"id","data_type":"BIGINT","index":0}`,
		` { "index" : 12 , "data_type":"TEXT", "name":"body" } `,
		`{"name":"a","data_type":"BigInt","index":1,"name":"b"}`,
		`{"Name":"a","data_type":"T","index":01}`,
		`{"name":"caf\u00e9","data_type":{"Embedding":3},"index":-1}`,
		`{"name":"a","index":1.0}`, `{}`, `{"name":"é\"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeFieldFast(b)
		if !ok {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("fast path accepted invalid JSON %q", b)
		}
		var slow Field
		if err := slow.decodeSlow(b); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused it: %v", b, err)
		}
		if fast != slow {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
	})
}

func TestFieldFastDeclines(t *testing.T) {
	for _, in := range []string{
		`{"name":"a","data_type":"T","index":1,"name":"b"}`, // repeated key: encoding/json keeps the last
		`{"Name":"a"}`,                             // case-insensitive match: encoding/json's
		`{"name":"a\u00e9"}`,                       // escape
		`{"name":"a","index":-1}`,                  // negative
		`{"name":"a","index":1e0}`,                 // exponent
		`{"name":"a","data_type":{"Embedding":3}}`, // object type
		`{"name":"a"} x`,                           // trailing bytes
	} {
		if f, ok := decodeFieldFast([]byte(in)); ok {
			t.Errorf("%s: fast path accepted it as %+v", in, f)
		}
	}
	f, ok := decodeFieldFast([]byte(` { "index" : 12 , "data_type":"TEXT", "name":"body" } `))
	if !ok || f != (Field{Name: "body", DataType: "TEXT", Index: 12}) {
		t.Errorf("usual shape: %+v %v", f, ok)
	}
}
