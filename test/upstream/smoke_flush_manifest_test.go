package upstream

// Ports of flushing/smoke_test_flush_manifest.rs and
// storage/smoke_test_storage_templates.rs (v0.4.3-rc.4): the flush's files
// on disk (manifest.json and batch-*.parquet in the scope's directory, the
// original's layout, which this server's filesystem storages share) and
// storage path templates.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flushFiles is the original's FlushStorageVerificationResult.
type flushFiles struct {
	manifestFound  bool
	manifestSize   int64
	parquetCount   int
	parquetSize    int64
	parquetParents []string
}

// valid is the original's is_valid.
func (r flushFiles) valid() bool {
	return r.manifestFound && r.manifestSize > 0 && r.parquetCount > 0 && r.parquetSize > 0
}

// assertValid is the original's assert_valid.
func (r flushFiles) assertValid(t *testing.T, context string) {
	t.Helper()
	if !r.manifestFound {
		t.Fatalf("%s: manifest.json should exist after flush", context)
	}
	if r.manifestSize <= 0 {
		t.Fatalf("%s: manifest.json should not be empty (size: %d bytes)", context, r.manifestSize)
	}
	if r.parquetCount <= 0 {
		t.Fatalf("%s: at least one batch-*.parquet file should exist after flush", context)
	}
	if r.parquetSize <= 0 {
		t.Fatalf("%s: parquet files should not be empty (total size: %d bytes)", context, r.parquetSize)
	}
}

// flushFilesInDir is the original's verify_flush_storage_files_in_dir:
// dir/manifest.json and dir/batch-*.parquet.
func flushFilesInDir(dir string) flushFiles {
	var r flushFiles
	if fi, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		r.manifestFound, r.manifestSize = true, fi.Size()
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "batch-") && strings.HasSuffix(e.Name(), ".parquet") {
			if fi, err := e.Info(); err == nil {
				r.parquetCount++
				r.parquetSize += fi.Size()
			}
		}
	}
	return r
}

// storageDir is the original's get_storage_dir for a server on this
// machine: the local storage's base directory.
func storageDir(t *testing.T, s *server) string {
	t.Helper()
	recs := records(t, s.Root, "SELECT base_directory FROM system.storages WHERE storage_id = 'local'")
	if len(recs) != 1 || recs[0].String("base_directory") == "" {
		t.Fatalf("local storage: %v", recs)
	}
	return recs[0].String("base_directory")
}

// flushFilesOf is the original's verify_flush_storage_files_shared (the
// table's directory) and verify_flush_storage_files_user (aggregated over
// the table directory's user subdirectories).
func flushFilesOf(t *testing.T, s *server, ns, table string, user bool) flushFiles {
	t.Helper()
	dir := filepath.Join(storageDir(t, s), ns, table)
	if !user {
		return flushFilesInDir(dir)
	}
	var r flushFiles
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		u := flushFilesInDir(filepath.Join(dir, e.Name()))
		if u.manifestFound {
			r.manifestFound, r.manifestSize = true, max(r.manifestSize, u.manifestSize)
		}
		r.parquetCount += u.parquetCount
		r.parquetSize += u.parquetSize
	}
	return r
}

// manifestExistsInSystemTable is the original's
// manifest_exists_in_system_table: a non-empty manifest_json in
// system.manifest; an error counts as none, as there.
func manifestExistsInSystemTable(s *server, ns, table string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := s.Root.Records(ctx, fmt.Sprintf("SELECT manifest_json FROM system.manifest WHERE namespace_id = '%s' AND table_name = '%s'", ns, table))
	if err != nil {
		return false
	}
	for _, r := range recs {
		if r.String("manifest_json") != "" {
			return true
		}
	}
	return false
}

