package node

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// sameAsFullScan compares `col = v` (index when ready) with a forced full
// scan for every value, through the HTTP API only.
func sameAsFullScan(t *testing.T, c *client.Client, table, col string, vals []any) {
	t.Helper()
	for _, v := range vals {
		got := mustRows(t, c, fmt.Sprintf("SELECT id, %s FROM %s WHERE %s = $1 ORDER BY id LIMIT 100000", col, table, col), v)
		want := mustRows(t, c, fmt.Sprintf("SELECT id, %s FROM %s WHERE +%s = $1 ORDER BY id LIMIT 100000", col, table, col), v)
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%s = %v: index %d rows, full scan %d rows", col, v, len(got), len(want))
		}
	}
}

// TestIndexSurvivesSIGKILL kills the server while writes maintain an
// index, and while CREATE INDEX is backfilling; after each restart the
// index is ready and answers exactly like a full scan (entries are in the
// rows' batches; a build cut short is resumed at startup).
func TestIndexSurvivesSIGKILL(t *testing.T) {
	p := startServerProcess(t)
	bin, dataDir, port, cmd, root := p.bin, p.dataDir, p.port, p.cmd, p.root
	ctx := context.Background()
	mustSQL(t, root, `CREATE NAMESPACE kx; CREATE SHARED TABLE kx.s (id BIGINT PRIMARY KEY, k TEXT)`)
	for start := 0; start < 30000; start += 3000 {
		mustSQL(t, root, multiInsert("INSERT INTO kx.s (id, k) VALUES ", start, start+3000, func(i int) string {
			return fmt.Sprintf("(%d, 'k%d')", i, i%8)
		}))
	}
	vals := []any{}
	for i := 0; i < 9; i++ {
		vals = append(vals, fmt.Sprintf("k%d", i))
	}
	kill := func() {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, _ = cmd.Process.Wait()
		cmd = startProcess(t, bin, dataDir, port)
		if _, err := root.Login(ctx, "root", rootPW); err != nil {
			t.Fatal(err)
		}
	}
	// Round 0: killed during the build.
	go func() { _, _ = root.SQL(ctx, "CREATE INDEX s_k ON kx.s (k)") }()
	time.Sleep(40 * time.Millisecond)
	kill()
	t.Logf("after kill during build: %v; jobs %v", mustRows(t, root, "SELECT state FROM system.indexes"), mustRows(t, root, "SELECT status, trigger, rows_affected FROM system.jobs WHERE job_type = 'index_build'"))
	mustSQL(t, root, "CREATE INDEX IF NOT EXISTS s_k ON kx.s (k)")
	if got := one(t, root, "SELECT state FROM system.indexes WHERE index_name = 's_k'"); got != "ready" {
		t.Fatalf("index state after restart: %s", got)
	}
	sameAsFullScan(t, root, "kx.s", "k", vals)
	// Rounds 1..3: killed under concurrent updates.
	for round := 1; round <= 3; round++ {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := root.SQL(ctx, fmt.Sprintf("UPDATE kx.s SET k = 'k%d' WHERE id >= %d AND id < %d", (i+round)%9, i*100, i*100+50)); err != nil {
					return // the server was killed
				}
			}
		}()
		time.Sleep(time.Duration(30*round) * time.Millisecond)
		kill()
		wg.Wait()
		sameAsFullScan(t, root, "kx.s", "k", vals)
	}
}
