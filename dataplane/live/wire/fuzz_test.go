package wire

import (
	"encoding/hex"
	"encoding/json"
	"testing"
)

// FuzzRoundTrip: any input JSON either is rejected (invalid, or valid
// but out of range or too deep) or survives JSON -> msgpack -> JSON with
// its value unchanged.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range roundTripSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a":[1,2,{"b":null}],"c":"\u00e9"}`))
	f.Add([]byte(`1e400`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRoundTrip(t, in)
	})
}

// FuzzJSONFromMsgpack: arbitrary bytes never panic; the result is an
// error or valid JSON, which transcodes back to msgpack.
func FuzzJSONFromMsgpack(f *testing.F) {
	for _, h := range []string{
		"82a474797065a9737562736372696265a1709101", "93c0c3c2", "dc0000", "ddffffffff", "dbffffffff61",
		"cb7ff8000000000000", "ca3fc00000", "a2ff41", "81a161d3ffffffffffffffff", "c40101",
	} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := AppendJSONFromMsgpack(nil, in)
		if err != nil {
			if len(out) != 0 {
				t.Fatalf("output %q with error %v", out, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("% x: invalid JSON %q", in, out)
		}
		if _, err := AppendMsgpackFromJSON(nil, out); err != nil {
			t.Fatalf("% x -> %s: %v", in, out, err)
		}
	})
}
