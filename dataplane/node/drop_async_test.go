package node

import (
	"path/filepath"
	"testing"
)

// TestRecreateWhileDropCleanupRuns drops a table with cold data and at
// once re-creates the same name: the CREATE waits for the background
// cleanup (which empties the name's storage directory), so the new
// table neither sees the old rows nor loses its own segments to the
// cleanup.
func TestRecreateWhileDropCleanupRuns(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	for round := range 3 {
		mustSQL(t, root, "CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, v TEXT)")
		mustSQL(t, root, "INSERT INTO app.a (id, v) VALUES ($1, 'x'), ($2, 'y')", round*10+1, round*10+2)
		if got := one(t, root, "SELECT count(*) FROM app.a"); got != "2" {
			t.Fatalf("round %d: new table sees %s rows", round, got)
		}
		mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.a"))
		mustSQL(t, root, "INSERT INTO app.a (id, v) VALUES ($1, 'hot')", round*10+3)
		if got := one(t, root, "SELECT count(*) FROM app.a"); got != "3" {
			t.Fatalf("round %d: %s rows after flush", round, got)
		}
		mustSQL(t, root, "DROP TABLE app.a")
		if got := one(t, root, "SELECT count(*) FROM system.jobs WHERE job_type = 'drop_cleanup'"); got != "1" && round == 0 {
			t.Fatalf("cleanup job not visible right after DROP: %s", got)
		}
	}
	waitDropCleanups(t, n)
	if got := countFiles(t, filepath.Join(dir, "storage", "app", "a")); got != 0 {
		t.Fatalf("%d objects left", got)
	}
	if got := one(t, root, "SELECT count(*) FROM system.jobs WHERE job_type = 'drop_cleanup' AND status = 'completed'"); got != "3" {
		t.Fatalf("completed cleanups: %s", got)
	}
}
