package replication

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// TestTLSFilesCheck: the start-up check accepts a peer certificate fit for
// the Raft port and names what is wrong with each unfit one.
func TestTLSFilesCheck(t *testing.T) {
	now := time.Now()
	ca, err := pki.NewCA("ca", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("other", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := func(prefix string, signer *pki.KeyPair, peer bool, names []string) TLSFiles {
		issue := signer.IssueServer
		if peer {
			issue = signer.IssuePeer
		}
		kp, err := issue("replica", names, []net.IP{net.IPv4(127, 0, 0, 1)}, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return TLSFiles{CAFile: write("ca.crt", ca.CertPEM), CertFile: write(prefix+".crt", kp.CertPEM), KeyFile: write(prefix+".key", kp.KeyPEM)}
	}
	good := files("good", ca, true, []string{"db-0.db-headless.ns.svc"})
	if err := (TLSFiles{}).Check("127.0.0.1:9190"); err != nil {
		t.Fatalf("plaintext: %v", err)
	}
	for _, addr := range []string{"db-0.db-headless.ns.svc:9190", "127.0.0.1:9190"} {
		if err := good.Check(addr); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	serverOnly := files("server", ca, false, []string{"db-0.db-headless.ns.svc"})
	foreign := files("foreign", other, true, []string{"db-0.db-headless.ns.svc"})
	mismatched := good
	mismatched.KeyFile = serverOnly.KeyFile
	for name, c := range map[string]struct {
		f    TLSFiles
		addr string
		want string
	}{
		"partial":         {TLSFiles{CAFile: good.CAFile}, "127.0.0.1:9190", "set together"},
		"other host":      {good, "db-1.db-headless.ns.svc:9190", "does not name"},
		"server auth":     {serverOnly, "127.0.0.1:9190", "client authentication"},
		"another CA":      {foreign, "127.0.0.1:9190", "is not verified by"},
		"key of another":  {mismatched, "127.0.0.1:9190", "while loading"},
		"missing CA file": {TLSFiles{CAFile: filepath.Join(dir, "nope"), CertFile: good.CertFile, KeyFile: good.KeyFile}, "127.0.0.1:9190", "nope"},
	} {
		if err := c.f.Check(c.addr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
}
