package node

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// indexEquivalent checks that `col = v` through the index returns exactly
// the rows of a forced full scan (`+col = v` is not a column constraint,
// so SQLite cannot hand it to the vtab), for every value in vals, and that
// the index was really used.
func indexEquivalent(t *testing.T, n *Node, c *client.Client, table, col, sel string, vals []any) {
	t.Helper()
	for _, v := range vals {
		before := n.Engine().ScanStats().IndexScans
		got := mustRows(t, c, fmt.Sprintf("SELECT %s FROM %s WHERE %s = $1 ORDER BY 1 LIMIT 100000", sel, table, col), v)
		used := n.Engine().ScanStats().IndexScans - before
		want := mustRows(t, c, fmt.Sprintf("SELECT %s FROM %s WHERE +%s = $1 ORDER BY 1 LIMIT 100000", sel, table, col), v)
		if used == 0 {
			t.Fatalf("%s = %v: the index was not used", col, v)
		}
		if n.Engine().ScanStats().IndexScans-before != used {
			t.Fatalf("%s = %v: the forced full scan used the index", col, v)
		}
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%s = %v: index returned %d rows %v, full scan %d rows %v", col, v, len(got), head(got), len(want), head(want))
		}
	}
}

func head(r [][]any) [][]any {
	if len(r) > 5 {
		return r[:5]
	}
	return r
}

func userVals(k int) []any {
	out := []any{"nobody"}
	for i := 0; i < k; i++ {
		out = append(out, fmt.Sprintf("u%d", i))
	}
	return out
}

