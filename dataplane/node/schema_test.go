package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// allRows renders every row of a query as "v|v|..." lines.
func allRows(t *testing.T, c *client.Client, sql string) string {
	t.Helper()
	var out []string
	for _, r := range mustRows(t, c, sql) {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return strings.Join(out, "\n")
}

func schemaVersion(t *testing.T, c *client.Client, table string) string {
	t.Helper()
	return one(t, c, "SELECT schema_version FROM system.schemas WHERE namespace_id || '.' || table_name = $1 AND is_latest", table)
}

// TestAlterAcrossFlushes runs every ALTER form between writes and flushes
// and checks that every row (hot, and cold under any older version) reads
// correctly, before and after compaction and a restart.
func TestAlterAcrossFlushes(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY, a INT, b TEXT, c FLOAT)")
	mustSQL(t, root, "INSERT INTO app.s (id, a, b, c) VALUES (1, 10, 'one', 1.5), (2, 20, 'two', NULL), (3, NULL, 'three', 3.5)")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.s"))

	// ADD with a literal default: existing (cold) rows read it.
	mustSQL(t, root, "ALTER TABLE app.s ADD COLUMN d TEXT NOT NULL DEFAULT 'x'")
	mustSQL(t, root, "INSERT INTO app.s (id, a, b, c, d) VALUES (4, 40, 'four', 4.5, 'y')")
	mustSQL(t, root, "INSERT INTO app.s (id, a, b) VALUES (5, 50, 'five')")
	mustSQL(t, root, "INSERT INTO app.s (id, a, b) VALUES (9, 90, 'nine')") // stays hot until the next flush
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.s"))
	want := "1|10|one|1.5|x\n2|20|two|<nil>|x\n3|<nil>|three|3.5|x\n4|40|four|4.5|y\n5|50|five|<nil>|x\n9|90|nine|<nil>|x"
	if got := allRows(t, root, "SELECT id, a, b, c, d FROM app.s ORDER BY id"); got != want {
		t.Fatalf("after ADD:\n%s\nwant\n%s", got, want)
	}

	// RENAME, widening MODIFYs, DROP, ADD without default.
	mustSQL(t, root, "ALTER TABLE app.s RENAME COLUMN b TO label")
	mustSQL(t, root, "ALTER TABLE app.s MODIFY COLUMN a BIGINT")
	mustSQL(t, root, "ALTER TABLE app.s MODIFY COLUMN c DOUBLE")
	mustSQL(t, root, "INSERT INTO app.s (id, a, label, c) VALUES (6, 6000000000, 'six', 6.25)")
	mustSQL(t, root, "ALTER TABLE app.s DROP COLUMN c")
	mustSQL(t, root, "ALTER TABLE app.s ADD COLUMN e INT")
	mustSQL(t, root, "INSERT INTO app.s (id, a, label, e) VALUES (7, 70, 'seven', 7)")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.s"))
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN e SET DEFAULT 8")
	mustSQL(t, root, "INSERT INTO app.s (id, a, label) VALUES (8, 80, 'eight')")
	want = "1|10|one|x|<nil>\n2|20|two|x|<nil>\n3|<nil>|three|x|<nil>\n4|40|four|y|<nil>\n5|50|five|x|<nil>\n6|6000000000|six|x|<nil>\n7|70|seven|x|7\n8|80|eight|x|8\n9|90|nine|x|<nil>"
	check := func(when string) {
		t.Helper()
		if got := allRows(t, root, "SELECT * FROM app.s ORDER BY id"); got != want {
			t.Fatalf("%s:\n%s\nwant\n%s", when, got, want)
		}
	}
	check("after rename/modify/drop/add")
	if got := one(t, root, "SELECT label, d FROM app.s WHERE id = 2"); got != "two|x" {
		t.Fatalf("point lookup on cold row: %s", got)
	}
	if got := one(t, root, "SELECT count(*) FROM app.s WHERE d = 'x'"); got != "8" {
		t.Fatalf("filter on projected default: %s", got)
	}

	// SET NOT NULL is refused while rows (hot and cold) hold NULL.
	v := schemaVersion(t, root, "app.s")
	wantCode(t, root, "CONSTRAINT_VIOLATION", 400, "ALTER TABLE app.s ALTER COLUMN e SET NOT NULL")
	if got := schemaVersion(t, root, "app.s"); got != v {
		t.Fatalf("refused SET NOT NULL changed version %s -> %s", v, got)
	}
	mustSQL(t, root, "UPDATE app.s SET e = 0 WHERE e IS NULL")
	want = strings.ReplaceAll(want, "|<nil>\n", "|0\n")
	want = strings.TrimSuffix(want, "<nil>") + "0"
	check("after UPDATE of cold rows")
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN e SET NOT NULL")
	wantCode(t, root, "CONSTRAINT_VIOLATION", 400, "INSERT INTO app.s (id, a, label, e) VALUES (10, 1, 'ten', NULL)")
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN e DROP NOT NULL")
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN e DROP DEFAULT")
	mustSQL(t, root, "ALTER TABLE app.s SET TBLPROPERTIES (COMPRESSION = 'zstd', FLUSH_POLICY = 'rows:1000', ACCESS_LEVEL = 'PUBLIC')")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.s"))
	check("after flush")
	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE app.s"))
	check("after compaction")
	if got := one(t, root, "SELECT access_level FROM system.schemas WHERE table_name = 's' AND is_latest"); got != "PUBLIC" {
		t.Fatalf("access level: %s", got)
	}

	hist := mustRows(t, root, "DESCRIBE TABLE app.s HISTORY")
	if len(hist) != 12 {
		t.Fatalf("history has %d versions, want 12: %v", len(hist), hist)
	}
	changes := []string{}
	var prevAt int64
	for i, r := range hist {
		changes = append(changes, fmt.Sprint(r[2]))
		// Each version carries its time and its own column list.
		if v := asInt(t, r[0]); v != int64(i+1) {
			t.Fatalf("history row %d is version %d", i, v)
		}
		at := asInt(t, r[1])
		if at <= 0 || at < prevAt {
			t.Fatalf("history version %d changed_at %d after %d", i+1, at, prevAt)
		}
		prevAt = at
		var cols []map[string]any
		if err := json.Unmarshal([]byte(fmt.Sprint(r[4])), &cols); err != nil || int64(len(cols)) != asInt(t, r[3]) || len(cols) == 0 {
			t.Fatalf("history version %d: column_count %v, columns %v (%v)", i+1, r[3], r[4], err)
		}
	}
	if first := fmt.Sprint(hist[0][4]); !strings.Contains(first, `"name":"b"`) || strings.Contains(first, `"label"`) {
		t.Fatalf("version 1 does not keep its own columns: %s", first)
	}
	joined := strings.Join(changes, "; ")
	for _, w := range []string{"CREATE TABLE", "ADD COLUMN d TEXT", "RENAME COLUMN b TO label", "MODIFY COLUMN a BIGINT",
		"DROP COLUMN c", "ALTER COLUMN e SET NOT NULL", "ALTER COLUMN e DROP DEFAULT", "SET TBLPROPERTIES"} {
		if !strings.Contains(joined, w) {
			t.Fatalf("history lacks %q: %s", w, joined)
		}
	}
	if got := one(t, root, "SELECT count(*) FROM system.schemas WHERE table_name = 's'"); got != "12" {
		t.Fatalf("system.schemas versions: %s", got)
	}
	// The dropped column's id (4) is never reused.
	if got := allRows(t, root, "DESCRIBE TABLE app.s"); !strings.Contains(got, "e|5|6|INT") {
		t.Fatalf("describe:\n%s", got)
	}

	n.Close()
	n = startCold(t, dir)
	defer n.Close()
	root = login(t, n, "root", rootPW)
	check("after restart")
}

