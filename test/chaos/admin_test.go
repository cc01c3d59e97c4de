package chaos

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestLeaderTransfer: the operator API moves a group's leadership to a
// chosen replica (what a rolling update does before restarting a pod),
// refuses bad requests, and is admin-only.
func TestLeaderTransfer(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	all := c.loginAll(10 * time.Second)
	st, err := status(ctx, all[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Shards) != 3 { // meta, shared, u0
		t.Fatalf("status lists %d groups, want 3: %+v", len(st.Shards), st)
	}
	leader := c.leaderOf(all, "meta")
	if leader == 0 {
		t.Fatal("no meta leader")
	}
	target := leader%3 + 1
	// Asked through a node that is not the leader: dragonboat forwards it.
	start := time.Now()
	c.transferLeader(t, all, "meta", target)
	t.Logf("meta leadership moved %d -> %d in %s", leader, target, time.Since(start).Round(time.Millisecond))
	via := all[target%3]
	for _, bad := range []string{`{"group":"nope","target":1}`, `{"group":"meta","target":9}`, `{"group":"meta"}`, `not json`} {
		if code, resp, _ := via.Do(ctx, http.MethodPost, "/v1/cluster/transfer-leader", []byte(bad), true); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, code, resp)
		}
	}
	checkFlushOnFollower(t, c, all)
	u := plainUser(t, c, all[0])
	if code, _, _ := u.Do(ctx, http.MethodGet, "/v1/cluster/status", nil, true); code != http.StatusForbidden {
		t.Fatalf("status as a plain user: %d, want 403", code)
	}
}

// checkFlushOnFollower: STORAGE FLUSH sent to a node that leads neither
// meta nor the shared group answers a job id; the shared group's leader
// runs it.
func checkFlushOnFollower(t *testing.T, c *cluster, all []*client.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := all[0].SQL(ctx, "CREATE SHARED TABLE default.flushme (id BIGINT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := all[0].SQL(ctx, "INSERT INTO default.flushme (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	via := all[0]
	for i := range all {
		if id := i + 1; id != c.leaderOf(all, "meta") && id != c.leaderOf(all, "shared") {
			via = all[i]
		}
	}
	flush(t, via, "default.flushme")
}

// plainUser creates the user "plain" (role user) through admin and returns
// a client of node 1 logged in as it.
func plainUser(t *testing.T, c *cluster, admin *client.Client) *client.Client {
	t.Helper()
	ctx := context.Background()
	if _, err := admin.SQL(ctx, "CREATE USER plain WITH PASSWORD 'plain-password-1' ROLE user"); err != nil {
		t.Fatal(err)
	}
	u := client.New(c.procs[0].url)
	if _, err := u.Login(ctx, "plain", "plain-password-1"); err != nil {
		t.Fatal(err)
	}
	return u
}
