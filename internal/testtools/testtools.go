// Package testtools locates the servers and tools the real-component tests
// run (MinIO, etcd, kube-apiserver, ...). hack/ scripts build them from the Go
// module proxy into ${KALAMDB_TOOLS:-~/.cache/kalamdb-tools}/bin; the tests
// call those scripts, which return at once when the pinned builds exist.
package testtools

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// RepoRoot is the module root (this file lives in internal/testtools).
func RepoRoot() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(self), "..", ".."))
}

// BinDir is where hack/ installs tools: $KALAMDB_TOOLS/bin, by default
// ~/.cache/kalamdb-tools/bin.
func BinDir() (string, error) {
	tools := os.Getenv("KALAMDB_TOOLS")
	if tools == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		tools = filepath.Join(home, ".cache", "kalamdb-tools")
	}
	return filepath.Join(tools, "bin"), nil
}

// RunHack runs hack/<script> with args and the extra environment, its output
// on stderr (build progress on a first run).
func RunHack(script string, env []string, args ...string) error {
	cmd := exec.Command("bash", append([]string{filepath.Join(RepoRoot(), "hack", script)}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hack/%s: %w", script, err)
	}
	return nil
}

// FreePort returns a currently free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreeTCPUDPPort returns a port that was free on 127.0.0.1 for both TCP
// and UDP a moment ago (dragonboat's gossip listens on both).
func FreeTCPUDPPort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port free for TCP and UDP on 127.0.0.1")
}
