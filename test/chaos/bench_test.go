package chaos

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkW1 is the peerbench W1 shape (one client, sequential
// single-row INSERTs into a shared table) against a single node
// (replicas=1, no Raft) and a 3-node cluster with the client on one node
// (replicas=3: every INSERT commits through a Raft quorum). Reported:
// p50 and p99 latency in ms. Numbers: docs/benchmarks.md.
func BenchmarkW1(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			c := startNodes(b, n, 2)
			cl, err := c.login(c.procs[0], 30*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := cl.SQL(ctx, "CREATE SHARED TABLE default.w1 (id BIGINT PRIMARY KEY, body TEXT)"); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := cl.SQL(ctx, fmt.Sprintf("INSERT INTO default.w1 (id, body) VALUES (%d, 'hello world')", i)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
