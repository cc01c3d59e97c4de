package upstream

// Port of usecases/smoke_test_schema_history.rs (v0.4.3-rc.4).

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// schemaHistory returns schema_version and is_latest of a table's rows in
// system.schemas, in version order (the original's extract_i32_from_row and
// extract_bool_from_row over its query).
func schemaHistory(t *testing.T, s *server, ns, table string) (versions []int64, latest []bool) {
	t.Helper()
	rows := rowMaps(s.sql(t, s.Root, "SELECT schema_version, is_latest FROM system.schemas WHERE namespace_id = '"+ns+"' AND table_name = '"+table+"' ORDER BY schema_version"))
	for _, r := range rows {
		v, ok := intOf(r, "schema_version")
		b, isBool := r["is_latest"].(bool)
		if !ok || !isBool {
			t.Fatalf("schema_version/is_latest not an integer and a boolean: %v", r)
		}
		versions, latest = append(versions, v), append(latest, b)
	}
	return versions, latest
}

// usecases/smoke_test_schema_history.rs: its two tests.
func TestSmokeSchemaHistory(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_test_schema_history_in_system_tables", func(t *testing.T) {
		ns, table := "schema_hist", "versioned"
		full := ns + "." + table
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            name TEXT NOT NULL
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		if v, l := schemaHistory(t, s, ns, table); fmt.Sprint(v, l) != "[1] [true]" {
			t.Fatalf("Expected 1 row, schema_version = 1, is_latest = true after CREATE: %v %v", v, l)
		}
		s.sql(t, s.Root, "ALTER TABLE "+full+" ADD COLUMN email TEXT")
		if v, l := schemaHistory(t, s, ns, table); fmt.Sprint(v, l) != "[1 2] [false true]" {
			t.Fatalf("Expected versions 1, 2 with only 2 latest after 1st ALTER TABLE: %v %v", v, l)
		}
		s.sql(t, s.Root, "ALTER TABLE "+full+" ADD COLUMN age INT")
		if v, l := schemaHistory(t, s, ns, table); len(v) != 3 || !l[2] {
			t.Fatalf("Expected 3 rows after 2nd ALTER TABLE, only version 3 latest: %v %v", v, l)
		}
		for i := range 5 {
			s.sql(t, s.Root, fmt.Sprintf("ALTER TABLE %s ADD COLUMN extra_col_%d TEXT", full, i))
		}
		v, l := schemaHistory(t, s, ns, table)
		if len(v) != 8 {
			t.Fatalf("Expected 8 rows (1 CREATE + 2 + 5 ALTERs), got %d. Schema history is NOT being preserved!", len(v))
		}
		for i := range v {
			if v[i] != int64(i+1) || l[i] != (i == len(v)-1) {
				t.Fatalf("Row %d: schema_version %d is_latest %v", i, v[i], l[i])
			}
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
	})
	t.Run("smoke_test_drop_table_removes_schema_history", func(t *testing.T) {
		ns, table := "drop_hist", "to_drop"
		full := ns + "." + table
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, "CREATE TABLE "+full+" (id BIGINT PRIMARY KEY) WITH (TYPE = 'USER')")
		s.sql(t, s.Root, "ALTER TABLE "+full+" ADD COLUMN a TEXT")
		s.sql(t, s.Root, "ALTER TABLE "+full+" ADD COLUMN b TEXT")
		count := "SELECT COUNT(*) as cnt FROM system.schemas WHERE namespace_id = '" + ns + "' AND table_name = '" + table + "'"
		if n, _ := intOf(rowMaps(s.sql(t, s.Root, count))[0], "cnt"); n != 3 {
			t.Fatalf("before DROP: %d versions, want 3", n)
		}
		s.sql(t, s.Root, "DROP TABLE "+full)
		if rows := rowMaps(s.sql(t, s.Root, count)); len(rows) > 0 {
			if n, ok := intOf(rows[0], "cnt"); !ok || n != 0 {
				t.Fatalf("Expected 0 rows after DROP TABLE, got %v. Schema history was not cleaned up!", rows[0]["cnt"])
			}
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
	})
}

