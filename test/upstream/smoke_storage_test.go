package upstream

// Port of storage/smoke_test_storage_health.rs (v0.4.3-rc.4).

import (
	"context"
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