// assertFlushFiles is the original's assert_flush_storage_files_exist for
// a server on this machine: within 20 s valid files, or a manifest in
// system.manifest.
func assertFlushFiles(t *testing.T, s *server, ns, table string, user bool, context string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := flushFilesOf(t, s, ns, table, user)
		if r.valid() || manifestExistsInSystemTable(s, ns, table) {
			t.Logf("[%s] manifest.json (%d bytes), %d parquet file(s) (%d bytes)", context, r.manifestSize, r.parquetCount, r.parquetSize)
			return
		}
		if time.Now().After(deadline) {
			r.assertValid(t, context)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// flushing/smoke_test_flush_manifest.rs: its four tests.
func TestSmokeFlushManifest(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_test_user_table_flush_manifest", func(t *testing.T) {
		ns, table := "flush_manifest_ns_u", "user_flush_test"
		full := ns + "." + table
		s.freshTable(t, ns, full, `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            content TEXT NOT NULL,
            created_at TIMESTAMP DEFAULT NOW()
        ) WITH (
            TYPE = 'USER',
            STORAGE_ID = 'local',
            FLUSH_POLICY = 'rows:10'
        )`)
		s.insertEach(t, 1, 20, func(i int) string { return fmt.Sprintf("INSERT INTO %s (content) VALUES ('Row %d')", full, i) })
		flushJob(t, s, full)
		assertFlushFiles(t, s, ns, table, true, "USER table flush manifest test")
	})
	t.Run("smoke_test_shared_table_flush_manifest", func(t *testing.T) {
		ns, table := "flush_manifest_ns_s", "shared_flush_test"
		full := ns + "." + table
		s.freshTable(t, ns, full, `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            config_key TEXT NOT NULL,
            config_value TEXT
        ) WITH (
            TYPE = 'SHARED',
            STORAGE_ID = 'local',
            FLUSH_POLICY = 'rows:100',
            ACCESS_LEVEL = 'PUBLIC'
        )`)
		s.insertEach(t, 1, 20, func(i int) string {
			return fmt.Sprintf("INSERT INTO %s (config_key, config_value) VALUES ('key_%d', 'value_%d')", full, i, i)
		})
		flushJob(t, s, full)
		assertFlushFiles(t, s, ns, table, false, "SHARED table flush manifest test")
	})
	t.Run("smoke_test_manifest_updated_on_second_flush", func(t *testing.T) {
		ns, table := "flush_manifest_ns_d", "double_flush_test"
		full := ns + "." + table
		s.freshTable(t, ns, full, `(
            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
            data TEXT NOT NULL
        ) WITH (
            TYPE = 'SHARED',
            FLUSH_POLICY = 'rows:10'
        )`)
		counts := make([]int, 2)
		valid := make([]bool, 2)
		for round, label := range []string{"First", "Second"} {
			s.insertEach(t, 1, 15, func(i int) string {
				return fmt.Sprintf("INSERT INTO %s (data) VALUES ('Batch%d-Row%d')", full, round+1, i)
			})
			flushJob(t, s, full)
			r := flushFilesOf(t, s, ns, table, false)
			if valid[round] = r.valid(); valid[round] {
				r.assertValid(t, label+" flush")
			} else if !manifestExistsInSystemTable(s, ns, table) {
				t.Fatalf("%s flush: manifest.json should exist after flush", label)
			}
			counts[round] = r.parquetCount
			t.Logf("Parquet files after %s flush: %d", strings.ToLower(label), r.parquetCount)
		}
		if valid[0] && valid[1] && counts[1] < counts[0] {
			t.Fatalf("Expected same or more parquet files after second flush (%d vs %d)", counts[1], counts[0])
		}
	})
	t.Run("smoke_test_flush_stream_table_error", func(t *testing.T) {
		ns := "flush_error_ns"
		full := ns + ".stream_no_flush"
		s.freshTable(t, ns, full, `(
            event_id TEXT PRIMARY KEY DEFAULT ULID(),
            event_type TEXT
        ) WITH (TYPE = 'STREAM', TTL_SECONDS = 30)`)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := s.Root.SQL(ctx, "STORAGE FLUSH TABLE "+full)
		if err != nil {
			msg := strings.ToLower(err.Error())
			if !strings.Contains(msg, "stream") && !strings.Contains(msg, "not support") && !strings.Contains(msg, "cannot flush") {
				t.Fatalf("Expected error message about stream tables not supporting flush, got: %v", err)
			}
		} else if out := strings.ToLower(cliText(res)); !strings.Contains(out, "error") && !strings.Contains(out, "stream") && !strings.Contains(out, "not support") {
			t.Fatalf("Expected error when flushing stream table, got success: %s", out)
		}
	})
}

