package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// The cluster under test: three real `kalamdb server` processes on
// 127.0.0.1, each with its own data directory, HTTP, Raft and gossip port.

const (
	rootPassword = "chaos-root-password"
	jwtSecret    = "chaos-test-jwt-secret-0123456789abcdef"
)

// binPath is the kalamdb binary TestMain built.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// flagBin runs the tests and benchmarks against a prebuilt binary (for
// example main's, to compare in one sitting) instead of this tree's.
var flagBin = flag.String("chaos.bin", "", "kalamdb binary to run instead of building ../../cmd/kalamdb")

func runMain(m *testing.M) int {
	flag.Parse()
	if *flagBin != "" {
		binPath = *flagBin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "kalamdb-chaos-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "kalamdb")
	build := exec.Command("go", "build", "-o", binPath, "../../cmd/kalamdb")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "while building kalamdb:", err)
		return 1
	}
	return m.Run()
}

// freePort returns a port that was free on 127.0.0.1 for TCP and UDP
// (gossip uses both) a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	port, err := testtools.FreeTCPUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// proc is one data-plane process of the cluster.
type proc struct {
	id         int
	dir        string
	httpPort   int
	raftPort   int
	gossipPort int
	url        string
	mu         sync.Mutex
	cmd        *exec.Cmd
	exited     chan struct{}
	stopped    bool // SIGSTOPped
}

type cluster struct {
	t     testing.TB
	procs []*proc
	// refuseLocal leaves cluster.allow_node_local_storage off. The other
	// tests create tables on the built-in node-local storage (they never
	// rely on flushed rows on another node), so they allow it.
	refuseLocal bool
}

// startCluster writes three configs and starts the processes.
func startCluster(t testing.TB, userGroups int) *cluster {
	return startNodes(t, 3, userGroups)
}

// startNodes starts n processes: a replicated cluster, or with n == 1 a
// single node without a [cluster] section (today's replicas=1).
func startNodes(t testing.TB, n, userGroups int) *cluster {
	t.Helper()
	c := newNodes(t, n)
	for _, p := range c.procs {
		section := ""
		if n > 1 {
			section = c.clusterSection(p, userGroups, false)
		}
		c.configure(p, section)
	}
	for _, p := range c.procs {
		c.start(p)
	}
	for _, p := range c.procs {
		c.waitReady(p, 120*time.Second)
	}
	return c
}

// newNodes picks ports and data directories for n processes without
// configuring or starting them.
func newNodes(t testing.TB, n int) *cluster {
	t.Helper()
	base := t.TempDir()
	c := &cluster{t: t}
	for i := range n {
		dir := filepath.Join(base, fmt.Sprintf("n%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := &proc{id: i + 1, dir: dir, httpPort: freePort(t), raftPort: freePort(t), gossipPort: freePort(t)}
		p.url = fmt.Sprintf("http://127.0.0.1:%d", p.httpPort)
		c.procs = append(c.procs, p)
	}
	t.Cleanup(c.killAll)
	return c
}

// clusterSection is p's [cluster] section: every process of c is a
// member; join makes p join a running cluster (cluster.join).
func (c *cluster) clusterSection(p *proc, userGroups int, join bool) string {
	var members []string
	for _, q := range c.procs {
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("%d=127.0.0.1:%d", q.id, q.gossipPort)))
	}
	return fmt.Sprintf(`[cluster]
replica_id = %d
deployment_id = 7
raft_address = "127.0.0.1:%d"
gossip_address = "127.0.0.1:%d"
members = [%s]
user_groups = %d
rtt_ms = 10
election_ticks = 15
heartbeat_ticks = 2
proposal_timeout_ms = 2000
startup_timeout_seconds = 120
join = %t
allow_node_local_storage = %t
`, p.id, p.raftPort, p.gossipPort, strings.Join(members, ", "), userGroups, join, !c.refuseLocal)
}

