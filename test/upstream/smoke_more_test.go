package upstream

// More ports of the original's 0.4.3 CLI smoke tests (cli/tests/smoke/** at
// tag v0.4.3-rc.4, commit f1edcc4ec06c417ae2a9463911b30449bfc730f3; see
// README.md). Where the original asserts on the CLI's printed output
// (`output.contains(...)`), the port asserts on cliText: the column names
// and values of every result, which is what that output prints.

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// cliText renders a response as the words the CLI prints for it: each
// result's column names, its rows' values and its message.
func cliText(res *client.Response) string {
	var b strings.Builder
	for _, r := range res.Results {
		for _, f := range r.Schema {
			b.WriteString(f.Name + " ")
		}
		b.WriteString("\n")
		for _, row := range r.Rows {
			b.WriteString(fmt.Sprintln(row...))
		}
		b.WriteString(r.Message + "\n")
	}
	return b.String()
}

// knownDifference ends a test whose original expectation this server does
// not meet by design; each one must be listed in README.md with its reason
// (none is today). It is reached only after the original assertion failed,
// so a server change that meets it makes the test pass.
func knownDifference(t *testing.T, reason string) {
	t.Helper()
	t.Skip("known difference from the original (test/upstream/README.md): " + reason)
}

// records runs a query and fails the test on an error.
func records(t *testing.T, c *client.Client, sql string) []client.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := c.Records(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return recs
}

