package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

var benchRoot = kalamsql.Session{UserID: kalamsql.RootUser, Role: auth.RoleSystem, Namespace: "default"}

// coldBenchNode starts an in-process node with a SHARED table shaped like
// the arrow-go anchor (id, user_id, ts, 100-byte text, flag).
func coldBenchNode(b *testing.B) *Node {
	b.Helper()
	cfg := coldConfig(b.TempDir())
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 64, 64
	cfg.Cold.CompactionSegmentThreshold = 0
	cfg.Limits.MaxQueryLimit = 100000
	log := quietLog()
	if os.Getenv("BENCH_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n, err := Start(cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	benchExec(b, n, `CREATE NAMESPACE cb; CREATE SHARED TABLE cb.events (id BIGINT PRIMARY KEY, user_id TEXT, ts BIGINT, body TEXT, flag BOOLEAN)`)
	return n
}

func benchExec(b *testing.B, n *Node, sql string) []kalamsql.Result {
	b.Helper()
	res, err := n.Engine().Execute(context.Background(), benchRoot, kalamsql.Request{SQL: sql})
	if err != nil {
		b.Fatalf("%s: %v", sql[:min(len(sql), 80)], err)
	}
	return res
}

const benchBody = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et"

// benchInsert adds rows [from, to) in 5000-row statements.
func benchInsert(b *testing.B, n *Node, from, to int) {
	b.Helper()
	for start := from; start < to; start += 5000 {
		benchExec(b, n, multiInsert("INSERT INTO cb.events (id, user_id, ts, body, flag) VALUES ", start, min(start+5000, to), benchEventRow))
	}
}

// benchEventRow is row i of the benchmarks' events tables.
func benchEventRow(i int) string {
	return fmt.Sprintf("(%d, 'user-%d', %d, '%s', %v)", i, i%1000, 1700000000000000+int64(i), benchBody, i%3 == 0)
}

// BenchmarkColdFlush measures flush throughput: hot scan, Parquet encode
// (snappy, stats, bloom filters), object write (fsync + rename), manifest
// and commit of 200k rows of one scope. The insert is not timed.
func BenchmarkColdFlush(b *testing.B) {
	n := coldBenchNode(b)
	t, _ := n.Engine().Catalog().Table("cb", "events")
	const rows = 200000
	next := 0
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		benchInsert(b, n, next, next+rows)
		next += rows
		b.StartTimer()
		start := time.Now()
		st, err := n.Cold().FlushNow(context.Background(), t)
		total += time.Since(start)
		if err != nil || st.Rows != rows {
			b.Fatalf("flush: %+v %v", st, err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/total.Seconds(), "rows/s")
}

// coldQueries are the query shapes measured over 20 segments / 200k rows.
var coldQueries = []struct{ name, sql string }{
	{"count", "SELECT count(*) FROM cb.events"},
	{"agg3cols", "SELECT count(*), sum(id), max(body), sum(flag) FROM cb.events"},
	{"range1k", "SELECT id, body FROM cb.events WHERE id >= 100000 AND id < 101000"},
}

// BenchmarkColdQuery is the upstream "flushed-Parquet query over 20 files /
// 200k rows": 20 segments of 10k rows, every row cold. cold-cache empties
// the decoded-segment cache before each query (fetch + decode 20 files);
// warm-cache keeps it. pk-lookup is a primary-key point query.
//
// BENCH_NO_AGG_PUSHDOWN=1 forces aggregates through SQLite (the "before"
// of the aggregate pushdown, measurable in the same sitting).
func BenchmarkColdQuery(b *testing.B) {
	benchPushdown(b)
	n := coldBenchNode(b)
	t, _ := n.Engine().Catalog().Table("cb", "events")
	for f := 0; f < 20; f++ {
		benchInsert(b, n, f*10000, (f+1)*10000)
		if _, err := n.Cold().FlushNow(context.Background(), t); err != nil {
			b.Fatal(err)
		}
	}
	res := benchExec(b, n, coldQueries[0].sql)
	if fmt.Sprint(res[0].Rows[0][0]) != "200000" {
		b.Fatalf("cold query sees %v", res[0].Rows)
	}
	for _, q := range coldQueries {
		b.Run(q.name+"/cold-cache", func(b *testing.B) {
			for b.Loop() {
				n.Cold().Reader().Purge()
				benchExec(b, n, q.sql)
			}
		})
		b.Run(q.name+"/warm-cache", func(b *testing.B) {
			for b.Loop() {
				benchExec(b, n, q.sql)
			}
		})
	}
	b.Run("pk-lookup/warm-cache", func(b *testing.B) {
		i := 0
		for b.Loop() {
			benchExec(b, n, fmt.Sprintf("SELECT body FROM cb.events WHERE id = %d", (i*7919)%200000))
			i++
		}
	})
}

// BenchmarkHotQueryBaseline runs the same queries on the same 200k rows
// left in the hot tier: the cost of the SQL engine itself, for comparison.
func BenchmarkHotQueryBaseline(b *testing.B) {
	benchPushdown(b)
	n := coldBenchNode(b)
	benchInsert(b, n, 0, 200000)
	for _, q := range coldQueries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				benchExec(b, n, q.sql)
			}
		})
	}
}

// benchPushdown applies BENCH_NO_AGG_PUSHDOWN for one benchmark.
func benchPushdown(b *testing.B) {
	if os.Getenv("BENCH_NO_AGG_PUSHDOWN") != "" {
		kalamsql.SetAggregatePushdown(false)
		b.Cleanup(func() { kalamsql.SetAggregatePushdown(true) })
	}
}
