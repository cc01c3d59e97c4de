package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
)

func startServer(t *testing.T) string {
	t.Helper()
	// Keep the CLI's history and saved credentials out of the real home.
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	cfg := config.Default()
	cfg.Server.Port = 0
	cfg.Storage.DataPath = t.TempDir()
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 8, 8
	cfg.Auth.RootPassword = "cli-root-password"
	cfg.Auth.BcryptCost = 4
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return "http://" + n.Addr()
}

func cli(t *testing.T, url, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	base := []string{"--url", url, "--user", "root", "--password", "cli-root-password"}
	code := runSQL(append(base, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSQLCommand(t *testing.T) {
	url := startServer(t)
	code, out, errs := cli(t, url, "", "-c", "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, name TEXT); INSERT INTO app.t (id, name) VALUES (1, 'a'), (2, NULL)")
	if code != exitOK || !strings.Contains(out, "Inserted 2 row(s)") {
		t.Fatalf("setup: %d %q %q", code, out, errs)
	}
	code, out, _ = cli(t, url, "", "-c", "SELECT id, name FROM app.t ORDER BY id")
	want := "id | name\n---+-----\n1  | a\n2  | NULL\n(2 rows)\n"
	if code != exitOK || out != want {
		t.Fatalf("table format:\n%q\nwant\n%q", out, want)
	}
	code, out, _ = cli(t, url, "", "--format", "csv", "-c", "SELECT id, name FROM app.t ORDER BY id")
	if code != exitOK || out != "id,name\n1,a\n2,\n" {
		t.Fatalf("csv: %q", out)
	}
	code, out, _ = cli(t, url, "", "--format", "json", "-c", "SELECT id, name FROM app.t WHERE id = 1")
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Rows) != 1 || doc.Rows[0]["name"] != "a" {
		t.Fatalf("json: %q", out)
	}
	// Exit codes: SQL error 1, bad credentials 2.
	if code, _, errs = cli(t, url, "", "-c", "SELECT * FROM app.nope"); code != exitSQL || !strings.Contains(errs, "NOT_FOUND") {
		t.Fatalf("sql error: %d %q", code, errs)
	}
	var out2, errb bytes.Buffer
	if code := runSQL([]string{"--url", url, "--user", "root", "--password", "wrong", "-c", "SELECT 1"}, strings.NewReader(""), &out2, &errb); code != exitConnect {
		t.Fatalf("bad password exit code %d", code)
	}
	// The REPL: multi-line statements, meta-commands, \q.
	code, out, _ = cli(t, url, "SELECT id\nFROM app.t\nWHERE id = 2;\n\\dt app\n\\d app.t\n\\health\n\\q\n")
	for _, want := range []string{"(1 row)", "t", "column_name", "ready"} {
		if !strings.Contains(out, want) {
			t.Fatalf("repl output lacks %q:\n%s", want, out)
		}
	}
	if code != exitOK {
		t.Fatalf("repl exit %d", code)
	}
}
