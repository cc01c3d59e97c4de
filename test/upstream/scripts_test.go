package upstream

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// toolsPath installs the scripts' tools (hack/upstream-tools.sh) and returns
// the PATH entry that makes them reachable.
func toolsPath(t *testing.T) string {
	t.Helper()
	if err := testtools.RunHack("upstream-tools.sh", nil); err != nil {
		t.Fatal(err)
	}
	bin, err := testtools.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	return "PATH=" + os.Getenv("PATH") + string(os.PathListSeparator) + bin
}

// failedTests returns the names of the "Test N: name" blocks a script
// marked "❌ FAILED".
func failedTests(out string) []string {
	re := regexp.MustCompile(`Test \d+: ([^\x1b\n]*)`)
	var failed []string
	current := ""
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			current = strings.TrimSpace(m[1])
		}
		if strings.Contains(line, "❌ FAILED") {
			failed = append(failed, current)
		}
	}
	return failed
}

// TestQuickstart runs backend/tests/quickstart.sh, the spec-002 quickstart
// (its "32 automated tests"; 41 requests in all).
func TestQuickstart(t *testing.T) {
	t.Parallel()
	path := toolsPath(t)
	s := startServer(t)
	sh := script(t, "quickstart.sh", fix{
		// Harness bug: the request body is '{"sql": "<sql>"}' pasted into a
		// shell string, so the multi-line statements put raw newlines into a
		// JSON string (invalid JSON: the original's serde_json refuses it
		// too), and `set -e` then ends the script at Test 4. Encode the body
		// with jq instead.
		old: `curl_cmd="$curl_cmd -d '{\"sql\": \"$sql\"}'"`,
		new: `curl_cmd="$curl_cmd -d \"\$(jq -cn --arg sql \"\$sql\" '{sql: \$sql}')\""`,
	})
	code, out := run(t, sh, path, "KALAMDB_URL="+s.URL, "TEST_JWT_TOKEN="+s.Token)
	// Harness bug: Test 32 expects its SELECT on a dropped table to fail,
	// but execute_sql already counted that failure, so the script always
	// ends "Failed: 1" with exit status 1.
	if got := failedTests(out); len(got) != 1 || got[0] != "Verify tables dropped" {
		t.Errorf("failed tests %q, want only the harness-broken \"Verify tables dropped\"", got)
	}
	if !strings.Contains(out, "Table correctly dropped") || !strings.Contains(out, "Total tests: 41") || code != 1 {
		t.Errorf("exit %d; want the summary of 41 requests with only Test 32's double count failing", code)
	}
	if strings.Contains(out, "may not be implemented yet") || strings.Contains(out, "may be empty") ||
		strings.Contains(out, "may need adjustment") || strings.Contains(out, "may not be populated") {
		t.Errorf("a system-table probe was skipped")
	}
}

// TestSharedTables runs test_shared_tables.sh, the phase 13 shared-table
// runner.
func TestSharedTables(t *testing.T) {
	t.Parallel()
	path := toolsPath(t)
	s := startServer(t)
	// Harness bug: each result is piped to jq as "Response: {...}", which is
	// not JSON; jq fails and `set -e` ends the script after its first test.
	// Print the response itself.
	sh := script(t, "test_shared_tables.sh",
		fix{old: "        echo -e \"${GREEN}✅ PASSED${NC}\"\n        PASSED=$((PASSED + 1))\n        echo \"Response: $response\" | jq '.'",
			new: "        echo -e \"${GREEN}✅ PASSED${NC}\"\n        PASSED=$((PASSED + 1))\n        echo \"$response\" | jq '.'"},
		fix{old: "        echo -e \"${RED}❌ FAILED${NC}\"\n        FAILED=$((FAILED + 1))\n        echo \"Response: $response\" | jq '.'",
			new: "        echo -e \"${RED}❌ FAILED${NC}\"\n        FAILED=$((FAILED + 1))\n        echo \"$response\" | jq '.'"})
	code, out := run(t, sh, path, "KALAMDB_URL="+s.URL, "TEST_JWT_TOKEN="+s.Token)
	if code != 0 || !strings.Contains(out, "Total tests: 32") || len(failedTests(out)) != 0 {
		t.Errorf("exit %d, failed %q; want all 32 tests passing", code, failedTests(out))
	}
}

