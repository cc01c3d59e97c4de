// Command hacluster starts a throw-away KalamDB data plane of 1 or 3
// replicas on loopback (fresh temporary data directories, free ports), runs
// one benchmark command against it and stops it: the replicas=3 mode of the
// benchmark tooling (docs/benchmarks.md, "High availability").
//
//	go run ./hack/hacluster --bin bin/kalamdb --nodes 3 --via leader -- \
//	  peerbench --target kalamdb --url {URL} --user root --password {PASSWORD} --workloads w1
//
// {URL} and {PASSWORD} in the command are replaced by the chosen node's base
// URL and the root password. With --nodes 3 every Raft group's leadership is
// first moved to node 1 (POST /v1/cluster/transfer-leader), so --via leader
// talks to the leader of every group and --via follower to node 2, which
// leads none. The nodes are killed when the command ends (and with this
// process: Pdeathsig). At the end it prints each node's CPU time over its
// life and over the command alone (start-up and leader moves excluded).
// --profile-dir DIR also takes a CPU profile of every node while the
// command runs (its first --profile-seconds), into DIR/n<K>.pprof.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

const (
	password  = "hacluster-root-password"
	jwtSecret = "hacluster-jwt-secret-0123456789abcdef"
)

func main() {
	bin := flag.String("bin", "bin/kalamdb", "server binary")
	nodes := flag.Int("nodes", 3, "replicas: 1 (no [cluster] section, today's single node) or 3")
	via := flag.String("via", "leader", "leader | follower: which node the command talks to (--nodes 3)")
	userGroups := flag.Int("user-groups", 8, "cluster.user_groups")
	extra := flag.String("cluster-config", "", "extra TOML lines for the [cluster] section (e.g. \"rtt_ms = 10\")")
	timeout := flag.Duration("timeout", 20*time.Minute, "hard limit for the whole run")
	var prof profileOptions
	flag.StringVar(&prof.dir, "profile-dir", "", "take a CPU profile of every node during the command into this directory")
	flag.DurationVar(&prof.seconds, "profile-seconds", 10*time.Second, "length of the --profile-dir profiles")
	flag.Parse()
	if err := run(*bin, *nodes, *via, *userGroups, *extra, *timeout, prof, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "hacluster:", err)
		os.Exit(1)
	}
}

type node struct {
	dir, url, pprof string
	cmd             *exec.Cmd
}

// profileOptions: where and how long to profile the nodes (empty dir: not).
type profileOptions struct {
	dir     string
	seconds time.Duration
}

