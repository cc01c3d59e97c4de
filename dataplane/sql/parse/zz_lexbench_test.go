package parse

import "testing"

func BenchmarkLexInsert1000(b *testing.B) {
	sql := multiRowInsert(1000)
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		l := lexer{src: sql}
		for {
			t, err := l.next()
			if err != nil {
				b.Fatal(err)
			}
			if t.Kind == TokEOF {
				break
			}
		}
	}
}
