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
// (replicas=3: every INSERT commits through a Raft quorum), the client on
// the leader of the table's group or on a follower. Reported:
// p50 and p99 latency in ms. Numbers: docs/benchmarks.md.
func BenchmarkW1(b *testing.B) {
	for _, tc := range []struct {
		name     string
		n        int
		toLeader bool
	}{{"replicas=1", 1, false}, {"replicas=3/via-leader", 3, true}, {"replicas=3/via-follower", 3, false}} {
		b.Run(tc.name, func(b *testing.B) {
			c := startNodes(b, tc.n, 2)
			ctx := context.Background()
			admin, err := c.login(c.procs[0], 30*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := admin.SQL(ctx, "CREATE SHARED TABLE default.w1 (id BIGINT PRIMARY KEY, body TEXT)"); err != nil {
				b.Fatal(err)
			}
			via := 0
			if tc.n > 1 {
				leader := c.leaderOf(c.loginAll(30*time.Second), "shared")
				if leader == 0 {
					b.Fatal("no leader of the shared group")
				}
				via = leader - 1
				if !tc.toLeader {
					via = leader % len(c.procs) // another node: a follower
				}
			}
			cl := admin
			if via != 0 {
				if cl, err = c.login(c.procs[via], 30*time.Second); err != nil {
					b.Fatal(err)
				}
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
