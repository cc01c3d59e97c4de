package chaos

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestStepDown: `kalamdb step-down` (the preStop hook of a replicated pod)
// moves every group a node leads to another replica, in a real 3-node
// cluster: first node 1 is made the leader of every group, then the CLI,
// given only node 1's server.toml (it signs its token with the JWT secret
// there), hands them all over and exits 0. Run again it has nothing to do
// and exits 0; for a single node too.
func TestStepDown(t *testing.T) {
	c := startCluster(t, 1)
	all := c.loginAll(10 * time.Second)
	ctx := context.Background()
	groups := []string{"meta", "shared", "u0"}
	start := time.Now()
	asked := time.Time{}
	for !leadsAll(c, all, 1, groups) {
		if time.Since(start) > 60*time.Second {
			t.Fatal("node 1 does not lead every group after 60 s of transfers")
		}
		if time.Since(asked) > 2*time.Second {
			for _, g := range groups {
				if err := all[1].TransferLeader(ctx, g, 1); err != nil {
					t.Fatal(err)
				}
			}
			asked = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}

	out, code := stepDown(t, filepath.Join(c.procs[0].dir, "server.toml"), "20s")
	if code != 0 || !strings.Contains(out, "handed over [meta shared u0]") {
		t.Fatalf("step-down on the leader of every group: exit %d, output:\n%s", code, out)
	}
	t.Logf("%s", strings.TrimSpace(out))
	for _, g := range groups {
		if l := c.leaderOf(all, g); l == 1 || l == 0 {
			t.Fatalf("after step-down the leader of %s is %d", g, l)
		}
	}
	// The cluster still takes writes through node 1 (its follower path).
	if _, err := all[0].SQL(ctx, "CREATE SHARED TABLE default.after (id BIGINT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	out, code = stepDown(t, filepath.Join(c.procs[0].dir, "server.toml"), "5s")
	if code != 0 || !strings.Contains(out, "handed over []") {
		t.Fatalf("step-down on a node that leads nothing: exit %d, output:\n%s", code, out)
	}

	// The endpoint refuses a bad wait and non-admins.
	for _, bad := range []string{`{"wait_seconds": 0}`, `{"wait_seconds": 601}`, `nope`} {
		if code, resp, _ := all[0].Do(ctx, http.MethodPost, "/v1/cluster/step-down", []byte(bad), true); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, code, resp)
		}
	}
	u := plainUser(t, c, all[0])
	if code, _, _ := u.Do(ctx, http.MethodPost, "/v1/cluster/step-down", nil, true); code != http.StatusForbidden {
		t.Fatalf("step-down as a plain user: %d, want 403", code)
	}

	// A single node (no [cluster]): nothing to hand over, without asking.
	single := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(single, []byte("[server]\nport = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := stepDown(t, single, "5s"); code != 0 || !strings.Contains(out, "nothing to hand over") {
		t.Fatalf("single node: exit %d, output:\n%s", code, out)
	}
}

// leadsAll reports whether every live node sees replica id lead every group.
func leadsAll(c *cluster, all []*client.Client, id int, groups []string) bool {
	for _, g := range groups {
		if c.leaderOf(all, g) != id {
			return false
		}
	}
	return true
}

// stepDown runs `kalamdb step-down` with a server's config and returns its
// combined output and exit status.
func stepDown(t *testing.T, config, timeout string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, "step-down", "--config", config, "--timeout", timeout)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatal(err)
	}
	return string(out), 0
}