// tables/smoke_test_user_table_rls.rs: smoke_user_table_rls_isolation.
func TestSmokeUserTableRLSIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	namespace, full := "smoke_rls_ns", "smoke_rls_ns.smoke_rls_tbl"
	userName, userPass := "smoke_user", "smoke_pass_123"
	s.sql(t, s.Root, "CREATE NAMESPACE "+namespace)
	s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            content TEXT NOT NULL,
            updated INT DEFAULT 0,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        ) WITH (TYPE='USER', FLUSH_POLICY='rows:10')`)
	rootRows := []string{"root_row_1", "root_row_2", "root_row_3"}
	for _, v := range rootRows {
		s.sql(t, s.Root, "INSERT INTO "+full+" (content) VALUES ('"+v+"')")
	}
	s.sql(t, s.Root, "CREATE USER "+userName+" WITH PASSWORD '"+userPass+"' ROLE 'user'")
	u, _ := s.login(t, userName, userPass)
	s.sql(t, u, "SELECT 1")
	for _, v := range []string{"user_row_a", "user_row_b", "user_row_c"} {
		s.sql(t, u, "INSERT INTO "+full+" (content) VALUES ('"+v+"')")
	}
	var rowB, rowC string
	for _, r := range records(t, u, "SELECT id, content FROM "+full+" WHERE content IN ('user_row_b','user_row_c') ORDER BY content") {
		switch r.String("content") {
		case "user_row_b":
			rowB = r.String("id")
		case "user_row_c":
			rowC = r.String("id")
		}
	}
	if rowB == "" || rowC == "" {
		t.Fatalf("Failed to parse ids for user_row_b/user_row_c: %q %q", rowB, rowC)
	}
	s.sql(t, u, "UPDATE "+full+" SET updated = 1 WHERE id = "+rowB)
	s.sql(t, u, "DELETE FROM "+full+" WHERE id = "+rowC)
	out := cliText(s.sql(t, u, "SELECT id, content, updated FROM "+full+" ORDER BY id"))
	if !strings.Contains(out, "user_row_a") && !strings.Contains(out, "user_row_b") {
		t.Fatalf("Expected at least one user row to be present in selection, got: %s", out)
	}
	for _, r := range rootRows {
		if strings.Contains(out, r) {
			t.Fatalf("User selection should not contain root row '%s': %s", r, out)
		}
	}
	if !strings.Contains(out, "user_row_b") {
		t.Fatalf("Expected updated row to be present: %s", out)
	}
	if strings.Contains(out, "user_row_c") {
		t.Fatalf("Expected deleted row to be absent: %s", out)
	}
	s.sql(t, s.Root, "DROP USER "+userName)
	s.sql(t, s.Root, "DROP TABLE IF EXISTS "+full)
	s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+namespace)
}

// dml/smoke_test_insert_returning.rs: its four tests, each a subtest named
// after the original function.
func TestSmokeInsertReturning(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, tc := range []struct{ name, ns, create, insert, query string }{
		{"smoke_insert_returning_seq_single_row", "smoke_ret",
			"(id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR NOT NULL, value INT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')",
			"(name, value) VALUES ('test_item', 42)", "SELECT _seq FROM %s WHERE name = 'test_item'"},
		{"smoke_insert_returning_seq_multi_row", "smoke_ret_m",
			"(id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR NOT NULL) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')",
			"(name) VALUES ('row1'), ('row2'), ('row3')", "SELECT _seq FROM %s WHERE name IN ('row1', 'row2', 'row3') ORDER BY id"},
		{"smoke_insert_returning_star", "smoke_ret_s",
			"(id BIGINT AUTO_INCREMENT PRIMARY KEY, title VARCHAR NOT NULL) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')",
			"(title) VALUES ('hello_world')", "SELECT * FROM %s WHERE title = 'hello_world'"},
		{"smoke_insert_returning_seq_on_user_table", "smoke_ret_u",
			"(id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR NOT NULL) WITH (TYPE='USER')",
			"(note) VALUES ('user_note')", "SELECT _seq FROM %s WHERE note = 'user_note'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.ns + ".t"
			s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+tc.ns)
			s.sql(t, s.Root, "CREATE TABLE "+full+" "+tc.create)
			s.sql(t, s.Root, "INSERT INTO "+full+" "+tc.insert)
			res := s.sql(t, s.Root, fmt.Sprintf(tc.query, full))
			if out := cliText(res); !strings.Contains(out, "_seq") {
				t.Fatalf("_seq query result should contain '_seq' column; got: %s", out)
			}
			s.sql(t, s.Root, "DROP NAMESPACE "+tc.ns+" CASCADE")
		})
	}
}

// query/smoke_test_filter_pushdown.rs: smoke_test_filter_pushdown.
func TestSmokeFilterPushdown(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns, user := "smoke_pushdown", "pushdown_user"
	shared, stream := ns+".items", ns+".events"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+ns)
	s.sql(t, s.Root, "CREATE USER "+user+" WITH PASSWORD 'pushdown_pass_123' ROLE 'user'")
	s.sql(t, s.Root, "CREATE TABLE "+shared+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE = 'SHARED', ACCESS_LEVEL = 'PUBLIC')")
	s.sql(t, s.Root, "CREATE TABLE "+stream+" (event_id TEXT PRIMARY KEY, payload TEXT) WITH (TYPE = 'STREAM', TTL_SECONDS = 60)")
	for _, q := range []string{
		"INSERT INTO " + shared + " (id, name) VALUES (1, 'alpha')",
		"INSERT INTO " + shared + " (id, name) VALUES (2, 'beta')",
		"INSERT INTO " + shared + " (id, name) VALUES (3, 'beta')",
		"INSERT INTO " + stream + " (event_id, payload) VALUES ('evt-1', 'alpha')",
		"INSERT INTO " + stream + " (event_id, payload) VALUES ('evt-2', 'beta')",
		"INSERT INTO " + stream + " (event_id, payload) VALUES ('evt-3', 'beta')",
	} {
		s.sql(t, s.Root, q)
	}
	// scalar_string: the original requires string-like values (its BIGINT
	// travels as a JSON string).
	scalar := func(r client.Record, col string) string {
		v, ok := r[col].(string)
		if !ok {
			t.Fatalf("expected '%s' to be string-like, got %#v", col, r[col])
		}
		return v
	}
	sys := records(t, s.Root, "SELECT user_id FROM system.users WHERE user_id = '"+user+"'")
	if len(sys) != 1 || scalar(sys[0], "user_id") != user {
		t.Fatalf("system exact filter should find one user: %v", sys)
	}
	pk := records(t, s.Root, "SELECT id FROM "+shared+" WHERE id = 2")
	if len(pk) != 1 || scalar(pk[0], "id") != "2" {
		t.Fatalf("shared PK filter should find one row: %v", pk)
	}
	var ids []string
	for _, r := range records(t, s.Root, "SELECT id FROM "+shared+" WHERE name = 'beta' ORDER BY id") {
		ids = append(ids, scalar(r, "id"))
	}
	if fmt.Sprint(ids) != "[2 3]" {
		t.Fatalf("shared name filter: %v, want [2 3]", ids)
	}
	st := records(t, s.Root, "SELECT event_id FROM "+stream+" WHERE event_id = 'evt-2'")
	if len(st) != 1 || scalar(st[0], "event_id") != "evt-2" {
		t.Fatalf("stream exact filter should find one row: %v", st)
	}
	s.sql(t, s.Root, "DROP USER IF EXISTS "+user)
	s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
}

// waitForJobFinished is the original's wait_for_job_finished: it polls
// system.jobs until the job is completed, failed or cancelled and returns
// that status.
func waitForJobFinished(t *testing.T, s *server, id string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := records(t, s.Root, "SELECT status FROM system.jobs WHERE job_id = '"+id+"'")
		if len(recs) == 1 {
			switch st := recs[0].String("status"); st {
			case "completed", "failed", "cancelled":
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not finish in %v: %v", id, timeout, recs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// parseCleanupJobID is the original's parse_cleanup_job_id.
func parseCleanupJobID(out string) (string, bool) {
	_, after, ok := strings.Cut(out, "Cleanup job: ")
	if !ok {
		return "", false
	}
	f := strings.Fields(after)
	if len(f) == 0 {
		return "", false
	}
	id := strings.TrimRight(f[0], ".,;")
	return id, id != ""
}

// system/smoke_test_cleanup_job.rs: smoke_cleanup_job_completes. The
// original accepts either a "Cleanup job: <id>" that completes or the table
// vanishing from system.schemas; the port does the same.
func TestSmokeCleanupJobCompletes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns, table := "cleanup_job_ns", "cleanup_job_table"
	full := ns + "." + table
	s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
	s.sql(t, s.Root, "CREATE TABLE "+full+" (id INT PRIMARY KEY, value TEXT) WITH (TYPE = 'SHARED')")
	s.sql(t, s.Root, "INSERT INTO "+full+" (id, value) VALUES (1, 'cleanup')")
	out := cliText(s.sql(t, s.Root, "DROP TABLE IF EXISTS "+full))
	if id, ok := parseCleanupJobID(out); ok {
		if st := waitForJobFinished(t, s, id, 60*time.Second); st != "completed" {
			t.Fatalf("cleanup job did not complete: %s", st)
		}
	} else {
		deadline := time.Now().Add(60 * time.Second)
		for len(records(t, s.Root, "SELECT table_name FROM system.schemas WHERE namespace_id = '"+ns+"' AND table_name = '"+table+"'")) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("Timed out waiting for table %s to disappear", full)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
}

// latestSSTMtime is the original's latest_sst_mtime over our data
// directory (its RocksDB, our Pebble: both write *.sst files).
func latestSSTMtime(root string) (latest time.Time) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".sst") {
			if info, err := d.Info(); err == nil && info.ModTime().After(latest) {
				latest = info.ModTime()
			}
		}
		return nil
	})
	return latest
}

// storage/smoke_test_storage_compact.rs:
// smoke_storage_compact_table_job_and_rocksdb.
func TestSmokeStorageCompactTableJobAndRocksdb(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns := "smk_compact"
	full := ns + ".compact_tbl"
	s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
	s.sql(t, s.Root, "CREATE TABLE "+full+" (id INT PRIMARY KEY, value TEXT) WITH (TYPE = 'SHARED')")
	for i := 1; i <= 40; i++ {
		s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, value) VALUES (%d, 'v%d')", full, i, i))
	}
	s.sql(t, s.Root, "DELETE FROM "+full+" WHERE id <= 25")
	before := latestSSTMtime(s.Dir)
	msg := message(s.sql(t, s.Root, "STORAGE COMPACT TABLE "+full))
	id, ok := parseJobIDFromFlushOutput(msg)
	if !ok {
		t.Fatalf("parse compaction job id from %q", msg)
	}
	if st := waitForJobFinished(t, s, id, 20*time.Second); st != "completed" {
		t.Fatalf("compaction job %s: %s", id, st)
	}
	if recs := records(t, s.Root, "SELECT message FROM system.jobs WHERE job_id = '"+id+"'"); len(recs) == 1 {
		if r := recs[0].String("message"); !strings.Contains(r, "Compaction completed") {
			t.Fatalf("Unexpected job result: %s", r)
		}
	}
	if after := latestSSTMtime(s.Dir); !before.IsZero() && !after.IsZero() && after.Before(before) {
		t.Fatalf("Expected SST files to update after compaction")
	}
	s.sql(t, s.Root, "DROP TABLE IF EXISTS "+full)
	s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
}

// impersonating/smoke_test_as_user_authorization.rs:
// smoke_security_regular_user_cannot_impersonate_privileged_users_in_batch.
func TestSmokeSecurityRegularUserCannotImpersonatePrivilegedUsersInBatch(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns := "smoke_imp_ns"
	full := ns + ".smoke_imp_tbl"
	regular, service, dba, password := "smoke_regular", "smoke_service", "smoke_dba", "smoke_pass_123"
	s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
	s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='USER')")
	s.sql(t, s.Root, "CREATE USER "+regular+" WITH PASSWORD '"+password+"' ROLE 'user'")
	s.sql(t, s.Root, "CREATE USER "+service+" WITH PASSWORD '"+password+"' ROLE 'service'")
	s.sql(t, s.Root, "CREATE USER "+dba+" WITH PASSWORD '"+password+"' ROLE 'dba'")
	userID := func(name string) string {
		recs := records(t, s.Root, "SELECT user_id FROM system.users WHERE user_id = '"+name+"'")
		if len(recs) == 0 {
			return ""
		}
		return recs[0].String("user_id")
	}
	systemID := userID("root")
	if systemID == "" {
		systemID = userID("system")
	}
	u, _ := s.login(t, regular, password)
	for _, a := range []struct{ id, label string }{{userID(service), "service"}, {userID(dba), "dba"}, {systemID, "system"}} {
		if a.id == "" {
			t.Fatalf("Failed to get %s user_id", a.label)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := u.SQL(ctx, "EXECUTE AS USER '"+a.id+"' (INSERT INTO "+full+" (id, name) VALUES (1, 'x')); SELECT 1;")
		cancel()
		if err == nil {
			t.Fatalf("Expected authorization failure: AS USER batch for %s", a.label)
		}
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, "unauthorized") && !strings.Contains(msg, "not authorized") &&
			!strings.Contains(msg, "permission") && !strings.Contains(msg, "privilege") && !strings.Contains(msg, "access denied") {
			t.Fatalf("Expected authorization error for AS USER batch for %s: %v", a.label, err)
		}
	}
	for _, q := range []string{"DROP USER " + regular, "DROP USER " + service, "DROP USER " + dba,
		"DROP TABLE IF EXISTS " + full, "DROP NAMESPACE IF EXISTS " + ns} {
		s.sql(t, s.Root, q)
	}
}

// subscription/smoke_test_stream_subscription.rs:
// smoke_stream_table_subscription. The original retries its insert up to
// five times, reading the CLI subscription output for a second each; the
// port waits for one notification per attempt the same way.
func TestSmokeStreamTableSubscription(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	full := "smoke_ns.stream_smoke"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_ns")
	s.sql(t, s.Root, `CREATE TABLE `+full+` (
            event_id TEXT NOT NULL,
            event_type TEXT,
            payload TEXT,
            timestamp TIMESTAMP
        ) WITH (TYPE = 'STREAM', TTL_SECONDS = 3)`)
	ws := connectWS(t, s, s.Token)
	ws.subscribe("stream", "SELECT * FROM "+full)
	const ev = "smoke_stream_event"
	gotAny := false
	for attempt := 1; attempt <= 5 && !gotAny; attempt++ {
		s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (event_id, event_type, payload) VALUES ('e%d', 'info', '%s')", full, attempt, ev))
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) && !gotAny {
			ws.mu.Lock()
			gotAny = len(ws.got) > 0
			ws.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !gotAny {
		t.Fatal("expected to receive some subscription output within retry window")
	}
	ws.disconnect()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	selectText := func() string {
		_, b, err := s.Root.Do(ctx, "POST", "/v1/api/sql", []byte(`{"sql": "SELECT * FROM `+full+`"}`), true)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var last string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if last = selectText(); strings.Contains(last, ev) {
			break
		}
	}
	if !strings.Contains(last, ev) {
		t.Fatalf("expected to find inserted event '%s' in SELECT output within 5s after insert. Output:\n%s", ev, last)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if last = selectText(); !strings.Contains(last, ev) {
			break
		}
		time.Sleep(10 * time.Millisecond) // the original yields; this spares the shared CPU
	}
	if strings.Contains(last, ev) {
		t.Fatalf("expected event '%s' to be evicted within 5 seconds (TTL=3s)", ev)
	}
	s.sql(t, s.Root, "DROP NAMESPACE smoke_ns CASCADE")
}

// subscription/smoke_test_user_table_subscription.rs:
// smoke_user_table_subscription_lifecycle.
func TestSmokeUserTableSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	full := "smoke_ns.user_smoke"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_ns")
	s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR NOT NULL,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        ) WITH (TYPE='USER', FLUSH_POLICY='rows:10')`)
	s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('alpha')")
	s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('beta')")
	out := cliText(s.sql(t, s.Root, "SELECT * FROM "+full))
	if !strings.Contains(out, "alpha") || !strings.Contains(out, "beta") {
		t.Fatalf("expected to see 'alpha' and 'beta' in select output: %s", out)
	}
	s.sql(t, s.Root, "SELECT COUNT(*) as cnt FROM "+full)
	ws := connectWS(t, s, s.Token)
	snapshot := fmt.Sprint(ws.subscribe("user", "SELECT * FROM "+full))
	if !strings.Contains(snapshot, "alpha") || !strings.Contains(snapshot, "beta") {
		t.Fatalf("snapshot should contain 'alpha' and 'beta' but was: %s", snapshot)
	}
	const sub = "from_subscription"
	s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('"+sub+"')")
	if got := ws.notifications(1); len(got) == 0 || fmt.Sprint(got[0].Data["name"]) != sub {
		t.Fatalf("expected change event containing '%s' within 5s; got: %+v", sub, got)
	}
	msg := message(s.sql(t, s.Root, "STORAGE FLUSH TABLE "+full))
	id, ok := parseJobIDFromFlushOutput(msg)
	if !ok {
		t.Fatalf("should parse job_id from FLUSH JSON output: %q", msg)
	}
	// The original waits for a terminal state and only logs which one.
	t.Logf("flush job %s: %s", id, waitForJobFinished(t, s, id, 10*time.Second))
	s.sql(t, s.Root, "DROP NAMESPACE smoke_ns CASCADE")
}

