package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestColdTierPointLookupPruningAndJanitor: a PK lookup opens only the
// segment whose key range holds the key; compaction merges segments and
// the janitor deletes the superseded objects (grace 0) but nothing live.
func TestColdTierPointLookupPruningAndJanitor(t *testing.T) {
	dir := t.TempDir()
	cfg := coldConfig(dir)
	cfg.Cold.OrphanGraceSeconds = 0
	n := startNodeCfg(t, cfg)
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE j; CREATE SHARED TABLE j.t (id BIGINT PRIMARY KEY, v TEXT)`)
	for seg := 0; seg < 5; seg++ {
		mustSQL(t, root, multiInsert("INSERT INTO j.t (id, v) VALUES ", 0, 200, func(i int) string {
			id := seg*1000 + 2*i // even ids only: odd ids are inside ranges but absent
			return fmt.Sprintf("(%d, 'v%d')", id, id)
		}))
		mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE j.t"))
	}
	st := &n.Cold().Reader().Stats
	n.Cold().Reader().Purge()
	opened, fetched := st.SegmentsOpened.Load(), st.SegmentsFetched.Load()
	if got := one(t, root, "SELECT v FROM j.t WHERE id = 2040"); got != "v2040" {
		t.Fatalf("lookup: %s", got)
	}
	if d := st.SegmentsOpened.Load() - opened; d != 1 {
		t.Fatalf("lookup opened %d segments, want 1", d)
	}
	if d := st.SegmentsFetched.Load() - fetched; d != 1 {
		t.Fatalf("lookup fetched %d segments, want 1", d)
	}
	opened = st.SegmentsOpened.Load()
	if got := one(t, root, "SELECT count(*) FROM j.t WHERE id = 999999"); got != "0" {
		t.Fatal("absent key found")
	}
	if d := st.SegmentsOpened.Load() - opened; d != 0 {
		t.Fatalf("lookup outside every range opened %d segments", d)
	}
	// Odd keys inside a range: the bloom filter (1% FPP) rules most out
	// without decoding the segment.
	skips := st.BloomSkips.Load()
	for id := 3001; id < 3100; id += 2 {
		if got := one(t, root, "SELECT count(*) FROM j.t WHERE id = $1", id); got != "0" {
			t.Fatalf("absent key %d found", id)
		}
		n.Cold().Reader().Purge()
	}
	if d := st.BloomSkips.Load() - skips; d < 40 {
		t.Fatalf("bloom filter ruled out only %d of 50 absent keys", d)
	}

	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE j.t"))
	tableDir := filepath.Join(dir, "storage", "j", "t")
	before := listDir(t, tableDir)
	if err := n.Cold().Janitor(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := listDir(t, tableDir)
	want := "[batch-6.parquet manifest-00000000000000000006.json manifest.json]"
	if fmt.Sprint(after) != want {
		t.Fatalf("janitor left %v (before %v), want %s", after, before, want)
	}
	if got := one(t, root, "SELECT count(*), sum(id) FROM j.t"); got != "1000|2199000" {
		t.Fatalf("after janitor: %s", got)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// TestStorageStatements covers CREATE/ALTER/DROP STORAGE, SHOW STORAGES,
// STORAGE CHECK and the validation of templates, ids and options.
func TestStorageStatements(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE USER plain WITH PASSWORD 'plain-password'`)
	plain := login(t, n, "plain", "plain-password")
	archive := filepath.Join(dir, "archive")
	mustSQL(t, root, fmt.Sprintf(`CREATE STORAGE cold-fs TYPE 'filesystem' NAME 'Archive' PATH '%s'
		SHARED_TABLES_TEMPLATE 'shared/{namespace}/{tableName}' USER_TABLES_TEMPLATE 'users/{userId}/{namespace}/{tableName}'`, archive))
	if got := one(t, root, "STORAGE CHECK cold-fs"); !strings.HasPrefix(got, "cold-fs|healthy|true|true|true|true|") {
		t.Fatalf("check: %s", got)
	}
	rows := mustRows(t, root, "SHOW STORAGES")
	if len(rows) != 2 || rows[0][0] != "cold-fs" || rows[1][0] != "local" {
		t.Fatalf("show storages: %v", rows)
	}
	mustSQL(t, root, `CREATE NAMESPACE a; CREATE USER TABLE a.n (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'cold-fs');
		CREATE SHARED TABLE a.s (id BIGINT PRIMARY KEY) WITH (STORAGE_ID = 'cold-fs')`)
	mustSQL(t, plain, "INSERT INTO a.n (id, v) VALUES (1, 'x')")
	mustSQL(t, root, "INSERT INTO a.s (id) VALUES (1)")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE a.n"))
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE a.s"))
	for _, p := range []string{"users/plain/a/n/batch-1.parquet", "shared/a/s/batch-1.parquet"} {
		if _, err := os.Stat(filepath.Join(archive, p)); err != nil {
			t.Fatalf("template path %s: %v", p, err)
		}
	}
	mustSQL(t, root, "ALTER STORAGE cold-fs SET DESCRIPTION 'long-term' SET NAME 'Archive 2'")
	if got := one(t, root, "SELECT storage_name, description FROM system.storages WHERE storage_id = 'cold-fs'"); got != "Archive 2|long-term" {
		t.Fatalf("after alter: %s", got)
	}
	for _, tc := range []struct{ code, sql string }{
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 'filesystem' SHARED_TABLES_TEMPLATE '../{namespace}/{tableName}'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 'filesystem' USER_TABLES_TEMPLATE '{namespace}/{tableName}'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 'filesystem' SHARED_TABLES_TEMPLATE '/etc/{tableName}'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 'filesystem' SHARED_TABLES_TEMPLATE '{namespace}/{tableName}/{nope}'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 's3' BUCKET 'b' CONFIG '{\"endpoint\": \"http://x\"}'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 's3' BUCKET 'b' CONFIG '{\"bogus\": 1}'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 's3'"},
		{"INVALID_INPUT", "CREATE STORAGE bad TYPE 'gcs'"},
		{"INVALID_INPUT", "CREATE STORAGE 'a/b' TYPE 'filesystem'"},
		{"ALREADY_EXISTS", "CREATE STORAGE cold-fs TYPE 'filesystem'"},
		{"INVALID_INPUT", "ALTER STORAGE cold-fs SET PATH '/elsewhere'"},
		{"NOT_FOUND", "ALTER STORAGE nope SET NAME 'x'"},
		{"SQL_EXECUTION_ERROR", "DROP STORAGE cold-fs"},
		{"SQL_EXECUTION_ERROR", "DROP STORAGE local"},
		{"NOT_FOUND", "CREATE SHARED TABLE a.x (id BIGINT PRIMARY KEY) WITH (STORAGE_ID = 'nope')"},
	} {
		wantCode(t, root, tc.code, 400, tc.sql)
	}
	wantCode(t, plain, "PERMISSION_DENIED", 403, "CREATE STORAGE x TYPE 'filesystem'")
	wantCode(t, plain, "PERMISSION_DENIED", 403, "STORAGE FLUSH TABLE a.n")
	wantCode(t, plain, "PERMISSION_DENIED", 403, "SELECT * FROM system.jobs")
	mustSQL(t, root, "DROP TABLE a.n; DROP TABLE a.s; DROP STORAGE cold-fs")
	mustSQL(t, root, "DROP STORAGE IF EXISTS cold-fs")
	if got := one(t, root, "SELECT count(*) FROM system.storages"); got != "1" {
		t.Fatalf("storages after drop: %s", got)
	}
}
