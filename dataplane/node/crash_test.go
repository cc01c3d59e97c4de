package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// binDir holds the binary buildBinary compiles; TestMain removes it so
// repeated test runs do not leave a 90 MB binary behind each time.
var binDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "kalamdb-bin-") })

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := binDir(); err == nil {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// buildBinary compiles cmd/kalamdb once per test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := binDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kalamdb")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kalamdb/kalamdb-k8s/cmd/kalamdb").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProcess runs `kalamdb server` on dataDir and waits until it is ready.
func startProcess(t *testing.T, bin, dataDir string, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "server")
	cmd.Env = append(os.Environ(),
		"KALAMDB_DATA_DIR="+dataDir, "KALAMDB_SERVER_PORT="+strconv.Itoa(port),
		"KALAMDB_ROOT_PASSWORD="+rootPW, "KALAMDB_BCRYPT_COST=4", "KALAMDB_LOG_LEVEL=warn",
		// The writers here outrun the default per-user query rate.
		"KALAMDB_RATE_LIMIT_QUERIES_PER_SEC=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	c := client.New(fmt.Sprintf("http://127.0.0.1:%d", port))
	deadline := time.Now().Add(30 * time.Second)
	for !c.Healthy(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatal("server did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd
}

// serverProcess is a `kalamdb server` subprocess with a logged-in root client.
type serverProcess struct {
	bin, dataDir, url string
	port              int
	cmd               *exec.Cmd
	root              *client.Client
}

// startServerProcess builds the binary (once), starts it on a fresh data
// dir and logs in as root. It skips in -short mode.
func startServerProcess(t *testing.T) serverProcess {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := serverProcess{bin: bin, dataDir: t.TempDir(), port: freePort(t)}
	p.cmd = startProcess(t, bin, p.dataDir, p.port)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", p.port)
	p.root = client.New(p.url)
	if _, err := p.root.Login(context.Background(), "root", rootPW); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAcknowledgedWritesSurviveSIGKILL writes rows from concurrent clients,
// kills the server with SIGKILL right after the last acknowledgement, and
// checks after a restart that every acknowledged row is there.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	p := startServerProcess(t)
	bin, dataDir, port, cmd, url, root := p.bin, p.dataDir, p.port, p.cmd, p.url, p.root
	ctx := context.Background()
	if _, err := root.SQL(ctx, `CREATE NAMESPACE d; CREATE SHARED TABLE d.s (id BIGINT PRIMARY KEY, v TEXT);
		CREATE USER TABLE d.u (id BIGINT PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	acked := make([][]int, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := client.New(url)
			c.Token = root.Token
			for i := 0; i < perWriter; i++ {
				id := w*1000 + i
				if _, err := c.SQL(ctx, `INSERT INTO d.s (id, v) VALUES ($1, 'x')`, id); err != nil {
					continue
				}
				if _, err := c.SQL(ctx, `INSERT INTO d.u (id, v) VALUES ($1, 'y')`, id); err != nil {
					continue
				}
				acked[w] = append(acked[w], id)
			}
		}(w)
	}
	wg.Wait()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = cmd.Process.Wait()

	startProcess(t, bin, dataDir, port)
	if _, err := root.Login(ctx, "root", rootPW); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"d.s", "d.u"} {
		rows, err := root.Rows(ctx, "SELECT id FROM "+table+" ORDER BY id LIMIT 1000")
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, r := range rows {
			have[fmt.Sprint(r[0])] = true
		}
		n := 0
		for _, ids := range acked {
			for _, id := range ids {
				n++
				if !have[strconv.Itoa(id)] {
					t.Fatalf("%s: acknowledged row %d lost after SIGKILL", table, id)
				}
			}
		}
		if n != writers*perWriter {
			t.Fatalf("only %d of %d writes were acknowledged", n, writers*perWriter)
		}
	}
}
