package node

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFlushSurvivesSIGKILL kills the server with SIGKILL at different
// moments of a running flush; after each restart the row count and
// contents equal those before the kill.
func TestFlushSurvivesSIGKILL(t *testing.T) {
	p := startServerProcess(t)
	bin, dataDir, port, cmd, root := p.bin, p.dataDir, p.port, p.cmd, p.root
	ctx := context.Background()
	mustSQL(t, root, `CREATE NAMESPACE k; CREATE SHARED TABLE k.s (id BIGINT PRIMARY KEY, v TEXT, n BIGINT)`)
	for start := 0; start < 40000; start += 2000 {
		mustSQL(t, root, multiInsert("INSERT INTO k.s (id, v, n) VALUES ", start, start+2000, func(i int) string {
			return fmt.Sprintf("(%d, 'value-%d', %d)", i, i, i%97)
		}))
	}
	const q = "SELECT count(*), sum(id), sum(n), sum(length(v)), max(v) FROM k.s"
	want := one(t, root, q)
	for round, delay := range []time.Duration{0, 3 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 80 * time.Millisecond, 200 * time.Millisecond, 600 * time.Millisecond} {
		// Change some rows so every round flushes something new.
		mustSQL(t, root, "UPDATE k.s SET n = n + 1 WHERE id >= $1 AND id < $2", round*1000, round*1000+500)
		mustSQL(t, root, "DELETE FROM k.s WHERE id = $1", 39000+round)
		want = one(t, root, q)
		if _, err := root.SQL(ctx, "STORAGE FLUSH TABLE k.s"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, _ = cmd.Process.Wait()
		cmd = startProcess(t, bin, dataDir, port)
		if _, err := root.Login(ctx, "root", rootPW); err != nil {
			t.Fatal(err)
		}
		if got := one(t, root, q); got != want {
			t.Fatalf("round %d (kill after %v): got %s, want %s", round, delay, got, want)
		}
		objs, _ := filepath.Glob(filepath.Join(dataDir, "storage", "k", "s", "*"))
		t.Logf("round %d: kill after %v; last job %v; %d objects", round, delay,
			mustRows(t, root, "SELECT status, error_message FROM system.jobs ORDER BY created_at DESC LIMIT 1"), len(objs))
	}
	// A final flush completes and changes nothing visible.
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE k.s"))
	if got := one(t, root, q); got != want {
		t.Fatalf("after final flush: got %s, want %s", got, want)
	}
}
