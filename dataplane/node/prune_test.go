package node

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// TestColdScanPrunesSegmentsByColumnStats checks that comparisons on a
// non-key column skip cold segments whose min/max cannot match (counted
// by the reader), through SQLite's virtual table and through the
// aggregate pushdown, and that the answers do not change.
func TestColdScanPrunesSegmentsByColumnStats(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	eng := n.Engine()
	root := kalamsql.Session{UserID: kalamsql.RootUser, Role: auth.RoleSystem, Namespace: "default"}
	run := func(sql string) [][]any {
		t.Helper()
		res, err := eng.Execute(context.Background(), root, kalamsql.Request{SQL: sql})
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return res[len(res)-1].Rows
	}
	run(`CREATE NAMESPACE pr; CREATE SHARED TABLE pr.ev (id BIGINT PRIMARY KEY, ts BIGINT, tag TEXT)`)
	tb, _ := eng.Catalog().Table("pr", "ev")
	// Four segments: ts and tag grow with id, so each segment covers its
	// own ts range [s*1000, s*1000+99] and tag range.
	for s := 0; s < 4; s++ {
		var sb strings.Builder
		sb.WriteString("INSERT INTO pr.ev (id, ts, tag) VALUES ")
		for i := 0; i < 100; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %d, 't%d-%02d')", s*100+i, s*1000+i, s, i)
		}
		run(sb.String())
		if _, err := n.Cold().FlushNow(context.Background(), tb); err != nil {
			t.Fatal(err)
		}
	}
	rd := n.Cold().Reader()
	cases := []struct {
		sql        string
		want       string
		wantPruned int64
	}{
		{`SELECT id FROM pr.ev WHERE ts = 2005`, "[[205]]", 3},
		{`SELECT count(*) FROM pr.ev WHERE ts < 1050 LIMIT 5`, "[[150]]", 2},
		{`SELECT id FROM pr.ev WHERE ts BETWEEN 3098 AND 5000`, "[[398] [399]]", 3},
		{`SELECT count(*) FROM pr.ev WHERE tag >= 't3' LIMIT 5`, "[[100]]", 3},
		{`SELECT id FROM pr.ev WHERE tag = 't1-07'`, "[[107]]", 3},
		{`SELECT count(*) FROM pr.ev WHERE ts > 9999 LIMIT 5`, "[[0]]", 4},
		{`SELECT count(*) FROM pr.ev WHERE ts >= 1000 AND ts <= 2099 LIMIT 5`, "[[200]]", 2},
		{`SELECT count(*) FROM pr.ev WHERE ts < '1050' LIMIT 5`, "[[150]]", 0}, // affinity: no pruning
		// Aggregate pushdown (no LIMIT): same pruning.
		{`SELECT count(*), max(id) FROM pr.ev WHERE ts < 1050`, "[[150 149]]", 2},
		{`SELECT count(*), min(tag) FROM pr.ev WHERE tag > 't2'`, "[[200 t2-00]]", 2},
	}
	for _, tc := range cases {
		for _, pruneOn := range []bool{true, false} {
			rd.Purge()
			before, fetched := rd.Stats.SegmentsPruned.Load(), rd.Stats.SegmentsFetched.Load()
			q := tc.sql
			if !pruneOn {
				q = strings.Replace(q, "WHERE", "WHERE id + 0 >= -1 AND", 1) // same rows, through SQLite
				kalamsql.SetAggregatePushdown(false)
			}
			got := fmt.Sprint(run(q))
			kalamsql.SetAggregatePushdown(true)
			pruned, read := rd.Stats.SegmentsPruned.Load()-before, rd.Stats.SegmentsFetched.Load()-fetched
			if got != tc.want {
				t.Errorf("%s (pruning %v) = %s, want %s", q, pruneOn, got, tc.want)
			}
			if pruneOn && (pruned != tc.wantPruned || read != 4-tc.wantPruned) {
				t.Errorf("%s: pruned %d and fetched %d segments, want %d and %d", q, pruned, read, tc.wantPruned, 4-tc.wantPruned)
			}
		}
	}
	// An update moving a row out of its segment's range is hot (and so
	// not hidden by pruning); overlapping segments are never pruned.
	run(`UPDATE pr.ev SET ts = 3050 WHERE id = 5`)
	if got := fmt.Sprint(run(`SELECT id FROM pr.ev WHERE ts = 3050`)); got != "[[5] [350]]" {
		t.Errorf("after update: %s", got)
	}
	if _, err := n.Cold().FlushNow(context.Background(), tb); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(run(`SELECT id FROM pr.ev WHERE ts = 5`)); got != "[]" {
		t.Errorf("stale cold version visible after flush of its update: %s", got)
	}
	if got := fmt.Sprint(run(`SELECT id FROM pr.ev WHERE ts = 3050`)); got != "[[5] [350]]" {
		t.Errorf("after flush: %s", got)
	}
}
