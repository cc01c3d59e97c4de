package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// withBootstrapHooks installs backup test hooks for the bootstrap restore
// of the node being started (h gets that node).
func withBootstrapHooks(h func(*Node) backup.Hooks) StartOption {
	return func(o *startOptions) { o.bootstrapHooks = h }
}

// bootstrapTables are the tables of the bootstrap tests' source database.
var bootstrapTables = []string{"default.d", "app.a", "app.b"}

// bootstrapSource builds a source database (three tables in two
// namespaces, "default" included), backs it up to a local target and
// returns the target and every table's rows.
func bootstrapSource(t *testing.T) (string, map[string][]string) {
	t.Helper()
	src := startNode(t, t.TempDir())
	defer src.Close()
	root := login(t, src, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, body TEXT);
		CREATE SHARED TABLE app.b (id BIGINT PRIMARY KEY, body TEXT);
		CREATE SHARED TABLE default.d (id BIGINT PRIMARY KEY, body TEXT)`)
	insertRange(t, root, "app.a", 0, 40, "a")
	insertRange(t, root, "app.b", 0, 60, "b")
	insertRange(t, root, "default.d", 0, 25, "d")
	rows := map[string][]string{}
	for _, tbl := range bootstrapTables {
		rows[tbl] = plain(readScope(t, root, tbl))
	}
	target := filepath.Join(t.TempDir(), "bk")
	_, job := startBackupJob(t, root, fmt.Sprintf("BACKUP DATABASE TO '%s'", target))
	mustComplete(t, job)
	return target, rows
}

// startBootstrap starts a node on dir with the given start options.
func startBootstrap(t *testing.T, dir string, opts ...StartOption) *Node {
	t.Helper()
	n, err := Start(testConfig(dir), quietLog(), opts...)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return n
}

// wantRows checks that every table of want holds exactly its rows.
func wantRows(t *testing.T, n *Node, want map[string][]string) {
	t.Helper()
	root := login(t, n, "root", rootPW)
	for _, tbl := range bootstrapTables {
		if got := plain(readScope(t, root, tbl)); strings.Join(got, ",") != strings.Join(want[tbl], ",") {
			t.Errorf("%s: %d rows, want %d\n got  %.200v\n want %.200v", tbl, len(got), len(want[tbl]), got, want[tbl])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// marker reads the bootstrap marker of dir (ok false: none).
func marker(t *testing.T, dir string) (bootstrapMarker, bool) {
	t.Helper()
	m, ok, err := readBootstrapMarker(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m, ok
}

// wantNoMarker checks that dir's bootstrap is recorded complete.
func wantNoMarker(t *testing.T, dir string) {
	t.Helper()
	if m, ok := marker(t, dir); ok {
		t.Fatalf("bootstrap marker still present after a completed bootstrap: %+v", m)
	}
}

// writeMarker writes a marker as a bootstrap of target would.
func writeMarker(t *testing.T, dir, target string) {
	t.Helper()
	data, _ := json.Marshal(bootstrapMarker{Target: target, StartedAt: "2024-01-01T00:00:00Z", Attempts: 1})
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := hot.WriteFileAtomic(markerPath(dir), data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := copyFiles(src, dst, ""); err != nil {
		t.Fatal(err)
	}
}

// TestBootstrapRetriedAfterFailure: a --restore-from bootstrap whose first
// attempt fails — before any write (the target holds no backup yet) or
// after its first table (the backup's objects vanish) — aborts startup
// with an error saying the bootstrap is incomplete and will be retried,
// and leaves the marker naming the attempt's target. The data directory
// is no longer fresh then, yet the next start, given the valid target,
// retries the bootstrap: it serves exactly the source's rows and the
// marker is gone.
func TestBootstrapRetriedAfterFailure(t *testing.T) {
	target, want := bootstrapSource(t)
	for _, tc := range []struct {
		name string
		// why is in the error of the first attempt.
		why string
		// bad returns the first attempt's target and hooks.
		bad func(t *testing.T) (string, func(*Node) backup.Hooks)
	}{
		{"target without a backup", "no completed backup", func(t *testing.T) (string, func(*Node) backup.Hooks) {
			return filepath.Join(t.TempDir(), "not-yet"), nil
		}},
		{"objects vanish after the first table", "restore rolled back", func(t *testing.T) (string, func(*Node) backup.Hooks) {
			broken := filepath.Join(t.TempDir(), "bk")
			copyTree(t, target, broken)
			return broken, func(*Node) backup.Hooks {
				return backup.Hooks{AfterTable: func(string) { _ = os.RemoveAll(filepath.Join(broken, "objects")) }}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bad, hooks := tc.bad(t)
			n, err := Start(testConfig(dir), quietLog(), WithRestoreFrom(bad, ""), withBootstrapHooks(hooks))
			if err == nil {
				n.Close()
				t.Fatal("the bootstrap from a bad target started serving")
			}
			if msg := err.Error(); !strings.Contains(msg, "bootstrap restore from "+bad+" is incomplete") ||
				!strings.Contains(msg, "retried at the next start") || !strings.Contains(msg, tc.why) {
				t.Fatalf("failed bootstrap: %v", err)
			}
			if m, ok := marker(t, dir); !ok || m.Target != bad || m.Attempts != 1 || m.StartedAt == "" {
				t.Fatalf("marker after the failed attempt: %+v (present %v), want target %s, attempt 1", m, ok, bad)
			}
			if dataDirFresh(dir) {
				t.Fatal("the failed attempt left the data directory fresh: the retry would not be tested")
			}

			n = startBootstrap(t, dir, WithRestoreFrom(target, ""))
			defer n.Close()
			wantRows(t, n, want)
			wantNoMarker(t, dir)
		})
	}
}

// TestBootstrapRetriedAfterCrash: a crash in the middle of a bootstrap
// (a crash image of the data directory taken after the restore's first
// table: the marker is in it and the restore's namespaces are marked and
// half written) is rolled back and restored again at the next start, with
// --restore-from given again or, without it, from the target recorded in
// the marker; the server then holds exactly the source's rows. The same
// holds for a crash before the hot tier was first opened (marker only).
func TestBootstrapRetriedAfterCrash(t *testing.T) {
	target, want := bootstrapSource(t)

	// One crash image serves every restart variant (each gets a copy).
	image := filepath.Join(t.TempDir(), "crashed")
	var once sync.Once
	var crashErr error
	live := t.TempDir()
	n := startBootstrap(t, live, WithRestoreFrom(target, ""), withBootstrapHooks(func(n *Node) backup.Hooks {
		return backup.Hooks{AfterTable: func(string) { once.Do(func() { crashErr = crashImage(n, image) }) }}
	}))
	wantRows(t, n, want) // the live server finishes; the image does not
	n.Close()
	wantNoMarker(t, live)
	if crashErr != nil {
		t.Fatalf("crash image: %v", crashErr)
	}
	if _, ok := marker(t, image); !ok {
		t.Fatal("the crash image has no bootstrap marker")
	}
	if ns, tables := storedNamespace(t, image, "app"); ns.Restoring == "" {
		t.Fatalf("crash image: namespace app %+v with %d table(s) is not marked restoring", ns, tables)
	}

	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
		opts []StartOption
	}{
		{"mid-restore, --restore-from again", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "d")
			copyTree(t, image, d)
			return d
		}, []StartOption{WithRestoreFrom(target, "")}},
		{"mid-restore, target from the marker", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "d")
			copyTree(t, image, d)
			return d
		}, nil},
		{"before the first open, target from the marker", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "d")
			writeMarker(t, d, target)
			return d
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			n := startBootstrap(t, dir, tc.opts...)
			defer n.Close()
			wantRows(t, n, want)
			wantNoMarker(t, dir)
			root := login(t, n, "root", rootPW)
			if got := one(t, root, "SELECT count(*) FROM system.namespaces WHERE name = 'app'"); got != "1" {
				t.Fatalf("%s namespace(s) app", got)
			}
			// The restored namespaces take writes (no mark is left).
			mustSQL(t, root, "INSERT INTO app.b (id, body) VALUES (1000, 'after')")
		})
	}
}

// TestBootstrapRetryOverwrites: a crash after the bootstrap restore
// completed but before its marker was removed (simulated by writing the
// marker back on a fully bootstrapped directory) makes the next start
// restore again, overwriting the backup's namespaces instead of failing
// with a conflict: the server ends with exactly the backup's rows, none
// duplicated. A row the backup does not hold, added before the marker is
// written back, shows that the namespaces were overwritten, not skipped.
func TestBootstrapRetryOverwrites(t *testing.T) {
	target, want := bootstrapSource(t)
	for _, tc := range []struct {
		name string
		opts []StartOption
	}{
		{"--restore-from again", []StartOption{WithRestoreFrom(target, "")}},
		{"target from the marker", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			n := startBootstrap(t, dir, WithRestoreFrom(target, ""))
			mustSQL(t, login(t, n, "root", rootPW), "INSERT INTO app.a (id, body) VALUES (5000, 'not in the backup')")
			n.Close()
			wantNoMarker(t, dir)
			writeMarker(t, dir, target)

			n = startBootstrap(t, dir, tc.opts...)
			defer n.Close()
			wantRows(t, n, want)
			wantNoMarker(t, dir)
			root := login(t, n, "root", rootPW)
			if got := one(t, root, "SELECT count(*) FROM system.tables WHERE namespace_id = 'app'"); got != "2" {
				t.Fatalf("%s tables in app after the overwrite, want 2", got)
			}
		})
	}
}

// TestBootstrapCompletedNotRepeated: restarting a server whose bootstrap
// completed (no marker) with --restore-from still given runs no restore:
// writes made after the bootstrap survive, and the marker stays absent.
func TestBootstrapCompletedNotRepeated(t *testing.T) {
	target, want := bootstrapSource(t)
	dir := t.TempDir()
	n := startBootstrap(t, dir, WithRestoreFrom(target, ""))
	wantRows(t, n, want)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "INSERT INTO app.a (id, body) VALUES (5000, 'after the bootstrap'); DELETE FROM app.b WHERE id = 0")
	n.Close()
	wantNoMarker(t, dir)

	n = startBootstrap(t, dir, WithRestoreFrom(target, ""))
	defer n.Close()
	want = map[string][]string{"default.d": want["default.d"], "app.a": append(append([]string(nil), want["app.a"]...), "5000:after the bootstrap"),
		"app.b": want["app.b"][1:]}
	wantRows(t, n, want)
	wantNoMarker(t, dir)
}
