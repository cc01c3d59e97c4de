package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestMsgpackFromJSON(t *testing.T) {
	cases := []struct {
		json string
		mp   string // hex
	}{
		{`null`, "c0"},
		{`true`, "c3"},
		{` false `, "c2"},
		{`0`, "00"},
		{`-0`, "00"},
		{`127`, "7f"},
		{`128`, "cc80"},
		{`255`, "ccff"},
		{`256`, "cd0100"},
		{`65536`, "ce00010000"},
		{`4294967296`, "cf0000000100000000"},
		{`9223372036854775807`, "cf7fffffffffffffff"},
		{`9223372036854775808`, "cf8000000000000000"},
		{`18446744073709551615`, "cfffffffffffffffff"},
		{`18446744073709551616`, "cb43f0000000000000"},
		{`-1`, "ff"},
		{`-32`, "e0"},
		{`-33`, "d0df"},
		{`-128`, "d080"},
		{`-129`, "d1ff7f"},
		{`-32769`, "d2ffff7fff"},
		{`-2147483649`, "d3ffffffff7fffffff"},
		{`-9223372036854775808`, "d38000000000000000"},
		{`-9223372036854775809`, "cbc3e0000000000000"},
		{`1.5`, "cb3ff8000000000000"},
		{`1e2`, "cb4059000000000000"},
		{`1E2`, "cb4059000000000000"},
		{`""`, "a0"},
		{`"abc"`, "a3616263"},
		{`"a\"b\\c\/\n\u00e9"`, "a9612262" + "5c632f0a" + "c3a9"},
		{`"\ud83d\ude00"`, "a4f09f9880"},
		{`"\ud83d"`, "a3efbfbd"},
		{`"` + strings.Repeat("x", 32) + `"`, "d920" + strings.Repeat("78", 32)},
		{`"` + strings.Repeat("\\n", 20) + `"`, "b4" + strings.Repeat("0a", 20)}, // raw 40 bytes -> 20: header shrinks
		{`"382711920304820224"`, "b2333832373131393230333034383230323234"},
		{`[]`, "90"},
		{`{}`, "80"},
		{`[1,[2,[]],{"a":null}]`, "93" + "01" + "9202" + "90" + "81a161c0"},
		{`{"type":"change","rows":[{"id":"1","n":-5}]}`, "82a474797065a66368616e6765a4726f777391" + "82a26964a131a16efb"},
	}
	for _, c := range cases {
		got, err := AppendMsgpackFromJSON([]byte{0xee}, []byte(c.json))
		if err != nil {
			t.Errorf("%s: %v", c.json, err)
			continue
		}
		if h := hex.EncodeToString(got[1:]); got[0] != 0xee || h != c.mp {
			t.Errorf("%s: got %s, want %s", c.json, h, c.mp)
		}
	}
	// Containers of 16+ elements take the 16-bit headers.
	arr := "[" + strings.Repeat("1,", 15) + "1]"
	if got, _ := AppendMsgpackFromJSON(nil, []byte(arr)); got[0] != mpArray16 || got[1] != 0 || got[2] != 16 || len(got) != 19 {
		t.Errorf("array of 16: % x", got)
	}
	var obj strings.Builder
	obj.WriteString("{")
	for i := range 70000 {
		if i > 0 {
			obj.WriteString(",")
		}
		obj.WriteString(`"k` + strconv.Itoa(i) + `":0`)
	}
	obj.WriteString("}")
	if got, _ := AppendMsgpackFromJSON(nil, []byte(obj.String())); got[0] != mpMap32 || !bytes.Equal(got[1:5], []byte{0, 1, 0x11, 0x70}) {
		t.Errorf("map of 70000: % x", got[:5])
	}
}

