package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSaveCredentials(t *testing.T) {
	url := startServer(t)
	cfgDir := os.Getenv("XDG_CONFIG_HOME")
	os.Unsetenv("KALAMDB_PASSWORD")
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runSQL(append([]string{"--url", url}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("--user", "root", "--password", "cli-root-password", "--save-credentials", "-c", "SELECT 1 AS one"); code != exitOK {
		t.Fatalf("login with --save-credentials: %d %s", code, errs)
	}
	path := filepath.Join(cfgDir, "kalamdb", "credentials.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Fatalf("config dir mode %v, want 0700", dst.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte("cli-root-password")) {
		t.Fatal("the password was saved")
	}
	// Next time no password is needed: the saved token is reused.
	if code, out, errs := run("-c", "SELECT 41 + 1 AS answer"); code != exitOK || !strings.Contains(out, "42") {
		t.Fatalf("saved token not reused: %d %q %q", code, out, errs)
	}
	// An expired access token is replaced through the refresh token.
	var all map[string]savedCreds
	if err := json.Unmarshal(data, &all); err != nil || len(all) != 1 {
		t.Fatalf("credentials file: %v %s", err, data)
	}
	for k, c := range all {
		c.AccessToken = "expired"
		all[k] = c
	}
	data, _ = json.Marshal(all)
	if err := writePrivate(path, data); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run("-c", "SELECT 1"); code != exitOK {
		t.Fatalf("refresh of the saved token failed: %d %s", code, errs)
	}
	if data, _ = os.ReadFile(path); bytes.Contains(data, []byte(`"expired"`)) {
		t.Fatal("refreshed token not saved")
	}
	// Unusable saved credentials are a connection/auth error (exit 2).
	for k, c := range all {
		c.AccessToken, c.RefreshToken = "expired", "expired"
		all[k] = c
	}
	data, _ = json.Marshal(all)
	_ = writePrivate(path, data)
	if code, _, errs := run("-c", "SELECT 1"); code != exitConnect || !strings.Contains(errs, "expired") {
		t.Fatalf("bad saved credentials: exit %d %q", code, errs)
	}
}

func TestMetaCommandsAndJobs(t *testing.T) {
	url := startServer(t)
	if code, _, errs := cli(t, url, "", "-c", "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t (id, v) VALUES (1, 'a')"); code != exitOK {
		t.Fatal(errs)
	}
	// A statement that starts a job waits for it; the outcome goes to stderr.
	code, out, errs := cli(t, url, "", "--format", "csv", "-c", "STORAGE FLUSH TABLE app.t")
	if code != exitOK || !strings.HasPrefix(out, "job_id,namespace_id,table_name,status\n") || !strings.Contains(errs, "completed: 1 rows") {
		t.Fatalf("STORAGE FLUSH: %d %q %q", code, out, errs)
	}
	code, out, errs = cli(t, url, "\\stats\n\\flush\n\\settings\n\\q\n")
	for _, want := range []string{"total_tables", "server_uptime_seconds", "logging.slow_query_threshold_ms"} {
		if !strings.Contains(out, want) {
			t.Fatalf("REPL output lacks %q:\n%s", want, out)
		}
	}
	if code != exitOK || !strings.Contains(errs, "job FL-") {
		t.Fatalf("\\flush: %d %q", code, errs)
	}
	code, out, _ = cli(t, url, "", "--format", "json", "-c", "SELECT metric_value FROM system.stats WHERE metric_name = 'total_tables'")
	if code != exitOK || !strings.Contains(out, `"metric_value":"1"`) {
		t.Fatalf("stats json: %q", out)
	}
	// --no-wait prints the job and returns at once.
	if code, _, errs = cli(t, url, "", "--no-wait", "-c", "STORAGE FLUSH ALL"); code != exitOK || strings.Contains(errs, "job ") {
		t.Fatalf("--no-wait: %d %q", code, errs)
	}
}

func TestHistoryPersistedAndBounded(t *testing.T) {
	url := startServer(t)
	path := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "kalamdb", "history")
	var old strings.Builder
	for i := 0; i < maxHistory+20; i++ {
		old.WriteString("SELECT old;\n")
	}
	if err := writePrivate(path, []byte(old.String())); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := cli(t, url, "SELECT 1\n AS multi;\n\\dt\n\\q\n"); code != exitOK {
		t.Fatal(errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > maxHistory {
		t.Fatalf("history has %d entries, bound is %d", len(lines), maxHistory)
	}
	if got := lines[len(lines)-2:]; got[0] != "SELECT 1 AS multi;" || got[1] != `\dt` {
		t.Fatalf("history tail %q", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("history mode %v", st.Mode().Perm())
	}
}

// lockedBuffer lets the test read output while runSQL writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSubscribe(t *testing.T) {
	url := startServer(t)
	if code, _, errs := cli(t, url, "", "-c", "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT); INSERT INTO app.t (id, v) VALUES (1, 'first')"); code != exitOK {
		t.Fatal(errs)
	}
	tests := []struct {
		format, ready string
		want          []string
	}{
		{"table", "-- live: waiting", []string{"id | v", "1  | first", "INSERT  id=", "UPDATE  id="}},
		{"json", `"change":"ready"`, []string{`{"change":"initial","row":{`, `"v":"first"`, `"change":"insert"`, `"change":"update"`, `"old":{`}},
		{"csv", "initial,1,first", []string{"change,id,v\n", "initial,1,first\n", "insert,", "update,"}},
	}
	for i, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out, errb lockedBuffer
			done := make(chan int, 1)
			go func() {
				done <- runSQL([]string{"--url", url, "--user", "root", "--password", "cli-root-password", "--format", tt.format,
					"--subscribe", "SELECT * FROM app.t", "--max-changes", "2"}, strings.NewReader(""), &out, &errb)
			}()
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(out.String(), tt.ready) {
				if time.Now().After(deadline) {
					t.Fatalf("no initial data: %q %q", out.String(), errb.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			id := 100 + i
			if code, _, errs := cli(t, url, "", "-c", "INSERT INTO app.t (id, v) VALUES ("+strconv.Itoa(id)+", 'new')"); code != exitOK {
				t.Fatal(errs)
			}
			if code, _, errs := cli(t, url, "", "-c", "UPDATE app.t SET v = 'changed' WHERE id = "+strconv.Itoa(id)); code != exitOK {
				t.Fatal(errs)
			}
			select {
			case code := <-done:
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errb.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("subscription did not end after 2 changes: %q", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	// A bad subscription query is a SQL error (exit 1).
	var out, errb bytes.Buffer
	if code := runSQL([]string{"--url", url, "--user", "root", "--password", "cli-root-password", "--subscribe", "SELECT * FROM app.nope"},
		strings.NewReader(""), &out, &errb); code != exitSQL {
		t.Fatalf("bad subscription: exit %d %q", code, errb.String())
	}
}
