package sql

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// TestAppendJSONMatchesEncodingJSON holds the reflection-free encoder to
// encoding/json's output (HTML escaping off, as the HTTP API encodes).
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, int64(0), int64(-1), int64(math.MaxInt64), int64(math.MinInt64),
		0.0, 1.5, -2.25, 1e21, 1e20, 1e-7, 1e-6, 123456789.123, math.SmallestNonzeroFloat64, math.MaxFloat64, -0.000001234,
		"", "plain", `quote " backslash \ slash /`, "tab\tnl\ncr\rbs\bff\f", "\x00\x01\x1f\x7f", "<html>&amp;",
		"héllo wörld ✓ 😀", "bad utf8 \xff\xfe end", "line sep \u2028 para \u2029", strings.Repeat("a", 1000),
	}
	for _, v := range values {
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := string(appendJSONValue(nil, v)); got != want {
			t.Errorf("%#v: got %s want %s", v, got, want)
		}
	}
}

func TestAppendWire(t *testing.T) {
	cases := []struct {
		typ  datatype.Type
		in   any
		want string
	}{
		{datatype.Type{Kind: datatype.BigInt}, int64(1) << 60, `"1152921504606846976"`},
		{datatype.Type{Kind: datatype.Int}, int64(7), `7`},
		{datatype.Type{Kind: datatype.Boolean}, int64(1), `true`},
		{datatype.Type{Kind: datatype.Decimal, Precision: 10, Scale: 2}, 1.5, `"1.50"`},
		{datatype.Type{Kind: datatype.Bytes}, []byte{1, 2}, `"AQI="`},
		{datatype.Type{Kind: datatype.Double}, math.Inf(1), `"+Inf"`},
		{datatype.Type{Kind: datatype.Text}, nil, `null`},
	}
	for _, c := range cases {
		if got := string(appendWire(nil, c.typ, c.in)); got != c.want {
			t.Errorf("%v %#v: got %s want %s", c.typ, c.in, got, c.want)
		}
	}
}

func TestDecodePK(t *testing.T) {
	for _, c := range []struct {
		typ datatype.Type
		v   any
	}{
		{datatype.Type{Kind: datatype.BigInt}, int64(-42)},
		{datatype.Type{Kind: datatype.Text}, "k\x00ey"},
		{datatype.Type{Kind: datatype.Boolean}, true},
		{datatype.Type{Kind: datatype.Timestamp}, int64(1700000000000000)},
	} {
		b, err := keys.EncodePK(c.v)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodePK(c.typ, b)
		if !ok || got != c.v {
			t.Errorf("%v: got %#v, %v", c.v, got, ok)
		}
	}
}
