// Package upstream runs the original KalamDB project's own test scripts and
// a Go port of its WebSocket tests against a fresh server (see README.md).
package upstream

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
)

const rootPassword = "upstream-root-password"

// server is a fresh in-process server on 127.0.0.1 and an ephemeral port.
type server struct {
	URL   string
	Token string // root's access token
	Root  *client.Client
	Dir   string // data directory
}

// startServer starts a server on the default configuration, except for its
// data directory, port and root password, with the per-user query rate
// limit off (the original's tests drive its engine in-process, below its
// HTTP limiter) and with compat.select_star_system_columns on, the
// original's SELECT * (README.md).
func startServer(t *testing.T) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 0
	cfg.Storage.DataPath = t.TempDir()
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 8, 8
	cfg.Auth.RootPassword = rootPassword
	cfg.Auth.BcryptCost = 4
	cfg.RateLimit.MaxQueriesPerSec = 0
	cfg.RateLimit.MaxAuthRequestsPerIPPerSec = 0
	cfg.Compat.SelectStarSystemColumns = true
	cfg.Compat.KalamTypeNames = true
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	s := &server{URL: "http://" + n.Addr(), Dir: cfg.Storage.DataPath}
	s.Root, s.Token = s.login(t, "root", rootPassword)
	return s
}

// login returns a client logged in as user and its access token.
func (s *server) login(t *testing.T, user, password string) (*client.Client, string) {
	t.Helper()
	c := client.New(s.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lr, err := c.Login(ctx, user, password)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	c.Token = lr.AccessToken
	return c, lr.AccessToken
}

// sql runs statements as root and fails the test on an error.
func (s *server) sql(t *testing.T, c *client.Client, sql string) *client.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.SQL(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// fix is one harness fix applied to a copy of a vendored script: the
// scripts' own bugs that fail them against the original too (README.md).
type fix struct{ old, new string }

// script copies scripts/name to a temporary directory with the fixes
// applied (each must match exactly once), and returns its path.
func script(t *testing.T, name string, fixes ...fix) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("scripts", name))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, f := range fixes {
		if n := strings.Count(text, f.old); n != 1 {
			t.Fatalf("%s: harness fix %q matches %d times, want 1", name, f.old, n)
		}
		text = strings.Replace(text, f.old, f.new, 1)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs a script with bash in its own directory (at most 6 minutes: the
// scripts are sequential and the machine may be loaded) and the environment the
// vendored scripts read for URL and login, returning its exit code and
// combined output.
func run(t *testing.T, path string, env ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = filepath.Dir(path)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", path, err)
		}
		code = ee.ExitCode()
	}
	t.Logf("%s exited %d:\n%s", filepath.Base(path), code, out)
	return code, string(out)
}

// requireTools skips nothing: a missing tool is a failure, since
// hack/upstream-tools.sh installs them for `make test-upstream`.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (hack/upstream-tools.sh installs it): %v", tool, err)
		}
	}
}