// parquetFilesIn is the original's list_parquet_files: *.parquet directly
// in dir.
func parquetFilesIn(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".parquet") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// waitForParquetFiles is the original's wait_for_parquet_files, with its
// recursive fallback (depth ≤ 3) when none lie directly in dir.
func waitForParquetFiles(t *testing.T, dir string, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if files := parquetFilesIn(dir); len(files) > 0 {
			return files
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && strings.Count(rel, string(filepath.Separator)) >= 3 {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".parquet") {
			found = append(found, p)
		}
		return nil
	})
	if len(found) == 0 {
		t.Fatalf("Expected parquet files under %s (direct or recursive) but none were found", dir)
	}
	return found
}

// waitForDirectoryAbsence is the original's wait_for_directory_absence.
func waitForDirectoryAbsence(dir string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := os.Stat(dir)
	return os.IsNotExist(err)
}

// storage/smoke_test_storage_templates.rs: smoke_storage_custom_templates.
func TestSmokeStorageCustomTemplates(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	storageID := "smk_storage_tpl"
	nsUser, nsShared := "smk_tpl_ns_u", "smk_tpl_ns_s"
	userTable, sharedTable := "tpl_user_table", "tpl_shared_table"
	userFull, sharedFull := nsUser+"."+userTable, nsShared+"."+sharedTable
	testUser, testPassword := "tpl_owner", "TplPassword123!"
	baseDir := filepath.Join(t.TempDir(), "tpl_smoke")
	if err := os.MkdirAll(baseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	baseDirSQL := strings.ReplaceAll(baseDir, "'", "''")
	s.sql(t, s.Root, "CREATE NAMESPACE "+nsUser)
	s.sql(t, s.Root, "CREATE NAMESPACE "+nsShared)
	s.sql(t, s.Root, fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' ROLE 'user'", testUser, testPassword))
	s.sql(t, s.Root, `CREATE STORAGE `+storageID+`
            TYPE filesystem
            NAME 'Smoke Template Storage'
            DESCRIPTION 'Verifies custom template substitution'
                PATH '`+baseDirSQL+`'
            SHARED_TABLES_TEMPLATE 'ns_{namespace}/table_{tableName}'
            USER_TABLES_TEMPLATE 'ns_{namespace}/tbl_{tableName}/usr_{userId}'`)
	// assert_storage_registered
	if rows := records(t, s.Root, "SELECT storage_id, base_directory FROM system.storages WHERE storage_id = '"+storageID+"'"); len(rows) != 1 {
		t.Fatalf("Storage '%s' was not visible in system.storages output: %v", storageID, rows)
	} else if got := rows[0].String("base_directory"); got != baseDirSQL {
		t.Fatalf("Storage '%s' base_directory mismatch (expected %s, got %s)", storageID, baseDirSQL, got)
	}
	assertTableStorage := func(ns, table string) {
		t.Helper()
		rows := records(t, s.Root, fmt.Sprintf("SELECT table_name, namespace_id, options FROM system.schemas WHERE namespace_id = '%s' AND table_name = '%s'", ns, table))
		if len(rows) != 1 {
			t.Fatalf("Table %s.%s not found in system.schemas: %v", ns, table, rows)
		}
		var opts map[string]any
		if err := json.Unmarshal([]byte(rows[0].String("options")), &opts); err != nil {
			t.Fatalf("Failed to parse options JSON for table %s.%s: %v\n%s", ns, table, err, rows[0].String("options"))
		}
		if opts["storage_id"] != storageID {
			t.Fatalf("Table %s.%s is not using storage '%s' (reported '%v', options=%v)", ns, table, storageID, opts["storage_id"], opts)
		}
	}
	flushAndVerify := func(full string) {
		t.Helper()
		id, ok := parseJobIDFromFlushOutput(message(s.sql(t, s.Root, "STORAGE FLUSH TABLE "+full)))
		if !ok {
			t.Fatal("flush output should contain job id")
		}
		if st := waitForJobFinished(t, s, id, 180*time.Second); st != "completed" {
			t.Fatalf("flush job should complete: %s", st)
		}
	}
	values := func(n int, prefix string) string {
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprintf("('%s %d')", prefix, i)
		}
		return strings.Join(v, ", ")
	}

	// User table scenario.
	s.sql(t, s.Root, `CREATE TABLE `+userFull+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            body TEXT
                ) WITH (
                    TYPE = 'USER',
                    STORAGE_ID = '`+storageID+`',
                    FLUSH_POLICY = 'rows:10'
                )`)
	assertTableStorage(nsUser, userTable)
	owner, _ := s.login(t, testUser, testPassword)
	s.sql(t, owner, "INSERT INTO "+userFull+" (body) VALUES "+values(20, "user payload"))
	flushAndVerify(userFull)
	internal := records(t, s.Root, "SELECT user_id FROM system.users WHERE user_id = '"+testUser+"' LIMIT 1")
	if len(internal) == 0 {
		t.Fatalf("User '%s' not found in system.users", testUser)
	}
	userDir := filepath.Join(baseDir, "ns_"+nsUser, "tbl_"+userTable, "usr_"+internal[0].String("user_id"))
	files := waitForParquetFiles(t, userDir, 12*time.Second)
	for _, f := range files {
		if filepath.Dir(f) != userDir {
			t.Fatalf("Parquet file should live under user template directory: %s, want parent %s", f, userDir)
		}
	}
	s.sql(t, s.Root, "DROP TABLE "+userFull)
	if !waitForDirectoryAbsence(userDir, 15*time.Second) {
		t.Logf("WARNING: user template directory not removed (non-fatal): %s", userDir)
	}

	// Shared table scenario.
	s.sql(t, s.Root, `CREATE TABLE `+sharedFull+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            body TEXT
                ) WITH (
                    TYPE = 'SHARED',
                    STORAGE_ID = '`+storageID+`',
                    FLUSH_POLICY = 'rows:10'
                )`)
	assertTableStorage(nsShared, sharedTable)
	s.sql(t, s.Root, "INSERT INTO "+sharedFull+" (body) VALUES "+values(50, "shared payload"))
	flushAndVerify(sharedFull)
	sharedDir := filepath.Join(baseDir, "ns_"+nsShared, "table_"+sharedTable)
	for _, f := range waitForParquetFiles(t, sharedDir, 12*time.Second) {
		if filepath.Dir(f) != sharedDir {
			t.Fatalf("Shared parquet file should live under shared template directory: %s, want parent %s", f, sharedDir)
		}
	}
	s.sql(t, s.Root, "DROP TABLE "+sharedFull)
	if !waitForDirectoryAbsence(sharedDir, 15*time.Second) {
		t.Logf("WARNING: shared template directory not removed (non-fatal): %s", sharedDir)
	}
	s.sql(t, s.Root, "DROP STORAGE "+storageID)
	s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+nsUser+" CASCADE")
	s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+nsShared+" CASCADE")
	s.sql(t, s.Root, "DROP USER IF EXISTS '"+testUser+"'")
}
