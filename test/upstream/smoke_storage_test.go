package upstream

// Port of storage/smoke_test_storage_health.rs (v0.4.3-rc.4).

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// waitForStorageCheckRow is the original's wait_for_storage_check_row:
// the first row of sql once its status is healthy (at most timeout).
func waitForStorageCheckRow(t *testing.T, s *server, sql string, timeout time.Duration) client.Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last any
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := s.Root.Records(ctx, sql)
		cancel()
		if err == nil && len(recs) > 0 && recs[0].String("status") == "healthy" {
			return recs[0]
		}
		last = []any{recs, err}
		if time.Now().After(deadline) {
			t.Fatalf("Timed out waiting for healthy storage check row for SQL: %s. Last result: %v", sql, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// storage/smoke_test_storage_health.rs: its five tests.
func TestSmokeStorageHealth(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_storage_check_local_basic", func(t *testing.T) {
		row := waitForStorageCheckRow(t, s, "STORAGE CHECK local", 20*time.Second)
		if row.String("storage_id") != "local" {
			t.Errorf("storage_id should be 'local': %v", row)
		}
		for _, c := range []string{"readable", "writable", "listable", "deletable"} {
			if row[c] != true {
				t.Errorf("local storage should be %s: %v", c, row[c])
			}
		}
		if v, ok := intOf(row, "latency_ms"); ok && (v < 0 || v >= 5000) {
			t.Errorf("latency_ms should be between 0 and 5000ms, got %d", v)
		}
		if e := row["error"]; e != nil && e != "" {
			t.Errorf("error should be null for healthy storage: %v", e)
		}
		// tested_at: the original parses an RFC 3339 string; a TIMESTAMP
		// here is epoch microseconds (as a string or number).
		var tested time.Time
		switch v := row["tested_at"].(type) {
		case string:
			if us, err := strconv.ParseInt(v, 10, 64); err == nil {
				tested = time.UnixMicro(us)
			} else if tested, err = time.Parse(time.RFC3339Nano, v); err != nil {
				t.Fatalf("Failed to parse tested_at timestamp: %v", err)
			}
		default:
			us, ok := intOf(row, "tested_at")
			if !ok {
				t.Fatalf("tested_at: %#v", row["tested_at"])
			}
			tested = time.UnixMicro(us)
		}
		if tested.Year() < 2024 || time.Since(tested).Abs() > time.Minute {
			t.Errorf("tested_at should be within 60 seconds of now: %v", tested)
		}
		if row["total_bytes"] != nil || row["used_bytes"] != nil {
			t.Errorf("total_bytes and used_bytes should be NULL for basic check: %v", row)
		}
	})
	t.Run("smoke_storage_check_extended", func(t *testing.T) {
		row := waitForStorageCheckRow(t, s, "STORAGE CHECK local EXTENDED", 20*time.Second)
		total, okT := intOf(row, "total_bytes")
		used, okU := intOf(row, "used_bytes")
		if okT && total > 0 {
			if !okU || used < 0 || total < used {
				t.Errorf("used_bytes should be present, >= 0 and <= total_bytes: %v", row)
			}
		} else {
			// The original only logs a missing capacity; a local
			// filesystem has one, so the port requires it.
			t.Errorf("no capacity for the local filesystem: %v", row)
		}
	})
	t.Run("smoke_storage_check_nonexistent", func(t *testing.T) {
		_, err := trySQL(s.Root, "STORAGE CHECK nonexistent_storage_xyz")
		if err == nil {
			t.Fatal("STORAGE CHECK on nonexistent storage should fail")
		}
		if msg := strings.ToLower(err.Error()); !strings.Contains(msg, "not found") && !strings.Contains(msg, "notfound") {
			t.Fatalf("Error should mention 'not found', got: %s", msg)
		}
	})
	t.Run("smoke_storage_check_authorization", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER chk_user WITH PASSWORD 'CheckPass123!' ROLE 'user'")
		t.Cleanup(func() { s.sql(t, s.Root, "DROP USER IF EXISTS 'chk_user'") })
		u, _ := s.login(t, "chk_user", "CheckPass123!")
		_, err := trySQL(u, "STORAGE CHECK local")
		if err == nil {
			t.Fatal("Regular user should not be able to run STORAGE CHECK")
		}
		if msg := strings.ToLower(err.Error()); !strings.Contains(msg, "permission") && !strings.Contains(msg, "denied") && !strings.Contains(msg, "admin") {
			t.Fatalf("Error should mention permission/denied/admin, got: %s", msg)
		}
	})
	t.Run("smoke_storage_check_dba_access", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER chk_dba WITH PASSWORD 'DbaPass123!' ROLE 'dba'")
		t.Cleanup(func() { s.sql(t, s.Root, "DROP USER IF EXISTS 'chk_dba'") })
		u, _ := s.login(t, "chk_dba", "DbaPass123!")
		if _, err := trySQL(u, "STORAGE CHECK local"); err != nil {
			t.Fatalf("DBA user should be able to run STORAGE CHECK: %v", err)
		}
	})
}

