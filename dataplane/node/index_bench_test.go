package node

import (
	"context"
	"testing"
)

// BenchmarkIndexEqualityLookup: `WHERE conversation_id = ?` (1,000 of
// 100,000 rows in the caller's partition) with and without an index on
// the column, through the HTTP API.
func BenchmarkIndexEqualityLookup(b *testing.B) {
	n, c := benchNode(b)
	defer n.Close()
	loadRows(b, c, 1, 100000)
	q := "SELECT id, created_at FROM bench.messages WHERE conversation_id = 'c42' LIMIT 100000"
	run := func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := c.Rows(context.Background(), q)
			if err != nil || len(rows) != 1000 {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		}
	}
	b.Run("unindexed", run)
	if _, err := c.SQL(context.Background(), "CREATE INDEX messages_conv ON bench.messages (conversation_id)"); err != nil {
		b.Fatal(err)
	}
	before := n.Engine().ScanStats()
	b.Run("indexed", run)
	if after := n.Engine().ScanStats(); after.IndexScans == before.IndexScans {
		b.Fatalf("the index was not used: %+v", after)
	} else {
		b.Logf("rows read per query: %d", (after.RowsRead-before.RowsRead)/(after.IndexScans-before.IndexScans))
	}
}
