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
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
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
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	tools := os.Getenv("KALAMDB_TOOLS")
	if tools == "" {
		tools = filepath.Join(home, ".cache", "kalamdb-tools")
	}
	bin := filepath.Join(tools, "bin", "minio")
	// hack/minio.sh is idempotent and fast when the pinned binary exists.
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "..", "..", "hack", "minio.sh")
	cmd := exec.Command("bash", script, filepath.Join(tools, "bin"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/minio.sh: %w", err)
	}
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
	port     int
	mu       sync.Mutex
	cmd      *exec.Cmd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start launches MinIO on a free loopback port with data in dir.
func Start(dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, port: port, Endpoint: "127.0.0.1:" + strconv.Itoa(port)}
	return s, s.Restart()
}

// Restart starts the server again on the same port and directory after
// Stop (outage tests). It waits until MinIO reports ready.
func (s *Server) Restart() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	console, err := freePort()
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
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.Endpoint, "--console-address", "127.0.0.1:"+strconv.Itoa(console), data)
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
		resp, err := http.Get("http://" + s.Endpoint + "/minio/health/ready")
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
	return st, st.EnsureBucket(ctx)
}
