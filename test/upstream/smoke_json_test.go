package upstream

// Port of query/smoke_test_json_operators.rs (v0.4.3-rc.4).

import (
	"fmt"
	"strings"
	"testing"
)

// query/smoke_test_json_operators.rs: its ten tests.
func TestSmokeJSONOperators(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	setup := func(t *testing.T, prefix, extra string) string {
		ns := "json_" + prefix
		full := ns + "." + prefix + "_tbl"
		cols := "id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), doc JSON"
		if extra != "" {
			cols += ", " + extra
		}
		return s.freshTable(t, ns, full, "("+cols+") WITH (TYPE = 'SHARED')")
	}
	out := func(t *testing.T, sql string) string {
		t.Helper()
		o, err := trySQL(s.Root, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return o
	}
	want := func(t *testing.T, o string, words ...string) {
		t.Helper()
		for _, w := range words {
			if !strings.Contains(o, w) {
				t.Fatalf("should contain %q: %s", w, o)
			}
		}
	}
	t.Run("smoke_json_object_roundtrip", func(t *testing.T) {
		tbl := setup(t, "obj_rt", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('{"name":"alice","age":30,"tags":["admin","user"]}')`)
		want(t, out(t, "SELECT doc FROM "+tbl), "alice", "admin")
	})
	t.Run("smoke_json_array_roundtrip", func(t *testing.T) {
		tbl := setup(t, "arr_rt", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('[1, "two", true, null, {"nested": 42}]')`)
		want(t, out(t, "SELECT doc FROM "+tbl), "nested")
	})
	t.Run("smoke_json_arrow_text_operator", func(t *testing.T) {
		tbl := setup(t, "arrow_txt", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('{"name":"bob","city":"paris"}')`)
		want(t, out(t, "SELECT doc->>'name' AS name FROM "+tbl), "bob")
		want(t, out(t, "SELECT doc->>'city' AS city FROM "+tbl), "paris")
	})
	t.Run("smoke_json_arrow_json_operator", func(t *testing.T) {
		tbl := setup(t, "arrow_json", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('{"profile":{"city":"london","scores":[10,20,30]}}')`)
		want(t, out(t, "SELECT doc->'profile' AS profile FROM "+tbl), "london")
	})
	t.Run("smoke_json_nested_access", func(t *testing.T) {
		tbl := setup(t, "nested", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('{"user":{"address":{"zip":"90210"}}}')`)
		want(t, out(t, "SELECT doc->'user'->'address'->>'zip' AS zip FROM "+tbl), "90210")
	})
	t.Run("smoke_json_exists_operator_and_contains_function", func(t *testing.T) {
		tbl := setup(t, "exists", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('{"customer_id":"cust_123","status":"paid"}')`)
		o, err := trySQL(s.Root, "SELECT doc->>'customer_id' AS customer_id FROM "+tbl+" WHERE doc ? 'customer_id'")
		if err != nil || !strings.Contains(o, "cust_123") {
			t.Fatalf("doc ? 'customer_id' should find cust_123: %s %v", o, err)
		}
		want(t, out(t, "SELECT json_as_text(doc, 'status') AS status FROM "+tbl+" WHERE json_contains(doc, 'customer_id')"), "paid")
	})
	t.Run("smoke_json_where_filter", func(t *testing.T) {
		tbl := setup(t, "where", "")
		for _, d := range []string{`{"status":"active","priority":1}`, `{"status":"inactive","priority":2}`, `{"status":"active","priority":3}`} {
			s.sql(t, s.Root, "INSERT INTO "+tbl+" (doc) VALUES ('"+d+"')")
		}
		// The port compares the rows (the original looks for digits in
		// the printed output).
		rows := fmt.Sprint(s.sql(t, s.Root, "SELECT doc->>'priority' AS p FROM "+tbl+" WHERE doc->>'status' = 'active' ORDER BY p").Results[0].Rows)
		if rows != "[[1] [3]]" {
			t.Fatalf("want priorities 1 and 3: %s", rows)
		}
	})
	t.Run("smoke_json_helper_functions", func(t *testing.T) {
		tbl := setup(t, "helpers", "")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc) VALUES ('{"items":[10,20,30],"meta":{"a":1,"b":2},"count":7,"flag":true}')`)
		o, err := trySQL(s.Root, "SELECT json_length(doc, 'items') AS item_count, json_get_int(doc, 'count') AS count_value, json_get_bool(doc, 'flag') AS flag_value FROM "+tbl)
		if err != nil {
			t.Fatalf("json_length/json_get_int/json_get_bool: %v", err)
		}
		want(t, strings.ToLower(o), "3", "7", "true")
		want(t, out(t, "SELECT json_object_keys(doc, 'meta') AS meta_keys FROM "+tbl), "a", "b")
	})
	t.Run("smoke_json_big_payload", func(t *testing.T) {
		tbl := setup(t, "big_json", "")
		entries := make([]string, 500)
		for i := range entries {
			entries[i] = fmt.Sprintf(`"key_%d":"value_%d_padding_%s"`, i, i, strings.Repeat("x", 150))
		}
		big := "{" + strings.Join(entries, ",") + "}"
		if len(big) <= 64000 {
			t.Fatalf("payload should be >64KB, got %d", len(big))
		}
		s.sql(t, s.Root, "INSERT INTO "+tbl+" (doc) VALUES ('"+big+"')")
		want(t, out(t, "SELECT doc->>'key_0' AS k0 FROM "+tbl), "value_0")
		want(t, out(t, "SELECT doc->>'key_499' AS k499 FROM "+tbl), "value_499")
	})
	t.Run("smoke_json_multiple_columns", func(t *testing.T) {
		tbl := setup(t, "multi_col", "metadata JSON")
		s.sql(t, s.Root, `INSERT INTO `+tbl+` (doc, metadata) VALUES ('{"title":"hello"}', '{"source":"api","version":2}')`)
		want(t, out(t, "SELECT doc->>'title' AS title, metadata->>'source' AS src FROM "+tbl), "hello", "api")
	})
}
