package node

import (
	"context"
	"fmt"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// checkNulls compares, for every column of ns.name, the NULL count that
// SET NOT NULL uses (manifest statistics + reads of the uncertain key
// ranges) with the full-scan reference, and checks the count of column
// col against want.
func checkNulls(t *testing.T, n *Node, ns, name, col string, want int64) {
	t.Helper()
	tb, ok := n.Engine().Catalog().Table(ns, name)
	if !ok {
		t.Fatalf("table %s.%s not found", ns, name)
	}
	for pos, c := range tb.Columns {
		fast, err := n.cold.Nulls(context.Background(), tb, pos)
		if err != nil {
			t.Fatalf("Nulls(%s): %v", c.Name, err)
		}
		ref, err := n.cold.ScanNulls(context.Background(), tb, pos)
		if err != nil {
			t.Fatalf("ScanNulls(%s): %v", c.Name, err)
		}
		if fast != ref {
			t.Fatalf("column %s: metadata answer %d, full scan %d", c.Name, fast, ref)
		}
		if c.Name == col && ref != want {
			t.Fatalf("column %s: %d NULLs, want %d", c.Name, ref, want)
		}
	}
}

// TestNullsFromStatsMatchFullScan walks a SHARED table through the cases
// where segment statistics alone are not conclusive (NULLs only in
// superseded versions, hot rows, tombstones, columns added after some
// segments with and without a default, compaction) and checks after every
// step that the metadata-driven NULL count equals the full scan, and that
// SET NOT NULL agrees with it.
func TestNullsFromStatsMatchFullScan(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY, v TEXT, w INT)")
	flush := func() { mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.s")) }
	sqlNulls := func(col string) int64 {
		var k int64
		fmt.Sscan(one(t, root, "SELECT count(*) FROM app.s WHERE "+col+" IS NULL"), &k)
		return k
	}
	step := func(name, col string, want int64) {
		t.Helper()
		if got := sqlNulls(col); got != want {
			t.Fatalf("%s: SELECT sees %d NULLs in %s, want %d", name, got, col, want)
		}
		checkNulls(t, n, "app", "s", col, want)
	}

	for i := 1; i <= 20; i++ {
		v := "'x'"
		if i <= 5 {
			v = "NULL"
		}
		mustSQL(t, root, fmt.Sprintf("INSERT INTO app.s (id, v, w) VALUES (%d, %s, %d)", i, v, i))
	}
	step("nulls in hot", "v", 5)
	flush()
	step("nulls in one segment", "v", 5)
	wantCode(t, root, "CONSTRAINT_VIOLATION", 400, "ALTER TABLE app.s ALTER COLUMN v SET NOT NULL")

	mustSQL(t, root, "UPDATE app.s SET v = 'y' WHERE id <= 5")
	step("cold nulls shadowed by hot", "v", 0)
	flush()
	step("nulls only in superseded versions", "v", 0)

	mustSQL(t, root, "INSERT INTO app.s (id, v, w) VALUES (21, NULL, 1), (22, NULL, 2), (23, NULL, 3), (24, NULL, 4)")
	flush()
	step("new null segment", "v", 4)
	mustSQL(t, root, "DELETE FROM app.s WHERE id IN (21, 22)")
	step("hot tombstones over cold nulls", "v", 2)
	flush()
	step("cold tombstones over cold nulls", "v", 2)
	mustSQL(t, root, "UPDATE app.s SET v = 'z' WHERE id IN (23, 24)")
	flush()
	step("tombstoned and superseded nulls", "v", 0)

	mustSQL(t, root, "ALTER TABLE app.s ADD COLUMN d INT DEFAULT 7")
	step("column added with a default", "d", 0)
	mustSQL(t, root, "ALTER TABLE app.s ADD COLUMN e INT")
	step("column added without a default", "e", 22)
	mustSQL(t, root, "INSERT INTO app.s (id, v, w, e) VALUES (30, 'a', 1, 1)")
	flush()
	step("new segment has e", "e", 22)
	mustSQL(t, root, "UPDATE app.s SET e = 1 WHERE id <= 10")
	step("old rows updated in hot", "e", 12)
	flush()
	step("old rows superseded in cold", "e", 12)
	mustSQL(t, root, "UPDATE app.s SET e = 2 WHERE e IS NULL")
	flush()
	step("every pre-column row superseded", "e", 0)
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN e SET NOT NULL")
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN v SET NOT NULL")
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN v DROP NOT NULL")

	mustSQL(t, root, "INSERT INTO app.s (id, v, w, e) VALUES (40, NULL, NULL, 3)")
	step("null in hot only", "v", 1)
	mustSQL(t, root, "DELETE FROM app.s WHERE id = 40")
	flush()
	step("tombstone of a hot null row", "v", 0)
	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE app.s"))
	step("after compaction", "v", 0)
	step("after compaction", "w", 0)
	mustSQL(t, root, "ALTER TABLE app.s ALTER COLUMN w SET NOT NULL")
}

// TestNullsFromStatsUserScopes checks the metadata NULL count over the
// scopes of a USER table: users whose segments have no NULL, NULLs
// superseded per user, and NULLs that stay.
func TestNullsFromStatsUserScopes(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE USER TABLE app.u (id BIGINT PRIMARY KEY, body TEXT)")
	users := map[string]*client.Client{}
	for _, u := range []string{"alice", "bob", "carol"} {
		mustSQL(t, root, fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s-password-1' ROLE user", u, u))
		users[u] = login(t, n, u, u+"-password-1")
	}
	flush := func() { mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.u")) }
	mustSQL(t, users["alice"], "INSERT INTO app.u (id, body) VALUES (1, 'a'), (2, 'b')")
	mustSQL(t, users["bob"], "INSERT INTO app.u (id, body) VALUES (1, NULL), (2, 'b')")
	mustSQL(t, users["carol"], "INSERT INTO app.u (id, body) VALUES (1, NULL), (2, NULL)")
	flush()
	checkNulls(t, n, "app", "u", "body", 3)
	mustSQL(t, users["bob"], "UPDATE app.u SET body = 'x' WHERE id = 1")
	mustSQL(t, users["carol"], "DELETE FROM app.u WHERE id = 1")
	checkNulls(t, n, "app", "u", "body", 1)
	flush()
	checkNulls(t, n, "app", "u", "body", 1)
	wantCode(t, root, "CONSTRAINT_VIOLATION", 400, "ALTER TABLE app.u ALTER COLUMN body SET NOT NULL")
	mustSQL(t, users["carol"], "UPDATE app.u SET body = 'y' WHERE id = 2")
	flush()
	checkNulls(t, n, "app", "u", "body", 0)
	mustSQL(t, root, "ALTER TABLE app.u ALTER COLUMN body SET NOT NULL")
}