func TestIndexMatchesFullScanAcrossWritesFlushCompactAlter(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE ix; CREATE SHARED TABLE ix.ev (id BIGINT PRIMARY KEY, user_id TEXT, n BIGINT)`)
	mustSQL(t, root, multiInsert("INSERT INTO ix.ev (id, user_id, n) VALUES ", 1, 400, func(i int) string {
		return fmt.Sprintf("(%d, 'u%d', %d)", i, i%7, i)
	}))
	mustSQL(t, root, `CREATE INDEX ev_user ON ix.ev (user_id)`)
	wantCode(t, root, "ALREADY_EXISTS", 400, `CREATE INDEX ev_user ON ix.ev (n)`)
	mustSQL(t, root, `CREATE INDEX IF NOT EXISTS ev_user ON ix.ev (n)`)
	mustSQL(t, root, `CREATE INDEX ev_n ON ix.ev (n)`)
	if got := one(t, root, `SELECT state, column_name FROM system.indexes WHERE index_name = 'ev_user'`); got != "ready|user_id" {
		t.Fatalf("system.indexes: %s", got)
	}
	desc := mustRows(t, root, `DESCRIBE TABLE ix.ev`)
	if desc[1][0] != "user_id" || desc[1][9] != "ev_user" || desc[0][9] != nil {
		t.Fatalf("DESCRIBE: %v", desc)
	}
	sel := "id, user_id, n"
	check := func(stage string) {
		t.Helper()
		t.Logf("stage %s", stage)
		indexEquivalent(t, n, root, "ix.ev", "user_id", sel, userVals(8))
		indexEquivalent(t, n, root, "ix.ev", "n", sel, []any{int64(1), int64(77), int64(399), int64(5000)})
		// ORDER BY pk DESC is consumed by the index scan (reverse merge).
		got := mustRows(t, root, `SELECT id FROM ix.ev WHERE user_id = 'u2' ORDER BY id DESC LIMIT 100000`)
		want := mustRows(t, root, `SELECT id FROM ix.ev WHERE +user_id = 'u2' ORDER BY id DESC LIMIT 100000`)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DESC: index %v, full scan %v", head(got), head(want))
		}
	}
	check("created")
	mustSQL(t, root, `UPDATE ix.ev SET user_id = 'u1' WHERE id % 5 = 0`)
	mustSQL(t, root, `UPDATE ix.ev SET n = n + 1000 WHERE id % 11 = 0`)
	mustSQL(t, root, `DELETE FROM ix.ev WHERE id % 13 = 0`)
	mustSQL(t, root, `INSERT INTO ix.ev (id, user_id, n) VALUES (13, 'u3', 77)`)
	check("hot writes")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE ix.ev"))
	check("flushed")
	// Hot versions over cold rows: moved between values, deleted, re-inserted.
	mustSQL(t, root, `UPDATE ix.ev SET user_id = 'u2' WHERE id % 4 = 0`)
	mustSQL(t, root, `DELETE FROM ix.ev WHERE id % 9 = 0`)
	mustSQL(t, root, multiInsert("INSERT INTO ix.ev (id, user_id, n) VALUES ", 401, 600, func(i int) string {
		return fmt.Sprintf("(%d, 'u%d', %d)", i, i%3, i)
	}))
	// DML whose rows are found through the index, over hot and cold rows.
	before3 := one(t, root, `SELECT count(*), sum(n) FROM ix.ev WHERE +user_id = 'u3'`)
	mustSQL(t, root, `UPDATE ix.ev SET n = n + 1 WHERE user_id = 'u3'`)
	mustSQL(t, root, `DELETE FROM ix.ev WHERE user_id = 'u5'`)
	var c3, s3 int
	fmt.Sscanf(strings.ReplaceAll(before3, "|", " "), "%d %d", &c3, &s3)
	if got := one(t, root, `SELECT count(*), sum(n) FROM ix.ev WHERE +user_id = 'u3'`); got != fmt.Sprintf("%d|%d", c3, s3+c3) {
		t.Fatalf("UPDATE through the index: %s -> %s", before3, got)
	}
	if got := one(t, root, `SELECT count(*) FROM ix.ev WHERE +user_id = 'u5'`); got != "0" {
		t.Fatalf("DELETE through the index left %s rows", got)
	}
	check("hot over cold")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE ix.ev"))
	mustSQL(t, root, `UPDATE ix.ev SET user_id = 'u6' WHERE id % 6 = 0`)
	check("two segments")
	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE ix.ev"))
	check("compacted")
	// ALTER: dropping an indexed column is refused; renaming keeps the index.
	wantCode(t, root, "SQL_EXECUTION_ERROR", 400, `ALTER TABLE ix.ev DROP COLUMN user_id`)
	mustSQL(t, root, `ALTER TABLE ix.ev RENAME COLUMN user_id TO owner`)
	mustSQL(t, root, `ALTER TABLE ix.ev ADD COLUMN tag TEXT DEFAULT 'old'`)
	mustSQL(t, root, `INSERT INTO ix.ev (id, owner, n, tag) VALUES (1001, 'u1', 1, 'new')`)
	mustSQL(t, root, `CREATE INDEX ev_tag ON ix.ev (tag)`)
	indexEquivalent(t, n, root, "ix.ev", "owner", "id, owner, n, tag", userVals(8))
	indexEquivalent(t, n, root, "ix.ev", "tag", "id, owner, tag", []any{"old", "new", "x"})
	mustSQL(t, root, `DROP INDEX ix.ev_tag`)
	wantCode(t, root, "NOT_FOUND", 400, `DROP INDEX ix.ev_tag`)
	mustSQL(t, root, `DROP INDEX IF EXISTS ix.ev_tag`)
	mustSQL(t, root, `ALTER TABLE ix.ev DROP COLUMN tag`)

	// Restart: entries were written in the rows' batches.
	n.Close()
	n = startCold(t, dir)
	root = login(t, n, "root", rootPW)
	indexEquivalent(t, n, root, "ix.ev", "owner", sel2("owner"), userVals(8))
	mustSQL(t, root, `DROP TABLE ix.ev`)
	waitDropCleanups(t, n)
	n.Close()
	if got := countIndexEntries(t, dir, 0x04, 0x11); got != 0 {
		t.Fatalf("%d index keys left after DROP TABLE", got)
	}
}

func sel2(col string) string { return "id, " + col + ", n" }

// countIndexEntries counts index keys (entries and sets) in a closed node's hot tier.
func countIndexEntries(t *testing.T, dir string, kinds ...byte) int {
	t.Helper()
	db, err := pebble.Open(filepath.Join(dir, "hot"), &pebble.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	total := 0
	for _, g := range keys.AllDataGroups() {
		for _, kind := range kinds {
			p := []byte{byte(g >> 8), byte(g), kind}
			it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
			if err != nil {
				t.Fatal(err)
			}
			for ok := it.First(); ok; ok = it.Next() {
				total++
			}
			it.Close()
		}
	}
	return total
}

func TestIndexUserTableIsolationAndRoles(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE iu; CREATE USER TABLE iu.notes (id BIGINT PRIMARY KEY, tag TEXT);
		CREATE SHARED TABLE iu.s (id BIGINT PRIMARY KEY, tag TEXT);
		CREATE USER 'alice' WITH PASSWORD 'alice-password' ROLE user;
		CREATE USER 'bob' WITH PASSWORD 'bob-password' ROLE user`)
	alice, bob := login(t, n, "alice", "alice-password"), login(t, n, "bob", "bob-password")
	for _, c := range []*client.Client{alice, bob, root} {
		mustSQL(t, c, multiInsert("INSERT INTO iu.notes (id, tag) VALUES ", 1, 50, func(i int) string {
			return fmt.Sprintf("(%d, 't%d')", i, i%5)
		}))
	}
	mustSQL(t, bob, `UPDATE iu.notes SET tag = 'bob-only' WHERE id < 10`)
	// Roles as CREATE TABLE: a user may index a USER table, not a SHARED one.
	wantCode(t, alice, "PERMISSION_DENIED", 403, `CREATE INDEX s_tag ON iu.s (tag)`)
	// Planned (and cached) before the index exists: must be re-planned after.
	mustRows(t, alice, `SELECT id FROM iu.notes WHERE tag = 't1'`)
	mustSQL(t, alice, `CREATE INDEX notes_tag ON iu.notes (tag)`)
	for _, c := range []*client.Client{alice, bob, root} {
		indexEquivalent(t, n, c, "iu.notes", "tag", "id, tag", []any{"t0", "t1", "t4", "bob-only"})
	}
	// Like TestPushdownReachesStorageAsGetsAndBoundedRanges: the index
	// lookup reads only the matching rows (point gets), no range scan.
	before := n.Engine().ScanStats()
	if got := mustRows(t, alice, `SELECT id FROM iu.notes WHERE tag = 't1'`); len(got) != 10 {
		t.Fatalf("alice t1 rows: %v", got)
	}
	after := n.Engine().ScanStats()
	if d := after.RowsRead - before.RowsRead; d != 10 || after.IndexScans-before.IndexScans != 1 ||
		after.PointGets-before.PointGets != 10 || after.RangeScans != before.RangeScans {
		t.Fatalf("index lookup reached storage as %+v -> %+v", before, after)
	}
	// IN lists become one index lookup per value.
	before = n.Engine().ScanStats()
	if got := mustRows(t, alice, `SELECT id FROM iu.notes WHERE tag IN ('t1', 't2', 'zz')`); len(got) != 20 {
		t.Fatalf("alice IN rows: %v", got)
	}
	if after := n.Engine().ScanStats(); after.IndexScans-before.IndexScans != 3 || after.RowsRead-before.RowsRead != 20 {
		t.Fatalf("IN through the index reached storage as %+v -> %+v", before, after)
	}
	if got := mustRows(t, alice, `SELECT id FROM iu.notes WHERE tag = 'bob-only'`); len(got) != 0 {
		t.Fatalf("alice sees bob's rows through the index: %v", got)
	}
	if got := mustRows(t, bob, `SELECT count(*) FROM iu.notes WHERE tag = 'bob-only'`); fmt.Sprint(got[0][0]) != "9" {
		t.Fatalf("bob's indexed rows: %v", got)
	}
}