// storage/smoke_test_show_storages.rs: smoke_show_storages_basic and
// smoke_show_storages_user_access (its third test,
// smoke_show_storages_cli_timestamps_are_not_epoch_shifted, checks the CLI's
// rendering; the port checks the same columns' values).
func TestSmokeShowStorages(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_show_storages_basic", func(t *testing.T) {
		rows := records(t, s.Root, "SHOW STORAGES")
		if len(rows) == 0 {
			t.Fatal("SHOW STORAGES should return at least 1 row (local storage)")
		}
		var local client.Record
		for _, r := range rows {
			if r.String("storage_id") == "local" {
				local = r
			}
		}
		if local == nil {
			t.Fatalf("'local' storage should be present in SHOW STORAGES output: %v", rows)
		}
		if local.String("storage_name") == "" {
			t.Error("storage_name should be non-empty")
		}
		if st := strings.ToLower(local.String("storage_type")); st != "filesystem" {
			t.Errorf("local storage should be filesystem type, got %q", st)
		}
		if local["created_at"] == nil || local["updated_at"] == nil {
			t.Errorf("created_at and updated_at should be present: %v", local)
		}
		if local.String("base_directory") == "" {
			t.Error("base_directory should be non-empty for filesystem storage")
		}
	})
	t.Run("smoke_show_storages_cli_timestamps_are_not_epoch_shifted", func(t *testing.T) {
		res := s.sql(t, s.Root, "SELECT storage_id, created_at, updated_at FROM system.storages WHERE storage_id = 'local'")
		// The CLI renders a TIMESTAMP column (microseconds since the
		// epoch on the wire) as a date; the port renders it the same way.
		r := res.Results[0]
		if len(r.Rows) != 1 {
			t.Fatalf("CLI output should include the local storage row: %v", r.Rows)
		}
		for i, f := range r.Schema {
			if strings.EqualFold(f.DataType, "timestamp") {
				us, err := strconv.ParseInt(fmt.Sprint(r.Rows[0][i]), 10, 64)
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				r.Rows[0][i] = time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
			}
		}
		out := cliText(res)
		if !strings.Contains(out, "storage_id") {
			t.Fatalf("CLI output should include table headers: %s", out)
		}
		if !strings.Contains(out, "local") {
			t.Fatalf("CLI output should include the local storage row: %s", out)
		}
		if strings.Contains(out, "1970-01-01T") {
			t.Fatalf("CLI output should not render storage timestamps as 1970 dates: %s", out)
		}
		if !strings.Contains(out, "20") {
			t.Fatalf("CLI output should contain a human-readable modern timestamp: %s", out)
		}
	})
	t.Run("smoke_show_storages_user_access", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER show_user WITH PASSWORD 'ShowPass123!' ROLE 'user'")
		u, _ := s.login(t, "show_user", "ShowPass123!")
		t.Cleanup(func() { s.sql(t, s.Root, "DROP USER IF EXISTS 'show_user'") })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rows, err := u.Records(ctx, "SHOW STORAGES")
		if err != nil {
			t.Fatalf("Regular user should be able to run SHOW STORAGES: %v", err)
		}
		if len(rows) == 0 {
			t.Fatal("User should see at least the local storage")
		}
	})
}

