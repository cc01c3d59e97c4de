package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestClusterConsistentBackup: clients write through all three replicas
// into a SHARED table (the shared group) and two users' USER tables (their
// user groups); the replica that takes the backup is a follower of meta
// and was paused (SIGSTOP) just before, so it lags the others when the
// backup starts. The backup is restored into a fresh single node: every
// write acknowledged (by any replica) before BACKUP was sent is there.
func TestClusterConsistentBackup(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, 2)
	admin := c.loginAll(30 * time.Second)
	for _, q := range []string{
		"CREATE NAMESPACE app",
		"CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, v TEXT NOT NULL)",
		"CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, v TEXT NOT NULL)",
		"CREATE USER alice WITH PASSWORD 'alice-password-1' ROLE user",
		"CREATE USER bob WITH PASSWORD 'bob-password-12' ROLE user",
	} {
		if _, err := admin[0].SQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The writers of node i: root (items), alice and bob (their notes).
	type writer struct {
		who, table string
		cl         *client.Client
	}
	var writers []writer
	for i, p := range c.procs {
		writers = append(writers, writer{"root", "app.items", admin[i]})
		for user, pw := range map[string]string{"alice": "alice-password-1", "bob": "bob-password-12"} {
			cl := client.New(p.url)
			cl.HTTP.Timeout = 30 * time.Second
			if _, err := cl.Login(ctx, user, pw); err != nil {
				t.Fatalf("login %s on node %d: %v", user, p.id, err)
			}
			writers = append(writers, writer{user, "app.notes", cl})
		}
	}
	// acked[who][id] = when the write was acknowledged.
	var mu sync.Mutex
	acked := map[string]map[int64]time.Time{"root": {}, "alice": {}, "bob": {}}
	var nextID atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Add(1)
		go func() { // owned by the test: ends when stop closes
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := nextID.Add(1)
				if _, err := w.cl.SQL(ctx, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, 'x')", w.table, id)); err != nil {
					continue // outcome unknown or refused: not counted as acknowledged
				}
				at := time.Now()
				mu.Lock()
				acked[w.who][id] = at
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second)

	// The backup replica: one that does not lead meta, paused for a while
	// so that it is behind when the backup starts.
	metaLeader := c.leaderOf(admin, "meta")
	b := c.procs[0]
	if metaLeader == 1 {
		b = c.procs[1]
	}
	c.signal(b, syscall.SIGSTOP)
	time.Sleep(time.Second)
	c.signal(b, syscall.SIGCONT)
	target := filepath.Join(t.TempDir(), "backups")
	started := time.Now()
	res, err := admin[b.id-1].Records(ctx, "BACKUP DATABASE TO "+client.Quote(target))
	if err != nil || len(res) != 1 {
		t.Fatalf("BACKUP on node %d: %v %v", b.id, res, err)
	}
	backupID, jobID := res[0].String("backup_id"), res[0].String("job_id")
	time.Sleep(500 * time.Millisecond) // writes go on during the backup
	close(stop)
	wg.Wait()
	waitJobCompleted(t, admin[b.id-1], jobID)

	var before int
	mu.Lock()
	for _, m := range acked {
		for _, at := range m {
			if at.Before(started) {
				before++
			}
		}
	}
	mu.Unlock()
	t.Logf("backup %s on node %d (meta leader: %d): %d writes acknowledged before it started", backupID, b.id, metaLeader, before)
	manifest, err := os.ReadFile(filepath.Join(target, "backups", backupID, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ClusterBarrier bool `json:"cluster_barrier"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil || !m.ClusterBarrier {
		t.Fatalf("manifest cluster_barrier = %v (%v), want true", m.ClusterBarrier, err)
	}

	// Restore into a fresh single node and look for every write
	// acknowledged before the backup started.
	single := startNodes(t, 1, 1)
	root := single.loginAll(30 * time.Second)[0]
	res, err = root.Records(ctx, "RESTORE DATABASE FROM "+client.Quote(target)+" BACKUP "+client.Quote(backupID))
	if err != nil || len(res) != 1 {
		t.Fatalf("RESTORE: %v %v", res, err)
	}
	waitJobCompleted(t, root, res[0].String("job_id"))
	got := map[string]map[int64]bool{}
	if got["root"], err = readIDs(root, "app.items"); err != nil {
		t.Fatal(err)
	}
	for user, pw := range map[string]string{"alice": "alice-password-1", "bob": "bob-password-12"} {
		cl := client.New(single.procs[0].url)
		if _, err := cl.Login(ctx, user, pw); err != nil {
			t.Fatalf("login %s on the restored node: %v", user, err)
		}
		if got[user], err = readIDs(cl, "app.notes"); err != nil {
			t.Fatal(err)
		}
	}
	missing, after := 0, 0
	for who, m := range acked {
		for id, at := range m {
			switch {
			case at.Before(started) && !got[who][id]:
				missing++
				if missing <= 5 {
					t.Errorf("%s's row %d, acknowledged %s before the backup started, is not in it", who, id, started.Sub(at))
				}
			case !at.Before(started) && got[who][id]:
				after++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d writes acknowledged before the backup are missing", missing, before)
	}
	t.Logf("restored: all %d earlier writes present (%d acknowledged after the start are in it too)", before, after)
}

// waitJobCompleted polls system.jobs until job id completes (fails the test
// when it fails or takes over a minute).
func waitJobCompleted(t *testing.T, cl *client.Client, id string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		j, err := cl.Job(context.Background(), id)
		if err != nil || j == nil {
			continue
		}
		switch j.Status {
		case "completed":
			return
		case "failed":
			t.Fatalf("job %s failed: %s", id, j.Error)
		}
	}
	t.Fatalf("job %s did not finish within a minute", id)
}