// TestAlterUserTableAcrossFlush covers per-user scopes: every user's cold
// rows read the ADD COLUMN default.
func TestAlterUserTableAcrossFlush(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)")
	for _, u := range []string{"alice", "bob"} {
		mustSQL(t, root, fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s-password-1' ROLE user", u, u))
		c := login(t, n, u, u+"-password-1")
		mustSQL(t, c, "INSERT INTO app.notes (id, body) VALUES (1, 'a'), (2, NULL)")
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	mustSQL(t, root, "ALTER TABLE app.notes ADD COLUMN pinned BOOLEAN DEFAULT false")
	wantCode(t, root, "CONSTRAINT_VIOLATION", 400, "ALTER TABLE app.notes ALTER COLUMN body SET NOT NULL")
	for _, u := range []string{"alice", "bob"} {
		c := login(t, n, u, u+"-password-1")
		mustSQL(t, c, "INSERT INTO app.notes (id, body, pinned) VALUES (3, 'c', true)")
		if got := allRows(t, c, "SELECT id, body, pinned FROM app.notes ORDER BY id"); got != "1|a|false\n2|<nil>|false\n3|c|true" {
			t.Fatalf("%s: %s", u, got)
		}
	}
	if got := one(t, root, "SHOW STATS FOR TABLE app.notes"); !strings.HasPrefix(got, "app|notes|USER|2|3|2|0|") || !strings.HasSuffix(got, "|2|6") {
		t.Fatalf("stats: %s", got)
	}
}

// TestAlterInvalid checks that refused ALTERs change nothing and report
// the right code.
func TestAlterInvalid(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, n BIGINT, s TEXT, f DOUBLE)")
	mustSQL(t, root, "INSERT INTO app.t (id, n, s, f) VALUES (1, 1, 'a', 1.5), (2, NULL, NULL, NULL)")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.t"))
	mustSQL(t, root, "INSERT INTO app.t (id, n, s, f) VALUES (3, 3, 'c', 3.5)")
	v := schemaVersion(t, root, "app.t")
	data := allRows(t, root, "SELECT * FROM app.t ORDER BY id")
	user := func() *client.Client {
		mustSQL(t, root, "CREATE USER carol WITH PASSWORD 'carol-password-1' ROLE user")
		return login(t, n, "carol", "carol-password-1")
	}()
	cases := []struct{ code, sql string }{
		{"INCOMPATIBLE_TYPE_CHANGE", "ALTER TABLE app.t MODIFY COLUMN n INT"},
		{"INCOMPATIBLE_TYPE_CHANGE", "ALTER TABLE app.t MODIFY COLUMN s BIGINT"},
		{"INCOMPATIBLE_TYPE_CHANGE", "ALTER TABLE app.t MODIFY COLUMN f FLOAT"},
		{"PROTECTED_COLUMN", "ALTER TABLE app.t DROP COLUMN id"},
		{"PROTECTED_COLUMN", "ALTER TABLE app.t MODIFY COLUMN id TEXT"},
		{"PROTECTED_COLUMN", "ALTER TABLE app.t DROP COLUMN _seq"},
		{"PROTECTED_COLUMN", "ALTER TABLE app.t MODIFY COLUMN _deleted INT"},
		{"PROTECTED_COLUMN", "ALTER TABLE app.t ALTER COLUMN id DROP NOT NULL"},
		{"ALREADY_EXISTS", "ALTER TABLE app.t ADD COLUMN s TEXT"},
		{"ALREADY_EXISTS", "ALTER TABLE app.t RENAME COLUMN n TO s"},
		{"NOT_FOUND", "ALTER TABLE app.t DROP COLUMN nope"},
		{"NOT_FOUND", "ALTER TABLE app.nope ADD COLUMN x INT"},
		{"CONSTRAINT_VIOLATION", "ALTER TABLE app.t ADD COLUMN x INT NOT NULL"},
		{"CONSTRAINT_VIOLATION", "ALTER TABLE app.t ALTER COLUMN s SET NOT NULL"},
		{"TYPE_MISMATCH", "ALTER TABLE app.t ADD COLUMN x INT DEFAULT 'abc'"},
		{"INVALID_INPUT", "ALTER TABLE app.t SET TBLPROPERTIES (TTL_SECONDS = 10)"},
		{"INVALID_INPUT", "ALTER TABLE app.t SET TBLPROPERTIES (COMPRESSION = 'lz4')"},
		{"INVALID_INPUT", "ALTER TABLE app.t SET TBLPROPERTIES (STORAGE_ID = 'x')"},
		{"INVALID_SQL", "ALTER TABLE app.t ADD COLUMN x INT, DROP COLUMN s"},
	}
	for _, tc := range cases {
		wantCode(t, root, tc.code, 400, tc.sql)
	}
	wantCode(t, user, "PERMISSION_DENIED", 403, "ALTER TABLE app.t ADD COLUMN x INT")
	if got := schemaVersion(t, root, "app.t"); got != v {
		t.Fatalf("schema version changed: %s -> %s", v, got)
	}
	if got := allRows(t, root, "SELECT * FROM app.t ORDER BY id"); got != data {
		t.Fatalf("data changed:\n%s\nwant\n%s", got, data)
	}
	// No-op changes create no version.
	mustSQL(t, root, "ALTER TABLE app.t MODIFY COLUMN n BIGINT")
	mustSQL(t, root, "ALTER TABLE app.t ALTER COLUMN s DROP NOT NULL")
	if got := schemaVersion(t, root, "app.t"); got != v {
		t.Fatalf("no-op ALTER changed version: %s -> %s", v, got)
	}
}

