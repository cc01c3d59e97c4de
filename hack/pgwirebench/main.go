// Command pgwirebench runs ../shared/peerbench's W1, W2 (multirow-insert),
// W3 and W5 workloads — same rows (MakeRow), same counts, same seeds — with
// pgx against KalamDB's PostgreSQL listener and against PostgreSQL, in one
// sitting, and prints p50/p99 and rates with the ratios
// (docs/benchmarks.md). The KalamDB node runs in this process (loopback
// listener); PostgreSQL is the private cluster hack/pg-private.sh starts
// and stops around this command (`make bench-pgwire`), or --pg. --w3-user
// runs only W3, KalamDB's side as a role-user login (w3user.go). Every loop
// is bounded by count and by --timeout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
)

// Row and MakeRow are peerbench's (target.go), byte for byte.
type Row struct {
	ID             int64
	UserID         string
	ConversationID string
	Body           string
	CreatedAt      time.Time
}

const (
	numUsers         = 10
	numConversations = 100
	bodyLen          = 100
)

var baseTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

var lorem = func() string {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
		"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec",
		"romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu"}
	b := make([]byte, 0, 8192)
	x := uint32(2463534242)
	for len(b) < 8000 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b = append(b, words[x%uint32(len(words))]...)
		b = append(b, ' ')
	}
	return string(b)
}()

func makeRow(id int64) Row {
	off := int((id * 37) % int64(len(lorem)-bodyLen))
	return Row{ID: id, UserID: fmt.Sprintf("u%d", id%numUsers), ConversationID: fmt.Sprintf("c%d", (id/numUsers)%numConversations),
		Body: lorem[off : off+bodyLen], CreatedAt: baseTime.Add(time.Duration(id) * time.Second)}
}

const insertSQL = `INSERT INTO %s (id, user_id, conversation_id, body, created_at) VALUES ($1, $2, $3, $4, $5)`

type target struct {
	name  string
	conn  *pgx.Conn
	table string
	ddl   string
}

type result struct {
	p50, p99 time.Duration
	rate     float64
	n        int
}

func summarize(lat []time.Duration, el time.Duration, units int) result {
	if len(lat) == 0 {
		return result{}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], rate: float64(units) / el.Seconds(), n: len(lat)}
}

func (t *target) reset(ctx context.Context) error {
	if _, err := t.conn.Exec(ctx, "DROP TABLE IF EXISTS "+t.table); err != nil {
		return err
	}
	_, err := t.conn.Exec(ctx, fmt.Sprintf(t.ddl, t.table))
	return err
}

func runW1(ctx context.Context, t *target, n int) (result, error) {
	if err := t.reset(ctx); err != nil {
		return result{}, err
	}
	q := fmt.Sprintf(insertSQL, t.table)
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		r := makeRow(int64(i))
		t0 := time.Now()
		if _, err := t.conn.Exec(ctx, q, r.ID, r.UserID, r.ConversationID, r.Body, r.CreatedAt); err != nil {
			return result{}, fmt.Errorf("W1 insert %d: %w", i, err)
		}
		lat = append(lat, time.Since(t0))
	}
	return summarize(lat, time.Since(start), len(lat)), nil
}

func runW2(ctx context.Context, t *target, rows, batch int) (result, error) {
	if err := t.reset(ctx); err != nil {
		return result{}, err
	}
	return loadRows(ctx, t, rows, batch)
}

// loadRows is W2's timed part: rows 1..rows as batch-row multi-row INSERTs.
func loadRows(ctx context.Context, t *target, rows, batch int) (result, error) {
	var lat []time.Duration
	start := time.Now()
	for from := 1; from <= rows && ctx.Err() == nil; from += batch {
		n := min(batch, rows-from+1)
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s (id, user_id, conversation_id, body, created_at) VALUES ", t.table)
		args := make([]any, 0, n*5)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d)", i*5+1, i*5+2, i*5+3, i*5+4, i*5+5)
			r := makeRow(int64(from + i))
			args = append(args, r.ID, r.UserID, r.ConversationID, r.Body, r.CreatedAt)
		}
		t0 := time.Now()
		if _, err := t.conn.Exec(ctx, sb.String(), args...); err != nil {
			return result{}, fmt.Errorf("W2 batch at %d: %w", from, err)
		}
		lat = append(lat, time.Since(t0))
	}
	return summarize(lat, time.Since(start), rows), nil
}

