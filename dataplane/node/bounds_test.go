package node

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// Byte bounds on the paths besides the WebSocket queues (issue 22,
// docs/configuration.md).

// TestResultBytesBound: a SELECT whose rows would hold more than
// limits.max_result_bytes fails with RESULT_TOO_LARGE (nothing is
// returned, nothing cut silently); the same rows paged fit.
func TestResultBytesBound(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Limits.MaxResultBytes = 64 << 10 })
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE b; CREATE SHARED TABLE b.docs (id BIGINT PRIMARY KEY, body TEXT)")
	body := strings.Repeat("z", 10<<10)
	for i := range 10 {
		mustSQL(t, root, "INSERT INTO b.docs (id, body) VALUES ($1, $2)", i, body)
	}
	wantCode(t, root, "RESULT_TOO_LARGE", 400, "SELECT * FROM b.docs")
	// Narrow columns and pages both fit.
	if rows := mustRows(t, root, "SELECT id FROM b.docs"); len(rows) != 10 {
		t.Fatalf("SELECT id: %d rows", len(rows))
	}
	got := 0
	for last := -1; ; {
		rows := mustRows(t, root, fmt.Sprintf("SELECT id, body FROM b.docs WHERE id > %d ORDER BY id LIMIT 5", last))
		if len(rows) == 0 {
			break
		}
		got += len(rows)
		fmt.Sscan(fmt.Sprint(rows[len(rows)-1][0]), &last)
	}
	if got != 10 {
		t.Fatalf("paged: %d rows", got)
	}
}

// TestFlushBytesBound: one flush round reads at most cold.max_segment_mb
// of hot rows into its segment; the rest stays hot (and readable) for the
// next round, and every row ends up flushed exactly once.
func TestFlushBytesBound(t *testing.T) {
	cfg := coldConfig(t.TempDir())
	cfg.Cold.MaxSegmentMB = 1
	n := startNodeCfg(t, cfg)
	t.Cleanup(func() { n.Close() })
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE f; CREATE SHARED TABLE f.big (id BIGINT PRIMARY KEY, body TEXT)")
	body := strings.Repeat("q", 100<<10)
	const rows = 30 // 3 MB: three rounds of 1 MiB
	for i := range rows {
		mustSQL(t, root, "INSERT INTO f.big (id, body) VALUES ($1, $2)", i, body)
	}
	flushed, rounds := 0, 0
	for flushed < rows && rounds < 10 {
		job := runJob(t, root, "STORAGE FLUSH TABLE f.big")
		mustComplete(t, job)
		var got int
		fmt.Sscan(fmt.Sprint(job[2]), &got)
		if got == 0 || got > 11 {
			t.Fatalf("round %d flushed %d rows of 100 KiB under a 1 MiB bound", rounds, got)
		}
		flushed += got
		rounds++
		if c := one(t, root, "SELECT COUNT(*) FROM f.big"); c != fmt.Sprint(rows) {
			t.Fatalf("after round %d: %s rows readable", rounds, c)
		}
	}
	if flushed != rows || rounds < 3 {
		t.Fatalf("%d rows flushed in %d rounds, want %d in at least 3", flushed, rounds, rows)
	}
}

