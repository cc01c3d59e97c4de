package sql

import (
	"errors"
	"fmt"
	"testing"
)

// TestTableOptionsReadBack checks that the options a client sets are the
// ones system.tables shows, in one spelling (the operator's drift check
// compares them with its spec).
func TestTableOptionsReadBack(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = ' Interval:60 , ROWS:500', COMPRESSION = 'ZSTD', ACCESS_LEVEL = 'public');
		CREATE STREAM TABLE app.ev (id BIGINT PRIMARY KEY) WITH (TTL_SECONDS = 30);
		CREATE USER TABLE app.u (id BIGINT PRIMARY KEY)`)
	read := func(name string) string {
		t.Helper()
		res := exec(t, e, rootSess, "SELECT access_level, flush_policy, ttl_seconds, compression FROM system.tables WHERE namespace_id = 'app' AND table_name = $1", name)
		if len(res[0].Rows) != 1 {
			t.Fatalf("%s: %d rows", name, len(res[0].Rows))
		}
		return fmt.Sprint(res[0].Rows[0]...)
	}
	for _, tc := range []struct{ table, want string }{
		{"s", fmt.Sprint("PUBLIC", "rows:500,interval:60", nil, "zstd")},
		{"ev", fmt.Sprint(nil, nil, "30", "snappy")},
		{"u", fmt.Sprint(nil, nil, nil, "snappy")},
	} {
		if got := read(tc.table); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.table, got, tc.want)
		}
	}
	exec(t, e, rootSess, "ALTER TABLE app.s SET TBLPROPERTIES (FLUSH_POLICY = 'interval:5', COMPRESSION = 'none')")
	exec(t, e, rootSess, "ALTER TABLE app.ev SET TBLPROPERTIES (TTL_SECONDS = 90)")
	if got, want := read("s"), fmt.Sprint("PUBLIC", "interval:5", nil, "none"); got != want {
		t.Errorf("s after ALTER: got %q, want %q", got, want)
	}
	if got, want := read("ev"), fmt.Sprint(nil, nil, "90", "snappy"); got != want {
		t.Errorf("ev after ALTER: got %q, want %q", got, want)
	}
}

func TestCanonicalFlushPolicy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rows:10", "rows:10"},
		{" INTERVAL : 7 ", "interval:7"},
		{"interval:60,rows:500", "rows:500,interval:60"},
		{"rows:999999,interval:86399", "rows:999999,interval:86399"},
		{"", ""}, {"rows:0", ""}, {"rows:1,rows:2", ""}, {"interval:86400", ""}, {"bytes:5", ""}, {"rows", ""},
	} {
		got, err := CanonicalFlushPolicy(tc.in)
		var qe *Error
		switch {
		case tc.want == "" && (err == nil || !errors.As(err, &qe) || qe.Code != CodeInvalidInput):
			t.Errorf("%q: got %q, %v; want an INVALID_INPUT error", tc.in, got, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
