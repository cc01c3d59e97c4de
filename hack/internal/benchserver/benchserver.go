// Package benchserver starts a throw-away kalamdb server process for the
// benchmark tools under hack/ (loopback only, temporary data directory).
package benchserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// Server is a running server process.
type Server struct {
	// URL is the server's HTTP base URL.
	URL string
	// PID is the server's process id (for RSS sampling).
	PID int
	cmd *exec.Cmd
	dir string
}

// Start runs `bin server` on a free 127.0.0.1 port with a fresh data
// directory (prefixed by name), the given root password and the extra
// KALAMDB_* environment entries, and waits up to 30s until it is healthy.
// The process dies with its parent (Pdeathsig).
func Start(name, bin, password string, env ...string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", name+"-data-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server")
	cmd.Env = append(os.Environ(), "KALAMDB_DATA_DIR="+dir, "KALAMDB_SERVER_PORT="+strconv.Itoa(port),
		"KALAMDB_ROOT_PASSWORD="+password, "KALAMDB_LOG_LEVEL=warn",
		// Benchmarks drive one user far past the default per-user query rate.
		"KALAMDB_RATE_LIMIT_QUERIES_PER_SEC=0")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), PID: cmd.Process.Pid, cmd: cmd, dir: dir}
	c := client.New(s.URL)
	for deadline := time.Now().Add(30 * time.Second); !c.Healthy(context.Background()); {
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("server did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s, nil
}

// Stop terminates the server (SIGTERM, then SIGKILL after 15s) and removes
// its data directory.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = s.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
}
