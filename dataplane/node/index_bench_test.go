package node

import (
	"context"
	"fmt"
	"strings"
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

// BenchmarkIndexW4Shape is peerbench's KalamDB W4 shape in process: 100k
// rows in the caller's partition, 10 user_id values, GROUP BY over the
// 10k rows of one value, without and with an index on user_id.
func BenchmarkIndexW4Shape(b *testing.B) {
	n, c := benchNode(b)
	defer n.Close()
	ctx := context.Background()
	if _, err := c.SQL(ctx, `CREATE USER TABLE bench.w4 (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for start := 1; start <= 100000; start += 1000 {
		q := multiInsert("INSERT INTO bench.w4 (id, user_id, conversation_id, body, created_at) VALUES ", start, start+1000, func(i int) string {
			return fmt.Sprintf("(%d,'u%d','c%d','%s','2025-01-01T00:00:01.000Z')", i, (i-1)/10000, ((i-1)%10000)/100, strings.Repeat("x", 100))
		})
		if _, err := c.SQL(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	q := "SELECT conversation_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM bench.w4 WHERE user_id = 'u0' GROUP BY conversation_id LIMIT 1000"
	run := func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := c.Rows(ctx, q)
			if err != nil || len(rows) != 100 {
				b.Fatalf("%d rows, %v", len(rows), err)
			}
		}
	}
	b.Run("unindexed", run)
	if _, err := c.SQL(ctx, "CREATE INDEX w4_user ON bench.w4 (user_id)"); err != nil {
		b.Fatal(err)
	}
	b.Run("indexed", run)
}
