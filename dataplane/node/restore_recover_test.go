package node

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// crashImage copies the data directory of running node n into dst as a
// crash would leave it at this instant: a Pebble checkpoint of the hot
// tier (its WAL included; no clean-shutdown marker) plus every other
// file of the directory (node id, JWT secret, cold-tier files).
func crashImage(n *Node, dst string) error {
	if err := copyFiles(n.cfg.Storage.DataPath, dst, "hot"); err != nil {
		return err
	}
	return n.store.DB.Checkpoint(filepath.Join(dst, "hot"), pebble.WithFlushedWAL())
}

// copyFiles copies the directories and regular files under src to dst,
// leaving out the top-level directory skip ("" = none).
func copyFiles(src, dst, skip string) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case skip != "" && rel == skip:
			return fs.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		case !d.Type().IsRegular():
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		return fmt.Errorf("while copying %s: %w", src, err)
	}
	return nil
}

// storedNamespace reads namespace ns from the catalog of a stopped data
// directory, without starting a node (which would recover it).
func storedNamespace(t *testing.T, dir, ns string) (*catalog.Namespace, int) {
	t.Helper()
	st, err := hot.Open(hot.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Load(st.DB)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := cat.Namespace(ns)
	if !ok {
		t.Fatalf("crash image has no namespace '%s'", ns)
	}
	return n, len(cat.Tables(ns))
}

// TestRestoreInterruptedRolledBackAtStartup: a RESTORE that a crash
// interrupts after its first table (taken as a crash image of the data
// directory at that instant, so the restore's own commands wrote it) is
// rolled back when the server starts again on that directory, as a failed
// restore would be: a namespace the restore created is dropped, one that
// existed empty before is emptied and unmarked (same record). The
// namespace then takes writes and DDL again (a table of a dropped name
// can be recreated: its cleanup ran), the job is failed with an error
// naming the rollback, and restoring the same backup again yields the
// source's rows.
func TestRestoreInterruptedRolledBackAtStartup(t *testing.T) {
	src := startNode(t, t.TempDir())
	root := login(t, src, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, body TEXT);
		CREATE SHARED TABLE app.b (id BIGINT PRIMARY KEY, body TEXT)`)
	insertRange(t, root, "app.a", 0, 40, "a")
	insertRange(t, root, "app.b", 0, 60, "b")
	srcA, srcB := plain(readScope(t, root, "app.a")), plain(readScope(t, root, "app.b"))
	target := filepath.Join(t.TempDir(), "bk")
	_, job := startBackupJob(t, root, fmt.Sprintf("BACKUP NAMESPACE app TO '%s'", target))
	mustComplete(t, job)
	src.Close()

	for _, tc := range []struct {
		name        string
		preexisting bool   // app exists, empty, before the restore
		rolledBack  string // in the job's error
	}{
		{"created by the restore", false, "restore rolled back at startup: namespaces 'app' dropped"},
		{"existed empty", true, "restore rolled back at startup: namespaces 'app' emptied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, t.TempDir())
			root := login(t, n, "root", rootPW)
			var createdAt string
			if tc.preexisting {
				mustSQL(t, root, "CREATE NAMESPACE app")
				createdAt = one(t, root, "SELECT created_at FROM system.namespaces WHERE name = 'app'")
			}
			crashDir := filepath.Join(t.TempDir(), "crashed")
			var once sync.Once
			var crashErr error
			n.Backup().SetTestHooks(backup.Hooks{AfterTable: func(string) {
				once.Do(func() { crashErr = crashImage(n, crashDir) })
			}}, 0, nil)
			_, job := startBackupJob(t, root, fmt.Sprintf("RESTORE NAMESPACE app FROM '%s'", target))
			mustComplete(t, job) // the live server finishes; the image does not
			jobID := one(t, root, "SELECT job_id FROM system.jobs WHERE job_type = 'restore'")
			n.Close()
			if crashErr != nil {
				t.Fatalf("crash image: %v", crashErr)
			}
			// The image holds a half-restored namespace, marked by the job.
			ns, tables := storedNamespace(t, crashDir, "app")
			if ns.Restoring != jobID || ns.RestoreCreated == tc.preexisting || tables != 1 {
				t.Fatalf("crash image: namespace %+v with %d table(s), want marked by %s with 1 table", ns, tables, jobID)
			}

			n2 := startNode(t, crashDir)
			defer n2.Close()
			root2 := login(t, n2, "root", rootPW)
			st := mustRows(t, root2, "SELECT status, error_message FROM system.jobs WHERE job_id = $1", jobID)
			if len(st) != 1 || st[0][0] != "failed" || !strings.Contains(fmt.Sprint(st[0][1]), "interrupted by a server restart") ||
				!strings.Contains(fmt.Sprint(st[0][1]), tc.rolledBack) {
				t.Fatalf("interrupted restore job: %v, want failed with %q", st, tc.rolledBack)
			}
			if got := one(t, root2, "SELECT count(*) FROM system.tables WHERE namespace_id = 'app'"); got != "0" {
				t.Fatalf("%s tables left in app after the rollback", got)
			}
			wantCode(t, root2, "NOT_FOUND", 400, "SELECT count(*) FROM app.a")
			if tc.preexisting {
				if got := one(t, root2, "SELECT created_at FROM system.namespaces WHERE name = 'app'"); got != createdAt {
					t.Fatalf("emptied namespace created_at %s, want the original %s", got, createdAt)
				}
			} else {
				if got := one(t, root2, "SELECT count(*) FROM system.namespaces WHERE name = 'app'"); got != "0" {
					t.Fatal("the namespace the restore created is still there")
				}
				mustSQL(t, root2, "CREATE NAMESPACE app")
			}
			// Writes and DDL are accepted again, on a name the rollback dropped.
			mustSQL(t, root2, `CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, body TEXT);
				INSERT INTO app.a (id, body) VALUES (1, 'new')`)
			if got := one(t, root2, "SELECT body FROM app.a WHERE id = 1"); got != "new" {
				t.Fatalf("write after the rollback: %s", got)
			}
			mustSQL(t, root2, "DROP TABLE app.a")

			_, job = startBackupJob(t, root2, fmt.Sprintf("RESTORE NAMESPACE app FROM '%s'", target))
			mustComplete(t, job)
			if got := plain(readScope(t, root2, "app.a")); strings.Join(got, ",") != strings.Join(srcA, ",") {
				t.Fatalf("app.a after the second restore: %d rows, want %d", len(got), len(srcA))
			}
			if got := plain(readScope(t, root2, "app.b")); strings.Join(got, ",") != strings.Join(srcB, ",") {
				t.Fatalf("app.b after the second restore: %d rows, want %d", len(got), len(srcB))
			}
			mustSQL(t, root2, "INSERT INTO app.b (id, body) VALUES (1000, 'after')")
		})
	}
}