func run(bin string, n int, via string, userGroups int, extra string, timeout time.Duration, prof profileOptions, args []string) error {
	if len(args) == 0 {
		return errors.New("no command given after --")
	}
	if n != 1 && n != 3 {
		return fmt.Errorf("--nodes must be 1 or 3, not %d", n)
	}
	if via != "leader" && via != "follower" {
		return fmt.Errorf("--via must be leader or follower, not %q", via)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	base, err := os.MkdirTemp("", "hacluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	ns, err := startNodes(bin, base, n, userGroups, extra, prof.dir != "")
	defer stopNodes(ns)
	if err != nil {
		return err
	}
	target := ns[0]
	if n > 1 {
		if err := leadersTo(ctx, ns, 1); err != nil {
			return err
		}
		if via == "follower" {
			target = ns[1]
		}
	}
	fmt.Fprintf(os.Stderr, "hacluster: %d node(s) ready, command talks to %s (%s)\n", n, target.url, via)
	argv := make([]string, len(args))
	for i, a := range args {
		argv[i] = strings.NewReplacer("{URL}", target.url, "{PASSWORD}", password).Replace(a)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	before := cpuTimes(ns)
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		if prof.dir != "" {
			profileNodes(ns, prof)
		}
	}()
	err = cmd.Run()
	after := cpuTimes(ns)
	<-profiled
	var each []string
	var total float64
	for i := range ns {
		d := after[i] - before[i]
		total += d
		each = append(each, fmt.Sprintf("%.2fs", d))
	}
	fmt.Fprintf(os.Stderr, "hacluster: server CPU (user+sys) during the command per node %s, total %.2fs\n", strings.Join(each, " "), total)
	return err
}

// cpuTimes reads each node's user+sys CPU seconds from /proc (Linux;
// 0 where unreadable).
func cpuTimes(ns []*node) []float64 {
	out := make([]float64, len(ns))
	for i, nd := range ns {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", nd.cmd.Process.Pid))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name; utime and stime
		// are fields 14 and 15 of stat, in clock ticks (USER_HZ = 100).
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			s, _ := strconv.ParseFloat(f[12], 64)
			out[i] = (u + s) / 100
		}
	}
	return out
}

// profileNodes fetches a CPU profile of every node at once into prof.dir.
func profileNodes(ns []*node, prof profileOptions) {
	done := make(chan struct{}, len(ns))
	for i, nd := range ns {
		go func() {
			defer func() { done <- struct{}{} }()
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", nd.pprof, int(prof.seconds.Seconds()))
			resp, err := http.Get(url)
			if err != nil {
				fmt.Fprintln(os.Stderr, "hacluster: profile:", err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil {
				err = os.WriteFile(filepath.Join(prof.dir, fmt.Sprintf("n%d.pprof", i+1)), b, 0o644)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "hacluster: profile:", err)
			}
		}()
	}
	for range ns {
		<-done
	}
}

// startNodes writes each node's config and starts it; it returns once
// every node answers /readyz (a cluster node does once its groups have
// leaders).
func startNodes(bin, base string, n, userGroups int, extra string, pprof bool) ([]*node, error) {
	var ports [][4]int
	var members []string
	for i := range n {
		var p [4]int
		for j := range p {
			var err error
			if p[j], err = testtools.FreePort(); err != nil {
				return nil, err
			}
		}
		ports = append(ports, p)
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("%d=127.0.0.1:%d", i+1, p[2])))
	}
	var ns []*node
	for i, p := range ports {
		dir := filepath.Join(base, fmt.Sprintf("n%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return ns, err
		}
		cfg := fmt.Sprintf("[server]\nhost = \"127.0.0.1\"\nport = %d\n[storage]\ndata_path = %q\n[logging]\nlevel = \"warn\"\n"+
			"[auth]\nroot_password = %q\njwt_secret = %q\n[rate_limit]\nmax_queries_per_sec = 0\nmax_auth_requests_per_ip_per_sec = 0\n",
			p[0], filepath.Join(dir, "data"), password, jwtSecret)
		if n > 1 {
			// peerbench creates its tables on the default (node-local)
			// storage, which a replicated cluster refuses unless allowed;
			// the benchmarks never flush, so nothing lands on one node only.
			cfg += fmt.Sprintf("[cluster]\nreplica_id = %d\ndeployment_id = 1\nraft_address = \"127.0.0.1:%d\"\ngossip_address = \"127.0.0.1:%d\"\nmembers = [%s]\nuser_groups = %d\nallow_node_local_storage = true\n",
				i+1, p[1], p[2], strings.Join(members, ", "), userGroups)
			cfg += extra + "\n"
		}
		conf := filepath.Join(dir, "server.toml")
		if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
			return ns, err
		}
		logf, err := os.Create(filepath.Join(dir, "server.log"))
		if err != nil {
			return ns, err
		}
		cmd := exec.Command(bin, "server", "--config", conf)
		cmd.Stdout, cmd.Stderr = logf, logf
		pprofAddr := fmt.Sprintf("127.0.0.1:%d", p[3])
		if pprof {
			cmd.Env = append(os.Environ(), "KALAMDB_PPROF_ADDR="+pprofAddr)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = cmd.Start()
		logf.Close() // the child holds its own descriptor
		if err != nil {
			return ns, err
		}
		ns = append(ns, &node{dir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", p[0]), pprof: pprofAddr, cmd: cmd})
	}
	deadline := time.Now().Add(5 * time.Minute) // start-up waits for every group's leader: slow on loaded cores
	for _, nd := range ns {
		cl := client.New(nd.url)
		for {
			code, _, err := cl.Do(context.Background(), "GET", "/readyz", nil, false)
			if err == nil && code == 200 {
				break
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(nd.dir, "server.log"))
				if len(log) > 2000 {
					log = log[len(log)-2000:]
				}
				return ns, fmt.Errorf("node %s not ready; the end of its log:\n%s", nd.url, log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return ns, nil
}

// stopNodes kills the nodes and prints the CPU time each used over its
// life (start-up included): replicas=3 does the apply work three times on
// the same cores.
func stopNodes(ns []*node) {
	var total time.Duration
	var each []string
	for _, nd := range ns {
		_ = nd.cmd.Process.Kill()
		_ = nd.cmd.Wait()
		if st := nd.cmd.ProcessState; st != nil {
			cpu := st.UserTime() + st.SystemTime()
			total += cpu
			each = append(each, fmt.Sprintf("%.2fs", cpu.Seconds()))
		}
	}
	if len(each) > 0 {
		fmt.Fprintf(os.Stderr, "hacluster: server CPU (user+sys) per node %s, total %.2fs\n", strings.Join(each, " "), total.Seconds())
	}
}

// leadersTo moves the leadership of every Raft group to replica id and
// waits until node id reports leading them all.
func leadersTo(ctx context.Context, ns []*node, id uint64) error {
	cl := client.New(ns[id-1].url)
	if _, err := cl.Login(ctx, "root", password); err != nil {
		return fmt.Errorf("while logging in: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		code, body, err := cl.Do(ctx, "GET", "/v1/cluster/status", nil, true)
		if err != nil || code != 200 {
			return fmt.Errorf("cluster status: HTTP %d: %v", code, err)
		}
		var st struct {
			Shards []struct {
				Name   string `json:"name"`
				Leader uint64 `json:"leader"`
			} `json:"shards"`
		}
		if err := json.Unmarshal(body, &st); err != nil {
			return err
		}
		moved := true
		for _, s := range st.Shards {
			if s.Leader == id {
				continue
			}
			moved = false
			req, _ := json.Marshal(map[string]any{"group": s.Name, "target": id})
			if code, body, err := cl.Do(ctx, "POST", "/v1/cluster/transfer-leader", req, true); err != nil || code != 202 {
				return fmt.Errorf("transfer-leader %s: HTTP %d %s: %v", s.Name, code, body, err)
			}
		}
		if moved {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("leadership did not move to node 1 within a minute")
		}
		time.Sleep(500 * time.Millisecond)
	}
}
