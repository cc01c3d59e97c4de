// Package s3test runs a real MinIO server on 127.0.0.1 for tests: no S3
// mock stands in for it. The binary is built from the Go module proxy by
// hack/minio.sh (cached in ~/.cache/kalamdb-tools/bin); Binary runs that
// script when the binary is missing, so `go test` works on a fresh machine.
//
// Every server gets a free loopback port and its own data directory, and
// Stop kills exactly the process Start launched.
package s3test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// Credentials of every test server.
const (
	AccessKey = "kalamtest"
	SecretKey = "kalamtest-secret-key"
)

var binaryOnce = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("KALAMDB_MINIO_BIN"); p != "" {
		return p, nil
	}
	dir, err := testtools.BinDir()
	if err != nil {
		return "", err
	}
	// hack/minio.sh is idempotent and fast when the pinned binary exists.
	if err := testtools.RunHack("minio.sh", nil, dir); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "minio")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("minio binary missing after hack/minio.sh: %w", err)
	}
	return bin, nil
})

// Binary returns the MinIO server binary, building it if needed.
func Binary() (string, error) { return binaryOnce() }

// Server is one running MinIO.
type Server struct {
	// Endpoint is 127.0.0.1:port.
	Endpoint string
	Dir      string
	// CAPEM is the certificate MinIO serves when started by StartTLS
	// (self-signed: it is its own CA); empty for plain HTTP.
	CAPEM string
	port  int
	mu    sync.Mutex
	cmd   *exec.Cmd
	// client checks readiness (trusts CAPEM when set).
	client *http.Client
}

// Start launches MinIO on a free loopback port with data in dir.
func Start(dir string) (*Server, error) {
	port, err := testtools.FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, port: port, Endpoint: "127.0.0.1:" + strconv.Itoa(port), client: http.DefaultClient}
	return s, s.Restart()
}

// StartTLS launches MinIO serving HTTPS with a self-signed certificate for
// 127.0.0.1 generated here (written to <dir>/certs, passed with
// --certs-dir); CAPEM holds it for clients to trust.
func StartTLS(dir string) (*Server, error) {
	port, err := testtools.FreePort()
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := SelfSigned("127.0.0.1")
	if err != nil {
		return nil, err
	}
	certs := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certs, 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certs, "public.crt"), certPEM, 0o640); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certs, "private.key"), keyPEM, 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	s := &Server{Dir: dir, port: port, Endpoint: "127.0.0.1:" + strconv.Itoa(port), CAPEM: string(certPEM),
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}
	return s, s.Restart()
}

// SelfSigned returns a PEM certificate and ECDSA key for ip, valid for a
// day and usable as its own CA.
func SelfSigned(ip string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "kalamdb-test-minio"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP(ip)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// Restart starts the server again on the same port and directory after
// Stop (outage tests). It waits until MinIO reports ready.
func (s *Server) Restart() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	console, err := testtools.FreePort()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("minio already running")
	}
	data := filepath.Join(s.Dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "minio.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"server", "--quiet", "--address", s.Endpoint, "--console-address", "127.0.0.1:" + strconv.Itoa(console)}
	scheme := "http://"
	if s.CAPEM != "" {
		args = append(args, "--certs-dir", filepath.Join(s.Dir, "certs"))
		scheme = "https://"
	}
	cmd := exec.Command(bin, append(args, data)...)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+AccessKey, "MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("while starting minio: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := s.client.Get(scheme + s.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "minio.log"))
	s.stopLocked()
	return fmt.Errorf("minio on %s did not become ready:\n%s", s.Endpoint, log)
}

// Stop kills the server (SIGKILL: an outage, not a shutdown) and waits.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_, _ = s.cmd.Process.Wait()
	s.cmd = nil
}

// Options returns store options for bucket on this server with a fast
// retry policy suited to tests.
func (s *Server) Options(bucket, prefix string) objstore.S3Options {
	return objstore.S3Options{
		Endpoint: s.Endpoint, Bucket: bucket, Prefix: prefix, Region: "us-east-1", PathStyle: true,
		TLS: s.CAPEM != "", CABundlePEM: s.CAPEM,
		AccessKey: AccessKey, SecretKey: SecretKey, ConnectTimeout: 2 * time.Second,
		Retry: objstore.RetryPolicy{Attempts: 3, Timeout: 10 * time.Second, Backoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond},
	}
}

// Store returns a store on a (created) bucket of this server.
func (s *Server) Store(ctx context.Context, bucket, prefix string) (*objstore.S3, error) {
	st, err := objstore.NewS3(s.Options(bucket, prefix))
	if err != nil {
		return nil, err
	}
	// MinIO can answer /minio/health/ready a moment before its object layer
	// takes requests ("Server not initialized yet"); on a loaded machine that
	// moment outlasts the store's fast test retry policy, so wait it out here.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = st.EnsureBucket(ctx)
		if err == nil || !strings.Contains(err.Error(), "not initialized") || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
