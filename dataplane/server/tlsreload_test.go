package server

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// testCA signs server certificates for 127.0.0.1.
type testCA struct {
	ca   *pki.KeyPair
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	ca, err := pki.NewCA("test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &testCA{ca: ca, pool: pool}
}

// issue returns a PEM certificate and key for 127.0.0.1; the serial
// number identifies it.
func (c *testCA) issue(t *testing.T) (certPEM, keyPEM []byte, serial string) {
	t.Helper()
	kp, err := c.ca.IssueServer("127.0.0.1", nil, []net.IP{net.ParseIP("127.0.0.1")}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return kp.CertPEM, kp.KeyPEM, kp.Cert.SerialNumber.String()
}

// writeAtomic replaces path the way a Secret volume does: a new file
// renamed over the old one.
func writeAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// servedSerial performs a fresh handshake and returns the serial of the
// certificate the server presented, verified against pool.
func servedSerial(t *testing.T, addr string, pool *x509.CertPool) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestCertReloaderRotation serves TLS from files, rotates them under the
// running listener and checks the next handshake presents the new
// certificate; a half-written rotation (new certificate, old key) keeps
// the old one serving.
func TestCertReloaderRotation(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := newTestCA(t)
	c1, k1, s1 := ca.issue(t)
	writeAtomic(t, certFile, c1)
	writeAtomic(t, keyFile, k1)
	r, err := NewCertReloader(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", r.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	addr := ln.Addr().String()
	if got := servedSerial(t, addr, ca.pool); got != s1 {
		t.Fatalf("serial %s, want %s", got, s1)
	}
	c2, k2, s2 := ca.issue(t)
	// Half a rotation: the certificate does not match the key yet.
	writeAtomic(t, certFile, c2)
	if got := servedSerial(t, addr, ca.pool); got != s1 {
		t.Fatalf("during a half-written rotation: serial %s, want the previous %s", got, s1)
	}
	writeAtomic(t, keyFile, k2)
	if got := servedSerial(t, addr, ca.pool); got != s2 {
		t.Fatalf("after rotation: serial %s, want %s", got, s2)
	}
	if r.Reloads() != 1 {
		t.Fatalf("reloads = %d, want 1", r.Reloads())
	}
	// Files gone (a Secret deleted): the last good certificate serves on.
	os.Remove(certFile)
	if got := servedSerial(t, addr, ca.pool); got != s2 {
		t.Fatalf("with the files gone: serial %s, want %s", got, s2)
	}
}

// TestCertReloaderRefusesBadPair: a server must not start without a
// usable certificate.
func TestCertReloaderRefusesBadPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca := newTestCA(t)
	c1, _, _ := ca.issue(t)
	_, k2, _ := ca.issue(t)
	writeAtomic(t, certFile, c1)
	writeAtomic(t, keyFile, k2)
	if _, err := NewCertReloader(certFile, keyFile, nil); err == nil {
		t.Fatal("mismatched certificate and key accepted")
	}
	if _, err := NewCertReloader(filepath.Join(dir, "missing.crt"), keyFile, nil); err == nil {
		t.Fatal("missing certificate accepted")
	}
}
