package node

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpsMetricsMove runs a workload touching the cold tier and live
// queries and checks the operational series moved.
func TestOpsMetricsMove(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	before := scrape(t, n)
	mustSQL(t, root, `CREATE NAMESPACE om; CREATE SHARED TABLE om.t (id BIGINT PRIMARY KEY, v TEXT)`)
	w := dialWS(t, n, root)
	w.subscribeAll("s1", "SELECT * FROM om.t", nil)
	mustSQL(t, root, `INSERT INTO om.t (id, v) VALUES (1, 'a'), (2, 'b')`)
	w.expectFor("s1", "change")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE om.t"))
	mustRows(t, root, "SELECT * FROM om.t WHERE id > 0")
	after := scrape(t, n)
	checks := []struct {
		series string
		min    float64
	}{
		{`kalamdb_cold_job_duration_seconds_count\{status="completed",type="flush"\}`, 1},
		{`kalamdb_cold_job_bytes_total\{type="flush"\}`, 1},
		{`kalamdb_cold_job_rows_total\{type="flush"\}`, 2},
		{`kalamdb_jobs\{status="completed",type="flush"\}`, 1},
		{`kalamdb_live_messages_sent_total`, 3}, // auth_success, ack, batch, change
		{`kalamdb_scan_rows_read_total`, 1},
		{`kalamdb_rows_written_total\{op="insert"\}`, 2},
		{`kalamdb_pebble_wal_bytes_written_total`, 1},
	}
	for _, c := range checks {
		if d := metricValue(t, after, c.series) - metricValue(t, before, c.series); d < c.min {
			t.Errorf("%s moved by %v, want >= %v", c.series, d, c.min)
		}
	}
	for _, gauge := range []string{`kalamdb_live_websocket_connections`, `kalamdb_live_subscriptions`, `kalamdb_live_authenticated_connections`, `kalamdb_sql_plan_cache_entries`} {
		if metricValue(t, after, gauge) < 1 {
			t.Errorf("%s = %v, want >= 1", gauge, metricValue(t, after, gauge))
		}
	}
	for _, name := range []string{"kalamdb_live_subscriptions_overflowed_total", "kalamdb_pebble_read_amplification", "kalamdb_pebble_compaction_debt_bytes", "kalamdb_statement_duration_seconds_bucket", "kalamdb_slow_queries_total"} {
		if !strings.Contains(after, "\n"+name) {
			t.Errorf("series %s missing", name)
		}
	}
}

