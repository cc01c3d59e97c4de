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
