package node

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// A server in a child process (this test binary re-executed), for tests
// that must watch a process exit (a fatal storage error) or measure the
// server's own memory (RSS) apart from its clients.

// helperEnv selects TestHelperServer's role in a child process; its
// value is the JSON of helperSpec.
const helperEnv = "KALAMDB_NODE_HELPER"

// helperSpec configures the child server.
type helperSpec struct {
	Config config.Config
	// Quota > 0 puts the hot tier on a hot.QuotaFS of that many bytes;
	// QuotaFile, when set, is polled for a new quota (a decimal number):
	// the parent "frees space" by writing a larger one.
	Quota     int64
	QuotaFile string
	// AddrFile receives the listen address once the server is ready.
	AddrFile string
	// Env is added to the child's environment (e.g. GOMEMLIMIT).
	Env []string `json:"-"`
}

// TestHelperServer is not a test: it is the body of a child server
// process, run only when helperEnv is set (childServer).
func TestHelperServer(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		return
	}
	var spec helperSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "helper spec:", err)
		os.Exit(2)
	}
	var opts []StartOption
	if spec.Quota > 0 {
		qfs, err := hot.NewQuotaFS(spec.Config.Storage.DataPath, spec.Quota)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		opts = append(opts, WithFS(qfs))
		if spec.QuotaFile != "" {
			go func() { // the process's lifetime: it ends with the process
				for range time.Tick(20 * time.Millisecond) {
					if b, err := os.ReadFile(spec.QuotaFile); err == nil {
						if q, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
							qfs.SetQuota(q)
						}
					}
				}
			}()
		}
	}
	n, err := Start(spec.Config, testLogger(os.Stderr), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(2)
	}
	if err := hot.WriteFileAtomic(spec.AddrFile, []byte(n.Addr()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Serve until the parent kills us or closes our stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadByte()
	_ = n.Close()
	os.Exit(0)
}

// child is a running child server.
type child struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	done   chan struct{}
	err    error // Wait's result, once done is closed
}

// startChild starts a child server with spec and waits until it serves.
func startChild(t *testing.T, spec helperSpec) *child {
	t.Helper()
	spec.AddrFile = filepath.Join(t.TempDir(), "addr")
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), spec.Env...), helperEnv+"="+string(raw))
	c := &child{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	if _, err := cmd.StdinPipe(); err != nil { // closed when we exit: the child ends
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(spec.AddrFile); err == nil && len(b) > 0 {
			c.addr = string(b)
			return c
		}
		select {
		case <-c.done:
			t.Fatalf("child server exited at start: %v\n%s", c.err, c.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("child server not ready within 60s\n%s", c.stderr.String())
		}
	}
}

// kill stops the child at once (SIGKILL: no clean shutdown) and waits.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// exitCode waits up to d for the child to exit; -1 if it did not.
func (c *child) exitCode(d time.Duration) int {
	select {
	case <-c.done:
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// peakRSS returns the child's peak resident memory (VmHWM) in bytes.
func (c *child) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// readyz returns the status of GET /readyz (0: no answer within 5 s).
func readyz(addr string) int {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// testLogger logs warnings and errors to w.
func testLogger(w *os.File) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
