package node

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestBackupLocalPathProgress: BACKUP to a local path (no object store)
// reports its progress in system.jobs (bytes, objects, rows, as
// docs/sql-reference.md#backup-and-restore says) and SHOW BACKUPS lists it
// as completed with the same size and object count, with BIGINT columns on
// the wire as strings.
func TestBackupLocalPathProgress(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE bl; CREATE SHARED TABLE bl.t (id BIGINT PRIMARY KEY, v TEXT)`)
	mustSQL(t, root, `INSERT INTO bl.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
	target := filepath.Join(t.TempDir(), "bk")
	id, job := startBackupJob(t, root, fmt.Sprintf("BACKUP NAMESPACE bl TO '%s'", target))
	mustComplete(t, job)
	jobID := one(t, root, "SELECT job_id FROM system.jobs WHERE job_type = 'backup'")
	progress := mustRows(t, root, "SELECT bytes_written, segments_written, rows_affected FROM system.jobs WHERE job_id = $1", jobID)[0]
	if asInt(t, progress[0]) <= 0 || asInt(t, progress[1]) <= 0 || asInt(t, progress[2]) != 3 {
		t.Fatalf("backup job progress (bytes, objects, rows) = %v", progress)
	}
	res := mustSQL(t, root, fmt.Sprintf("SHOW BACKUPS IN '%s'", target)).Results[0]
	col := map[string]int{}
	for i, f := range res.Schema {
		col[f.Name] = i
	}
	if len(res.Rows) != 1 {
		t.Fatalf("SHOW BACKUPS: %v", res.Rows)
	}
	r := res.Rows[0]
	if r[col["backup_id"]] != id || r[col["status"]] != "completed" || r[col["scope"]] != "namespace:bl" {
		t.Fatalf("SHOW BACKUPS row: %v", r)
	}
	if asInt(t, r[col["size_bytes"]]) != asInt(t, progress[0]) || asInt(t, r[col["files"]]) != asInt(t, progress[1]) {
		t.Fatalf("SHOW BACKUPS size/files %v/%v, job %v", r[col["size_bytes"]], r[col["files"]], progress)
	}
	if _, ok := r[col["seq_high_water"]].(string); !ok {
		t.Fatalf("seq_high_water is %T on the wire, want a string (BIGINT)", r[col["seq_high_water"]])
	}
}