// TestInfoSchema runs backend/test_info_schema.sh: information_schema.columns
// of system.jobs.
func TestInfoSchema(t *testing.T) {
	t.Parallel()
	path := toolsPath(t)
	s := startServer(t)
	// Harness: the script starts and stops its own server from the author's
	// checkout (cd /Users/jamal/..., cargo run, sleep 10, kill); the server
	// is ours here.
	sh := script(t, "test_info_schema.sh",
		fix{old: "cd /Users/jamal/git/KalamDB/backend\n", new: ""},
		fix{old: "cargo run --bin kalamdb-server > /tmp/kalamdb.log 2>&1 &\nSERVER_PID=$!\n", new: ""},
		fix{old: "sleep 10\n", new: ""},
		fix{old: "kill $SERVER_PID 2>/dev/null\nwait $SERVER_PID 2>/dev/null\n", new: ""})
	code, out := run(t, sh, path, "KALAMDB_URL="+s.URL, "TEST_JWT_TOKEN="+s.Token)
	// The script asserts nothing itself; its point is that the query
	// answers the first five columns of system.jobs in order.
	want := []string{`"job_id"`, `"job_type"`, `"status"`, `"namespace_id"`, `"table_name"`}
	rows := strings.Index(out, `"rows"`)
	if rows < 0 {
		t.Fatalf("exit %d: no rows in the output", code)
	}
	last := rows
	for _, w := range want {
		i := strings.Index(out[last+1:], w) + last + 1
		if i <= last {
			t.Fatalf("exit %d: want columns %v in order in the output", code, want)
		}
		last = i
	}
	if code != 0 || !strings.Contains(out, `"status": "success"`) || !strings.Contains(out, `"row_count": 5`) {
		t.Errorf("exit %d; want a successful 5-row answer", code)
	}
}

// TestSharedTableManual runs backend/test_shared_table_manual.sh with a
// stand-in for the original's CLI (`kalam -c SQL`) that passes our URL and
// login: a SHARED table without a primary key and an INT AUTO_INCREMENT.
func TestSharedTableManual(t *testing.T) {
	t.Parallel()
	path := toolsPath(t)
	s := startServer(t)
	sh := script(t, "test_shared_table_manual.sh")
	cli := filepath.Join(filepath.Dir(sh), "kalam")
	wrapper := `#!/bin/bash
# kalam -c SQL: the original CLI's one-shot mode, against $KALAMDB_URL as $TEST_JWT_TOKEN's user.
[ "$1" = "-c" ] || { echo "usage: kalam -c SQL" >&2; exit 2; }
out=$(curl -s -X POST "$KALAMDB_URL/v1/api/sql" -H "Content-Type: application/json" \
  -H "Authorization: Bearer $TEST_JWT_TOKEN" -d "$(jq -cn --arg sql "$2" '{sql: $sql}')")
echo "$out" | jq -c '.results[]? | {rows, message}, .error // empty'
[ "$(echo "$out" | jq -r .status)" = success ]
`
	if err := os.WriteFile(cli, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, sh, path, "KALAMDB_URL="+s.URL, "TEST_JWT_TOKEN="+s.Token, "KALAM_CLI="+cli)
	if code != 0 || !strings.Contains(out, "Test completed") {
		t.Fatalf("exit %d; want the script to complete", code)
	}
	if !strings.Contains(out, `{"rows":[["5"]]`) {
		t.Errorf("want COUNT(*) = 5 in the output")
	}
	// SELECT * ends with _seq and _deleted, as the original's
	// (compat.select_star_system_columns).
	row := func(i int) string { return fmt.Sprintf(`\[%d,"Row %d",%d,"[0-9]+",false\]`, i, i, i) }
	if !regexp.MustCompile(`\[` + row(1) + "," + row(2) + "," + row(3) + "," + row(4) + "," + row(5) + `\]`).MatchString(out) {
		t.Errorf("want rows (id 1..5, 'Row i', i, _seq, _deleted false) from SELECT * ORDER BY value")
	}
}

// TestTTLLogic ports test_ttl_logic.sh, whose harness cannot run anywhere
// but its author's machine (it kills every kalamdb-server process, cds to
// /Users/jamal/..., compiles a Rust program that shells out to `cargo run`):
// the same statements as the same steps, with its 30 s TTL and 31 s wait.
func TestTTLLogic(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ns := "ttl_test_" + time.Now().Format("20060102150405")
	full := ns + ".test_stream"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+ns)
	s.sql(t, s.Root, "CREATE STREAM TABLE "+full+" (event_id TEXT NOT NULL, payload TEXT) TTL 30")
	s.sql(t, s.Root, "INSERT INTO "+full+" (event_id, payload) VALUES ('e1', 'test_data')")
	res := s.sql(t, s.Root, "SELECT * FROM "+full)
	if n := len(res.Results[0].Rows); n != 1 {
		t.Fatalf("SELECT (immediate): %d rows, want 1", n)
	}
	time.Sleep(31 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := s.Root.Rows(ctx, "SELECT * FROM "+full)
	if err != nil || len(rows) != 0 {
		t.Fatalf("SELECT (after 31s): %v rows, %v; want none", rows, err)
	}
}