// system/smoke_test_system_tables_extended.rs: its five tests.
func TestSmokeSystemTablesExtended(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_test_system_tables_options_column", func(t *testing.T) {
		ns := "sys_tables_ns"
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, `CREATE TABLE `+ns+`.user_tbl (
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            name TEXT NOT NULL
        ) WITH (
            TYPE = 'USER',
            STORAGE_ID = 'local',
            FLUSH_POLICY = 'rows:1000'
        )`)
		s.sql(t, s.Root, `CREATE TABLE `+ns+`.shared_tbl (
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            config_key TEXT NOT NULL,
            config_value TEXT
        ) WITH (
            TYPE = 'SHARED',
            STORAGE_ID = 'local',
            FLUSH_POLICY = 'rows:100',
            ACCESS_LEVEL = 'PUBLIC'
        )`)
		s.sql(t, s.Root, `CREATE TABLE `+ns+`.stream_tbl (
            event_id TEXT PRIMARY KEY DEFAULT ULID(),
            event_type TEXT,
            payload TEXT
        ) WITH (
            TYPE = 'STREAM',
            TTL_SECONDS = 30
        )`)
		out, err := sqlJSON(s.Root, "SELECT table_name, table_type, options FROM system.schemas WHERE namespace_id = '"+ns+"' ORDER BY table_name")
		if err != nil {
			t.Fatalf("Failed to query system.schemas: %v", err)
		}
		for _, want := range [][]string{{"user_tbl"}, {"shared_tbl"}, {"stream_tbl"}, {`"table_type"`}, {`"options"`},
			{"TYPE", `"type"`, "table_type"}, {"STORAGE_ID", "storage_id"}, {"FLUSH_POLICY", "flush_policy"},
			{"TTL_SECONDS", "ttl_seconds"}, {"ACCESS_LEVEL", "access_level"}} {
			if !slices.ContainsFunc(want, func(w string) bool { return strings.Contains(out, w) }) {
				t.Errorf("Expected one of %v in system.schemas output: %s", want, out)
			}
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
	})
	t.Run("smoke_test_system_live_queries", func(t *testing.T) {
		ns := "live_ns"
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, `CREATE TABLE `+ns+`.messages (
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            content TEXT NOT NULL
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		ws := connectWS(t, s, s.Token)
		ws.subscribe("live", "SELECT * FROM "+ns+".messages")
		out, err := sqlJSON(s.Root, "SELECT live_id, query, user_id FROM system.live")
		if err != nil {
			t.Fatalf("Failed to query system.live: %v", err)
		}
		if !strings.Contains(out, `"live_id"`) && !strings.Contains(out, "[]") {
			t.Fatalf("Expected live_id column or empty array in system.live: %s", out)
		}
		// The port also checks the subscription is listed.
		if !strings.Contains(out, "SELECT * FROM "+ns+".messages") {
			t.Errorf("the open subscription is not in system.live: %s", out)
		}
	})
	t.Run("smoke_test_system_stats_meta_command", func(t *testing.T) {
		out := cliText(s.sql(t, s.Root, "SELECT metric_name, metric_value FROM system.stats ORDER BY metric_name LIMIT 5000"))
		for _, key := range []string{"schema_cache_size", "schema_registry_size", "total_users", "total_tables",
			"server_version", "server_workers_effective", "max_connections"} {
			if !strings.Contains(out, key) {
				t.Errorf("Expected stat key '%s' in system.stats", key)
			}
		}
	})
	t.Run("smoke_test_dt_meta_command", func(t *testing.T) {
		ns := "dt_ns"
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		for _, tb := range []string{"table1", "table2"} {
			s.sql(t, s.Root, "CREATE TABLE "+ns+"."+tb+" (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')")
		}
		out := cliText(s.sql(t, s.Root, "SELECT table_name, table_type FROM system.schemas WHERE namespace_id = '"+ns+"' ORDER BY table_name"))
		for _, tb := range []string{"table1", "table2"} {
			if !strings.Contains(out, tb) {
				t.Errorf("Expected table %s in \\dt output: %s", tb, out)
			}
		}
	})
	t.Run("smoke_test_describe_table_meta_command", func(t *testing.T) {
		ns := "desc_ns"
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, `CREATE TABLE `+ns+`.test_table (
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            title TEXT NOT NULL,
            content TEXT,
            created_at TIMESTAMP DEFAULT NOW()
        ) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:1000')`)
		out := cliText(s.sql(t, s.Root, "SELECT table_name, table_type, options FROM system.schemas WHERE namespace_id = '"+ns+"' AND table_name = 'test_table'"))
		if !strings.Contains(out, "test_table") || !(strings.Contains(out, "options") || strings.Contains(out, "type")) {
			t.Errorf("Expected table and its metadata in describe output: %s", out)
		}
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
	})
}
