package pgwire_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
)

// selfSignedCert writes a certificate and key for 127.0.0.1 into dir.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func startTLSNode(t *testing.T) *node.Node {
	cert, key := selfSignedCert(t, t.TempDir())
	return startNode(t, func(c *config.Config) {
		c.Security.TLS.CertFile, c.Security.TLS.KeyFile = cert, key
	})
}

// runSuite runs a driver suite script with the listener's address.
func runSuite(t *testing.T, n *node.Node, dir string, name string, args ...string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(n.PostgresAddr())
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "ROOT_PW="+rootPW, "TZ=UTC")
	out, err := cmd.CombinedOutput()
	t.Logf("%s output:\n%s", name, out)
	if err != nil {
		t.Fatalf("%s suite failed: %v", name, err)
	}
}

// TestPythonDriverSuite runs testdata/suite.py with psycopg2 (Debian's
// python3-psycopg2, installed by hack/install-pg-clients.sh).
func TestPythonDriverSuite(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import psycopg2").Run(); err != nil {
		t.Fatal("python3-psycopg2 is not installed: run hack/install-pg-clients.sh (make test does)")
	}
	n := startTLSNode(t)
	runSuite(t, n, "testdata", py, "suite.py")
}

// TestNodePostgresSuite runs testdata/node/suite.js with node-postgres (pg
// from npm, pinned by package-lock.json, installed by
// hack/install-pg-clients.sh).
func TestNodePostgresSuite(t *testing.T) {
	if _, err := os.Stat("testdata/node/node_modules/pg"); err != nil {
		t.Fatal("node-postgres is not installed: run hack/install-pg-clients.sh (make test does)")
	}
	n := startTLSNode(t)
	runSuite(t, n, "testdata/node", "node", "suite.js")
}

// TestPgxTLS connects with sslmode=verify-full against the server's
// certificate and checks that remote plaintext is refused when TLS is on.
func TestPgxTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSignedCert(t, dir)
	n := startNode(t, func(c *config.Config) { c.Security.TLS.CertFile, c.Security.TLS.KeyFile = cert, key })
	c, err := pgx.Connect(tctx(t), "postgres://root:"+rootPW+"@"+n.PostgresAddr()+"/kalamdb?sslmode=verify-full&sslrootcert="+cert)
	if err != nil {
		t.Fatalf("verify-full: %v", err)
	}
	defer c.Close(tctx(t))
	var one int
	if err := c.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}
