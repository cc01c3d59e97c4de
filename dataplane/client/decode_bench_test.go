package client

import (
	"bytes"
	"encoding/json"
	"testing"
)

// pkLookupBody is the server's answer to peerbench's W3 lookup (one row of
// bench.messages), the response the HTTP W3 loop decodes per request.
const pkLookupBody = `{"status":"success","results":[{"schema":[{"name":"id","data_type":"BIGINT","index":0},{"name":"user_id","data_type":"TEXT","index":1},{"name":"conversation_id","data_type":"TEXT","index":2},{"name":"body","data_type":"TEXT","index":3},{"name":"created_at","data_type":"TIMESTAMP","index":4}],"rows":[["4242","u2","c42","alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa queb","2025-01-01T01:10:42Z"]],"row_count":1}],"took":0.031}
`

// BenchmarkDecodePKLookupResponse is the client's share of an HTTP W3
// lookup: decoding the envelope (post's decoder, UseNumber).
func BenchmarkDecodePKLookupResponse(b *testing.B) {
	body := []byte(pkLookupBody)
	b.ReportAllocs()
	for b.Loop() {
		var out Response
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil || len(out.Results[0].Rows) != 1 || out.Results[0].Schema[4].DataType != "TIMESTAMP" {
			b.Fatal(err, out)
		}
	}
}

// BenchmarkEncodeSQLRequest is the client's encoding of a request body.
func BenchmarkEncodeSQLRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sqlBody("SELECT id, user_id, conversation_id, body, created_at FROM bench.messages WHERE id = 4242", nil, ""); err != nil {
			b.Fatal(err)
		}
	}
}
