package chaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestMigrateOneToThree is scale 1 → 3 on the data plane: a single node
// without [cluster] (today's replicas=1) takes hot and flushed data; it is
// restarted with a [cluster] section and adopts its data as a one-member
// group; two empty nodes start with cluster.join and are added through
// POST /v1/cluster/members (non-voting, then promoted once caught up)
// while a client keeps writing through the original node. Every row —
// flushed, hot, and written during the change — must then be on all
// three nodes, and the cluster must stay writable after a kill -9 of the
// original node. The cold tier is a filesystem storage all three share
// (the stand-in for S3 here): Parquet is never copied between replicas.
func TestMigrateOneToThree(t *testing.T) {
	ctx := context.Background()
	c := newNodes(t, 3)
	n1, n2, n3 := c.procs[0], c.procs[1], c.procs[2]

	// 1. A v1 single node with flushed and hot rows.
	c.configure(n1, "")
	c.start(n1)
	c.waitReady(n1, 60*time.Second)
	cl1, err := c.login(n1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	coldTables(t, cl1, "app.items", "app.notes")
	// An INT AUTO_INCREMENT table (a per-node counter), fine on one node.
	if _, err := cl1.SQL(ctx, "CREATE SHARED TABLE app.counted (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'shared_cold'); "+
		"INSERT INTO app.counted (v) VALUES ('a'), ('b'), ('c')"); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[int64]bool{"app.items": {}, "app.notes": {}}
	insert := func(cl *client.Client, table string, id int64) error {
		_, err := cl.SQL(ctx, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, 'row-%d')", table, id, id))
		return err
	}
	for id := int64(1); id <= 60; id++ {
		for table := range want {
			if err := insert(cl1, table, id); err != nil {
				t.Fatal(err)
			}
			want[table][id] = true
		}
	}
	for table := range want {
		flush(t, cl1, table)
	}
	for id := int64(61); id <= 100; id++ { // hot rows
		for table := range want {
			if err := insert(cl1, table, id); err != nil {
				t.Fatal(err)
			}
			want[table][id] = true
		}
	}

	// 2. Restart it with a [cluster] section: it adopts its data. With
	// cluster.join it refuses (a joining replica must start empty).
	c.stop(n1)
	c.configure(n1, c.clusterSection(n1, 2, true))
	c.start(n1)
	if log := c.waitExit(n1, 60*time.Second); !strings.Contains(log, "already holds single-node data") {
		t.Fatalf("joining with data: want a refusal, log:\n%s", log)
	}
	c.configure(n1, c.clusterSection(n1, 2, false))
	c.start(n1)
	c.waitReady(n1, 60*time.Second)
	if cl1, err = c.login(n1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	checkRows(t, cl1, 1, want, nil)
	// Its members list three: the counter is refused, a given id taken.
	checkMigratedCounter(t, cl1, "app.counted", 3, true)

	// 3. Two empty nodes join while a client writes through node 1.
	for _, p := range []*proc{n2, n3} {
		c.configure(p, c.clusterSection(p, 2, true))
		c.start(p)
	}
	var (
		mu      sync.Mutex
		acked   []int64
		unknown = map[int64]bool{} // timed out: may or may not exist
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	wg.Add(1)
	go func() { // owned by the test: ends when stop is set
		defer wg.Done()
		for id := int64(1000); !stop.Load(); id++ {
			err := insert(cl1, "app.items", id)
			mu.Lock()
			if err == nil {
				acked = append(acked, id)
			} else if !definiteFailure(err) {
				unknown[id] = true
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for _, p := range []*proc{n2, n3} {
		// As the operator does: call again (idempotent) until it votes;
		// NO_QUORUM is retryable.
		start := time.Now()
		for {
			m, err := cl1.AddClusterMember(ctx, uint64(p.id), 20*time.Second)
			if err == nil && m.Voter() {
				break
			}
			if err != nil && !client.IsCode(err, "NO_QUORUM") {
				t.Fatalf("adding replica %d: %v", p.id, err)
			}
			if time.Since(start) > 120*time.Second {
				t.Fatalf("replica %d not a voter after 120 s: %+v %v", p.id, m, err)
			}
		}
		c.waitReady(p, 60*time.Second)
		t.Logf("replica %d added and promoted in every group in %s", p.id, time.Since(start).Round(time.Millisecond))
	}
	for _, bad := range []string{`{}`, `{"replica_id": 0}`, `{"replica_id": 4, "wait_seconds": -1}`, `{"replica_id": 4, "wait_seconds": 601}`, `nope`} {
		if code, body, _ := cl1.Do(ctx, "POST", "/v1/cluster/members", []byte(bad), true); code != 400 {
			t.Errorf("POST /v1/cluster/members %s: %d %s, want 400", bad, code, body)
		}
	}
	if m, err := all3(c).ClusterMemberState(ctx, 3); err != nil || !m.Voter() || len(m.Shards) != 4 {
		t.Fatalf("state of replica 3 read through node 3: %+v %v", m, err)
	}
	// Idempotent, and the state is readable from any member.
	if m, err := cl1.AddClusterMember(ctx, 2, 0); err != nil || !m.Voter() {
		t.Fatalf("adding replica 2 again: %+v %v", m, err)
	}
	time.Sleep(300 * time.Millisecond) // a few more writes after the change
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	during := len(acked)
	for _, id := range acked {
		want["app.items"][id] = true
	}
	mu.Unlock()
	if during == 0 {
		t.Fatal("no write was acknowledged during the membership change")
	}
	t.Logf("%d writes acknowledged during the change, %d with an unknown outcome", during, len(unknown))

	// 4. Every row on every node.
	all := c.loginAll(30 * time.Second)
	for i, cl := range all {
		checkRows(t, cl, i+1, want, unknown)
	}
	checkMigratedCounter(t, all[2], "app.counted", 4, false)
	if t.Failed() {
		return
	}

	// 5. Kill -9 the original node: the other two keep a quorum.
	c.kill(n1)
	deadline := time.Now().Add(60 * time.Second)
	id := int64(900000)
	for {
		err := insert(all[1], "app.items", id)
		if err == nil || client.IsCode(err, "DUPLICATE_KEY") { // a retry of a write that did commit
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write accepted within 60 s of killing node 1: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want["app.items"][id] = true
	checkRows(t, all[2], 3, want, unknown)

	// 6. The original node restarts (adopted marker and Raft state) and a
	// joined node restarts (its cluster.join is then ignored): both
	// rejoin as voters and catch up.
	c.kill(n2)
	c.start(n1)
	c.start(n2)
	c.waitReady(n1, 120*time.Second)
	c.waitReady(n2, 120*time.Second)
	for _, p := range []*proc{n1, n2} {
		cl, err := c.login(p, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, cl, p.id, want, unknown)
	}
}

// all3 is a root client of the third node.
func all3(c *cluster) *client.Client {
	cl, err := c.login(c.procs[2], 30*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// flush runs STORAGE FLUSH TABLE and waits for its job to complete.
func flush(t *testing.T, cl *client.Client, table string) {
	t.Helper()
	ctx := context.Background()
	recs, err := cl.Records(ctx, "STORAGE FLUSH TABLE "+table)
	if err != nil || len(recs) != 1 {
		t.Fatalf("flush %s: %v %v", table, recs, err)
	}
	job := recs[0].String("job_id")
	if done := waitJobDone(t, cl, job, 60*time.Second); done.String("status") != "completed" {
		t.Fatalf("flush job %s of %s: %v", job, table, done)
	}
}

// checkRows reads every table through cl (node n) and compares the ids;
// ids in maybe (writes with an unknown outcome) may be present or not.
// NO_QUORUM right after a fault is retried for a while (it changes
// nothing).
func checkRows(t *testing.T, cl *client.Client, n int, want map[string]map[int64]bool, maybe map[int64]bool) {
	t.Helper()
	for table, ids := range want {
		got, err := readIDs(cl, table)
		if err != nil {
			t.Errorf("node %d: reading %s: %v", n, table, err)
			continue
		}
		var missing, extra []int64
		for id := range ids {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		for id := range got {
			if !ids[id] && !maybe[id] {
				extra = append(extra, id)
			}
		}
		sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
		if len(missing) > 0 || len(extra) > 0 {
			t.Errorf("node %d, %s: %d rows, want %d; missing %v; unexpected %v", n, table, len(got), len(ids), head(missing), head(extra))
		}
	}
}

// readIDs reads every id of table in pages (a statement returns at most
// max_query_limit rows), retrying NO_QUORUM for up to a minute.
func readIDs(cl *client.Client, table string) (map[int64]bool, error) {
	got := map[int64]bool{}
	last := int64(-1)
	for {
		var rows [][]any
		var err error
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			rows, err = cl.Rows(context.Background(), fmt.Sprintf("SELECT id FROM %s WHERE id > %d ORDER BY id LIMIT 1000", table, last))
			if err == nil || !client.IsCode(err, "NO_QUORUM") || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			last = toInt(r[0])
			got[last] = true
		}
		if len(rows) < 1000 {
			return got, nil
		}
	}
}

func head(ids []int64) []int64 {
	if len(ids) > 10 {
		return ids[:10]
	}
	return ids
}
