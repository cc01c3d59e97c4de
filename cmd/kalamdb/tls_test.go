package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// TestSQLCommandTLS: against a TLS server whose certificate names only
// kalam.apps.svc (as through a port-forward to 127.0.0.1), --cacert with
// --tls-server-name runs SQL and a live query over wss://; without the CA
// the CLI refuses the server.
func TestSQLCommandTLS(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	ca, err := pki.NewCA("cli CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.IssueServer("kalam", []string{"kalam.apps.svc"}, nil, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"tls.crt": srv.CertPEM, "tls.key": srv.KeyPEM, "ca.crt": ca.CertPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.Server.Port = 0
	cfg.Storage.DataPath = t.TempDir()
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 8, 8
	cfg.Auth.RootPassword, cfg.Auth.BcryptCost = "cli-root-password", 4
	cfg.Security.TLS = config.TLSConfig{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	url := "https://" + n.Addr()
	trust := []string{"--cacert", filepath.Join(dir, "ca.crt"), "--tls-server-name", "kalam.apps.svc"}

	code, out, errs := cli(t, url, "", append(trust, "-c", "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t (id) VALUES (7)")...)
	if code != exitOK {
		t.Fatalf("SQL over TLS: %d %q %q", code, out, errs)
	}
	// A live query over wss:// with the same trust: initial row, then
	// one change ends it.
	var sout, serr lockedBuffer
	done := make(chan int, 1)
	go func() {
		args := append([]string{"--url", url, "--user", "root", "--password", "cli-root-password", "--format", "csv",
			"--subscribe", "SELECT id FROM app.t", "--max-changes", "1"}, trust...)
		done <- runSQL(args, strings.NewReader(""), &sout, &serr)
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(sout.String(), "initial,7"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no initial row over wss: %q %q", sout.String(), serr.String())
		}
	}
	if code, _, errs := cli(t, url, "", append(trust, "-c", "INSERT INTO app.t (id) VALUES (8)")...); code != exitOK {
		t.Fatal(errs)
	}
	select {
	case code := <-done:
		if code != exitOK || !strings.Contains(sout.String(), "insert,8") {
			t.Fatalf("live query over wss: exit %d %q %q", code, sout.String(), serr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("live query did not end after a change: %q", sout.String())
	}
	code, _, errs = cli(t, url, "", "-c", "SELECT 1")
	if code == exitOK || !strings.Contains(errs, "certificate") {
		t.Fatalf("without --cacert: %d %q, want a certificate error", code, errs)
	}
	if code, _, errs = cli(t, url, "", "--cacert", filepath.Join(dir, "missing.pem"), "-c", "SELECT 1"); code == exitOK || !strings.Contains(errs, "--cacert") {
		t.Fatalf("missing --cacert file: %d %q", code, errs)
	}
}