// TestSubscriptionBytesPerUser: what one user's subscriptions hold in the
// live-query index is bounded in bytes (websocket.max_subscription_bytes_per_user:
// SQL text and id plus 1 KiB each) over all of the user's connections;
// the refused subscription gets SUBSCRIPTION_LIMIT_EXCEEDED naming the
// setting, other users are unaffected, and unsubscribing frees the share.
func TestSubscriptionBytesPerUser(t *testing.T) {
	const sql = "SELECT * FROM b.t" // 17 bytes: each subscription costs 1024 + 2 + 17
	n := startNodeWith(t, func(c *config.Config) { c.WebSocket.MaxSubscriptionBytesPerUser = 3 * 1043 })
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE b; CREATE SHARED TABLE b.t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC');
		CREATE USER 'ann' WITH PASSWORD 'ann-password-1' ROLE user; CREATE USER 'ben' WITH PASSWORD 'ben-password-1' ROLE user`)
	ann := login(t, n, "ann", "ann-password-1")
	w1, w2 := dialWS(t, n, ann), dialWS(t, n, ann)
	w1.subscribeAll("s1", sql, nil)
	w2.subscribeAll("s2", sql, nil)
	w1.subscribeAll("s3", sql, nil)
	// A fourth over the user's budget, on either connection.
	w2.subscribe("s4", sql, nil)
	if m := w2.expectFor("s4", "error"); m.Code != "SUBSCRIPTION_LIMIT_EXCEEDED" || !strings.Contains(m.Message, "websocket.max_subscription_bytes_per_user") {
		t.Fatalf("fourth subscription: %s", m.raw)
	}
	// A long SQL is charged its length.
	w2.subscribe("s5", sql+" WHERE id <> "+strings.Repeat("1", 2000), nil)
	if m := w2.expectFor("s5", "error"); m.Code != "SUBSCRIPTION_LIMIT_EXCEEDED" {
		t.Fatalf("long subscription: %s", m.raw)
	}
	// Another user has a budget of their own.
	ben := dialWS(t, n, login(t, n, "ben", "ben-password-1"))
	ben.subscribeAll("b1", sql, nil)
	// Unsubscribing frees the share.
	w1.send(map[string]any{"type": "unsubscribe", "subscription_id": "s1"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		w2.subscribe("s6", sql, nil)
		m := w2.recv()
		if m.Type == "subscription_ack" && m.SubscriptionID == "s6" {
			break
		}
		if m.Code != "SUBSCRIPTION_LIMIT_EXCEEDED" || time.Now().After(deadline) {
			t.Fatalf("after unsubscribe: %s", m.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBackupRestoreBytesBound: with small backup.chunk_bytes and
// backup.restore_batch_bytes, a backup and a restore into a fresh server
// still round-trip every row, while no row chunk the backup built (and
// uploaded) exceeds chunk_bytes and no restore batch holds more than
// restore_batch_bytes of rows.
func TestBackupRestoreBytesBound(t *testing.T) {
	const chunk, batch = 16 << 10, 8 << 10
	bound := func(c *config.Config) { c.Backup.ChunkBytes, c.Backup.RestoreBatchBytes = chunk, batch }
	n := startNodeWith(t, bound)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE bb; CREATE SHARED TABLE bb.docs (id BIGINT PRIMARY KEY, body TEXT)")
	const rows = 300 // ~150 KB of rows: about ten 16 KiB chunks
	mustSQL(t, root, multiInsert("INSERT INTO bb.docs (id, body) VALUES ", 0, rows, func(i int) string {
		return fmt.Sprintf("(%d, '%d-%s')", i, i, strings.Repeat("r", 480))
	}))
	src := plain(readScope(t, root, "bb.docs"))
	target := filepath.Join(t.TempDir(), "bk")
	id, job := startBackupJob(t, root, fmt.Sprintf("BACKUP DATABASE TO '%s'", target))
	mustComplete(t, job)

	_, st, err := n.Backup().OpenTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	m, err := backup.LoadManifest(context.Background(), st, id)
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	for _, te := range m.Tables {
		for _, ref := range te.Hot {
			chunks++
			if ref.Size > chunk {
				t.Errorf("row chunk %s of %s.%s is %d bytes, over backup.chunk_bytes = %d", ref.Key, te.Namespace, te.Name, ref.Size, chunk)
			}
		}
	}
	if chunks < 8 {
		t.Fatalf("%d row chunks for ~150 KB of rows under a 16 KiB bound", chunks)
	}

	n2 := startNodeWith(t, bound)
	var stats backup.RestoreStats
	n2.Backup().SetTestHooks(backup.Hooks{}, 0, &stats)
	root2 := login(t, n2, "root", rootPW)
	_, job = startBackupJob(t, root2, fmt.Sprintf("RESTORE DATABASE FROM '%s'", target))
	mustComplete(t, job)
	if got := plain(readScope(t, root2, "bb.docs")); !slices.Equal(got, src) {
		t.Fatalf("restored %d rows, want %d equal to the source", len(got), len(src))
	}
	if stats.MaxBufferedBytes == 0 || stats.MaxBufferedBytes > batch {
		t.Fatalf("restore buffered up to %d bytes of rows, bound backup.restore_batch_bytes = %d", stats.MaxBufferedBytes, batch)
	}
	// ~500-byte rows: a batch holds at most 16 of them, more than one.
	if stats.MaxBufferedRows < 2 || stats.MaxBufferedRows > 16 {
		t.Fatalf("restore batch held up to %d rows", stats.MaxBufferedRows)
	}
}
