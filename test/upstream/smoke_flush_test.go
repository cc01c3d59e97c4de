package upstream

// Port of flushing/smoke_test_flush_operations.rs (v0.4.3-rc.4), its three
// tests (TestSmokeFlushTableJob keeps the job-message core).

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// flushJob runs STORAGE FLUSH TABLE and waits for its job to complete
// (the original's parse_job_id_from_flush_output and
// verify_job_completed, 30 s).
func flushJob(t *testing.T, s *server, full string) {
	t.Helper()
	id, ok := parseJobIDFromFlushOutput(message(s.sql(t, s.Root, "STORAGE FLUSH TABLE "+full)))
	if !ok {
		t.Fatal("Failed to parse job ID from flush output")
	}
	if st := waitForJobFinished(t, s, id, 30*time.Second); st != "completed" {
		t.Fatalf("Flush job did not complete successfully: %s", st)
	}
}

// flushing/smoke_test_flush_operations.rs: smoke_test_user_table_flush,
// smoke_test_shared_table_flush and smoke_test_mixed_source_query.
func TestSmokeFlushOperations(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, c := range []struct{ name, ns, table, typ, prefix string }{
		{"smoke_test_user_table_flush", "smoke_flush_u", "user_flush", "USER", "Row"},
		{"smoke_test_shared_table_flush", "smoke_flush_s", "shared_flush", "SHARED", "Shared Row"},
	} {
		t.Run(c.name, func(t *testing.T) {
			full := s.freshTable(t, c.ns, c.ns+"."+c.table, `(
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            content VARCHAR NOT NULL,
            sequence INT NOT NULL,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        ) WITH (
            TYPE = '`+c.typ+`',
            FLUSH_POLICY = 'rows:50'
        )`)
			for batch := range 4 {
				values := make([]string, 50)
				for i := range values {
					n := batch*50 + i
					values[i] = fmt.Sprintf("('%s %d', %d)", c.prefix, n, n)
				}
				s.sql(t, s.Root, "INSERT INTO "+full+" (content, sequence) VALUES "+strings.Join(values, ", "))
			}
			flushJob(t, s, full)
			assertFlushFiles(t, s, c.ns, c.table, c.typ == "USER", c.name)
			if got := fmt.Sprint(s.sql(t, s.Root, "SELECT COUNT(*) as total FROM "+full).Results[0].Rows); got != "[[200]]" {
				t.Fatalf("Expected 200 rows in result, got %s", got)
			}
			if got := fmt.Sprint(s.sql(t, s.Root, "SELECT sequence FROM "+full+" WHERE sequence IN (0, 50, 100, 150, 199) ORDER BY sequence").Results[0].Rows); got != "[[0] [50] [100] [150] [199]]" {
				t.Fatalf("sequences: %s", got)
			}
		})
	}
	t.Run("smoke_test_mixed_source_query", func(t *testing.T) {
		ns, table := "smoke_flush_m", "mixed_query"
		full := s.freshTable(t, ns, ns+"."+table, `(
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            content VARCHAR NOT NULL,
            sequence INT NOT NULL
        ) WITH (
            TYPE = 'USER',
            FLUSH_POLICY = 'rows:30'
        )`)
		insert := func(from, to int, label string) {
			values := make([]string, 0, to-from)
			for i := from; i < to; i++ {
				values = append(values, fmt.Sprintf("('%s-Row%d', %d)", label, i, i))
			}
			s.sql(t, s.Root, "INSERT INTO "+full+" (content, sequence) VALUES "+strings.Join(values, ", "))
		}
		insert(0, 50, "Batch1")
		flushJob(t, s, full)
		assertFlushFiles(t, s, ns, table, true, "mixed source query")
		insert(50, 70, "Batch2")
		if got := fmt.Sprint(s.sql(t, s.Root, "SELECT COUNT(*) as total FROM "+full).Results[0].Rows); got != "[[70]]" {
			t.Fatalf("Expected 70 total rows, got %s", got)
		}
		if got := fmt.Sprint(s.sql(t, s.Root, "SELECT sequence FROM "+full+" WHERE sequence >= 45 AND sequence <= 55 ORDER BY sequence").Results[0].Rows); got != "[[45] [46] [47] [48] [49] [50] [51] [52] [53] [54] [55]]" {
			t.Fatalf("range across cold and hot rows: %s", got)
		}
	})
}
