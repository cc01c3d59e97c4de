package chaos

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestOperatorClientAndReadiness exercises what the operator relies on,
// against three real processes: the Go client's ClusterStatus and
// TransferLeader (dataplane/client, the operator's only way in), and
// /readyz meaning "caught up": a node restarted after missing writes
// answers 200 only once it has applied what its leaders had committed
// before it came back, and losing the quorum does not make the survivor
// unready (readiness must not pull every pod out of its Service).
func TestOperatorClientAndReadiness(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	all := c.loginAll(10 * time.Second)
	for i, cl := range all {
		st, err := cl.ClusterStatus(ctx)
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		if st.ReplicaID != uint64(i+1) || len(st.Shards) != 3 || st.NodeHostID == "" {
			t.Fatalf("node %d status %+v", i+1, st)
		}
		for _, sh := range st.Shards {
			if len(sh.Members) != 3 || sh.Members["1"] == "" {
				t.Fatalf("node %d shard %s members %v", i+1, sh.Name, sh.Members)
			}
		}
	}

	// TransferLeader through the client, asked again every 2 s as the
	// operator does (a leader may drop the request).
	leader := c.leaderOf(all, "meta")
	target := leader%3 + 1
	start, last := time.Now(), time.Time{}
	for c.leaderOf(all, "meta") != target {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("meta leadership did not move %d -> %d", leader, target)
		}
		if time.Since(last) > 2*time.Second {
			if err := all[0].TransferLeader(ctx, "meta", uint64(target)); err != nil {
				t.Fatal(err)
			}
			last = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := all[0].TransferLeader(ctx, "nope", 1); !client.IsCode(err, "INVALID_INPUT") {
		t.Fatalf("unknown group: %v, want INVALID_INPUT", err)
	}

	// Node 3 misses writes, comes back, and is ready only once current.
	if _, err := all[0].SQL(ctx, "CREATE SHARED TABLE default.r (k INT PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	c.kill(c.procs[2])
	for i := range 300 {
		insertRetrying(ctx, t, all[0], fmt.Sprintf("INSERT INTO default.r (k, v) VALUES (%d, 'row %d')", i, i))
	}
	committed := map[string]uint64{}
	for _, cl := range all[:2] {
		st, err := cl.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range st.Shards {
			committed[sh.Name] = max(committed[sh.Name], sh.Applied)
		}
	}
	c.start(c.procs[2])
	c.waitReady(c.procs[2], 120*time.Second)
	third, err := c.login(c.procs[2], 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st, err := third.ClusterStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range st.Shards {
		if sh.Applied < committed[sh.Name] {
			t.Fatalf("node 3 ready with shard %s at applied %d, behind the %d committed before it restarted", sh.Name, sh.Applied, committed[sh.Name])
		}
	}
	rows, err := third.Rows(ctx, "SELECT count(*) FROM default.r")
	if err != nil || len(rows) != 1 || toInt(rows[0][0]) != 300 {
		t.Fatalf("rows on the restarted node: %v %v", rows, err)
	}

	// Without a quorum the survivor stays ready (its requests answer
	// NO_QUORUM; the operator reports QuorumLost from the statuses).
	c.kill(c.procs[1])
	c.kill(c.procs[2])
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get(c.procs[0].url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the survivor of a lost quorum is not ready after 30 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	st, err = all[0].ClusterStatus(ctx)
	if err != nil {
		t.Fatalf("cluster status without a quorum: %v", err)
	}
	for _, sh := range st.Shards {
		if sh.Leader != 0 {
			t.Logf("shard %s still names leader %d (term %d)", sh.Name, sh.Leader, sh.Term)
		}
	}
}

// insertRetrying runs an INSERT of one row, retrying NO_QUORUM for up to a
// minute: right after a node is killed the groups it led have no leader
// until an election (a write then times out with the retryable
// NO_QUORUM, outcome unknown). A DUPLICATE_KEY on a retry means the timed
// out attempt was applied after all.
func insertRetrying(ctx context.Context, t *testing.T, cl *client.Client, stmt string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for retried := false; ; retried = true {
		_, err := cl.SQL(ctx, stmt)
		switch {
		case err == nil, retried && client.IsCode(err, "DUPLICATE_KEY"):
			return
		case client.IsCode(err, "NO_QUORUM") && time.Now().Before(deadline):
			continue
		}
		t.Fatalf("%s: %v", stmt, err)
	}
}
