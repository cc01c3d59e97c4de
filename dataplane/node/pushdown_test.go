package node

import (
	"fmt"
	"strings"
	"testing"
)

// TestPushdownReachesStorageAsGetsAndBoundedRanges checks that primary-key
// predicates become point gets / bounded ranges and that a user's scan reads
// only that user's rows, by counting what the virtual table read.
func TestPushdownReachesStorageAsGetsAndBoundedRanges(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE p; CREATE USER TABLE p.t (id BIGINT PRIMARY KEY, v TEXT);
		CREATE USER 'mine' WITH PASSWORD 'mine-password1' ROLE user;
		CREATE USER 'other' WITH PASSWORD 'other-password' ROLE user`)
	// The querier is a user: root's SELECT of a USER table reads every
	// user's rows (issue 19; its bounds apply per user, checked last).
	mine := login(t, n, "mine", "mine-password1")
	other := login(t, n, "other", "other-password")
	var sb strings.Builder
	sb.WriteString("INSERT INTO p.t (id, v) VALUES ")
	for i := 1; i <= 1000; i++ {
		if i > 1 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "(%d, 'v%d')", i, i)
	}
	mustSQL(t, mine, sb.String())
	mustSQL(t, other, sb.String()) // another user's 1,000 rows must never be read by mine
	eng := n.Engine()

	cases := []struct {
		sql                    string
		wantRows               int
		maxRead                int64
		wantGets, wantRangeMin int64
	}{
		{`SELECT v FROM p.t WHERE id = 500`, 1, 1, 1, 0},
		{`SELECT v FROM p.t WHERE id IN (3, 7, 9000)`, 2, 2, 3, 0},
		{`SELECT v FROM p.t WHERE id BETWEEN 100 AND 119`, 20, 20, 0, 1},
		{`SELECT v FROM p.t WHERE id > 990`, 10, 10, 0, 1},
		{`SELECT id FROM p.t ORDER BY id DESC LIMIT 5`, 5, 5, 0, 1},
		{`SELECT COUNT(*) FROM p.t`, 1, 1000, 0, 1}, // full scan of mine's range only
	}
	for _, tc := range cases {
		before := eng.ScanStats()
		q := tc.sql
		if !strings.Contains(q, "LIMIT") {
			q += " LIMIT 1000"
		}
		rows := mustRows(t, mine, q)
		after := eng.ScanStats()
		read, gets, ranges := after.RowsRead-before.RowsRead, after.PointGets-before.PointGets, after.RangeScans-before.RangeScans
		if len(rows) != tc.wantRows || read > tc.maxRead || gets != tc.wantGets || ranges < tc.wantRangeMin {
			t.Errorf("%s: rows=%d read=%d gets=%d ranges=%d; want rows=%d read<=%d gets=%d ranges>=%d",
				tc.sql, len(rows), read, gets, ranges, tc.wantRows, tc.maxRead, tc.wantGets, tc.wantRangeMin)
		}
	}
	// root reads both users' rows, each with a point get or a bounded
	// range of its own.
	before := eng.ScanStats()
	rows := mustRows(t, root, `SELECT v FROM p.t WHERE id = 500`)
	after := eng.ScanStats()
	if len(rows) != 2 || after.PointGets-before.PointGets != 2 || after.RowsRead-before.RowsRead != 2 {
		t.Errorf("root's point lookup across users: rows=%v gets=%d read=%d; want 2 rows, 2 gets, 2 read",
			rows, after.PointGets-before.PointGets, after.RowsRead-before.RowsRead)
	}
	before = eng.ScanStats()
	rows = mustRows(t, root, `SELECT v FROM p.t WHERE id > 990 LIMIT 1000`)
	after = eng.ScanStats()
	if len(rows) != 20 || after.RowsRead-before.RowsRead > 20 || after.RangeScans-before.RangeScans < 2 {
		t.Errorf("root's range across users: rows=%d read=%d ranges=%d; want 20 rows, <=20 read, >=2 ranges",
			len(rows), after.RowsRead-before.RowsRead, after.RangeScans-before.RangeScans)
	}
}
