package node

import (
	"fmt"
	"testing"
)

// TestDeletedFilterColdAndMerged: WHERE _deleted = true reads soft-deleted
// rows whose tombstone is hot over a cold row (merged) or flushed into a
// segment (cold), with the deleted row's values, as the original KalamDB's;
// a tombstone with no older cold version is dropped at flush (as the
// original's flush drops tombstones). Hot-only: dataplane/sql
// TestDeletedFilterReadsTombstones.
func TestDeletedFilterColdAndMerged(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL, n INT);
		CREATE INDEX notes_body ON app.notes (body)`)
	for i := 1; i <= 6; i++ {
		mustSQL(t, root, "INSERT INTO app.notes (id, body, n) VALUES ($1, $2, $3)", i, fmt.Sprintf("b-%d", i), i*10)
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	rows := func(sql string) string {
		t.Helper()
		return fmt.Sprint(mustRows(t, root, sql))
	}
	want := func(sql, w string) {
		t.Helper()
		if got := rows(sql); got != w {
			t.Fatalf("%s\n got %s\nwant %s", sql, got, w)
		}
	}
	// Merged: hot tombstones over cold rows.
	mustSQL(t, root, "DELETE FROM app.notes WHERE id IN (2, 5)")
	mustSQL(t, root, "INSERT INTO app.notes (id, body, n) VALUES (7, 'b-7', 70)")
	mustSQL(t, root, "DELETE FROM app.notes WHERE id = 7") // hot only
	want("SELECT id FROM app.notes ORDER BY id", "[[1] [3] [4] [6]]")
	want("SELECT id, body, n, _deleted FROM app.notes WHERE _deleted = true ORDER BY id", "[[2 b-2 20 true] [5 b-5 50 true] [7 b-7 70 true]]")
	want("SELECT body FROM app.notes WHERE id = 5 AND _deleted = true", "[[b-5]]")
	want("SELECT body FROM app.notes WHERE body = 'b-2' AND _deleted = true", "[[b-2]]")
	want("SELECT body FROM app.notes WHERE body = 'b-2'", "[]")
	want("SELECT count(*) FROM app.notes WHERE _deleted = false", "[[4]]")

	// Cold: the flush keeps the tombstones of 2 and 5 (older cold rows
	// exist) with their values, and drops 7's.
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	want("SELECT id, body, n, _deleted FROM app.notes WHERE _deleted = true ORDER BY id DESC", "[[5 b-5 50 true] [2 b-2 20 true]]")
	want("SELECT body FROM app.notes WHERE id = 2 AND _deleted = true", "[[b-2]]")
	want("SELECT id FROM app.notes ORDER BY id", "[[1] [3] [4] [6]]")
	want("SELECT count(*), sum(n) FROM app.notes", "[[4 140]]")
	want("SELECT count(*), sum(n) FROM app.notes WHERE _deleted = true", "[[2 70]]")
	// Compaction drops tombstones: the deleted rows are gone for good.
	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE app.notes"))
	want("SELECT id FROM app.notes WHERE _deleted = true", "[]")
	want("SELECT id FROM app.notes ORDER BY id", "[[1] [3] [4] [6]]")
}
