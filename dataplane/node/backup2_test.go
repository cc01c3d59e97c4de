package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestRestoreStreamingFencedRolledBack covers the restore limits of issue
// 7's follow-up on a real MinIO:
//   - memory: a SHARED scope with overlapping cold segments plus hot rows,
//     far bigger than the configured batch of 50 rows, is restored equal
//     to the source while the restore never holds more than 50 rows;
//   - fencing: a concurrent writer into the namespace being restored gets
//     NAMESPACE_RESTORING (never a mixed or failed restore), and succeeds
//     once the restore completes;
//   - verify-then-write: an object changed between the verify pass and
//     the write pass fails the restore, which drops the partial namespace.
func TestRestoreStreamingFencedRolledBack(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "data")
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 'minio');
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 'minio');
		CREATE USER alice WITH PASSWORD 'alice-password'`)
	alice := login(t, n, "alice", "alice-password")
	insertRange(t, root, "app.items", 0, 600, "i")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.items"))
	mustSQL(t, root, "UPDATE app.items SET body = 'u1' WHERE id >= 100 AND id < 400")
	insertRange(t, root, "app.items", 600, 900, "i2")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.items")) // overlaps the first segment
	mustSQL(t, root, "UPDATE app.items SET body = 'hot' WHERE id >= 350 AND id < 450")
	mustSQL(t, root, "DELETE FROM app.items WHERE id >= 880")
	insertRange(t, root, "app.items", 900, 1000, "h")
	insertRange(t, alice, "app.notes", 0, 300, "a")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	mustSQL(t, alice, "UPDATE app.notes SET body = 'a-hot' WHERE id < 50")
	srcItems, srcNotes := plain(readScope(t, root, "app.items")), plain(readScope(t, alice, "app.notes"))
	id, job := startBackupJob(t, root, "BACKUP DATABASE TO 's3://minio/backups'")
	mustComplete(t, job)

	// Restore into a fresh server with a 50-row batch and a concurrent writer.
	n2 := startCold(t, t.TempDir())
	defer n2.Close()
	root2 := login(t, n2, "root", rootPW)
	createS3Storage(t, root2, "minio", srv, "data")
	var stats backup.RestoreStats
	var refused atomic.Int64
	sawRefusal := make(chan struct{})
	var once sync.Once
	n2.Backup().SetTestHooks(backup.Hooks{AfterTable: func(string) {
		// Hold the restore (namespace still marked) until the writer has
		// been refused at least once.
		select {
		case <-sawRefusal:
		case <-time.After(20 * time.Second):
		}
	}}, 50, &stats)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var wrote atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 5000 && !stop.Load(); i++ {
			_, err := root2.SQL(context.Background(), fmt.Sprintf("INSERT INTO app.items (id, body) VALUES (%d, 'w')", 90000+i))
			switch {
			case err == nil:
				wrote.Add(1)
				if refused.Load() > 0 {
					return // the restore completed: writes go through again
				}
			case client.IsCode(err, "NAMESPACE_RESTORING"):
				refused.Add(1)
				once.Do(func() { close(sawRefusal) })
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	_, job = startBackupJob(t, root2, "RESTORE DATABASE FROM 's3://minio/backups'")
	mustComplete(t, job)
	deadline := time.Now().Add(20 * time.Second)
	for wrote.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if refused.Load() == 0 {
		t.Fatal("the concurrent writer was never refused with NAMESPACE_RESTORING")
	}
	var got []string
	for _, r := range plain(readScope(t, root2, "app.items")) {
		if !strings.HasSuffix(r, ":w") {
			got = append(got, r)
		}
	}
	if strings.Join(got, ",") != strings.Join(srcItems, ",") {
		t.Fatalf("restored items differ: %d rows, want %d", len(got), len(srcItems))
	}
	alice2 := login(t, n2, "alice", "alice-password")
	if g := plain(readScope(t, alice2, "app.notes")); strings.Join(g, ",") != strings.Join(srcNotes, ",") {
		t.Fatalf("restored notes differ: %d rows, want %d", len(g), len(srcNotes))
	}
	if stats.MaxBufferedRows == 0 || stats.MaxBufferedRows > 50 || len(srcItems) < 10*50 {
		t.Fatalf("restore buffered up to %d rows for a %d-row scope (budget 50)", stats.MaxBufferedRows, len(srcItems))
	}
	t.Logf("restore: %d-row scope, max %d rows buffered, max %d segments open, writer refused %d times",
		len(srcItems), stats.MaxBufferedRows, stats.MaxOpenSegments, refused.Load())

	// An object changed between verify and write: the restore fails and
	// drops the namespace it had started to recreate.
	n3 := startCold(t, t.TempDir())
	defer n3.Close()
	root3 := login(t, n3, "root", rootPW)
	createS3Storage(t, root3, "minio", srv, "data")
	target := s3Target(t, srv, "data/backups")
	m, err := backup.LoadManifest(context.Background(), target, id)
	if err != nil {
		t.Fatal(err)
	}
	var victim backup.ObjectRef
	for _, te := range m.Tables {
		if te.Name == "notes" && len(te.Hot) > 0 { // restored after items
			victim = te.Hot[0]
		}
	}
	orig, err := target.Get(context.Background(), victim.Key)
	if err != nil {
		t.Fatal(err)
	}
	n3.Backup().SetTestHooks(backup.Hooks{AfterVerify: func(*backup.Manifest) {
		bad := append([]byte(nil), orig...)
		bad[len(bad)-1] ^= 0xff
		if err := target.Put(context.Background(), victim.Key, bad); err != nil {
			t.Error(err)
		}
	}}, 0, nil)
	_, job = startBackupJob(t, root3, "RESTORE DATABASE FROM 's3://minio/backups'")
	if job[0] != "failed" || !strings.Contains(fmt.Sprint(job[1]), victim.Key) || !strings.Contains(fmt.Sprint(job[1]), "rolled back") {
		t.Fatalf("restore with an object changed after verification: %v", job)
	}
	wantCode(t, root3, "NOT_FOUND", 400, "SELECT count(*) FROM app.items")
	if err := target.Put(context.Background(), victim.Key, orig); err != nil {
		t.Fatal(err)
	}
	n3.Backup().SetTestHooks(backup.Hooks{}, 0, nil)
	_, job = startBackupJob(t, root3, "RESTORE DATABASE FROM 's3://minio/backups'")
	mustComplete(t, job)
	if c := one(t, root3, "SELECT count(*) FROM app.items"); c != fmt.Sprint(len(srcItems)) {
		t.Fatalf("restore after repair: %s items", c)
	}
}

// TestBackupPausesOrphanJanitor: with a zero orphan grace, a flush during
// a backup turns the cold manifest the backup's snapshot names into an
// orphan; the janitor must not delete it while the backup runs (it did
// before: the backup then failed reading it), and deletes it afterwards.
func TestBackupPausesOrphanJanitor(t *testing.T) {
	dir := t.TempDir()
	cfg := coldConfig(dir)
	cfg.Cold.OrphanGraceSeconds = 0
	n := startNodeCfg(t, cfg)
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT)`)
	insertRange(t, root, "app.items", 0, 200, "i")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.items"))
	entered, proceed := make(chan struct{}), make(chan struct{})
	var release sync.Once
	letGo := func() { release.Do(func() { close(proceed) }) }
	defer letGo() // a failed check must not leave the backup blocked
	n.Backup().SetTestHooks(backup.Hooks{AfterSnapshot: func() {
		close(entered)
		<-proceed
	}}, 0, nil)
	target := t.TempDir()
	done := make(chan []any, 1)
	go func() {
		_, job := startBackupJob(t, root, fmt.Sprintf("BACKUP DATABASE TO '%s'", target))
		done <- job
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("backup never started")
	}
	// Supersede the snapshot's cold manifest, then run the janitor.
	insertRange(t, root, "app.items", 200, 300, "j")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.items"))
	countManifests := func() int {
		st, _, err := n.cold.Store("local")
		if err != nil {
			t.Fatal(err)
		}
		list, err := st.List(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		c := 0
		for _, o := range list {
			if strings.Contains(o.Key, "manifest-") {
				c++
			}
		}
		return c
	}
	before := countManifests()
	if err := n.cold.Janitor(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := countManifests(); after != before || before < 2 {
		t.Fatalf("janitor during a backup: %d cold manifests, then %d", before, after)
	}
	letGo()
	mustComplete(t, <-done)
	if err := n.cold.Janitor(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := countManifests(); after >= before {
		t.Fatalf("janitor after the backup deleted nothing: %d cold manifests (was %d)", after, before)
	}
	mustComplete(t, waitJobVerify(t, root, target))
}

func waitJobVerify(t *testing.T, c *client.Client, target string) []any {
	t.Helper()
	_, job := startBackupJob(t, c, fmt.Sprintf("BACKUP VERIFY '%s'", target))
	return job
}