func runW3(ctx context.Context, t *target, rows, lookups int) (result, error) {
	q := fmt.Sprintf(`SELECT id, user_id, conversation_id, body, created_at FROM %s WHERE id = $1`, t.table)
	rng := rand.New(rand.NewPCG(1, 2))
	get := func(id int64) error {
		var r Row
		return t.conn.QueryRow(ctx, q, id).Scan(&r.ID, &r.UserID, &r.ConversationID, &r.Body, &r.CreatedAt)
	}
	for range 50 {
		_ = get(1 + rng.Int64N(int64(rows)))
	}
	lat := make([]time.Duration, 0, lookups)
	start := time.Now()
	for i := 0; i < lookups && ctx.Err() == nil; i++ {
		id := 1 + rng.Int64N(int64(rows))
		t0 := time.Now()
		if err := get(id); err != nil {
			return result{}, fmt.Errorf("W3 lookup %d: %w", id, err)
		}
		lat = append(lat, time.Since(t0))
	}
	return summarize(lat, time.Since(start), len(lat)), nil
}

// runW5 is peerbench's W5: one subscriber, 500 inserts paced at 100/s;
// latency from just before the insert is sent until the subscriber read
// the event. PostgreSQL: an AFTER INSERT trigger doing pg_notify and a
// LISTEN connection. KalamDB: SUBSCRIBE TO + LISTEN on its subscription.
func runW5(ctx context.Context, t *target, listenDSN string, inserts int) (result, error) {
	sub, err := pgx.Connect(ctx, listenDSN)
	if err != nil {
		return result{}, err
	}
	defer sub.Close(context.Background())
	if t.name == "postgres" {
		if _, err := t.conn.Exec(ctx, `CREATE OR REPLACE FUNCTION bench_notify() RETURNS trigger AS $$
BEGIN PERFORM pg_notify('messages', row_to_json(NEW)::text); RETURN NEW; END $$ LANGUAGE plpgsql`); err != nil {
			return result{}, err
		}
		if _, err := t.conn.Exec(ctx, "CREATE TRIGGER bench_notify AFTER INSERT ON "+t.table+" FOR EACH ROW EXECUTE FUNCTION bench_notify()"); err != nil {
			return result{}, err
		}
		if _, err := sub.Exec(ctx, "LISTEN messages"); err != nil {
			return result{}, err
		}
	} else {
		var status, url, id, q, opts string
		if err := sub.QueryRow(ctx, "SUBSCRIBE TO "+t.table+" WHERE id >= 1000000").Scan(&status, &url, &id, &q, &opts); err != nil {
			return result{}, err
		}
		if _, err := sub.Exec(ctx, `LISTEN "`+id+`"`); err != nil {
			return result{}, err
		}
	}
	sent := make([]time.Time, inserts)
	got := make(chan time.Duration, inserts)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			n, err := sub.WaitForNotification(wctx)
			if err != nil {
				return
			}
			at := time.Now()
			for _, id := range idsIn(n.Payload) {
				if i := int(id - 1000000); i >= 0 && i < inserts {
					got <- at.Sub(sent[i])
				}
			}
		}
	}()
	q := fmt.Sprintf(insertSQL, t.table)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for i := range inserts {
		<-tick.C
		r := makeRow(int64(1000000 + i))
		sent[i] = time.Now()
		if _, err := t.conn.Exec(ctx, q, r.ID, r.UserID, r.ConversationID, r.Body, r.CreatedAt); err != nil {
			return result{}, fmt.Errorf("W5 insert %d: %w", i, err)
		}
	}
	var lat []time.Duration
	timeout := time.After(15 * time.Second)
	for len(lat) < inserts {
		select {
		case d := <-got:
			lat = append(lat, d)
		case <-timeout:
			fmt.Fprintf(os.Stderr, "%s W5: %d of %d events arrived\n", t.name, len(lat), inserts)
			return summarize(lat, time.Since(start), len(lat)), nil
		}
	}
	return summarize(lat, time.Since(start), len(lat)), nil
}

