package upstream

// Port of dml/smoke_test_dml_extended.rs (v0.4.3-rc.4). Where the original
// looks for a digit anywhere in the CLI output of a COUNT(*) (e.g.
// `output.contains('3')`), the port compares the value itself.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// dml/smoke_test_dml_extended.rs: its seven tests.
func TestSmokeDMLExtended(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	setup := func(t *testing.T, ns, def string) string { return s.freshTable(t, ns, ns+".t", def) }
	one := func(t *testing.T, sql string) string {
		t.Helper()
		rows := s.sql(t, s.Root, sql).Results[0].Rows
		if len(rows) != 1 || len(rows[0]) != 1 {
			t.Fatalf("%s: %v", sql, rows)
		}
		return fmt.Sprint(rows[0][0])
	}
	names := func(t *testing.T, sql string) string {
		t.Helper()
		out, err := sqlJSON(s.Root, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	t.Run("smoke_test_multi_row_insert", func(t *testing.T) {
		full := setup(t, "dml_multi", `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            name TEXT NOT NULL,
            age INT,
            created_at TIMESTAMP DEFAULT NOW()
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		s.sql(t, s.Root, `INSERT INTO `+full+` (name, age) VALUES 
            ('Alice', 25),
            ('Bob', 30),
            ('Charlie', 35),
            ('Diana', 28)`)
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "4" {
			t.Fatalf("Expected 4 rows after multi-row INSERT, got: %s", n)
		}
		if out := names(t, "SELECT name FROM "+full+" ORDER BY name"); !strings.Contains(out, "Alice") || !strings.Contains(out, "Diana") {
			t.Fatalf("Expected all names in output: %s", out)
		}
	})
	t.Run("smoke_test_soft_delete_user_table", func(t *testing.T) {
		full := setup(t, "dml_soft", `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            name TEXT NOT NULL
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('Alice'), ('Bob'), ('Charlie')")
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "3" {
			t.Fatalf("Expected 3 rows initially, got %s", n)
		}
		s.sql(t, s.Root, "DELETE FROM "+full+" WHERE name = 'Bob'")
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "2" {
			t.Fatalf("Expected 2 rows after soft delete (Bob excluded), got: %s", n)
		}
		out := names(t, "SELECT name FROM "+full+" ORDER BY name")
		if strings.Contains(out, "Bob") || !strings.Contains(out, "Alice") || !strings.Contains(out, "Charlie") {
			t.Fatalf("Expected Bob excluded and Alice, Charlie visible: %s", out)
		}
		if out := names(t, "SELECT name FROM "+full+" WHERE _deleted = true"); !strings.Contains(out, "Bob") {
			t.Fatalf("Expected soft-deleted Bob with WHERE _deleted = true: %s", out)
		}
	})
	t.Run("smoke_test_non_point_update_user_table_after_batch_insert", func(t *testing.T) {
		full := setup(t, "dml_npu", `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            name TEXT NOT NULL
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('Alice'), ('Bob'), ('Charlie')")
		s.sql(t, s.Root, "UPDATE "+full+" SET name = 'Bobby' WHERE name = 'Bob'")
		out := names(t, "SELECT name FROM "+full+" ORDER BY name")
		if !strings.Contains(out, "Bobby") || strings.Contains(out, `"Bob"`) {
			t.Fatalf("Expected updated row and old value gone: %s", out)
		}
	})
	t.Run("smoke_test_soft_delete_shared_table", func(t *testing.T) {
		full := setup(t, "dml_shared", `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            config_key TEXT NOT NULL,
            config_value TEXT
        ) WITH (TYPE = 'SHARED', ACCESS_LEVEL = 'PUBLIC', FLUSH_POLICY = 'rows:1000')`)
		s.sql(t, s.Root, "INSERT INTO "+full+" (config_key, config_value) VALUES ('key1', 'value1'), ('key2', 'value2')")
		s.sql(t, s.Root, "DELETE FROM "+full+" WHERE config_key = 'key1'")
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "1" {
			t.Fatalf("Expected 1 row after soft delete in SHARED table, got %s", n)
		}
	})
	t.Run("smoke_test_hard_delete_stream_table", func(t *testing.T) {
		full := setup(t, "dml_stream", `(
            event_id TEXT PRIMARY KEY DEFAULT ULID(),
            event_type TEXT NOT NULL,
            payload TEXT
        ) WITH (TYPE = 'STREAM', TTL_SECONDS = 60)`)
		s.sql(t, s.Root, `INSERT INTO `+full+` (event_type, payload) VALUES 
            ('click', 'button1'),
            ('hover', 'menu'),
            ('click', 'button2')`)
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "3" {
			t.Fatalf("Expected 3 events initially, got %s", n)
		}
		s.sql(t, s.Root, "DELETE FROM "+full+" WHERE event_type = 'click'")
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "1" {
			t.Fatalf("Expected 1 event after hard delete, got: %s", n)
		}
		// The original only warns when click rows remain; the port
		// requires them gone.
		if out := names(t, "SELECT event_type FROM "+full+" ORDER BY event_type"); strings.Contains(out, "click") || !strings.Contains(out, "hover") {
			t.Fatalf("Expected only the hover event: %s", out)
		}
	})
	t.Run("smoke_test_aggregation_queries", func(t *testing.T) {
		full := setup(t, "dml_agg", `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            category TEXT NOT NULL,
            amount INT NOT NULL
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		s.sql(t, s.Root, `INSERT INTO `+full+` (category, amount) VALUES 
            ('A', 10),
            ('A', 20),
            ('B', 30),
            ('B', 40),
            ('C', 50)`)
		if n := one(t, "SELECT COUNT(*) as total FROM "+full); n != "5" {
			t.Errorf("Expected COUNT(*) = 5, got %s", n)
		}
		if n := one(t, "SELECT SUM(amount) as total_amount FROM "+full); n != "150" {
			t.Errorf("Expected SUM(amount) = 150, got %s", n)
		}
		if got := fmt.Sprint(s.sql(t, s.Root, "SELECT category, COUNT(*) as count FROM "+full+" GROUP BY category ORDER BY category").Results[0].Rows); got != "[[A 2] [B 2] [C 1]]" {
			t.Errorf("GROUP BY COUNT: %s", got)
		}
		if got := fmt.Sprint(s.sql(t, s.Root, "SELECT category, SUM(amount) as total FROM "+full+" GROUP BY category ORDER BY category").Results[0].Rows); got != "[[A 30] [B 70] [C 50]]" {
			t.Errorf("GROUP BY SUM: %s", got)
		}
		// The original asserts the CLI output contains 30, 10 and 50: avg of
		// an INT column is PostgreSQL's exact numeric here
		// (30.0000000000000000), which is 30.
		rows := s.sql(t, s.Root, "SELECT AVG(amount) as avg, MIN(amount) as min, MAX(amount) as max FROM "+full).Results[0].Rows
		if len(rows) != 1 || len(rows[0]) != 3 {
			t.Fatalf("AVG/MIN/MAX: %v", rows)
		}
		for i, want := range []float64{30, 10, 50} {
			if f, err := strconv.ParseFloat(fmt.Sprint(rows[0][i]), 64); err != nil || f != want {
				t.Errorf("AVG/MIN/MAX column %d: %v, want %v", i, rows[0][i], want)
			}
		}
	})
	t.Run("smoke_test_multi_row_update", func(t *testing.T) {
		full := setup(t, "dml_mru", `(
            id BIGINT PRIMARY KEY,
            status TEXT NOT NULL,
            priority INT
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		s.sql(t, s.Root, `INSERT INTO `+full+` (id, status, priority) VALUES 
            (1001, 'pending', 1),
            (1002, 'pending', 2),
            (1003, 'pending', 3),
            (1004, 'done', 1)`)
		for _, id := range []int{1001, 1002, 1003} {
			s.sql(t, s.Root, fmt.Sprintf("UPDATE %s SET status = 'active' WHERE id = %d", full, id))
		}
		if n := one(t, "SELECT COUNT(*) as total FROM "+full+" WHERE status = 'active'"); n != "3" {
			t.Errorf("Expected 3 rows with status='active', got %s", n)
		}
		if n := one(t, "SELECT COUNT(*) as total FROM "+full+" WHERE status = 'pending'"); n != "0" {
			t.Errorf("Expected 0 rows with status='pending', got %s", n)
		}
	})
}

// usecases/smoke_test_all_datatypes.rs: smoke_all_datatypes_user_shared_stream.
// With FLUSH_POLICY rows:10 and two rows the tables stay hot, as in the
// original.
func TestSmokeAllDatatypesUserSharedStream(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns := "types_ns"
	user, shared, stream := ns+".user_types", ns+".shared_types", ns+".stream_types"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+ns)
	cols := `
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        bool_col BOOLEAN,
        int_col INT,
        big_int_col BIGINT,
        text_col TEXT,
        ts_col TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    `
	s.sql(t, s.Root, "CREATE TABLE "+user+" ("+cols+") WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:10')")
	s.sql(t, s.Root, "CREATE TABLE "+shared+" ("+cols+") WITH (TYPE = 'SHARED', FLUSH_POLICY = 'rows:10')")
	s.sql(t, s.Root, "CREATE TABLE "+stream+" ("+cols+") WITH (TYPE = 'STREAM', TTL_SECONDS = 60)")
	for _, full := range []string{user, shared} {
		s.sql(t, s.Root, "INSERT INTO "+full+" (bool_col, int_col, big_int_col, text_col) VALUES (true, 123, 1234567890123, 'hello')")
		s.sql(t, s.Root, "INSERT INTO "+full+" (bool_col, int_col, big_int_col, text_col) VALUES (false, -321, 987654321, 'world')")
	}
	s.sql(t, s.Root, "INSERT INTO "+stream+" (bool_col, int_col, text_col) VALUES (true, 1, 'stream_one')")
	s.sql(t, s.Root, "INSERT INTO "+stream+" (bool_col, int_col, text_col) VALUES (false, 2, 'stream_two')")
	for _, c := range []struct{ full, upd, check string }{{user, "upd", "upd"}, {shared, "shared_upd", "shar"}} {
		ids := map[string]string{}
		for _, r := range records(t, s.Root, "SELECT id, text_col FROM "+c.full+" ORDER BY id") {
			ids[r.String("text_col")] = r.String("id")
		}
		if ids["hello"] == "" || ids["world"] == "" {
			t.Fatalf("%s: Expected both rows: %v", c.full, ids)
		}
		s.sql(t, s.Root, "DELETE FROM "+c.full+" WHERE id = "+ids["hello"])
		s.sql(t, s.Root, "UPDATE "+c.full+" SET text_col='"+c.upd+"' WHERE id = "+ids["world"])
		out, err := sqlJSON(s.Root, "SELECT * FROM "+c.full)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, c.check) || strings.Contains(out, "hello") || strings.Contains(out, "world") {
			t.Fatalf("%s: Expected the updated row only: %s", c.full, out)
		}
	}
	out, err := sqlJSON(s.Root, "SELECT * FROM "+stream)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "stream_one") && !strings.Contains(out, "stream_two") {
		t.Fatalf("Expected stream row content: %s", out)
	}
	if n := len(s.sql(t, s.Root, "SELECT * FROM "+stream).Results[0].Rows); n != 2 {
		t.Fatalf("Expected 2 stream rows, got %d", n)
	}
	for _, full := range []string{user, shared, stream} {
		s.sql(t, s.Root, "DROP TABLE "+full)
	}
	s.sql(t, s.Root, "DROP NAMESPACE "+ns+" CASCADE")
}

// dml/smoke_test_dml_watermark_optimization.rs: its four tests. The
// original bounds each loop's wall time (90 s, 30 s, 120 s) to catch a
// hang; the port leaves that to the test binary's timeout (timed
// assertions flake on a shared machine) and checks the row counts,
// which the original only prints.
func TestSmokeDMLWatermark(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	count := func(t *testing.T, full string) string {
		t.Helper()
		return fmt.Sprint(s.sql(t, s.Root, "SELECT COUNT(*) as cnt FROM "+full).Results[0].Rows[0][0])
	}
	t.Run("smoke_test_watermark_dml_insert_performance", func(t *testing.T) {
		full := "watermark_insert.t"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS watermark_insert")
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY, name TEXT NOT NULL, value INT)")
		for i := range 20 {
			s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, name, value) VALUES (%d, 'item_%d', %d)", full, i, i, i*10))
		}
		if n := count(t, full); n != "20" {
			t.Fatalf("want 20 rows, got %s", n)
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS watermark_insert CASCADE")
	})
	t.Run("smoke_test_watermark_dml_update", func(t *testing.T) {
		full := "watermark_update.t"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS watermark_update")
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY, status TEXT, counter INT) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')")
		for i := range 10 {
			s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, status, counter) VALUES (%d, 'pending', 0)", full, i))
		}
		if n := count(t, full); n != "10" {
			t.Fatalf("Expected 10 rows after insert, got: %s", n)
		}
		for i := range 10 {
			s.sql(t, s.Root, fmt.Sprintf("UPDATE %s SET status = 'processed_%d', counter = counter + 1 WHERE id = %d", full, i, i%10))
		}
		if got := fmt.Sprint(s.sql(t, s.Root, "SELECT SUM(counter), COUNT(*) FROM "+full+" WHERE status LIKE 'processed_%'").Results[0].Rows); got != "[[10 10]]" {
			t.Fatalf("after 10 updates: %s", got)
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS watermark_update CASCADE")
	})
	t.Run("smoke_test_watermark_dml_delete", func(t *testing.T) {
		full := "watermark_delete.t"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS watermark_delete")
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY, data TEXT)")
		for i := range 15 {
			s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, data) VALUES (%d, 'item_%d')", full, i, i))
		}
		for i := range 15 {
			s.sql(t, s.Root, fmt.Sprintf("DELETE FROM %s WHERE id = %d", full, i))
		}
		if n := count(t, full); n != "0" {
			t.Fatalf("want 0 rows after deleting all, got %s", n)
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS watermark_delete CASCADE")
	})
	t.Run("smoke_test_watermark_ddl_then_dml", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS watermark_ddl")
		for i := range 3 {
			table := fmt.Sprintf("watermark_ddl.cycle_table_%d", i)
			s.sql(t, s.Root, "CREATE TABLE "+table+" (id BIGINT PRIMARY KEY, value INT)")
			s.sql(t, s.Root, "INSERT INTO "+table+" (id, value) VALUES (1, 100)")
			if got := fmt.Sprint(s.sql(t, s.Root, "SELECT * FROM "+table).Results[0].Rows); !strings.HasPrefix(got, "[[1 100 ") {
				t.Fatalf("SELECT after INSERT %d: %s", i, got)
			}
			s.sql(t, s.Root, "DROP TABLE IF EXISTS "+table)
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS watermark_ddl CASCADE")
	})
}