// rawUntil waits (at most timeout) for a message after the first from
// containing want, and returns the messages from there on and whether one
// did.
func (c *wsClient) rawUntil(from int, want string, timeout time.Duration) ([]string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		msgs := append([]string(nil), c.raw[min(from, len(c.raw)):]...)
		c.mu.Unlock()
		for i, m := range msgs {
			if strings.Contains(m, want) {
				return msgs[:i+1], true
			}
		}
		if time.Now().After(deadline) {
			return msgs, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// subscription/smoke_test_subscription_delta_updates.rs:
// smoke_subscription_update_sends_delta_only. The original reads the CLI's
// printed events ("Update" in the line); the port reads the change
// messages themselves ("change_type":"update").
func TestSmokeSubscriptionUpdateSendsDeltaOnly(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	full := "smoke_delta.delta_upd"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_delta")
	s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR NOT NULL,
            email VARCHAR,
            age INT
        ) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')`)
	s.sql(t, s.Root, "INSERT INTO "+full+" (name, email, age) VALUES ('Alice', 'alice@test.com', 30)")
	ws := connectWS(t, s, s.Token)
	ws.subscribe("delta", "SELECT * FROM "+full)
	const update = `"change_type":"update"`
	s.sql(t, s.Root, "UPDATE "+full+" SET name = 'Bob' WHERE name = 'Alice'")
	lines, found := ws.rawUntil(0, update, 10*time.Second)
	if !found {
		t.Fatalf("expected UPDATE change event within 10s; got: %v", lines)
	}
	joined := strings.Join(clientEvents(t, lines), "\n")
	if !((strings.Contains(joined, "changed_columns") && strings.Contains(joined, "name")) ||
		(strings.Contains(joined, "old_rows") && strings.Contains(joined, "name"))) {
		t.Fatalf("UPDATE event should include changed field information for 'name'; got: %s", joined)
	}
	if !strings.Contains(joined, "alice@test.com") && !strings.Contains(joined, "email") {
		t.Fatalf("UPDATE should include non-null unchanged column 'email' in the snapshot; got: %s", joined)
	}
	if !strings.Contains(joined, "Bob") {
		t.Fatalf("UPDATE event rows should contain new value 'Bob'; got: %s", joined)
	}
	ws.mu.Lock()
	from := len(ws.raw)
	ws.mu.Unlock()
	s.sql(t, s.Root, "UPDATE "+full+" SET email = 'bob@test.com', age = 31 WHERE name = 'Bob'")
	// The original checks this only if the event arrives (and logs if
	// not); the port requires the event.
	if lines, found := ws.rawUntil(from, update, 10*time.Second); found {
		if j := strings.Join(clientEvents(t, lines), "\n"); !strings.Contains(j, "email") || !strings.Contains(j, "age") {
			t.Fatalf("Multi-column UPDATE should include both 'email' and 'age' in the update payload; got: %s", j)
		}
	} else {
		t.Fatalf("no second update event: %v", lines)
	}
	s.sql(t, s.Root, "DROP NAMESPACE smoke_delta CASCADE")
}

// clientEvents renders WebSocket messages as the original's test listener
// prints them (cli/tests/common/mod.rs SubscriptionListener:
// format!("{:?}", change_event)): the Rust client's ChangeEvent, whose
// Update and Delete name the wire's old_values "old_rows"
// (link/src, kalamdb-commons/src/websocket.rs). Other messages stay as
// they are.
func clientEvents(t *testing.T, msgs []string) []string {
	t.Helper()
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		var c struct {
			Type       string           `json:"type"`
			ID         string           `json:"subscription_id"`
			ChangeType string           `json:"change_type"`
			Rows       []map[string]any `json:"rows"`
			Old        []map[string]any `json:"old_values"`
		}
		if err := json.Unmarshal([]byte(m), &c); err != nil || c.Type != "change" {
			out = append(out, m)
			continue
		}
		switch c.ChangeType {
		case "insert":
			out = append(out, fmt.Sprintf("Insert { subscription_id: %q, rows: %v }", c.ID, c.Rows))
		case "update":
			out = append(out, fmt.Sprintf("Update { subscription_id: %q, rows: %v, old_rows: %v }", c.ID, c.Rows, c.Old))
		case "delete":
			out = append(out, fmt.Sprintf("Delete { subscription_id: %q, old_rows: %v }", c.ID, c.Old))
		default:
			t.Fatalf("unknown change_type in %s", m)
		}
	}
	return out
}

// subscription/smoke_test_shared_table_subscription.rs:
// smoke_shared_table_subscription_lifecycle and
// smoke_shared_table_subscription_private_denied.
func TestSmokeSharedTableSubscription(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_shared_table_subscription_lifecycle", func(t *testing.T) {
		full := "smoke_shared_sub_ns.shared_sub"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_shared_sub_ns")
		s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT PRIMARY KEY,
            name VARCHAR NOT NULL
        ) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')`)
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, name) VALUES (1, 'alpha')")
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, name) VALUES (2, 'beta')")
		out := cliText(s.sql(t, s.Root, "SELECT * FROM "+full))
		if !strings.Contains(out, "alpha") || !strings.Contains(out, "beta") {
			t.Fatalf("expected to see 'alpha' and 'beta' in select output: %s", out)
		}
		ws := connectWS(t, s, s.Token)
		snapshot := fmt.Sprint(ws.subscribe("shared", "SELECT * FROM "+full))
		if !strings.Contains(snapshot, "alpha") || !strings.Contains(snapshot, "beta") {
			t.Fatalf("snapshot should contain 'alpha' and 'beta' but was: %s", snapshot)
		}
		const sub = "from_shared_sub"
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, name) VALUES (3, '"+sub+"')")
		if lines, ok := ws.rawUntil(0, sub, 6*time.Second); !ok {
			t.Fatalf("expected change event containing '%s' within 6s; got: %v", sub, lines)
		}
		s.sql(t, s.Root, "DROP NAMESPACE smoke_shared_sub_ns CASCADE")
	})
	t.Run("smoke_shared_table_subscription_private_denied", func(t *testing.T) {
		full := "smoke_shared_priv_ns.shared_priv"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_shared_priv_ns")
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PRIVATE')")
		s.sql(t, s.Root, "CREATE USER shared_priv_user WITH PASSWORD 'smoke_pass_123' ROLE 'user'")
		_, token := s.login(t, "shared_priv_user", "smoke_pass_123")
		ws := connectWS(t, s, token)
		ws.send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "priv", "sql": "SELECT * FROM " + full}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m := ws.read(ctx)
		if m["type"] != "error" {
			t.Fatalf("Expected private shared table subscription to fail for regular user, but it succeeded: %v", m)
		}
		msg := strings.ToLower(fmt.Sprint(m))
		if !strings.Contains(msg, "permission") && !strings.Contains(msg, "privilege") && !strings.Contains(msg, "denied") &&
			!strings.Contains(msg, "access") && !strings.Contains(msg, "unauthorized") {
			t.Fatalf("Expected permission-related error message, but got: %s", msg)
		}
		go ws.collect() // disconnect waits for the reader
		s.sql(t, s.Root, "DROP NAMESPACE smoke_shared_priv_ns CASCADE")
		s.sql(t, s.Root, "DROP USER shared_priv_user")
	})
}

