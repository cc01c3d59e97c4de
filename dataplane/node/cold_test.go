package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	parquet "github.com/parquet-go/parquet-go"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// coldConfig is testConfig with a fast cold-tier scheduler and retries.
func coldConfig(dir string) config.Config {
	cfg := testConfig(dir)
	cfg.Cold.SchedulerTickMS = 50
	cfg.Cold.RemoteRequestTimeoutSeconds = 5
	cfg.Cold.RemoteConnectTimeoutSeconds = 1
	cfg.Cold.RemoteMaxAttempts = 2
	cfg.Cold.RemoteRetryBackoffMS = 50
	cfg.Cold.JobMaxAttempts = 2
	cfg.Cold.JobRetryBackoffMS = 100
	cfg.Cold.StreamEvictionIntervalSeconds = 1
	return cfg
}

func startCold(t *testing.T, dir string) *Node {
	t.Helper()
	n, err := Start(coldConfig(dir), quietLog())
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return n
}

// runJob runs a STORAGE FLUSH/COMPACT statement and waits for its job.
func runJob(t *testing.T, c *client.Client, stmt string) []any {
	t.Helper()
	rows := mustRows(t, c, stmt)
	if len(rows) != 1 || rows[0][0] == nil {
		t.Fatalf("%s: no job started: %v", stmt, rows)
	}
	return waitJob(t, c, fmt.Sprint(rows[0][0]))
}