func TestMsgpackFromJSONErrors(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{`, `}`, `[1,]`, `[1 2]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{1:2}`, `[}`, `{]`,
		`tru`, `nul`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `"abc`, `"\x"`, `"\u12"`, "\"a\x01\"",
		`1 2`, `{} x`, `NaN`, `1e400`, `-1e400`, strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1),
	} {
		dst := []byte("keep")
		got, err := AppendMsgpackFromJSON(dst, []byte(in))
		if err == nil {
			t.Errorf("%.40q: no error (% x)", in, got)
			continue
		}
		if string(got) != "keep" {
			t.Errorf("%.40q: dst changed on error: %q", in, got)
		}
		if json.Valid([]byte(in)) && !errors.Is(err, ErrRange) && !errors.Is(err, ErrDepth) {
			t.Errorf("%.40q: valid JSON rejected: %v", in, err)
		}
	}
}

func TestJSONFromMsgpack(t *testing.T) {
	cases := []struct {
		mp   string
		json string
	}{
		{"c0", `null`},
		{"c2", `false`},
		{"c3", `true`},
		{"7f", `127`},
		{"e0", `-32`},
		{"ff", `-1`},
		{"cc80", `128`},
		{"cdffff", `65535`},
		{"ceffffffff", `4294967295`},
		{"cfffffffffffffffff", `18446744073709551615`},
		{"d080", `-128`},
		{"d17fff", `32767`},
		{"d1ff7f", `-129`},
		{"d280000000", `-2147483648`},
		{"d38000000000000000", `-9223372036854775808`},
		{"ca3fc00000", `1.5`},
		{"cb3ff8000000000000", `1.5`},
		{"cb4059000000000000", `100`},
		{"cb8000000000000000", `-0`},
		{"cb3eb0c6f7a0b5ed8d", `0.000001`},
		{"cb3e7ad7f29abcaf48", `1e-7`},
		{"cb444b1ae4d6e2ef50", `1e+21`},
		{"cb4340000000000000", `9.007199254740992e+15`}, // 2^53: no integer-looking digits
		{"cb433fffffffffffff", `9007199254740991`},
		{"a0", `""`},
		{"a3616263", `"abc"`},
		{"d903616263", `"abc"`},
		{"da0003616263", `"abc"`},
		{"db00000003616263", `"abc"`},
		{"a6" + hex.EncodeToString([]byte("\"\\\n\x01\t\r")), `"\"\\\n\u0001\t\r"`},
		{"a2ff41", `"\ufffdA"`},
		{"a2c3a9", `"é"`},
		{"90", `[]`},
		{"dc0000", `[]`},
		{"dd00000001c0", `[null]`},
		{"80", `{}`},
		{"de0001a161c3", `{"a":true}`},
		{"df00000001a161c3", `{"a":true}`},
		{"82a474797065a9737562736372696265a1709101", `{"type":"subscribe","p":[1]}`},
	}
	for _, c := range cases {
		in, _ := hex.DecodeString(c.mp)
		got, err := AppendJSONFromMsgpack([]byte("x"), in)
		if err != nil {
			t.Errorf("%s: %v", c.mp, err)
			continue
		}
		if string(got[1:]) != c.json {
			t.Errorf("%s: got %s, want %s", c.mp, got[1:], c.json)
		}
		if !json.Valid(got[1:]) {
			t.Errorf("%s: invalid JSON %s", c.mp, got[1:])
		}
	}
}

