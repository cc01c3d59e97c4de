package parse

import (
	"reflect"
	"strings"
	"testing"
)

func TestSpec002Clauses(t *testing.T) {
	cases := []struct {
		sql  string
		typ  string
		opts map[string]string
	}{
		{"CREATE TABLE a.b (x TEXT) LOCATION '/data/${user_id}/m' FLUSH POLICY ROWS 1000 DELETED_RETENTION 7d",
			TableTypeUser, map[string]string{"LOCATION": "/data/${user_id}/m", "FLUSH_POLICY": "rows:1000", "DELETED_RETENTION_HOURS": "168"}},
		{"CREATE TABLE a.b (x TEXT) LOCATION '/e' TTL 3600s BUFFER_SIZE 1000",
			TableTypeStream, map[string]string{"LOCATION": "/e", "TTL_SECONDS": "3600", "BUFFER_SIZE": "1000"}},
		{"CREATE TABLE a.b (x TEXT) LOCATION '/s' FLUSH POLICY ROWS 1000 OR TIME 600s",
			"", map[string]string{"LOCATION": "/s", "FLUSH_POLICY": "rows:1000,interval:600"}},
		{"CREATE TABLE a.b (x TEXT) FLUSH POLICY TIME 300s", "", map[string]string{"FLUSH_POLICY": "interval:300"}},
		{"CREATE TABLE a.b (x TEXT) FLUSH POLICY INTERVAL 5m ROWS 10", "", map[string]string{"FLUSH_POLICY": "rows:10,interval:300"}},
		{"CREATE STREAM TABLE a.b (x TEXT) TTL 30", TableTypeStream, map[string]string{"TTL_SECONDS": "30"}},
		{"CREATE USER TABLE a.b (x TEXT) STORAGE local", TableTypeUser, map[string]string{"STORAGE_ID": "local"}},
		{"CREATE SHARED TABLE a.b (x TEXT) DELETED_RETENTION '36h' WITH (COMPRESSION = 'zstd')", TableTypeShared,
			map[string]string{"DELETED_RETENTION_HOURS": "36", "COMPRESSION": "zstd"}},
		// WITH (TTL_SECONDS) alone infers nothing (it is the later syntax).
		{"CREATE TABLE a.b (x TEXT) WITH (TTL_SECONDS = 5)", "", map[string]string{"TTL_SECONDS": "5"}},
	}
	for _, c := range cases {
		st, err := Parse(c.sql)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		ct := st.(*CreateTable)
		if ct.TableType != c.typ || !reflect.DeepEqual(ct.Options, c.opts) {
			t.Errorf("%s:\n got %q %v\nwant %q %v", c.sql, ct.TableType, ct.Options, c.typ, c.opts)
		}
	}
}

func TestSpec002ClauseErrors(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE TABLE a.b (x TEXT) FLUSH POLICY ROWS 1 ROWS 2":                  "twice",
		"CREATE TABLE a.b (x TEXT) FLUSH POLICY":                                "ROWS, TIME or INTERVAL",
		"CREATE TABLE a.b (x TEXT) TTL 5y":                                      "invalid numeric literal",
		"CREATE TABLE a.b (x TEXT) TTL 'soon'":                                  "invalid duration",
		"CREATE TABLE a.b (x TEXT) LOCATION x":                                  "quoted path",
		"CREATE TABLE a.b (x TEXT) FLUSH POLICY ROWS 5 WITH (FLUSH_POLICY = 1)": "given twice",
		"CREATE TABLE a.b (x TEXT) STORAGE a STORAGE b":                         "given twice",
		"SELECT 300s": "invalid numeric literal",
	} {
		_, err := Parse(sql)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error with %q", sql, err, want)
		}
	}
}