// idsIn finds the "id" values in a notification payload: PostgreSQL's
// row_to_json (a number) or a KalamDB change message (rows[].id, a string).
func idsIn(payload string) []int64 {
	var msg struct {
		ID   json.Number      `json:"id"`
		Rows []map[string]any `json:"rows"`
	}
	d := json.NewDecoder(strings.NewReader(payload))
	d.UseNumber()
	if d.Decode(&msg) != nil {
		return nil
	}
	var out []int64
	if n, err := msg.ID.Int64(); err == nil {
		out = append(out, n)
	}
	for _, r := range msg.Rows {
		switch v := r["id"].(type) {
		case string:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out = append(out, n)
			}
		case json.Number:
			if n, err := v.Int64(); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// startKalam starts an in-process node with the listener on a free
// loopback port; stop closes it and removes its data. The DSN is root's.
func startKalam() (dsn string, stop func(), err error) {
	addr, stop, err := startKalamAddr()
	if err != nil {
		return "", nil, err
	}
	return "postgres://root:" + kalamRootPW + "@" + addr + "/kalamdb?sslmode=disable", stop, nil
}

const kalamRootPW = "pgwirebench-root-pw"

func startKalamAddr() (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "pgwirebench-kalam-")
	if err != nil {
		return "", nil, err
	}
	cfg := config.Default()
	cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 0
	cfg.Storage.DataPath = dir
	cfg.Auth.RootPassword = kalamRootPW
	cfg.Limits.MaxParams = 5000 // W2's 1,000-row INSERT has 5,000 parameters
	// A benchmark sends as fast as it can; PostgreSQL has no rate limit either.
	cfg.RateLimit = config.RateLimitConfig{}
	cfg.PostgresWire.Enabled, cfg.PostgresWire.Port = true, 0
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return n.PostgresAddr(), func() { n.Close(); os.RemoveAll(dir) }, nil
}

func main() {
	pgDSN := flag.String("pg", os.Getenv("PG_PRIVATE_DSN"), "PostgreSQL to compare with (default: the private one hack/pg-private.sh starts; run `make bench-pgwire`)")
	w1 := flag.Int("w1", 2000, "W1 single-row inserts")
	rows := flag.Int("rows", 100000, "W2 rows (loaded table for W3)")
	w3 := flag.Int("w3", 2000, "W3 lookups")
	w5 := flag.Int("w5", 500, "W5 paced inserts (100/s) observed by one subscriber")
	timeout := flag.Duration("timeout", 15*time.Minute, "hard limit for the whole run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (client and KalamDB) to the file")
	w3User := flag.Bool("w3-user", false, "run only W2 (load) and W3, KalamDB's side as a login of role user (root creates the table and the login), the way applications read; W3's rounds interleave the two targets")
	rounds := flag.Int("rounds", 3, "W3 rounds per target with --w3-user (interleaved: postgres, kalamdb, postgres, …)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgwirebench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *pgDSN == "" {
		fmt.Fprintln(os.Stderr, "pgwirebench: no PostgreSQL: run it as `bash hack/pg-private.sh go run ./hack/pgwirebench` (make bench-pgwire) or pass --pg")
		os.Exit(2)
	}
	runFn := func() error { return run(ctx, *pgDSN, *w1, *rows, *w3, *w5) }
	if *w3User {
		runFn = func() error { return runW3User(ctx, *pgDSN, *rows, *w3, *rounds) }
	}
	if err := runFn(); err != nil {
		fmt.Fprintln(os.Stderr, "pgwirebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, pgDSN string, w1, rows, w3, w5 int) error {
	kDSN, stopK, err := startKalam()
	if err != nil {
		return err
	}
	defer stopK()
	const cols = "(id BIGINT PRIMARY KEY, user_id TEXT, conversation_id TEXT, body TEXT, created_at TIMESTAMP)"
	targets := []*target{
		{name: "postgres", table: "messages", ddl: "CREATE TABLE %s " + cols},
		{name: "kalamdb-pgwire", table: "messages", ddl: "CREATE USER TABLE %s " + cols},
	}
	dsns := []string{pgDSN, kDSN}
	for i, dsn := range dsns {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("while connecting to %s: %w", targets[i].name, err)
		}
		defer c.Close(context.Background())
		targets[i].conn = c
	}
	type line struct{ w, t string }
	res := map[line]result{}
	for _, t := range targets {
		r, err := runW1(ctx, t, w1)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		res[line{"W1", t.name}] = r
		if r, err = runW2(ctx, t, rows, 1000); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		res[line{"W2", t.name}] = r
		if r, err = runW3(ctx, t, rows, w3); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		res[line{"W3", t.name}] = r
	}
	for i, t := range targets {
		r, err := runW5(ctx, t, dsns[i], w5)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		res[line{"W5", t.name}] = r
	}
	fmt.Printf("%-4s %-16s %10s %10s %12s\n", "W", "target", "p50", "p99", "rate")
	for _, w := range []string{"W1", "W2", "W3", "W5"} {
		for _, t := range targets {
			r := res[line{w, t.name}]
			fmt.Printf("%-4s %-16s %10s %10s %12.0f\n", w, t.name, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.rate)
		}
		pg, k := res[line{w, "postgres"}], res[line{w, "kalamdb-pgwire"}]
		fmt.Printf("%-4s ratio kalamdb/postgres: p50 %.2fx, rate %.2fx\n", w, float64(k.p50)/float64(pg.p50), k.rate/pg.rate)
	}
	return nil
}