// configure writes p's server.toml with the given [cluster] section
// (empty: a single node).
func (c *cluster) configure(p *proc, clusterSection string) {
	c.t.Helper()
	cfg := fmt.Sprintf(`[server]
host = "127.0.0.1"
port = %d
shutdown_timeout_seconds = 5
[storage]
data_path = %q
min_free_mb = 0
[logging]
level = "warn"
[auth]
root_password = %q
jwt_secret = %q
bcrypt_cost = 4
[rate_limit]
max_queries_per_sec = 0
max_auth_requests_per_ip_per_sec = 0
`, p.httpPort, filepath.Join(p.dir, "data"), rootPassword, jwtSecret) + clusterSection
	if err := os.WriteFile(filepath.Join(p.dir, "server.toml"), []byte(cfg), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) start(p *proc) {
	c.t.Helper()
	logf, err := os.OpenFile(filepath.Join(p.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(binPath, "server", "--config", filepath.Join(p.dir, "server.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { // owned by the process: ends when it exits
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited, p.stopped = cmd, exited, false
	p.mu.Unlock()
}

// kill sends SIGKILL and waits for the exit.
func (c *cluster) kill(p *proc) { c.end(p, syscall.SIGKILL, 0) }

// stop shuts p down gracefully (SIGTERM) and waits for the exit; after
// 30 s it kills it and fails the test.
func (c *cluster) stop(p *proc) { c.end(p, syscall.SIGTERM, 30*time.Second) }

// end sends sig to p and waits for the exit (with grace > 0, at most
// grace before a SIGKILL).
func (c *cluster) end(p *proc, sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	var timeout <-chan time.Time
	if grace > 0 {
		timeout = time.After(grace)
	}
	select {
	case <-exited:
	case <-timeout:
		c.t.Errorf("node %d did not stop within %s of %s", p.id, grace, sig)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
}

// waitExit waits (at most limit) for p to exit by itself and returns the
// tail of its log.
func (c *cluster) waitExit(p *proc, limit time.Duration) string {
	c.t.Helper()
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	select {
	case <-exited:
	case <-time.After(limit):
		c.kill(p)
		c.t.Fatalf("node %d still running after %s", p.id, limit)
	}
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	return tail(filepath.Join(p.dir, "server.log"))
}

func (c *cluster) signal(p *proc, s syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(s)
		p.stopped = s == syscall.SIGSTOP
	}
}

func (c *cluster) killAll() {
	for _, p := range c.procs {
		c.signal(p, syscall.SIGCONT)
		c.kill(p)
	}
}

// waitReady polls /readyz until the process serves (it answers only once
// every Raft group has a leader).
func (c *cluster) waitReady(p *proc, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		select {
		case <-exited:
			c.t.Fatalf("node %d exited while starting; log:\n%s", p.id, tail(filepath.Join(p.dir, "server.log")))
		default:
		}
		resp, err := hc.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("node %d not ready after %s; log:\n%s", p.id, limit, tail(filepath.Join(p.dir, "server.log")))
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// login returns a client of p with a root token.
func (c *cluster) login(p *proc, timeout time.Duration) (*client.Client, error) {
	cl := client.New(p.url)
	cl.HTTP.Timeout = timeout
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cl.Login(ctx, "root", rootPassword)
	return cl, err
}

// loginAll returns a root client of every node, in node order.
func (c *cluster) loginAll(timeout time.Duration) []*client.Client {
	c.t.Helper()
	out := make([]*client.Client, len(c.procs))
	for i, p := range c.procs {
		cl, err := c.login(p, timeout)
		if err != nil {
			c.t.Fatalf("login on node %d: %v", p.id, err)
		}
		out[i] = cl
	}
	return out
}

// shardStatus is the subset of GET /v1/cluster/status the test reads.
type shardStatus struct {
	Name     string `json:"name"`
	Leader   uint64 `json:"leader"`
	IsLeader bool   `json:"is_leader"`
	Applied  uint64 `json:"applied"`
}

type clusterStatus struct {
	ReplicaID uint64        `json:"replica_id"`
	Shards    []shardStatus `json:"shards"`
}

func status(ctx context.Context, cl *client.Client) (clusterStatus, error) {
	code, body, err := cl.Do(ctx, http.MethodGet, "/v1/cluster/status", nil, true)
	if err != nil {
		return clusterStatus{}, err
	}
	if code != http.StatusOK {
		return clusterStatus{}, fmt.Errorf("status %d: %s", code, body)
	}
	var st clusterStatus
	return st, json.Unmarshal(body, &st)
}

// leaderOf returns the replica id that the live nodes report as leader of
// shard name (0 when none is known).
func (c *cluster) leaderOf(clients []*client.Client, name string) int {
	for i, cl := range clients {
		p := c.procs[i]
		p.mu.Lock()
		up := p.cmd != nil && !p.stopped
		p.mu.Unlock()
		if !up {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := status(ctx, cl)
		cancel()
		if err != nil {
			continue
		}
		for _, s := range st.Shards {
			if s.Name == name && s.Leader != 0 {
				return int(s.Leader)
			}
		}
	}
	return 0
}

// definiteFailure reports a failure after which the statement certainly
// changed nothing — a 4xx refusal, or a connection that was never made
// (the node is down) — as opposed to an unknown outcome (timeout,
// NO_QUORUM, connection lost mid-request).
func definiteFailure(err error) bool {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus >= 400 && ae.HTTPStatus < 500
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