// dataTypeName is the original's reading of a schema data_type: a string,
// or the single key of an object such as {"Embedding": 384}.
func dataTypeName(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		for k := range v {
			return k
		}
	}
	return fmt.Sprint(v)
}

// ddl/smoke_test_datatype_preservation.rs:
// test_all_kalam_datatypes_are_preserved and
// test_system_tables_shows_correct_datatypes (over the HTTP API, as the
// original).
func TestSmokeDatatypePreservation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("test_all_kalam_datatypes_are_preserved", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE NAMESPACE dtypes")
		s.sql(t, s.Root, `CREATE TABLE dtypes.all_types (
            id BIGINT PRIMARY KEY,
            col_boolean BOOLEAN,
            col_int INT,
            col_bigint BIGINT,
            col_double DOUBLE,
            col_float FLOAT,
            col_text TEXT,
            col_timestamp TIMESTAMP,
            col_date DATE,
            col_datetime DATETIME,
            col_time TIME,
            col_json JSON,
            col_bytes BYTES,
            col_embedding EMBEDDING(384),
            col_uuid UUID,
            col_decimal DECIMAL(18, 4),
            col_smallint SMALLINT,
            col_file FILE
        ) WITH (TYPE = 'USER')`)
		_, body, err := s.Root.Do(context.Background(), "POST", "/v1/api/sql", []byte(`{"sql": "SELECT * FROM dtypes.all_types"}`), true)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Results []struct {
				Schema []struct {
					Name     string `json:"name"`
					DataType any    `json:"data_type"`
				} `json:"schema"`
			} `json:"results"`
		}
		if err := json.Unmarshal(body, &res); err != nil || len(res.Results) != 1 {
			t.Fatalf("No schema in query result: %s", body)
		}
		types := map[string]string{}
		for _, c := range res.Results[0].Schema {
			types[c.Name] = dataTypeName(c.DataType)
		}
		var failures []string
		for _, e := range [][2]string{
			{"id", "BigInt"}, {"col_boolean", "Boolean"}, {"col_int", "Int"}, {"col_bigint", "BigInt"},
			{"col_double", "Double"}, {"col_float", "Float"}, {"col_text", "Text"}, {"col_timestamp", "Timestamp"},
			{"col_date", "Date"}, {"col_datetime", "DateTime"}, {"col_time", "Time"}, {"col_json", "Json"},
			{"col_bytes", "Bytes"}, {"col_embedding", "Embedding"}, {"col_uuid", "Uuid"}, {"col_decimal", "Decimal"},
			{"col_smallint", "SmallInt"}, {"col_file", "File"}, {"_seq", "BigInt"}, {"_deleted", "Boolean"},
		} {
			got, ok := types[e[0]]
			switch {
			case !ok:
				failures = append(failures, fmt.Sprintf("Column '%s' not found in schema", e[0]))
			case !strings.HasPrefix(got, e[1]):
				failures = append(failures, fmt.Sprintf("Column '%s': expected type starting with '%s', got '%s'", e[0], e[1], got))
			}
		}
		if len(failures) > 0 {
			t.Fatalf("Datatype preservation test failed:\n%s", strings.Join(failures, "\n"))
		}
	})
	t.Run("test_system_tables_shows_correct_datatypes", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE NAMESPACE systypes")
		s.sql(t, s.Root, `CREATE TABLE systypes.type_check (
            id BIGINT PRIMARY KEY,
            data JSON,
            attachment FILE,
            vector EMBEDDING(768)
        ) WITH (TYPE = 'USER')`)
		rows := s.sql(t, s.Root, "SELECT columns FROM system.schemas WHERE namespace_id = 'systypes' AND table_name = 'type_check'").Results[0].Rows
		if len(rows) == 0 {
			t.Fatal("Table not found in system.schemas")
		}
		text, ok := rows[0][0].(string)
		if !ok {
			t.Fatalf("columns should be a string: %#v", rows[0][0])
		}
		var cols []map[string]any
		if err := json.Unmarshal([]byte(text), &cols); err != nil {
			t.Fatalf("Failed to parse columns JSON: %v", err)
		}
		types := map[string]string{}
		for _, c := range cols {
			types[fmt.Sprint(c["column_name"])] = dataTypeName(c["data_type"])
		}
		if types["data"] != "Json" {
			t.Errorf("Expected 'Json' for data column in system.schemas, got %q", types["data"])
		}
		if types["attachment"] != "File" {
			t.Errorf("Expected 'File' for attachment column in system.schemas, got %q", types["attachment"])
		}
		if !strings.HasPrefix(types["vector"], "Embedding") {
			t.Errorf("Expected 'Embedding(...)' for vector column, got: %q", types["vector"])
		}
	})
}

// usecases/smoke_test_int64_precision.rs: its four tests. Every BIGINT
// (and _seq) must arrive as a JSON string holding the exact value.
func TestSmokeInt64Precision(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const maxSafe = int64(9007199254740991) // JS_MAX_SAFE_INTEGER
	for _, tc := range []struct {
		name, ns string
		cols     []string
		values   []int64
	}{
		{"smoke_int64_precision_preserved_as_string", "int64_ns", []string{"big_value"}, []int64{maxSafe + 1000}},
		{"smoke_int64_small_values_remain_numbers", "int64_small_ns", []string{"small_value"}, []int64{12345678901234}},
		{"smoke_int64_edge_case_exactly_max_safe", "int64_edge_ns", []string{"at_limit", "over_limit"}, []int64{maxSafe, maxSafe + 1}},
		{"smoke_int64_negative_large_values", "int64_neg_ns", []string{"neg_safe", "neg_unsafe"}, []int64{-maxSafe, -maxSafe - 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.ns + ".t"
			s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+tc.ns)
			defs, vals := "", ""
			for i, c := range tc.cols {
				defs += c + " BIGINT, "
				vals += fmt.Sprint(tc.values[i]) + ", "
			}
			s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, "+defs+"content TEXT) WITH (TYPE = 'USER')")
			cols := strings.Join(tc.cols, ", ")
			s.sql(t, s.Root, "INSERT INTO "+full+" ("+cols+", content) VALUES ("+vals+"'c')")
			recs := records(t, s.Root, "SELECT _seq, "+cols+", content FROM "+full)
			if len(recs) == 0 {
				t.Fatal("Expected at least one row")
			}
			r := recs[0]
			seq, ok := r["_seq"].(string)
			if !ok {
				t.Fatalf("_seq should be serialized as a string for JS safety, got: %#v", r["_seq"])
			}
			if n, err := strconv.ParseUint(seq, 10, 64); err != nil || n <= uint64(maxSafe) {
				t.Fatalf("_seq should exceed JS_MAX_SAFE_INTEGER, got: %s (%v)", seq, err)
			}
			for i, c := range tc.cols {
				v, ok := r[c].(string)
				if !ok {
					t.Fatalf("%s should be serialized as a string, got: %#v", c, r[c])
				}
				if n, err := strconv.ParseInt(v, 10, 64); err != nil || n != tc.values[i] {
					t.Fatalf("%s should preserve full precision: %s, want %d (%v)", c, v, tc.values[i], err)
				}
			}
			if r.String("content") != "c" {
				t.Fatalf("content: %v", r["content"])
			}
			s.sql(t, s.Root, "DROP TABLE "+full)
			s.sql(t, s.Root, "DROP NAMESPACE "+tc.ns)
		})
	}
}

