package wire

import "testing"

// A typical change frame: one row of a chat table.
var benchFrame = []byte(`{"type":"change","subscription_id":"s1","change_type":"insert","rows":[{"id":"382711920304820224","room":"general","body":"hello there, this is a message body","score":42,"ratio":0.25,"tags":null,"_seq":"382711920304820225"}]}`)

func BenchmarkAppendMsgpackFromJSON(b *testing.B) {
	dst := make([]byte, 0, 1024)
	b.SetBytes(int64(len(benchFrame)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = AppendMsgpackFromJSON(dst[:0], benchFrame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSONFromMsgpack(b *testing.B) {
	mp, err := AppendMsgpackFromJSON(nil, benchFrame)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 1024)
	b.SetBytes(int64(len(mp)))
	b.ReportAllocs()
	for b.Loop() {
		if dst, err = AppendJSONFromMsgpack(dst[:0], mp); err != nil {
			b.Fatal(err)
		}
	}
}