// parseBackupJobID is the original's parse_job_id of
// smoke_test_backup_restore.rs: the alphanumerics and '-' after "Job ID: ".
func parseBackupJobID(out string) (string, bool) {
	_, rest, ok := strings.Cut(out, "Job ID: ")
	if !ok {
		return "", false
	}
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if end < 0 {
		end = len(rest)
	}
	return rest[:end], end > 0
}

// ddl/smoke_test_backup_restore.rs: its six tests. The backup paths are
// temporary directories, as the original's (std::env::temp_dir()). Its
// check that the backup directory holds a rocksdb/ subdirectory (a copy of
// the original's RocksDB files) is replaced by one for this server's
// backup manifest: the backup formats differ by design (README.md).
func TestSmokeBackupRestore(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	backup := func(t *testing.T) (path, jobID string) {
		path = filepath.Join(t.TempDir(), "kdb_bkp")
		out := message(s.sql(t, s.Root, "BACKUP DATABASE TO '"+path+"'"))
		if !strings.Contains(out, "backup started") && !strings.Contains(out, "Job ID") {
			t.Fatalf("Expected backup started message; got: %s", out)
		}
		id, ok := parseBackupJobID(out)
		if !ok {
			t.Fatalf("Could not parse job id from: %s", out)
		}
		if st := waitForJobFinished(t, s, id, 120*time.Second); st != "completed" {
			t.Fatalf("Backup job did not complete: %s (%s)", id, st)
		}
		return path, id
	}
	s.sql(t, s.Root, "CREATE NAMESPACE bkp_ns; CREATE SHARED TABLE bkp_ns.t (id BIGINT PRIMARY KEY, v TEXT); INSERT INTO bkp_ns.t VALUES (1, 'a')")
	t.Run("smoke_backup_database_job_completes", func(t *testing.T) {
		path, _ := backup(t)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("Backup directory was not created: %v", err)
		}
		var manifests int
		filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.Contains(d.Name(), "manifest") {
				manifests++
			}
			return nil
		})
		if manifests == 0 {
			t.Fatalf("Backup has no manifest under %s", path)
		}
	})
	t.Run("smoke_restore_from_backup_job_completes", func(t *testing.T) {
		path, _ := backup(t)
		out := message(s.sql(t, s.Root, "RESTORE DATABASE FROM '"+path+"'"))
		if !strings.Contains(out, "restore started") && !strings.Contains(out, "Job ID") {
			t.Fatalf("Expected restore started message; got: %s", out)
		}
		id, ok := parseBackupJobID(out)
		if !ok {
			t.Fatalf("Could not parse restore job id from: %s", out)
		}
		// The original accepts completed or failed; here the namespace
		// exists with tables, so RESTORE without OVERWRITE fails.
		if st := waitForJobFinished(t, s, id, 120*time.Second); st != "completed" && st != "failed" {
			t.Fatalf("Restore job should be in terminal state; got: %s", st)
		}
	})
	for _, c := range []struct{ name, sql string }{
		{"smoke_backup_requires_dba_role", "BACKUP DATABASE TO '" + filepath.Join(os.TempDir(), "kdb_unauth_bkp_never_written") + "'"},
		{"smoke_restore_requires_dba_role", "RESTORE DATABASE FROM '/tmp/nonexistent_backup_path_abc123'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			user := "noauth_" + c.name[6:10]
			s.sql(t, s.Root, "CREATE USER "+user+" WITH PASSWORD 'TestPass123!' ROLE 'user'")
			u, _ := s.login(t, user, "TestPass123!")
			out, err := trySQL(u, c.sql)
			text := strings.ToLower(out)
			if err != nil {
				text = strings.ToLower(err.Error())
			}
			if !slices.ContainsFunc([]string{"unauthorized", "permission", "forbidden", "dba", "not allowed", "error"}, func(w string) bool { return strings.Contains(text, w) }) {
				t.Fatalf("Expected authorization error for regular user; got: %s %v", out, err)
			}
			s.sql(t, s.Root, "DROP USER IF EXISTS "+user)
		})
	}
	t.Run("smoke_restore_nonexistent_path_returns_error", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "kalamdb_nonexistent_backup_path_zzz999")
		out, err := trySQL(s.Root, "RESTORE DATABASE FROM '"+bad+"'")
		if l := strings.ToLower(out); err == nil && !strings.Contains(l, "not found") && !strings.Contains(l, "error") &&
			!strings.Contains(l, "does not exist") && !strings.Contains(l, "no such file") {
			t.Fatalf("Expected RESTORE DATABASE to fail for non-existent path; got: %s", out)
		}
	})
	t.Run("smoke_backup_job_visible_in_system_jobs", func(t *testing.T) {
		_, id := backup(t)
		recs := records(t, s.Root, "SELECT job_id, job_type, status FROM system.jobs WHERE job_id = '"+id+"'")
		if len(recs) == 0 {
			t.Fatalf("Backup job %s not found in system.jobs", id)
		}
		if jt := strings.ToLower(recs[0].String("job_type")); !strings.Contains(jt, "backup") {
			t.Fatalf("Expected job_type to contain 'backup'; got: %s", jt)
		}
	})
}
