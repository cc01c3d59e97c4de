package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	via := all[target%3]
	body := []byte(fmt.Sprintf(`{"group":"meta","target":%d}`, target))
	// A Raft leader transfer is a request the leader may drop (the target
	// not caught up yet, an election timeout on starved cores): like the
	// operator, ask again every 2 s until the target leads.
	start := time.Now()
	asks, last := 0, time.Time{}
	for ; c.leaderOf(all, "meta") != target; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("meta leader still %d after %d requests, want %d", c.leaderOf(all, "meta"), asks, target)
		}
		if time.Since(last) < 2*time.Second {
			continue
		}
		code, resp, err := via.Do(ctx, http.MethodPost, "/v1/cluster/transfer-leader", body, true)
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("transfer: %d %s %v", code, resp, err)
		}
		last, asks = time.Now(), asks+1
	}
	t.Logf("meta leadership moved %d -> %d in %s (%d requests)", leader, target, time.Since(start).Round(time.Millisecond), asks)
	for _, bad := range []string{`{"group":"nope","target":1}`, `{"group":"meta","target":9}`, `{"group":"meta"}`, `not json`} {
		if code, resp, _ := via.Do(ctx, http.MethodPost, "/v1/cluster/transfer-leader", []byte(bad), true); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, code, resp)
		}
	}
	checkFlushOnLeaderOnly(t, c, all)
	u := plainUser(t, c, all[0])
	if code, _, _ := u.Do(ctx, http.MethodGet, "/v1/cluster/status", nil, true); code != http.StatusForbidden {
		t.Fatalf("status as a plain user: %d, want 403", code)
	}
}

// checkFlushOnLeaderOnly: STORAGE FLUSH runs only on the meta leader; a
// follower answers NOT_LEADER (421) naming it and queues nothing.
func checkFlushOnLeaderOnly(t *testing.T, c *cluster, all []*client.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := all[0].SQL(ctx, "CREATE SHARED TABLE default.flushme (id BIGINT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := all[0].SQL(ctx, "INSERT INTO default.flushme (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		leader := c.leaderOf(all, "meta")
		if leader == 0 {
			t.Fatal("no meta leader")
		}
		follower := all[leader%3]
		_, ferr := follower.SQL(ctx, "STORAGE FLUSH TABLE default.flushme")
		recs, lerr := all[leader-1].Records(ctx, "STORAGE FLUSH TABLE default.flushme")
		if c.leaderOf(all, "meta") != leader && attempt < 5 {
			continue // leadership moved meanwhile: ask again
		}
		var ae *client.APIError
		if !errors.As(ferr, &ae) || ae.Code != "NOT_LEADER" || ae.HTTPStatus != http.StatusMisdirectedRequest ||
			!strings.Contains(ae.Message, fmt.Sprintf("replica %d", leader)) {
			t.Fatalf("STORAGE FLUSH on a follower: %v, want NOT_LEADER naming replica %d", ferr, leader)
		}
		if lerr != nil || len(recs) != 1 || recs[0].String("status") == "" {
			t.Fatalf("STORAGE FLUSH on the leader (replica %d): %v %v", leader, recs, lerr)
		}
		return
	}
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
