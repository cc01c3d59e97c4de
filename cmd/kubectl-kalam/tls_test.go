package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// TestSQLTLS: for a cluster with spec.tls, `sql` verifies the data plane
// with the serving Secret's ca.crt as <cluster>.<namespace>.svc, though it
// dials 127.0.0.1; a server presenting another CA's certificate is refused.
func TestSQLTLS(t *testing.T) {
	now := time.Now()
	ca, _ := pki.NewCA("plugin CA", now, time.Hour)
	good, _ := ca.IssueServer("tq", []string{"tq.default.svc"}, nil, now, time.Hour)
	other, _ := pki.NewCA("other CA", now, time.Hour)
	rogue, _ := other.IssueServer("tq", []string{"tq.default.svc"}, nil, now, time.Hour)
	start := func(kp *pki.KeyPair) string {
		dir := t.TempDir()
		cfg := config.Default()
		cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 0
		cfg.Storage.DataPath = filepath.Join(dir, "data")
		cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 8, 8
		cfg.Auth.RootPassword, cfg.Auth.BcryptCost = "plugin-root-password", 4
		cfg.Security.TLS = config.TLSConfig{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
		if os.WriteFile(cfg.Security.TLS.CertFile, kp.CertPEM, 0o600) != nil || os.WriteFile(cfg.Security.TLS.KeyFile, kp.KeyPEM, 0o600) != nil {
			t.Fatal("writing the certificate")
		}
		n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		return "https://" + n.Addr()
	}
	kc := newCluster("tq")
	kc.Spec.TLS = &kalamv1.TLSSpec{SecretName: "tq-cert"}
	mustCreate(t, kc)
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "tq-credentials"},
		StringData: map[string]string{"root-password": "plugin-root-password", "jwt-secret": "x"}})
	if _, err := kalam(t, "", "sql", "tq", "--endpoint", start(good), "SELECT 1"); err == nil || !strings.Contains(err.Error(), "tq-cert") {
		t.Fatalf("sql without the TLS Secret: %v", err)
	}
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "tq-cert"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": good.CertPEM, "tls.key": good.KeyPEM, "ca.crt": ca.CertPEM}})
	out, err := kalam(t, "", "sql", "tq", "--endpoint", start(good), "SELECT 1 AS one")
	if err != nil || !strings.Contains(out, "(1 row") {
		t.Fatalf("sql over TLS: %v\n%s", err, out)
	}
	if _, err := kalam(t, "", "sql", "tq", "--endpoint", start(rogue), "SELECT 1"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a server with another CA's certificate: %v", err)
	}
}
