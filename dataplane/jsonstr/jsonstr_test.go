package jsonstr

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// encodingJSON is what Append must equal: encoding/json without HTML
// escaping.
func encodingJSON(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `q"uote\back`, "\b\f\n\r\t\x00\x01\x1f\x7f", "<a>&", "é☃😀",
		"bad\xffutf8\xc3", "line\u2028sep\u2029", strings.Repeat("x", 300), "\xf0\x9f\x98"}
	for _, s := range cases {
		want := encodingJSON(t, s)
		if got := Append(nil, s); !bytes.Equal(got, want) {
			t.Errorf("Append(string %q) = %s, want %s", s, got, want)
		}
		if got := Append([]byte("x"), []byte(s)); !bytes.Equal(got[1:], want) {
			t.Errorf("Append([]byte %q) = %s, want %s", s, got[1:], want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("é\xff\u2028\x00")
	f.Fuzz(func(t *testing.T, s string) {
		want := encodingJSON(t, s)
		if got := Append(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Fatalf("Append(%q) = %s, want %s", s, got, want)
		}
	})
}
