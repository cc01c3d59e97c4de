// Command loadbench measures the data plane over HTTP on loopback: it starts
// `kalamdb server` on a fresh data dir (or uses --url), then runs the same
// workloads as ../shared/peerbench W1–W4 and prints p50/p99 and rates.
//
// Every loop is bounded by count and by a deadline; the server it started is
// killed on exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/hack/internal/benchserver"
)

func main() {
	bin := flag.String("bin", "bin/kalamdb", "server binary to start (ignored with --url)")
	url := flag.String("url", "", "existing server URL (loopback only)")
	user := flag.String("user", "root", "user")
	password := flag.String("password", "loadbench-root-pw", "password")
	rows := flag.Int("rows", 100000, "rows for the ingest workload (10 users x rows/10)")
	timeout := flag.Duration("timeout", 10*time.Minute, "hard limit for the whole run")
	w3 := flag.Int("w3", 2000, "timed W3 lookups with --mode w34-user")
	mode := flag.String("mode", "w1-w4", "w1-w4 | w4-index (peerbench's W4 shape, without then with CREATE INDEX) | w34-user (peerbench's W3 and W4 as a role-user login)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *url == "" {
		srv, err := benchserver.Start("loadbench", *bin, *password, "KALAMDB_MAX_QUERY_LIMIT=100000")
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
		defer srv.Stop()
		*url = srv.URL
	}
	runFn := run
	switch *mode {
	case "w4-index":
		runFn = runW4Index
	case "w34-user":
		runFn = func(ctx context.Context, url, user, password string, nrows int) error {
			return runW34User(ctx, url, user, password, nrows, *w3)
		}
	}
	if err := runFn(ctx, *url, *user, *password, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

type stats struct {
	name    string
	samples []time.Duration
	elapsed time.Duration
	units   int
	unit    string
}

func (s stats) pct(p float64) time.Duration {
	if len(s.samples) == 0 {
		return 0
	}
	d := append([]time.Duration(nil), s.samples...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(p*float64(len(d))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(d) {
		i = len(d) - 1
	}
	return d[i]
}

func (s stats) print() {
	rate := float64(s.units) / s.elapsed.Seconds()
	fmt.Printf("%-38s n=%-6d p50=%8.3f ms  p99=%8.3f ms  %10.0f %s/s\n", s.name, len(s.samples),
		float64(s.pct(0.5).Microseconds())/1000, float64(s.pct(0.99).Microseconds())/1000, rate, s.unit)
}

func timed(n int, fn func(i int) error) (stats, error) {
	st := stats{samples: make([]time.Duration, 0, n)}
	start := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := fn(i); err != nil {
			return st, err
		}
		st.samples = append(st.samples, time.Since(t0))
	}
	st.elapsed = time.Since(start)
	return st, nil
}

func row(id int) (user, conv, body, created string) {
	u := (id - 1) / 10000
	c := ((id - 1) % 10000) / 100
	return fmt.Sprintf("u%d", u), fmt.Sprintf("c%d", c), strings.Repeat(string(rune('a'+id%26)), 100),
		time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second).Format(time.RFC3339)
}

// setupBench logs in as user and recreates the empty bench.messages USER
// table every workload starts from.
func setupBench(ctx context.Context, url, user, password string) (*client.Client, error) {
	root := client.New(url)
	if _, err := root.Login(ctx, user, password); err != nil {
		return nil, err
	}
	setup := `CREATE NAMESPACE IF NOT EXISTS bench;
		DROP TABLE IF EXISTS bench.messages;
		CREATE USER TABLE bench.messages (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`
	if _, err := root.SQL(ctx, setup); err != nil {
		return nil, err
	}
	return root, nil
}

// insertBatch is the 1000-row INSERT of batch b: rows b*1000+1 .. b*1000+1000.
func insertBatch(b int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES ")
	for i := 0; i < 1000; i++ {
		id := b*1000 + i + 1
		u, c, bd, t := row(id)
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d,'%s','%s','%s','%s')", id, u, c, bd, t)
	}
	return sb.String()
}

func run(ctx context.Context, url, user, password string, nrows int) error {
	root, err := setupBench(ctx, url, user, password)
	if err != nil {
		return err
	}
	// W1: serial single-row inserts.
	st, err := timed(2000, func(i int) error {
		u, c, b, t := row(i + 1)
		_, err := root.SQL(ctx, fmt.Sprintf("INSERT INTO bench.messages (id, user_id, conversation_id, body, created_at) VALUES (%d, '%s', '%s', '%s', '%s')", 1000000+i, u, c, b, t))
		return err
	})
	if err != nil {
		return fmt.Errorf("W1: %w", err)
	}
	st.name, st.units, st.unit = "W1 single-row INSERT (serial)", 2000, "rows"
	st.print()

	// W2: 1,000-row multi-row inserts; rows belong to 10 users (the caller's
	// USER table holds them all: the per-user split is by login below).
	per := nrows / 10
	users := make([]*client.Client, 10)
	for u := range users {
		name := fmt.Sprintf("u%d", u)
		if _, err := root.SQL(ctx, fmt.Sprintf("CREATE USER IF NOT EXISTS '%s' WITH PASSWORD 'bench-user-pw' ROLE user", name)); err != nil {
			return err
		}
		users[u] = client.New(url)
		if _, err := users[u].Login(ctx, name, "bench-user-pw"); err != nil {
			return err
		}
	}
	st, err = timed(nrows/1000, func(b int) error {
		_, err := users[(b*1000)/per].SQL(ctx, insertBatch(b))
		return err
	})
	if err != nil {
		return fmt.Errorf("W2: %w", err)
	}
	st.name, st.units, st.unit = "W2 1000-row INSERT (per batch)", nrows, "rows"
	st.print()

	// W3: PK lookups by user u0 on its 10k rows.
	rng := rand.New(rand.NewSource(42))
	for i := 0; i < 50; i++ {
		if _, err := users[0].SQL(ctx, fmt.Sprintf("SELECT * FROM bench.messages WHERE id = %d", rng.Intn(per)+1)); err != nil {
			return err
		}
	}
	st, err = timed(2000, func(int) error {
		id := rng.Intn(per) + 1
		rows, err := users[0].Rows(ctx, fmt.Sprintf("SELECT * FROM bench.messages WHERE id = %d", id))
		if err == nil && len(rows) != 1 {
			err = fmt.Errorf("id %d: %d rows", id, len(rows))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("W3: %w", err)
	}
	st.name, st.units, st.unit = "W3 PK lookup (serial)", 2000, "lookups"
	st.print()

	// W4: GROUP BY over one user's 10k rows.
	q := "SELECT conversation_id, count(*), max(created_at) FROM bench.messages GROUP BY conversation_id LIMIT 1000"
	for i := 0; i < 3; i++ {
		if _, err := users[0].SQL(ctx, q); err != nil {
			return err
		}
	}
	st, err = timed(50, func(int) error {
		rows, err := users[0].Rows(ctx, q)
		if err == nil && len(rows) != 100 {
			err = fmt.Errorf("%d groups, want 100", len(rows))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("W4: %w", err)
	}
	st.name, st.units, st.unit = "W4 GROUP BY over 10k user rows", 50, "queries"
	st.print()
	return nil
}
