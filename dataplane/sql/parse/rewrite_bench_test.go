package parse

import "testing"

// BenchmarkRewriteTyped is one rewrite of a statement with typed columns
// and a literal compared with a TIMESTAMP column: the work of a
// statement-cache miss.
func BenchmarkRewriteTyped(b *testing.B) {
	const q = "SELECT id, name, score + 0.2 FROM users WHERE ts < '2015-01-01' AND ok = 'yes' AND id BETWEEN 1 AND 100 ORDER BY id LIMIT 10"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Rewrite(q, pgTypedResolver{}, testOpt); err != nil {
			b.Fatal(err)
		}
	}
}