// waitJob polls system.jobs until the job finishes; it returns
// (status, error_message, rows_affected, segments_written).
func waitJob(t *testing.T, c *client.Client, id string) []any {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		rows := mustRows(t, c, "SELECT status, error_message, rows_affected, segments_written FROM system.jobs WHERE job_id = $1", id)
		if len(rows) == 1 && (rows[0][0] == "completed" || rows[0][0] == "failed") {
			return rows[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
	return nil
}

func mustComplete(t *testing.T, job []any) {
	t.Helper()
	if job[0] != "completed" {
		t.Fatalf("job failed: %v", job)
	}
}

func one(t *testing.T, c *client.Client, sql string, params ...any) string {
	t.Helper()
	rows := mustRows(t, c, sql, params...)
	if len(rows) != 1 {
		t.Fatalf("%s: %d rows", sql, len(rows))
	}
	parts := make([]string, len(rows[0]))
	for i, v := range rows[0] {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, "|")
}

func TestColdTierFilesystemLifecycle(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT, score DOUBLE, ok BOOLEAN);
		CREATE SHARED TABLE app.conf (k TEXT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC', COMPRESSION = 'zstd');
		CREATE USER alice WITH PASSWORD 'alice-password-1';
		CREATE USER bob WITH PASSWORD 'bob-password-12'`)
	alice := login(t, n, "alice", "alice-password-1")
	bob := login(t, n, "bob", "bob-password-12")
	for i := 0; i < 300; i++ {
		mustSQL(t, alice, "INSERT INTO app.notes (id, body, score, ok) VALUES ($1, $2, $3, $4)", i, fmt.Sprintf("a-%d", i), float64(i)/4, i%2 == 0)
	}
	mustSQL(t, bob, "INSERT INTO app.notes (id, body) VALUES (1, 'bob-1'), (2, 'bob-2')")
	mustSQL(t, root, "INSERT INTO app.conf (k, v) VALUES ('a', '1'), ('b', '2'), ('c', '3')")
	// A tombstone before the first flush has nothing cold to hide: dropped.
	mustSQL(t, alice, "DELETE FROM app.notes WHERE id = 299")

	job := runJob(t, root, "STORAGE FLUSH TABLE app.notes")
	mustComplete(t, job)
	if fmt.Sprint(job[2]) != "301" || fmt.Sprint(job[3]) != "2" {
		t.Fatalf("flush job rows/segments = %v", job)
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.conf"))
	for _, p := range []string{"app/notes/alice/batch-1.parquet", "app/notes/alice/manifest.json",
		"app/notes/alice/manifest-00000000000000000001.json", "app/notes/bob/batch-1.parquet", "app/conf/batch-1.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, "storage", p)); err != nil {
			t.Fatalf("expected object %s: %v", p, err)
		}
	}
	// The flushed file is standard Parquet: an independent reader agrees.
	checkParquetGo(t, filepath.Join(dir, "storage", "app/notes/alice/batch-1.parquet"), 299)
	// Every read now comes from cold; the hot tier holds nothing for alice.
	if got := one(t, alice, "SELECT count(*), sum(id), sum(score) FROM app.notes"); got != "299|44551|11137.75" {
		t.Fatalf("alice aggregate after flush: %s", got)
	}
	if got := one(t, bob, "SELECT count(*) FROM app.notes"); got != "2" {
		t.Fatalf("bob sees %s rows", got)
	}
	if got := one(t, alice, "SELECT body, ok FROM app.notes WHERE id = 42"); got != "a-42|true" {
		t.Fatalf("point lookup: %s", got)
	}
	if got := one(t, alice, "SELECT count(*) FROM app.notes WHERE id = 299"); got != "0" {
		t.Fatalf("deleted row visible: %s", got)
	}
	rows := mustRows(t, alice, "SELECT id FROM app.notes WHERE id >= 10 AND id < 15 ORDER BY id DESC")
	if fmt.Sprint(rows) != "[[14] [13] [12] [11] [10]]" {
		t.Fatalf("range desc: %v", rows)
	}
	if got := one(t, bob, "SELECT v FROM app.conf WHERE k = 'b'"); got != "2" {
		t.Fatalf("shared cold read: %s", got)
	}

	// DML on cold-only rows.
	wantCode(t, alice, "DUPLICATE_KEY", 400, "INSERT INTO app.notes (id, body) VALUES (5, 'dup')")
	mustSQL(t, alice, "UPDATE app.notes SET body = 'changed' WHERE id = 7")
	mustSQL(t, alice, "DELETE FROM app.notes WHERE id IN (8, 9)")
	mustSQL(t, alice, "INSERT INTO app.notes (id, body) VALUES (1000, 'new')")
	check := func(stage string) {
		t.Helper()
		if got := one(t, alice, "SELECT count(*), sum(id) FROM app.notes"); got != "298|45534" {
			t.Fatalf("%s: alice aggregate %s", stage, got)
		}
		if got := one(t, alice, "SELECT body FROM app.notes WHERE id = 7"); got != "changed" {
			t.Fatalf("%s: updated row %s", stage, got)
		}
		if got := one(t, alice, "SELECT count(*) FROM app.notes WHERE id IN (8, 9)"); got != "0" {
			t.Fatalf("%s: deleted rows visible", stage)
		}
		if got := one(t, bob, "SELECT count(*) FROM app.notes"); got != "2" {
			t.Fatalf("%s: bob sees %s rows", stage, got)
		}
	}
	check("hot over cold")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	check("second flush")
	if _, err := os.Stat(filepath.Join(dir, "storage", "app/notes/alice/batch-2.parquet")); err != nil {
		t.Fatalf("second segment: %v", err)
	}
	// Re-inserting a key whose tombstone is cold is allowed.
	mustSQL(t, alice, "INSERT INTO app.notes (id, body) VALUES (8, 'back')")
	mustSQL(t, alice, "DELETE FROM app.notes WHERE id = 8")
	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE app.notes"))
	check("compaction")

	// Restart: committed cold state and job history survive.
	n.Close()
	n = startCold(t, dir)
	defer n.Close()
	alice = login(t, n, "alice", "alice-password-1")
	bob = login(t, n, "bob", "bob-password-12")
	root = login(t, n, "root", rootPW)
	check("restart")
	if got := one(t, root, "SELECT count(*) FROM system.jobs WHERE status = 'completed'"); got == "0" {
		t.Fatalf("job history: %s", got)
	}
	if got := one(t, root, "SELECT storage_type, shared_tables_template, user_tables_template FROM system.storages WHERE storage_id = 'local'"); got != "filesystem|{namespace}/{tableName}|{namespace}/{tableName}/{userId}" {
		t.Fatalf("system.storages: %s", got)
	}
	wantCode(t, root, "NOT_FOUND", 400, "STORAGE FLUSH TABLE app.nope")
}

// checkParquetGo opens a segment with github.com/parquet-go/parquet-go (not
// arrow-go) and checks its schema and row count.
func checkParquetGo(t *testing.T, path string, rows int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("parquet-go cannot open %s: %v", path, err)
	}
	var names []string
	for _, fl := range pf.Schema().Fields() {
		names = append(names, fl.Name())
	}
	if pf.NumRows() != rows || strings.Join(names, ",") != "id,body,score,ok,_seq,_deleted" {
		t.Fatalf("parquet-go sees %d rows, columns %v", pf.NumRows(), names)
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 16)
	n, _ := r.ReadRows(buf)
	if n == 0 || buf[0][0].Int64() != 0 || string(buf[0][1].ByteArray()) != "a-0" {
		t.Fatalf("parquet-go first row: %v", buf[0])
	}
}