// waitLiveQuery is the original's wait_live_query: whether marker's
// presence in system.live's queries becomes expectPresent within deadline.
func waitLiveQuery(t *testing.T, s *server, marker string, expectPresent bool, deadline time.Duration) bool {
	t.Helper()
	start := time.Now()
	for {
		if strings.Contains(cliText(s.sql(t, s.Root, "SELECT query FROM system.live")), marker) == expectPresent {
			return true
		}
		if time.Since(start) >= deadline {
			return false
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// subscription/smoke_test_subscription_close.rs:
// smoke_subscription_explicit_close_removes_live_query (close() sends
// unsubscribe) and smoke_subscription_drop_removes_live_query (the client
// goes away without unsubscribing; here its connection closes). Beyond the
// original, each first checks the subscription is listed, so the removal
// is not vacuous.
func TestSmokeSubscriptionClose(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, tc := range []struct {
		name, ns string
		drop     bool
	}{
		{"smoke_subscription_explicit_close_removes_live_query", "sub_close", false},
		{"smoke_subscription_drop_removes_live_query", "sub_drop", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.ns + ".t"
			marker := "marker_" + tc.ns
			s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+tc.ns)
			s.sql(t, s.Root, "CREATE TABLE IF NOT EXISTS "+full+" (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE='USER')")
			ws := connectWS(t, s, s.Token)
			ws.subscribe("sub_"+marker, "SELECT * FROM "+full+" -- "+marker)
			if !waitLiveQuery(t, s, marker, true, 5*time.Second) {
				t.Fatalf("subscription '%s' should be in system.live while open", marker)
			}
			if tc.drop {
				ws.disconnect()
				time.Sleep(500 * time.Millisecond) // as the original
			} else {
				ws.send(map[string]any{"type": "unsubscribe", "subscription_id": "sub_" + marker})
			}
			if !waitLiveQuery(t, s, marker, false, 6*time.Second) {
				t.Fatalf("subscription '%s' should not be in system.live after close", marker)
			}
			s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+tc.ns+" CASCADE")
		})
	}
}

// subscription/smoke_test_subscription_multi_reconnect.rs:
// smoke_subscription_multi_reconnect_parallel: five cycles of connect, two
// subscriptions (one per table) on the connection, one insert into each
// table, both events received, unsubscribe and disconnect.
func TestSmokeSubscriptionMultiReconnectParallel(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns := "sub_multi_recon"
	fullA, fullB := ns+".msgs", ns+".evts"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+ns)
	s.sql(t, s.Root, "CREATE TABLE IF NOT EXISTS "+fullA+" (id INT PRIMARY KEY, payload TEXT) WITH (TYPE='USER')")
	s.sql(t, s.Root, "CREATE TABLE IF NOT EXISTS "+fullB+" (id INT PRIMARY KEY, payload TEXT) WITH (TYPE='USER')")
	for cycle := 0; cycle < 5; cycle++ {
		ws := connectWS(t, s, s.Token)
		idA, idB := fmt.Sprintf("multi_a_%s_%d", ns, cycle), fmt.Sprintf("multi_b_%s_%d", ns, cycle)
		ws.subscribe(idA, "SELECT id, payload FROM "+fullA)
		// The second subscription's answers arrive through the collector.
		ws.send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": idB, "sql": "SELECT id, payload FROM " + fullB}})
		if msgs, ok := ws.rawUntil(0, `"ready"`, 10*time.Second); !ok || !strings.Contains(strings.Join(msgs, ""), idB) {
			t.Fatalf("[cycle %d] subscribe B: %v", cycle+1, msgs)
		}
		valA, valB := fmt.Sprintf("cycleA_%d_%s", cycle, ns), fmt.Sprintf("cycleB_%d_%s", cycle, ns)
		s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, payload) VALUES (%d, '%s')", fullA, cycle+1, valA))
		s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, payload) VALUES (%d, '%s')", fullB, cycle+1, valB))
		if msgs, ok := ws.rawUntil(0, valA, 15*time.Second); !ok {
			t.Fatalf("[cycle %d] table A live event missing for '%s'; got %v", cycle+1, valA, msgs)
		}
		if msgs, ok := ws.rawUntil(0, valB, 15*time.Second); !ok {
			t.Fatalf("[cycle %d] table B live event missing for '%s'; got %v", cycle+1, valB, msgs)
		}
		ws.send(map[string]any{"type": "unsubscribe", "subscription_id": idA})
		ws.send(map[string]any{"type": "unsubscribe", "subscription_id": idB})
		ws.disconnect()
		time.Sleep(200 * time.Millisecond)
	}
	s.sql(t, s.Root, "DROP NAMESPACE "+ns+" CASCADE")
}

// duplicateOK is the original's check of a duplicate primary-key insert
// after a flush: success is tolerated (logged as a known limitation of the
// original), an error must name the duplicate.
func duplicateOK(t *testing.T, s *server, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Root.SQL(ctx, sql); err != nil {
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, "duplicate") && !strings.Contains(msg, "already exists") &&
			!strings.Contains(msg, "primary key") && !strings.Contains(msg, "unique") {
			t.Fatalf("Expected duplicate key error, got: %v", err)
		}
	} else {
		t.Logf("duplicate PK insert after flush succeeded: %s", sql)
	}
}

// rowsAffected is the CLI's line for a DML answer, which the original
// checks for "1 rows affected".
func rowsAffected(res *client.Response) string {
	return fmt.Sprintf("%d rows affected %s", res.Results[0].RowCount, res.Results[0].Message)
}

// flushAndWait runs STORAGE FLUSH TABLE and waits for its job to complete
// (the original's verify_job_completed). The original's
// assert_flush_storage_files_exist only logs against an external server,
// which this one is to it, so the port checks no files.
func flushAndWait(t *testing.T, s *server, full string) {
	t.Helper()
	out := message(s.sql(t, s.Root, "STORAGE FLUSH TABLE "+full))
	id, ok := parseJobIDFromFlushOutput(out)
	if !ok {
		t.Fatalf("Failed to parse job ID from flush output: %q", out)
	}
	if st := waitForJobFinished(t, s, id, 90*time.Second); st != "completed" {
		t.Fatalf("Flush job did not complete successfully: %s", st)
	}
}