func TestJSONFromMsgpackErrors(t *testing.T) {
	deep := bytes.Repeat([]byte{0x91}, MaxMsgpackDepth+1)
	deep = append(deep, 0xc0)
	okDeep := append(bytes.Repeat([]byte{0x91}, MaxMsgpackDepth), 0xc0)
	if _, err := AppendJSONFromMsgpack(nil, okDeep); err != nil {
		t.Errorf("depth %d: %v", MaxMsgpackDepth, err)
	}
	cases := []struct {
		mp   string
		want error
	}{
		{"", ErrTruncated},
		{"c1", ErrSyntax},
		{"c0c0", ErrSyntax},
		{"cc", ErrTruncated},
		{"cd01", ErrTruncated},
		{"cb00", ErrTruncated},
		{"a3616", ErrTruncated},
		{"d9", ErrTruncated},
		{"dbffffffff61", ErrTruncated},
		{"ddffffffff", ErrTruncated},
		{"dfffffffff", ErrTruncated},
		{"92c0", ErrTruncated},
		{"81a161", ErrTruncated},
		{"8101c0", ErrUnsupported},
		{"81c0c0", ErrUnsupported},
		{"c40101", ErrUnsupported},
		{"d40101", ErrUnsupported},
		{"c7010101", ErrUnsupported},
		{"cb7ff8000000000000", ErrUnsupported},
		{"cb7ff0000000000000", ErrUnsupported},
		{"ca7f800000", ErrUnsupported},
		{hex.EncodeToString(deep), ErrDepth},
	}
	for _, c := range cases {
		in, _ := hex.DecodeString(c.mp)
		got, err := AppendJSONFromMsgpack([]byte("keep"), in)
		if !errors.Is(err, c.want) {
			t.Errorf("%.40s: error %v, want %v", c.mp, err, c.want)
		}
		if string(got) != "keep" {
			t.Errorf("%.40s: dst changed on error: %q", c.mp, got)
		}
	}
}

// TestRoundTrip: JSON -> msgpack -> JSON keeps the value.
func TestRoundTrip(t *testing.T) {
	for _, in := range roundTripSeeds {
		checkRoundTrip(t, []byte(in))
	}
}

var roundTripSeeds = []string{
	`{"type":"initial_data_batch","subscription_id":"s1","rows":[{"id":"382711920304820224","room":"r","body":null,"score":-7,"ratio":0.25,"ok":true,"_seq":"42"}],"batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":"42"}}`,
	`[0,-0,1.0,1e21,1e-7,123456789012345678901234567890,-9223372036854775809,18446744073709551615,3.141592653589793]`,
	`{"s":"\u0000\u001f\"\\\/\b\f\n\r\t\u2028 é 😀 \ud83d\ude00 \udc00"}`,
	`[[[[[[]]]]],{},{"":""}]`,
	` {"a" : [ 1 , 2 ] } `,
}

func checkRoundTrip(t *testing.T, in []byte) {
	t.Helper()
	mp, err := AppendMsgpackFromJSON(nil, in)
	if err != nil {
		if json.Valid(in) && !errors.Is(err, ErrRange) && !errors.Is(err, ErrDepth) {
			t.Fatalf("%q: %v", in, err)
		}
		if !json.Valid(in) && err == nil {
			t.Fatalf("%q: invalid JSON accepted", in)
		}
		return
	}
	if !json.Valid(in) {
		t.Fatalf("%q: invalid JSON accepted", in)
	}
	out, err := AppendJSONFromMsgpack(nil, mp)
	if err != nil {
		if errors.Is(err, ErrDepth) { // JSON allows deeper nesting than msgpack input
			return
		}
		t.Fatalf("%q -> % x: %v", in, mp, err)
	}
	want, got := decodeNumbers(t, in), decodeNumbers(t, out)
	if !reflect.DeepEqual(normalize(want), normalize(got)) {
		t.Fatalf("round trip of %q gave %s", in, out)
	}
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return v
}

// num is a number reduced to its exact value, so that 1.0, 1e0 and 1
// compare equal (the transcoders may change a number's spelling, never
// its value as the mapping defines it).
type num string

// normalize replaces numbers by num: an integer literal that fits 64 bits
// is exact, any other number the float64 it denotes.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := string(v)
		r := new(big.Rat)
		if !strings.ContainsAny(s, ".eE") {
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				r.SetString(s)
				return num(r.RatString())
			}
			if _, err := strconv.ParseUint(s, 10, 64); err == nil {
				r.SetString(s)
				return num(r.RatString())
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		r.SetFloat64(f)
		return num(r.RatString())
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalize(v[k])
		}
	}
	return v
}