// TestSystemStatsAndSettings checks system.stats reports real values and
// system.settings the effective config with secrets redacted.
func TestSystemStatsAndSettings(t *testing.T) {
	n := startNodeWith(t, nil)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE st; CREATE SHARED TABLE st.a (id INT PRIMARY KEY); CREATE SHARED TABLE st.b (id INT PRIMARY KEY);
		CREATE USER 'stats_user' WITH PASSWORD 'stats-password-1' ROLE user`)
	w := dialWS(t, n, root)
	w.subscribeAll("s", "SELECT * FROM st.a", nil)
	stats := map[string]string{}
	for _, r := range mustRows(t, root, "SELECT metric_name, metric_value FROM system.stats") {
		stats[fmt.Sprint(r[0])] = fmt.Sprint(r[1])
	}
	want := map[string]string{
		"total_namespaces":     "2", // default, st
		"total_tables":         "2",
		"total_users":          "2", // root, stats_user
		"active_subscriptions": "1",
		"active_connections":   "1",
		"websocket_sessions":   "1",
	}
	for k, v := range want {
		if stats[k] != v {
			t.Errorf("system.stats %s = %q, want %q", k, stats[k], v)
		}
	}
	for _, k := range []string{"server_uptime_seconds", "server_uptime_human", "memory_heap_alloc_mb", "memory_rss_mb", "total_jobs", "jobs_running", "plan_cache_size", "storage_disk_bytes", "goroutines"} {
		if _, ok := stats[k]; !ok {
			t.Errorf("system.stats lacks %s", k)
		}
	}
	settings := map[string][]any{}
	for _, r := range mustRows(t, root, "SELECT name, value, description, category FROM system.settings ORDER BY name LIMIT 1000") {
		settings[fmt.Sprint(r[0])] = r
	}
	if r := settings["auth.root_password"]; r == nil || r[1] != "********" {
		t.Errorf("root password not redacted: %v", r)
	}
	if r := settings["logging.slow_query_threshold_ms"]; r == nil || r[1] != "1000" || r[3] != "logging" || r[2] == "" {
		t.Errorf("slow_query_threshold_ms: %v", r)
	}
	if r := settings["storage.data_path"]; r == nil || r[1] == "./data" {
		t.Errorf("data_path is not the effective value: %v", r)
	}
	// Admin only, like every system view.
	user := login(t, n, "stats_user", "stats-password-1")
	if _, err := user.SQL(ctx(t), "SELECT * FROM system.settings"); err == nil {
		t.Error("a user role read system.settings")
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSlowQueryAndRequestLog checks the request log line carries method,
// status, latency and user, and that statements over
// logging.slow_query_threshold_ms (and only those) are logged as slow.
func TestSlowQueryAndRequestLog(t *testing.T) {
	var buf syncBuffer
	cfg := testConfig(t.TempDir())
	cfg.Logging.SlowQueryThresholdMS = 30
	n, err := Start(cfg, slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	root := login(t, n, "root", rootPW)
	fastStart := time.Now()
	mustRows(t, root, "SELECT 1 AS fast_marker")
	fastTook := time.Since(fastStart)
	slow := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000) SELECT count(*) AS slow_marker FROM c"
	start := time.Now()
	mustRows(t, root, slow)
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Skipf("the slow statement took only %s on this machine", took)
	}
	logs := buf.String()
	if !strings.Contains(logs, `"msg":"slow query"`) || !strings.Contains(logs, "slow_marker") || !strings.Contains(logs, `"threshold_ms":30`) {
		t.Fatalf("no slow-query line for the slow statement:\n%s", logs)
	}
	// The client-side time bounds the server-side one: only a statement
	// that finished under the threshold must stay out of the slow log.
	if fastTook < 30*time.Millisecond && strings.Contains(logs, "fast_marker") {
		t.Fatalf("a fast statement was logged as slow:\n%s", logs)
	}
	var reqLine string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"msg":"request"`) && strings.Contains(l, `"path":"/v1/api/sql"`) {
			reqLine = l
		}
	}
	for _, want := range []string{`"method":"POST"`, `"status":200`, `"took_ms":`, `"user":"root"`} {
		if !strings.Contains(reqLine, want) {
			t.Fatalf("request line lacks %s: %s", want, reqLine)
		}
	}
	if v := metricValue(t, scrape(t, n), "kalamdb_slow_queries_total"); v != 1 {
		t.Errorf("kalamdb_slow_queries_total = %v, want 1", v)
	}
}

// TestPlanCacheInvalidatedByDDL checks the rewrite (plan) cache, keyed by
// SQL text and session and tagged with the catalog version, never serves
// a plan across a schema change.
func TestPlanCacheInvalidatedByDDL(t *testing.T) {
	n := startNodeWith(t, nil)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE pc; CREATE SHARED TABLE pc.t (id INT PRIMARY KEY, a TEXT); INSERT INTO pc.t (id, a) VALUES (1, 'x')`)
	const q = "SELECT * FROM pc.t WHERE id > 0"
	res := mustSQL(t, root, q)
	if got := len(res.Results[0].Schema); got != 2 {
		t.Fatalf("schema has %d columns", got)
	}
	before := n.Engine().PlanCacheSize()
	mustSQL(t, root, q)
	if n.Engine().PlanCacheSize() != before {
		t.Fatal("the same text was planned twice")
	}
	mustSQL(t, root, `DROP TABLE pc.t; CREATE SHARED TABLE pc.t (id INT PRIMARY KEY, a TEXT, b INT); INSERT INTO pc.t (id, a, b) VALUES (1, 'x', 7)`)
	res = mustSQL(t, root, q)
	if got := len(res.Results[0].Schema); got != 3 || fmt.Sprint(res.Results[0].Rows[0][2]) != "7" {
		t.Fatalf("stale plan after DDL: %v %v", res.Results[0].Schema, res.Results[0].Rows)
	}
}