func TestIndexBackfillUnderConcurrentWrites(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE ib; CREATE SHARED TABLE ib.t (id BIGINT PRIMARY KEY, k TEXT)`)
	for start := 1; start < 20001; start += 5000 {
		mustSQL(t, root, multiInsert("INSERT INTO ib.t (id, k) VALUES ", start, start+5000, func(i int) string {
			return fmt.Sprintf("(%d, 'k%d')", i, i%10)
		}))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := login(t, n, "root", rootPW)
			r := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < 20000 && !stop.Load(); i++ {
				id := r.Intn(21000) + 1
				var stmt string
				switch r.Intn(3) {
				case 0:
					stmt = fmt.Sprintf("UPDATE ib.t SET k = 'k%d' WHERE id = %d", r.Intn(10), id)
				case 1:
					stmt = fmt.Sprintf("DELETE FROM ib.t WHERE id = %d", id)
				default:
					stmt = fmt.Sprintf("INSERT INTO ib.t (id, k) VALUES (%d, 'k%d')", id, r.Intn(10))
				}
				if _, err := c.SQL(ctx(t), stmt); err != nil && !strings.Contains(err.Error(), "duplicate") && !strings.Contains(err.Error(), "DUPLICATE") {
					t.Errorf("%s: %v", stmt, err)
					return
				}
				writes.Add(1)
			}
		}(w)
	}
	for writes.Load() < 10 {
		time.Sleep(time.Millisecond)
	}
	before := writes.Load()
	mustSQL(t, root, `CREATE INDEX t_k ON ib.t (k)`)
	during := writes.Load() - before
	stop.Store(true)
	wg.Wait()
	if during == 0 {
		t.Fatal("no write happened during the build")
	}
	t.Logf("%d writes during the build", during)
	vals := []any{}
	for i := 0; i < 10; i++ {
		vals = append(vals, fmt.Sprintf("k%d", i))
	}
	indexEquivalent(t, n, root, "ib.t", "k", "id, k", vals)
	if got := one(t, root, `SELECT status, job_type FROM system.jobs WHERE job_type = 'index_build'`); got != "completed|index_build" {
		t.Fatalf("build job: %s", got)
	}
}

// TestIndexRebuiltAfterRestore: index entries are not in a backup; the
// restore recreates the definitions and rebuilds them before they are used.
func TestIndexRebuiltAfterRestore(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE ir; CREATE SHARED TABLE ir.t (id BIGINT PRIMARY KEY, k TEXT)`)
	mustSQL(t, root, multiInsert("INSERT INTO ir.t (id, k) VALUES ", 1, 300, func(i int) string {
		return fmt.Sprintf("(%d, 'k%d')", i, i%4)
	}))
	mustSQL(t, root, `CREATE INDEX t_k ON ir.t (k)`)
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE ir.t"))
	mustSQL(t, root, `UPDATE ir.t SET k = 'k9' WHERE id < 50`)
	target := filepath.Join(t.TempDir(), "bk")
	_, job := startBackupJob(t, root, fmt.Sprintf("BACKUP DATABASE TO '%s'", target))
	mustComplete(t, job)

	n2 := startCold(t, t.TempDir())
	defer n2.Close()
	root2 := login(t, n2, "root", rootPW)
	_, job = startBackupJob(t, root2, fmt.Sprintf("RESTORE DATABASE FROM '%s'", target))
	mustComplete(t, job)
	if got := one(t, root2, `SELECT state FROM system.indexes WHERE index_name = 't_k'`); got != "ready" {
		t.Fatalf("restored index state %s", got)
	}
	indexEquivalent(t, n2, root2, "ir.t", "k", "id, k", []any{"k0", "k1", "k3", "k9"})
	if got := mustRows(t, root2, `SELECT count(*) FROM ir.t WHERE k = 'k9'`); fmt.Sprint(got[0][0]) != "49" {
		t.Fatalf("restored k9 rows: %v", got)
	}
}

// TestIndexEntriesLeaveWithFlushedRows: a flush removes the index entries
// of the rows it moves to Parquet in its commit batch; rows changed during
// or after it keep theirs.
func TestIndexEntriesLeaveWithFlushedRows(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE ifl; CREATE USER TABLE ifl.t (id BIGINT PRIMARY KEY, k TEXT)`)
	mustSQL(t, root, multiInsert("INSERT INTO ifl.t (id, k) VALUES ", 1, 200, func(i int) string {
		return fmt.Sprintf("(%d, 'k%d')", i, i%4)
	}))
	mustSQL(t, root, `CREATE INDEX t_k ON ifl.t (k)`)
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE ifl.t"))
	mustSQL(t, root, `UPDATE ifl.t SET k = 'hot' WHERE id <= 3`)
	indexEquivalent(t, n, root, "ifl.t", "k", "id, k", []any{"k0", "k1", "hot"})
	n.Close()
	if got := countIndexEntries(t, dir, 0x11); got != 3 {
		t.Fatalf("%d index entries after the flush, want 3 (the rows updated after it)", got)
	}
}