// TestAlterConcurrentWriters inserts from several goroutines while ALTERs
// and flushes run; nothing may be lost.
func TestAlterConcurrentWriters(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.w (id BIGINT PRIMARY KEY, v TEXT)")
	const writers, perWriter = 4, 150
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := login(t, n, "root", rootPW)
			for i := 0; i < perWriter; i++ {
				id := w*perWriter + i
				if _, err := c.SQL(ctx(t), "INSERT INTO app.w (id, v) VALUES ($1, 'x')", id); err != nil {
					errs <- fmt.Errorf("insert %d: %w", id, err)
					return
				}
			}
		}(w)
	}
	var awg sync.WaitGroup
	awg.Add(1)
	go func() {
		defer awg.Done()
		c := login(t, n, "root", rootPW)
		for i := 0; i < 6; i++ {
			if _, err := c.SQL(ctx(t), fmt.Sprintf("ALTER TABLE app.w ADD COLUMN c%d INT DEFAULT %d", i, i)); err != nil {
				errs <- err
				return
			}
			if _, err := c.SQL(ctx(t), "STORAGE FLUSH TABLE app.w"); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	awg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := one(t, root, "SELECT count(*), count(c5), min(c5), max(c0) FROM app.w"); got != fmt.Sprintf("%d|%d|5|0", writers*perWriter, writers*perWriter) {
		t.Fatalf("after concurrent ALTERs: %s", got)
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.w"))
	if got := one(t, root, "SELECT count(*), count(c5) FROM app.w"); got != fmt.Sprintf("%d|%d", writers*perWriter, writers*perWriter) {
		t.Fatalf("after flush: %s", got)
	}
	if got := schemaVersion(t, root, "app.w"); got != "7" {
		t.Fatalf("version %s, want 7", got)
	}
}

// TestConcurrentAlters races ALTERs of one table: each lands as its own
// version (the apply path serialises them by compare-and-set).
func TestConcurrentAlters(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.r (id BIGINT PRIMARY KEY)")
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := login(t, n, "root", rootPW)
			if _, err := c.SQL(ctx(t), fmt.Sprintf("ALTER TABLE app.r ADD COLUMN k%d INT", i)); err != nil {
				t.Errorf("alter %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if got := one(t, root, "SELECT count(*) FROM system.schemas WHERE table_name = 'r'"); got != "7" {
		t.Fatalf("versions: %s", got)
	}
	if got := len(mustRows(t, root, "DESCRIBE TABLE app.r")); got != 7 {
		t.Fatalf("columns: %d", got)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestDropTableCleansStorage checks that DROP TABLE and DROP NAMESPACE
// CASCADE delete the cold objects through a visible job, and that a
// cleanup interrupted by a restart is finished at startup.
func TestDropTableCleansStorage(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE USER dave WITH PASSWORD 'dave-password-1' ROLE user")
	dave := login(t, n, "dave", "dave-password-1")
	mustSQL(t, root, "CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, v TEXT)")
	mustSQL(t, root, "CREATE USER TABLE app.b (id BIGINT PRIMARY KEY, v TEXT)")
	mustSQL(t, root, "CREATE SHARED TABLE app.c (id BIGINT PRIMARY KEY, v TEXT)")
	mustSQL(t, root, "INSERT INTO app.a (id, v) VALUES (1, 'x'), (2, 'y')")
	mustSQL(t, dave, "INSERT INTO app.b (id, v) VALUES (1, 'x')")
	mustSQL(t, root, "INSERT INTO app.c (id, v) VALUES (1, 'x')")
	for _, tb := range []string{"a", "b", "c"} {
		mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app."+tb))
	}
	mustSQL(t, root, "INSERT INTO app.a (id, v) VALUES (3, 'hot')")
	storage := filepath.Join(dir, "storage", "app")
	if countFiles(t, filepath.Join(storage, "a")) == 0 || countFiles(t, filepath.Join(storage, "b")) == 0 {
		t.Fatal("no segments written")
	}
	mustSQL(t, root, "DROP TABLE app.a")
	// DROP returns once the cleanup job is queued; it is visible at once.
	if got := one(t, root, "SELECT count(*) FROM system.jobs WHERE job_type = 'drop_cleanup' AND table_name = 'a'"); got != "1" {
		t.Fatalf("cleanup jobs right after DROP: %s", got)
	}
	waitDropCleanups(t, n)
	if got := countFiles(t, filepath.Join(storage, "a")); got != 0 {
		t.Fatalf("%d objects left after DROP TABLE", got)
	}
	if got := one(t, root, "SELECT status, table_name FROM system.jobs WHERE job_type = 'drop_cleanup'"); got != "completed|a" {
		t.Fatalf("cleanup job: %s", got)
	}
	// The hot rows are gone too: a new table of the same name is empty.
	mustSQL(t, root, "CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, v TEXT)")
	if got := one(t, root, "SELECT count(*) FROM app.a"); got != "0" {
		t.Fatalf("re-created table sees %s rows", got)
	}

	// A drop whose cleanup never ran (crash right after the catalog
	// change) is finished at the next start.
	tb, _ := n.eng.Catalog().Table("app", "b")
	if _, err := n.exec.Propose(ctx(t), &engine.Command{Group: keys.GroupMeta, TimeMs: 1,
		Catalog: &engine.CatalogWrite{Op: engine.CatDropTable, Table: &catalog.Table{Namespace: "app", Name: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if countFiles(t, filepath.Join(storage, "b")) == 0 {
		t.Fatal("objects vanished before the cleanup ran")
	}
	// Its name is not reusable while the pending cleanup would empty the
	// directories a new table of that name writes to.
	wantCode(t, root, "SQL_EXECUTION_ERROR", 400, "CREATE USER TABLE app.b (id BIGINT PRIMARY KEY, v TEXT)")
	n.Close()
	n = startCold(t, dir)
	defer n.Close()
	root = login(t, n, "root", rootPW)
	if got := countFiles(t, filepath.Join(storage, "b")); got != 0 {
		t.Fatalf("%d objects of %s left after restart", got, tb.QualifiedName())
	}
	if got := one(t, root, "SELECT status FROM system.jobs WHERE job_type = 'drop_cleanup' AND table_name = 'b'"); got != "completed" {
		t.Fatalf("restart cleanup job: %s", got)
	}

	mustSQL(t, root, "DROP NAMESPACE app CASCADE")
	waitDropCleanups(t, n)
	if got := countFiles(t, storage); got != 0 {
		t.Fatalf("%d objects left after DROP NAMESPACE CASCADE", got)
	}
}

// TestAlterEndsSubscriptions checks that a live subscription on an altered
// table ends with SCHEMA_CHANGED, and a new one sees the new shape.
func TestAlterEndsSubscriptions(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.l (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC')")
	mustSQL(t, root, "INSERT INTO app.l (id, v) VALUES (1, 'a')")
	w := dialWS(t, n, root)
	w.subscribeAll("s1", "SELECT * FROM app.l", nil)
	mustSQL(t, root, "ALTER TABLE app.l ADD COLUMN w INT DEFAULT 7")
	if m := w.expectFor("s1", "error"); m.Code != "SCHEMA_CHANGED" {
		t.Fatalf("want SCHEMA_CHANGED, got %s", m.raw)
	}
	rows, _, _ := w.subscribeAll("s2", "SELECT * FROM app.l", nil)
	if len(rows) != 1 || fmt.Sprint(rows[0]["w"]) != "7" {
		t.Fatalf("resubscribe rows: %v", rows)
	}
	mustSQL(t, root, "INSERT INTO app.l (id, v) VALUES (2, 'b')")
	if m := w.expectFor("s2", "change"); len(m.Rows) != 1 || fmt.Sprint(m.Rows[0]["w"]) != "7" {
		t.Fatalf("change after alter: %s", m.raw)
	}
}
