package pgdiff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// TestRecorded runs the corpus against our server and compares every
// answer with PostgreSQL's recorded one (no PostgreSQL needed). Any
// difference not in allowlist.txt with its kind fails, and so does an
// allow-list entry that no longer differs (the list only shrinks).
func TestRecorded(t *testing.T) {
	corpus := loadCorpus(t)
	want, err := ReadExpected(".")
	if err != nil {
		t.Fatal(err)
	}
	ours := runOurs(t, corpus)
	check(t, corpus, want, ours)
}

// TestLive (make pgdiff) loads the fixture into the PostgreSQL at
// $PGDIFF_PG (host:port, trust authentication), runs the corpus there and
// against our server, and fails on differences not in the allow-list. It
// also fails when the recorded answers are stale; PGDIFF_RECORD=1 rewrites
// them instead.
func TestLive(t *testing.T) {
	addr := os.Getenv("PGDIFF_PG")
	if addr == "" {
		t.Skip("PGDIFF_PG is not set: run `make pgdiff`, which starts a private PostgreSQL")
	}
	corpus := loadCorpus(t)
	pg := runPG(t, addr, corpus)
	if os.Getenv("PGDIFF_RECORD") == "1" {
		byFile := map[string][]Query{}
		for _, q := range corpus {
			byFile[q.File] = append(byFile[q.File], q)
		}
		old, _ := filepath.Glob(filepath.Join("expected", "*.expected"))
		for _, f := range old {
			os.Remove(f)
		}
		for f, qs := range byFile {
			if err := WriteExpected(filepath.Join("expected", strings.TrimSuffix(f, ".sql")+".expected"), qs, pg); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		rec, err := ReadExpected(".")
		if err != nil {
			t.Fatal(err)
		}
		stale := 0
		for _, q := range corpus {
			r, ok := rec[q.Key()]
			if k, d := Compare(q, pg[q.Key()], r); !ok || k != "" {
				stale++
				if stale <= 10 {
					t.Errorf("%s:%d: recorded answer differs from live PostgreSQL (%s %s); run `make pgdiff-record`", q.File, q.Line, k, d)
				}
			}
		}
	}
	check(t, corpus, pg, runOurs(t, corpus))
}

func loadCorpus(t *testing.T) []Query {
	t.Helper()
	corpus, err := LoadCorpus(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) == 0 {
		t.Fatal("empty corpus")
	}
	return corpus
}

// check compares our answers with PostgreSQL's under the allow-list.
func check(t *testing.T, corpus []Query, pg, ours map[string]Answer) {
	t.Helper()
	allow, err := LoadAllowlist("allowlist.txt")
	if err != nil {
		t.Fatal(err)
	}
	var report, unlisted strings.Builder
	counts := map[string]int{}
	inCorpus := map[string]bool{}
	var errs struct{ queries, exact int } // PostgreSQL errors; ours with the same SQLSTATE
	failures := 0
	fail := func(format string, args ...any) {
		failures++
		msg := fmt.Sprintf(format, args...)
		report.WriteString(msg + "\n")
		if failures <= 40 {
			t.Error(msg)
		}
	}
	for _, q := range corpus {
		key := q.Key()
		inCorpus[key] = true
		want, ok := pg[key]
		if !ok {
			fail("%s:%d: no recorded PostgreSQL answer; run `make pgdiff-record`", q.File, q.Line)
			continue
		}
		kind, detail := Compare(q, want, ours[key])
		if want.Err != "" {
			errs.queries++
			if kind == "" {
				errs.exact++
			}
		}
		entry, listed := allow[key]
		switch {
		case kind == "" && listed:
			fail("%s:%d: allow-listed (allowlist.txt:%d, %s) but now answers like PostgreSQL: remove the entry", q.File, q.Line, entry.Line, entry.Kind)
		case kind == "":
		case listed && entry.Kind == kind:
			counts["allowed "+kind]++
			fmt.Fprintf(&report, "allowed %s:%d %s: %s\n", q.File, q.Line, kind, detail)
		default:
			counts[kind]++
			fmt.Fprintf(&unlisted, "%s: %s\n", kind, key)
			fail("%s:%d: %s: %s\n\t%s\n\tallow-list line: %s: %s", q.File, q.Line, kind, detail, q.SQL, kind, key)
		}
	}
	for key, e := range allow {
		if !inCorpus[key] {
			fail("allowlist.txt:%d: query not in the corpus: %s", e.Line, key)
		}
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	summary := fmt.Sprintf("%d queries; differences:", len(corpus))
	for _, k := range keys {
		summary += fmt.Sprintf(" %s=%d", k, counts[k])
	}
	summary += fmt.Sprintf("; PostgreSQL raises in %d, we with the same SQLSTATE in %d", errs.queries, errs.exact)
	t.Log(summary)
	if p := os.Getenv("PGDIFF_REPORT"); p != "" {
		_ = os.WriteFile(p, []byte(summary+"\n"+report.String()), 0o644)
	}
	if p := os.Getenv("PGDIFF_UNLISTED"); p != "" {
		// For reviewing: the differences not in the allow-list, in its format.
		_ = os.WriteFile(p, []byte(unlisted.String()), 0o644)
	}
	if failures > 40 {
		t.Errorf("... %d failures in all (set PGDIFF_REPORT=file for the full list)", failures)
	}
}

const rootPW = "root-password-for-pgdiff"

func password(user string) string { return user + "-password-for-pgdiff" }

// runOurs starts an in-process server in a temporary directory, loads the
// fixture and runs the corpus as the querying user.
func runOurs(t *testing.T, corpus []Query) map[string]Answer {
	t.Helper()
	srv, err := startOurs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	out := make(map[string]Answer, len(corpus))
	for _, q := range corpus {
		out[q.Key()] = srv.answer(q.SQL)
	}
	return out
}

// ourServer is an in-process server with the fixture loaded.
type ourServer struct {
	n *node.Node
	c *client.Client // the querying user
}

func (s *ourServer) close() { s.n.Close() }

func (s *ourServer) answer(sql string) Answer {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return ourAnswer(ctx, s.c, sql)
}

// startOurs starts a server with its data in dir and loads the fixture.
func startOurs(dir string) (*ourServer, error) {
	cfg := config.Default()
	cfg.Server.Port = 0
	cfg.Storage.DataPath = dir
	cfg.Storage.BlockCacheSizeMB = 8
	cfg.Storage.MemtableSizeMB = 8
	cfg.Auth.RootPassword = rootPW
	cfg.Auth.BcryptCost = 4
	// The oracle sends thousands of queries as fast as it can: no rate limits.
	cfg.RateLimit = config.RateLimitConfig{}
	cfg.Cold.SchedulerTickMS = 50
	// PostgreSQL has no implicit row limit; the fixture's answers are small.
	cfg.Limits.DefaultQueryLimit = 100000
	cfg.Limits.MaxQueryLimit = 100000
	// The PostgreSQL listener too, for the corpus over the wire (wire_test.go).
	cfg.PostgresWire.Enabled = true
	cfg.PostgresWire.Host = "127.0.0.1"
	cfg.PostgresWire.Port = 0
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, fmt.Errorf("while starting the server: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	fail := func(err error) (*ourServer, error) {
		n.Close()
		return nil, err
	}
	clients := map[string]*client.Client{}
	login := func(user, pw string) (*client.Client, error) {
		if c := clients[user]; c != nil {
			return c, nil
		}
		c := client.New("http://" + n.Addr())
		if _, err := c.Login(ctx, user, pw); err != nil {
			return nil, fmt.Errorf("while logging in %s: %w", user, err)
		}
		clients[user] = c
		return c, nil
	}
	root, err := login("root", rootPW)
	if err != nil {
		return fail(err)
	}
	for _, st := range OurSetup(password) {
		if st.Flush != "" {
			if err := flush(ctx, root, st.Flush); err != nil {
				return fail(err)
			}
			continue
		}
		pw := password(st.Who)
		if st.Who == "root" {
			pw = rootPW
		}
		c, err := login(st.Who, pw)
		if err != nil {
			return fail(err)
		}
		if _, err := c.SQL(ctx, st.SQL); err != nil {
			return fail(fmt.Errorf("fixture: %s: %w", st.SQL, err))
		}
	}
	c, err := login(Querier, password(Querier))
	if err != nil {
		return fail(err)
	}
	return &ourServer{n: n, c: c}, nil
}

func ourAnswer(ctx context.Context, c *client.Client, sql string) Answer {
	res, err := c.SQL(ctx, sql)
	var ae *client.APIError
	if errors.As(err, &ae) {
		return Answer{Err: ae.Code, State: (&kalamsql.Error{Code: ae.Code, Message: ae.Message}).SQLState()}
	}
	if err != nil {
		return Answer{Err: "CLIENT: " + err.Error()}
	}
	if len(res.Results) == 0 {
		return Answer{Err: "NO_RESULT"}
	}
	r := res.Results[len(res.Results)-1]
	a := Answer{Cols: []string{}, Rows: [][]*string{}}
	for _, f := range r.Schema {
		a.Cols = append(a.Cols, f.Name)
	}
	for _, row := range r.Rows {
		vals := make([]*string, len(row))
		for i, v := range row {
			dt := ""
			if i < len(r.Schema) {
				dt = r.Schema[i].DataType
			}
			vals[i] = RenderOurs(dt, v)
		}
		a.Rows = append(a.Rows, vals)
	}
	return a
}

// flush runs STORAGE FLUSH TABLE and waits for its job.
func flush(ctx context.Context, root *client.Client, table string) error {
	res, err := root.SQL(ctx, "STORAGE FLUSH TABLE "+table)
	if err != nil || len(res.Results) == 0 || len(res.Results[0].Rows) != 1 {
		return fmt.Errorf("while flushing %s: %v", table, err)
	}
	id := fmt.Sprint(res.Results[0].Rows[0][0])
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		res, err := root.SQL(ctx, "SELECT status, error_message FROM system.jobs WHERE job_id = $1", id)
		if err != nil {
			return fmt.Errorf("while waiting for the flush of %s: %w", table, err)
		}
		if rows := res.Results[0].Rows; len(rows) == 1 {
			switch rows[0][0] {
			case "completed":
				return nil
			case "failed":
				return fmt.Errorf("flush of %s failed: %v", table, rows[0][1])
			}
		}
	}
	return fmt.Errorf("flush of %s did not finish", table)
}

// runPG loads the fixture into PostgreSQL and runs the corpus there.
func runPG(t *testing.T, addr string, corpus []Query) map[string]Answer {
	t.Helper()
	pg, err := loadPG(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	out := make(map[string]Answer, len(corpus))
	for _, q := range corpus {
		// Each query in its own implicit transaction; a timeout is an error answer.
		a, err := pg.Query(q.SQL, 20*time.Second)
		if err != nil {
			t.Fatalf("PostgreSQL: %s: %v", q.SQL, err)
		}
		out[q.Key()] = a
	}
	return out
}

// loadPG connects to the PostgreSQL at addr and (re)loads the fixture.
func loadPG(addr string) (*PG, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pg, err := DialPG(ctx, addr, "postgres", "postgres")
	if err != nil {
		return nil, err
	}
	for _, s := range append([]string{"SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET extra_float_digits = 1"}, PGSetup()...) {
		a, err := pg.Query(s, time.Minute)
		if err != nil || a.Err != "" {
			pg.Close()
			return nil, fmt.Errorf("PostgreSQL fixture: %s: %v %s", s, err, a.Err)
		}
	}
	return pg, nil
}
