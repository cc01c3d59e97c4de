package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// benchNode starts a server with a bench namespace and USER table, logged
// in as a regular user.
func benchNode(b *testing.B) (*Node, *client.Client) {
	b.Helper()
	cfg := testConfig(b.TempDir())
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 64, 64
	cfg.Limits.MaxQueryLimit = 100000
	if os.Getenv("BENCH_NOSYNC") != "" {
		cfg.Storage.SyncWrites = false
	}
	n, err := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	root := client.New("http://" + n.Addr())
	if _, err := root.Login(ctx, "root", rootPW); err != nil {
		b.Fatal(err)
	}
	if _, err := root.SQL(ctx, `CREATE NAMESPACE bench; CREATE USER 'u0' WITH PASSWORD 'bench-user-pw' ROLE user;
		CREATE USER TABLE bench.messages (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	c := client.New("http://" + n.Addr())
	if _, err := c.Login(ctx, "u0", "bench-user-pw"); err != nil {
		b.Fatal(err)
	}
	return n, c
}

func benchRow(id int) string {
	return fmt.Sprintf("(%d,'u0','c%d','%s','2025-01-01T00:00:01.000Z')", id, (id%10000)/100, strings.Repeat("x", 100))
}

func loadRows(b *testing.B, c *client.Client, from, n int) {
	var sb strings.Builder
	for start := from; start < from+n; start += 1000 {
		sb.Reset()
		sb.WriteString("INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES ")
		for i := start; i < start+1000 && i < from+n; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString(benchRow(i))
		}
		if _, err := c.SQL(context.Background(), sb.String()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTTPInsertSingleRow(b *testing.B) {
	n, c := benchNode(b)
	defer n.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.SQL(context.Background(), "INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES "+benchRow(i+1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHTTPInsert1000Rows(b *testing.B) {
	n, c := benchNode(b)
	defer n.Close()
	b.ResetTimer()
	loadRows(b, c, 1, b.N*1000)
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkHTTPPKLookup(b *testing.B) {
	n, c := benchNode(b)
	defer n.Close()
	loadRows(b, c, 1, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := c.Rows(context.Background(), fmt.Sprintf("SELECT * FROM bench.messages WHERE id = %d", i%10000+1))
		if err != nil || len(rows) != 1 {
			b.Fatal(err, len(rows))
		}
	}
}

func BenchmarkHTTPGroupBy10k(b *testing.B) {
	n, c := benchNode(b)
	defer n.Close()
	loadRows(b, c, 1, 10000)
	q := "SELECT conversation_id, count(*), max(created_at) FROM bench.messages GROUP BY conversation_id LIMIT 1000"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := c.Rows(context.Background(), q)
		if err != nil || len(rows) != 100 {
			b.Fatal(err, len(rows))
		}
	}
}