// flushing/smoke_test_flush_pk_integrity.rs:
// smoke_test_flush_pk_integrity_user_table and
// smoke_test_flush_pk_integrity_shared_table.
func TestSmokeFlushPKIntegrity(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	contains := func(t *testing.T, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("Expected %q in: %s", w, out)
			}
		}
	}
	t.Run("smoke_test_flush_pk_integrity_user_table", func(t *testing.T) {
		full := "smoke_pk.pk_integrity"
		s.sql(t, s.Root, "CREATE NAMESPACE smoke_pk")
		s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id INT PRIMARY KEY,
            name VARCHAR NOT NULL,
            value INT
        ) WITH (
            TYPE = 'USER',
            FLUSH_POLICY = 'rows:100'
        )`)
		for id := 1; id <= 5; id++ {
			s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, name, value) VALUES (%d, 'Name%d', %d)", full, id, id, id*10))
		}
		contains(t, cliText(s.sql(t, s.Root, "SELECT id, name, value FROM "+full+" ORDER BY id")), "Name1", "Name5")
		contains(t, rowsAffected(s.sql(t, s.Root, "UPDATE "+full+" SET name = 'UpdatedName3', value = 999 WHERE id = 3")), "1 rows affected")
		contains(t, cliText(s.sql(t, s.Root, "SELECT id, name, value FROM "+full+" WHERE id = 3")), "UpdatedName3", "999")
		flushAndWait(t, s, full)
		contains(t, cliText(s.sql(t, s.Root, "SELECT id, name, value FROM "+full+" ORDER BY id")), "UpdatedName3", "999", "Name1", "Name5")
		duplicateOK(t, s, "INSERT INTO "+full+" (id, name, value) VALUES (3, 'Duplicate', 777)")
		contains(t, rowsAffected(s.sql(t, s.Root, "UPDATE "+full+" SET name = 'PostFlushUpdate2', value = 888 WHERE id = 2")), "1 rows affected")
		contains(t, cliText(s.sql(t, s.Root, "SELECT id, name, value FROM "+full+" WHERE id = 2")), "PostFlushUpdate2", "888")
		s.sql(t, s.Root, "DROP TABLE "+full)
		s.sql(t, s.Root, "DROP NAMESPACE smoke_pk CASCADE")
	})
	t.Run("smoke_test_flush_pk_integrity_shared_table", func(t *testing.T) {
		full := "smoke_pk_s.pk_integrity"
		s.sql(t, s.Root, "CREATE NAMESPACE smoke_pk_s")
		s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id INT PRIMARY KEY,
            name VARCHAR NOT NULL,
            value INT
        ) WITH (
            TYPE = 'SHARED',
            FLUSH_POLICY = 'rows:100'
        )`)
		for id := 10; id <= 15; id++ {
			s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, name, value) VALUES (%d, 'Shared%d', %d)", full, id, id, id*100))
		}
		s.sql(t, s.Root, "UPDATE "+full+" SET name = 'SharedUpdated12', value = 9999 WHERE id = 12")
		flushAndWait(t, s, full)
		contains(t, cliText(s.sql(t, s.Root, "SELECT id, name, value FROM "+full+" WHERE id = 12")), "SharedUpdated12", "9999")
		duplicateOK(t, s, "INSERT INTO "+full+" (id, name, value) VALUES (12, 'Dup', 0)")
		s.sql(t, s.Root, "DROP TABLE "+full)
		s.sql(t, s.Root, "DROP NAMESPACE smoke_pk_s CASCADE")
	})
}

// expectError runs sql as c and fails unless it errs with a message holding
// one of words (lower-case): the original's expect_unauthorized and
// expect_rejected.
func expectError(t *testing.T, c *client.Client, sql, what string, words ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.SQL(ctx, sql)
	if err == nil {
		t.Errorf("Expected rejection: %s", what)
		return
	}
	msg := strings.ToLower(err.Error())
	for _, w := range words {
		if strings.Contains(msg, w) {
			return
		}
	}
	t.Errorf("Expected authorization error for %s: %v", what, err)
}

var (
	unauthorizedWords = []string{"unauthorized", "not authorized", "permission", "privilege", "access denied"}
	rejectedWords     = []string{"unauthorized", "not authorized", "permission", "privilege", "denied", "forbidden", "invalid", "constraint", "access denied"}
)

// security/smoke_test_security_access.rs:
// smoke_security_system_tables_blocked_in_batch and
// smoke_security_private_shared_table_blocked_in_batch.
func TestSmokeSecurityAccess(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_security_system_tables_blocked_in_batch", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER smoke_sys_batch WITH PASSWORD 'smoke_pass_123' ROLE 'user'")
		u, _ := s.login(t, "smoke_sys_batch", "smoke_pass_123")
		for _, q := range []string{
			"SELECT 1; SELECT * FROM system.users",
			"SELECT 1; SELECT * FROM system.schemas",
			"SELECT 1; SELECT * FROM (SELECT * FROM system.users) AS u",
			"SELECT 1; SELECT u.user_id FROM system.users u JOIN (SELECT user_id FROM system.users) s ON u.user_id = s.user_id",
			"SELECT 1; SELECT * FROM system.users WHERE user_id IN (SELECT user_id FROM system.users)",
			"WITH u AS (SELECT * FROM system.users) SELECT * FROM u",
			"SELECT 1; EXPLAIN SELECT * FROM system.users",
			"SELECT (SELECT user_id FROM system.users LIMIT 1) AS usr FROM system.users",
			"SELECT (SELECT COUNT(*) FROM system.users) AS cnt",
			"SELECT * FROM system.users WHERE user_id = (SELECT user_id FROM system.users LIMIT 1)",
			"SELECT 1 UNION SELECT user_id FROM system.users",
			"SELECT 1 EXCEPT SELECT user_id FROM system.users",
			"SELECT 1 INTERSECT SELECT user_id FROM system.users",
		} {
			expectError(t, u, q, "system table batch query: "+q, rejectedWords...)
		}
		s.sql(t, s.Root, "DROP USER smoke_sys_batch")
	})
	t.Run("smoke_security_private_shared_table_blocked_in_batch", func(t *testing.T) {
		full := "smoke_private_shared_ns.smoke_private_shared_tbl"
		s.sql(t, s.Root, "CREATE NAMESPACE smoke_private_shared_ns")
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PRIVATE')")
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, name) VALUES (1, 'secret')")
		s.sql(t, s.Root, "CREATE USER smoke_private_user WITH PASSWORD 'smoke_pass_123' ROLE 'user'")
		u, _ := s.login(t, "smoke_private_user", "smoke_pass_123")
		expectError(t, u, "SELECT * FROM "+full+"; INSERT INTO "+full+" (id, name) VALUES (2, 'x'); UPDATE "+full+
			" SET name = 'y' WHERE id = 1; DELETE FROM "+full+" WHERE id = 1;", "private shared table batch statement", unauthorizedWords...)
		expectError(t, u, "SELECT * FROM "+full, "private shared table SELECT", unauthorizedWords...)
		expectError(t, u, "INSERT INTO "+full+" (id, name) VALUES (3, 'x')", "private shared table INSERT", unauthorizedWords...)
		expectError(t, u, "DELETE FROM "+full+" WHERE id = 1", "private shared table DELETE", unauthorizedWords...)
		if rows := records(t, s.Root, "SELECT name FROM "+full); len(rows) != 1 || rows[0].String("name") != "secret" {
			t.Errorf("the private table changed: %v", rows)
		}
		s.sql(t, s.Root, "DROP USER smoke_private_user")
		s.sql(t, s.Root, "DROP TABLE IF EXISTS "+full)
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS smoke_private_shared_ns")
	})
	t.Run("smoke_security_subscription_blocked_for_system_and_private_shared", func(t *testing.T) {
		ns := "smoke_sub_private_ns"
		private, public := ns+".smoke_sub_private_tbl", ns+".smoke_sub_public_tbl"
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, "CREATE TABLE "+private+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PRIVATE')")
		s.sql(t, s.Root, "CREATE TABLE "+public+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='SHARED', ACCESS_LEVEL='PUBLIC')")
		s.sql(t, s.Root, "CREATE USER smoke_sub_user WITH PASSWORD 'smoke_pass_123' ROLE 'user'")
		_, token := s.login(t, "smoke_sub_user", "smoke_pass_123")
		// subscribeAs is the original's subscribe_as_user: the first answer
		// to a subscribe is an error or not.
		subscribeAs := func(id, sql string) map[string]any {
			ws := connectWS(t, s, token)
			ws.send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": id, "sql": sql}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m := ws.read(ctx)
			go ws.collect() // disconnect waits for the reader
			return m
		}
		if m := subscribeAs("sys", "SELECT * FROM system.users"); m["type"] != "error" {
			t.Errorf("Expected system table subscription to fail: %v", m)
		}
		if m := subscribeAs("priv", "SELECT * FROM "+private); m["type"] != "error" {
			t.Errorf("Expected private shared table subscription to fail: %v", m)
		}
		if m := subscribeAs("pub", "SELECT * FROM "+public); m["type"] == "error" {
			t.Errorf("Expected public shared table subscription to succeed, but got: %v", m)
		}
		s.sql(t, s.Root, "DROP USER smoke_sub_user")
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
	})
	t.Run("smoke_security_query_length_limit", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER smoke_len_user WITH PASSWORD 'smoke_pass_123' ROLE 'user'")
		u, _ := s.login(t, "smoke_len_user", "smoke_pass_123")
		const maxSQLQueryLength = 1024 * 1024 // MAX_SQL_QUERY_LENGTH
		expectError(t, u, "SELECT '"+strings.Repeat("a", maxSQLQueryLength+1024)+"'", "oversized query length", rejectedWords...)
		s.sql(t, s.Root, "DROP USER smoke_len_user")
	})
	t.Run("smoke_security_system_table_write_blocked", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER smoke_sys_write_user WITH PASSWORD 'smoke_pass_123' ROLE 'user'")
		u, _ := s.login(t, "smoke_sys_write_user", "smoke_pass_123")
		expectError(t, u, "INSERT INTO system.users (user_id) VALUES ('hacker'); UPDATE system.users SET user_id='x' WHERE user_id='root'; DELETE FROM system.users WHERE user_id='root';",
			"system table write batch", rejectedWords...)
		if rows := records(t, s.Root, "SELECT user_id FROM system.users WHERE user_id IN ('root', 'hacker', 'x') ORDER BY user_id"); len(rows) != 1 || rows[0].String("user_id") != "root" {
			t.Errorf("system.users changed: %v", rows)
		}
		s.sql(t, s.Root, "DROP USER smoke_sys_write_user")
	})
}

