package pgwire_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// BenchmarkMultirowInsert is peerbench's W2 over pgx: one 1,000-row
// INSERT of five columns as 5,000 binary parameters per operation
// (hack/pgwirebench runs the whole workload against PostgreSQL too).
func BenchmarkMultirowInsert(b *testing.B) {
	n := startNode(b, func(c *config.Config) {
		c.Limits.MaxParams = 5000
		c.RateLimit = config.RateLimitConfig{}
	})
	c := connect(b, n, "root", rootPW)
	ctx := tctx(b)
	if _, err := c.Exec(ctx, "CREATE USER TABLE default.msgs (id BIGINT PRIMARY KEY, user_id TEXT, conversation_id TEXT, body TEXT, created_at TIMESTAMP)"); err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	var sb strings.Builder
	sb.WriteString("INSERT INTO default.msgs (id, user_id, conversation_id, body, created_at) VALUES ")
	for i := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d)", i*5+1, i*5+2, i*5+3, i*5+4, i*5+5)
	}
	body := strings.Repeat("lorem ipsum ", 9)[:100]
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	args := make([]any, rows*5)
	next := int64(1)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range rows {
			id := next
			next++
			args[i*5], args[i*5+1], args[i*5+2], args[i*5+3], args[i*5+4] = id, fmt.Sprintf("u%d", id%10), fmt.Sprintf("c%d", (id/10)%100), body, base.Add(time.Duration(id)*time.Second)
		}
		if _, err := c.Exec(ctx, sb.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}
