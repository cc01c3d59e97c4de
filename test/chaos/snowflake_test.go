package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestSnowflakeIDsPerReplica: every replica of a cluster stamps its own
// node id into SNOWFLAKE_ID() values (its replica id, with nothing
// configured), so concurrent inserts through all three nodes never produce
// the same id. The data directories start with NODE_ID 1, as every replica
// of a cluster created before that rule stored: it is replaced.
//
// The cluster keeps its default refusal of node-local storage: a table
// (or storage) on it is refused with NODE_LOCAL_STORAGE, so the test's
// table is on an S3 storage (never flushed here, so no S3 is needed). INT
// and SMALLINT AUTO_INCREMENT (per-node counters) are refused with
// AUTO_INCREMENT_IN_CLUSTER, BIGINT AUTO_INCREMENT taken.
func TestSnowflakeIDsPerReplica(t *testing.T) {
	c := newNodes(t, 3)
	c.refuseLocal = true
	for _, p := range c.procs {
		data := filepath.Join(p.dir, "data")
		if err := os.MkdirAll(data, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "NODE_ID"), []byte("1\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		c.configure(p, c.clusterSection(p, 1, false))
	}
	for _, p := range c.procs {
		c.start(p)
	}
	for _, p := range c.procs {
		c.waitReady(p, 120*time.Second)
	}
	all := c.loginAll(30 * time.Second)
	ctx := context.Background()
	for i, cl := range all {
		rows, err := cl.Rows(ctx, "SELECT metric_value FROM system.stats WHERE metric_name = 'node_id'")
		if err != nil || len(rows) != 1 || fmt.Sprint(rows[0][0]) != fmt.Sprint(i+1) {
			t.Fatalf("node %d: system.stats node_id = %v (%v), want %d", i+1, rows, err, i+1)
		}
	}
	checkNodeLocalRefused(t, all[2])
	if _, err := all[0].SQL(ctx, `CREATE STORAGE s3x TYPE 's3' BUCKET 'b' CONFIG '{"endpoint": "127.0.0.1:9", "tls": false}'`); err != nil {
		t.Fatal(err)
	}
	checkNodeCountersRefused(t, all[1], "s3x")
	if _, err := all[0].SQL(ctx, "CREATE SHARED TABLE default.sf (k BIGINT PRIMARY KEY, via INT, sid BIGINT DEFAULT SNOWFLAKE_ID()) WITH (STORAGE_ID = 's3x')"); err != nil {
		t.Fatal(err)
	}
	// Multi-row statements: each node hands out a run of ids in the same
	// few milliseconds as the others, with sequence numbers from 0 — with
	// one node id for all, they would collide.
	const writers, stmts, perStmt = 2, 6, 100
	var wg sync.WaitGroup
	errs := make(chan error, len(all)*writers)
	for n, cl := range all {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for s := range stmts {
					var vals []string
					for r := range perStmt {
						k := ((n*writers+w)*stmts+s)*perStmt + r
						vals = append(vals, fmt.Sprintf("(%d, %d)", k, n+1))
					}
					if _, err := cl.SQL(ctx, "INSERT INTO default.sf (k, via) VALUES "+strings.Join(vals, ", ")); err != nil {
						errs <- fmt.Errorf("node %d: %w", n+1, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := len(all) * writers * stmts * perStmt
	seen := map[int64]int64{}
	last := int64(-1)
	for {
		rows, err := all[1].Rows(ctx, fmt.Sprintf("SELECT k, via, sid FROM default.sf WHERE k > %d ORDER BY k LIMIT 1000", last))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			k, via, sid := toInt(r[0]), toInt(r[1]), toInt(r[2])
			last = k
			if prev, dup := seen[sid]; dup {
				t.Fatalf("SNOWFLAKE_ID %d given to rows %d and %d", sid, prev, k)
			}
			seen[sid] = k
			if node := sid >> 12 & 0x3ff; node != via {
				t.Fatalf("row %d inserted through node %d carries node id %d", k, via, node)
			}
		}
		if len(rows) < 1000 {
			break
		}
	}
	if len(seen) != want {
		t.Fatalf("%d distinct ids, want %d rows", len(seen), want)
	}
	for _, p := range c.procs {
		b, err := os.ReadFile(filepath.Join(p.dir, "data", "NODE_ID"))
		if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(p.id) {
			t.Fatalf("node %d: NODE_ID %q %v, want %d", p.id, b, err, p.id)
		}
	}
}

// checkNodeLocalRefused: in a cluster of three, tables and storages on
// node-local filesystem storage are refused with NODE_LOCAL_STORAGE and
// change nothing; STREAM tables (never flushed) are allowed.
func checkNodeLocalRefused(t *testing.T, cl *client.Client) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE SHARED TABLE default.loc (id BIGINT PRIMARY KEY)",
		"CREATE USER TABLE default.loc (id BIGINT PRIMARY KEY) WITH (STORAGE_ID = 'local')",
		"CREATE STORAGE fs TYPE 'filesystem' BASE_DIRECTORY 'elsewhere'",
	} {
		_, err := cl.SQL(ctx, stmt)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Code != "NODE_LOCAL_STORAGE" || ae.HTTPStatus != http.StatusBadRequest || !strings.Contains(ae.Message, "node-local") {
			t.Fatalf("%s: %v, want NODE_LOCAL_STORAGE (400)", stmt, err)
		}
	}
	rows, err := cl.Rows(ctx, "SELECT table_name FROM system.tables WHERE namespace_id = 'default' AND table_name = 'loc'")
	if err != nil || len(rows) != 0 {
		t.Fatalf("a refused table exists: %v %v", rows, err)
	}
	if _, err := cl.SQL(ctx, "CREATE STREAM TABLE default.st (id BIGINT, v TEXT) WITH (TTL_SECONDS = 60)"); err != nil {
		t.Fatalf("a STREAM table (never flushed) on the default storage: %v", err)
	}
}