// runDMLSequence is the original's run_dml_sequence (dml_wide_columns).
func runDMLSequence(t *testing.T, s *server, full string) {
	t.Helper()
	affected := func(sql string) {
		t.Helper()
		if out := rowsAffected(s.sql(t, s.Root, sql)); !strings.Contains(out, "1 rows affected") {
			t.Fatalf("expected 1 row affected: %s: %s", sql, out)
		}
	}
	selAll := "SELECT id, name, age, active, score, balance, created_at, note FROM " + full + " ORDER BY id"
	affected("INSERT INTO " + full + " (name, age, active, score, balance, note) VALUES ('alpha', 25, true, 12.5, 1000, 'note-a')")
	affected("INSERT INTO " + full + " (name, age, active, score, balance, note) VALUES ('beta', 30, false, 99.9, 2000, 'note-b')")
	if out := cliText(s.sql(t, s.Root, selAll)); !strings.Contains(out, "alpha") || !strings.Contains(out, "beta") {
		t.Fatalf("expected both rows present: %s", out)
	}
	alpha := records(t, s.Root, "SELECT id FROM "+full+" WHERE name = 'alpha'")
	if len(alpha) == 0 || alpha[0].String("id") == "" {
		t.Fatalf("should parse alpha id: %v", alpha)
	}
	affected("UPDATE " + full + " SET age = 26 WHERE id = " + alpha[0].String("id"))
	if out := cliText(s.sql(t, s.Root, selAll)); !strings.Contains(out, "26") {
		t.Fatalf("expected updated age 26: %s", out)
	}
	affected("UPDATE " + full + " SET name='alpha2', age=42, active=false, score=88.75, balance=4321, note='note-upd' WHERE id = " + alpha[0].String("id"))
	if out := cliText(s.sql(t, s.Root, selAll)); !strings.Contains(out, "alpha2") || !strings.Contains(out, "42") || !strings.Contains(strings.ToLower(out), "false") {
		t.Fatalf("expected multi-column updates reflected: %s", out)
	}
	beta := records(t, s.Root, "SELECT id, name FROM "+full+" WHERE name = 'beta'")
	if len(beta) == 0 || beta[0].String("id") == "" {
		t.Fatalf("should parse beta id: %v", beta)
	}
	affected("DELETE FROM " + full + " WHERE id = " + beta[0].String("id"))
	if out := cliText(s.sql(t, s.Root, selAll)); !strings.Contains(out, "alpha2") {
		t.Fatalf("expected updated row present: %s", out)
	}
}

// dml/smoke_test_dml_wide_columns.rs: smoke_user_table_dml_wide_columns,
// smoke_shared_table_dml_wide_columns and
// smoke_subscription_update_delete_notifications.
func TestSmokeDMLWideColumns(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, tc := range []struct{ name, ns, typ string }{
		{"smoke_user_table_dml_wide_columns", "smoke_ns_u", "USER"},
		{"smoke_shared_table_dml_wide_columns", "smoke_ns_s", "SHARED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.ns + ".dml_wide"
			s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+tc.ns)
			s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR NOT NULL,
            age INT,
            active BOOLEAN,
            score DOUBLE,
            balance BIGINT,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            note VARCHAR
        ) WITH (
            TYPE = '`+tc.typ+`',
            FLUSH_POLICY = 'rows:10'
        )`)
			runDMLSequence(t, s, full)
			s.sql(t, s.Root, "DROP NAMESPACE "+tc.ns+" CASCADE")
		})
	}
	t.Run("smoke_subscription_update_delete_notifications", func(t *testing.T) {
		full := "smoke_ns_sub.user_sub_dml"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_ns_sub")
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id INT PRIMARY KEY, name VARCHAR, updated_at TIMESTAMP, is_deleted BOOLEAN, note VARCHAR) WITH (TYPE = 'USER')")
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, name, updated_at, is_deleted, note) VALUES (1, 'one', 1730497770045, false, 'n1')")
		ws := connectWS(t, s, s.Token)
		if initial := ws.subscribe("dml", "SELECT * FROM "+full); len(initial) != 1 {
			t.Fatalf("Should have received initial data batch with the row: %v", initial)
		}
		const updateValue = "upd_smoke"
		s.sql(t, s.Root, "UPDATE "+full+" SET name='"+updateValue+"' WHERE id=1")
		if msgs, ok := ws.rawUntil(0, updateValue, 15*time.Second); !ok {
			t.Fatalf("Should have received UPDATE event with value '%s'. All events: %v", updateValue, msgs)
		}
		s.sql(t, s.Root, "DELETE FROM "+full+" WHERE id=1")
		if msgs, ok := ws.rawUntil(0, `"change_type":"delete"`, 20*time.Second); !ok || !strings.Contains(msgs[len(msgs)-1], `"_deleted":true`) {
			t.Fatalf("Should have received DELETE event. All events: %v", msgs)
		}
		s.sql(t, s.Root, "DROP NAMESPACE smoke_ns_sub CASCADE")
	})
}
