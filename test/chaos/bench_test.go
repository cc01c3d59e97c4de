package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
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
			c, admin := benchCluster(b, tc.n, "CREATE SHARED TABLE default.w1 (id BIGINT PRIMARY KEY, body TEXT)")
			ctx := context.Background()
			var err error
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

// benchCluster starts n nodes (2 user groups), logs in as root on node 1
// and runs create there.
func benchCluster(b *testing.B, n int, create string) (*cluster, *client.Client) {
	c := startNodes(b, n, 2)
	admin, err := c.login(c.procs[0], 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := admin.SQL(context.Background(), create); err != nil {
		b.Fatal(err)
	}
	return c, admin
}

// BenchmarkReads is point lookups on a SHARED table of a 3-node cluster
// through the leader of its group, by 1 client (peerbench W3's shape:
// every lookup pays one ReadIndex on meta and one on shared) and by 8
// concurrent clients (whose ReadIndex calls the node shares: readindex.go
// in dataplane/replication), against replicas=1. Reported: p50/p99 per
// lookup in ms and lookups/s. Numbers: docs/benchmarks.md. Compare
// binaries in one sitting with -chaos.bin.
func BenchmarkReads(b *testing.B) {
	for _, tc := range []struct {
		name    string
		n       int
		clients int
	}{{"replicas=1/clients=1", 1, 1}, {"replicas=3/clients=1", 3, 1}, {"replicas=1/clients=8", 1, 8}, {"replicas=3/clients=8", 3, 8}} {
		b.Run(tc.name, func(b *testing.B) {
			c, admin := benchCluster(b, tc.n, "CREATE SHARED TABLE default.r (k BIGINT PRIMARY KEY, v BIGINT)")
			ctx := context.Background()
			var err error
			const rows = 1000
			for i := 0; i < rows; i += 100 {
				q := "INSERT INTO default.r (k, v) VALUES "
				for j := i; j < i+100; j++ {
					if j > i {
						q += ", "
					}
					q += fmt.Sprintf("(%d, %d)", j, j)
				}
				if _, err := admin.SQL(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			via := 0
			if tc.n > 1 {
				if via = c.leaderOf(c.loginAll(30*time.Second), "shared") - 1; via < 0 {
					b.Fatal("no leader of the shared group")
				}
			}
			cls := make([]*client.Client, tc.clients)
			for i := range cls {
				if cls[i], err = c.login(c.procs[via], 30*time.Second); err != nil {
					b.Fatal(err)
				}
			}
			lat := make([][]time.Duration, tc.clients)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for ci := range tc.clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := ci; i < b.N; i += tc.clients {
						t0 := time.Now()
						rs, err := cls[ci].Rows(ctx, fmt.Sprintf("SELECT v FROM default.r WHERE k = %d", rand.IntN(rows)))
						if err != nil || len(rs) != 1 {
							b.Errorf("lookup: %v rows, %v", len(rs), err)
							return
						}
						lat[ci] = append(lat[ci], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			if len(all) == 0 {
				return
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "lookups/s")
		})
	}
}
