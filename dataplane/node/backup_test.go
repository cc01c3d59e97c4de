package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// startBackupJob runs a BACKUP/RESTORE/VERIFY statement and returns its
// backup id and finished job row (status, error_message, ...).
func startBackupJob(t *testing.T, c *client.Client, stmt string) (string, []any) {
	t.Helper()
	res := mustSQL(t, c, stmt)
	r := res.Results[0]
	if len(r.Rows) != 1 {
		t.Fatalf("%s: %v", stmt, r.Rows)
	}
	col := map[string]int{}
	for i, f := range r.Schema {
		col[f.Name] = i
	}
	if r.Rows[0][col["status"]] != "queued" {
		t.Fatalf("%s: status %v", stmt, r.Rows[0])
	}
	id := fmt.Sprint(r.Rows[0][col["backup_id"]])
	return id, waitJob(t, c, fmt.Sprint(r.Rows[0][col["job_id"]]))
}

// scopeRow is one row of a test table as (pk, payload) with its _seq.
type scopeRow struct {
	id   int64
	body string
	seq  uint64
}

// readScope reads every row a client sees in a table, by id.
func readScope(t *testing.T, c *client.Client, table string) []scopeRow {
	t.Helper()
	var out []scopeRow
	last := int64(-1 << 62)
	for page := 0; page < 100; page++ {
		rows := mustRows(t, c, fmt.Sprintf("SELECT id, body, _seq FROM %s WHERE id > $1 ORDER BY id LIMIT 1000", table), last)
		for _, r := range rows {
			out = append(out, scopeRow{id: asInt(t, r[0]), body: fmt.Sprint(r[1]), seq: uint64(asInt(t, r[2]))})
		}
		if len(rows) < 1000 {
			return out
		}
		last = out[len(out)-1].id
	}
	t.Fatalf("%s: too many rows", table)
	return nil
}

// asOf keeps the rows at or below the group's high-water mark.
func asOf(rows []scopeRow, hwm uint64) []string {
	var out []string
	for _, r := range rows {
		if r.seq <= hwm {
			out = append(out, fmt.Sprintf("%d:%s", r.id, r.body))
		}
	}
	return out
}

func plain(rows []scopeRow) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d:%s", r.id, r.body))
	}
	return out
}

func groupHWM(m *backup.Manifest, g uint16) uint64 {
	for _, gm := range m.Groups {
		if gm.Group == g {
			return gm.LastSeq
		}
	}
	return 0
}

func insertRange(t *testing.T, c *client.Client, table string, from, to int, tag string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (id, body) VALUES ", table)
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, '%s-%d')", i, tag, i)
	}
	mustSQL(t, c, b.String())
}

// s3Target returns a store on the MinIO bucket/prefix that target
// s3://<storage>/<prefix> of a storage with BASE_DIRECTORY base names.
func s3Target(t *testing.T, srv *s3test.Server, prefix string) objstore.Store {
	t.Helper()
	st, err := srv.Store(context.Background(), "kalam", prefix)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBackupRestoreS3Consistent is the acceptance scenario: USER,
// SHARED and STREAM tables with hot and cold rows on a real MinIO, a
// backup while a writer keeps inserting, a restore into a fresh server,
// and the restored data equals the source as of the backup's high-water
// mark exactly.
func TestBackupRestoreS3Consistent(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "data")
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 'minio');
		CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 'minio');
		CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY, body TEXT) WITH (TTL_SECONDS = 3600);
		CREATE USER alice WITH PASSWORD 'alice-password';
		CREATE USER bob WITH PASSWORD 'bob-password'`)
	alice := login(t, n, "alice", "alice-password")
	bob := login(t, n, "bob", "bob-password")
	insertRange(t, alice, "app.notes", 0, 300, "a")
	insertRange(t, bob, "app.notes", 0, 200, "b")
	insertRange(t, root, "app.items", 0, 250, "i")
	insertRange(t, alice, "app.events", 0, 50, "e")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.notes"))
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE app.items"))
	// Hot changes over cold rows: updates, deletes (tombstones) and inserts.
	mustSQL(t, alice, "UPDATE app.notes SET body = 'a-updated' WHERE id < 20")
	mustSQL(t, alice, "DELETE FROM app.notes WHERE id >= 280")
	mustSQL(t, root, "DELETE FROM app.items WHERE id < 10")
	insertRange(t, alice, "app.notes", 1000, 1050, "a-hot")
	insertRange(t, root, "app.items", 1000, 1030, "i-hot")

	// A writer keeps inserting during the backup.
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 400 && !stop.Load(); i++ {
			if _, err := alice.SQL(context.Background(), fmt.Sprintf("INSERT INTO app.notes (id, body) VALUES (%d, 'w')", 5000+i)); err != nil {
				return
			}
			if _, err := root.SQL(context.Background(), fmt.Sprintf("INSERT INTO app.items (id, body) VALUES (%d, 'w')", 5000+i)); err != nil {
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	id, job := startBackupJob(t, root, "BACKUP DATABASE TO 's3://minio/backups'")
	mustComplete(t, job)
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	m, err := backup.LoadManifest(context.Background(), s3Target(t, srv, "data/backups"), id)
	if err != nil {
		t.Fatal(err)
	}
	src := map[string][]scopeRow{
		"alice/notes": readScope(t, alice, "app.notes"), "bob/notes": readScope(t, bob, "app.notes"),
		"root/items": readScope(t, root, "app.items"), "alice/events": readScope(t, alice, "app.events"),
	}
	hwm := map[string]uint64{
		"alice/notes": groupHWM(m, keys.UserGroup("alice")), "bob/notes": groupHWM(m, keys.UserGroup("bob")),
		"root/items": groupHWM(m, keys.GroupShared), "alice/events": groupHWM(m, keys.UserGroup("alice")),
	}
	t.Logf("rows after the high-water mark (written during/after the backup): notes %d, items %d",
		len(src["alice/notes"])-len(asOf(src["alice/notes"], hwm["alice/notes"])),
		len(src["root/items"])-len(asOf(src["root/items"], hwm["root/items"])))
	if got := one(t, root, fmt.Sprintf("SELECT status FROM system.jobs WHERE job_id LIKE 'BK-%%' AND job_type = 'backup'")); got != "completed" {
		t.Fatalf("backup job: %s", got)
	}
	rows := mustRows(t, root, "SHOW BACKUPS IN 's3://minio/backups'")
	if len(rows) != 1 || rows[0][0] != id || rows[0][1] != "database" || rows[0][2] != "completed" {
		t.Fatalf("SHOW BACKUPS: %v", rows)
	}

	// Restore into a fresh server.
	n2 := startCold(t, t.TempDir())
	defer n2.Close()
	root2 := login(t, n2, "root", rootPW)
	createS3Storage(t, root2, "minio", srv, "data")
	rid, job := startBackupJob(t, root2, "RESTORE DATABASE FROM 's3://minio/backups'")
	mustComplete(t, job)
	if rid != id {
		t.Fatalf("restored %s, want newest %s", rid, id)
	}
	alice2 := login(t, n2, "alice", "alice-password")
	bob2 := login(t, n2, "bob", "bob-password")
	got := map[string][]scopeRow{
		"alice/notes": readScope(t, alice2, "app.notes"), "bob/notes": readScope(t, bob2, "app.notes"),
		"root/items": readScope(t, root2, "app.items"), "alice/events": readScope(t, alice2, "app.events"),
	}
	for k, rows := range src {
		want := asOf(rows, hwm[k])
		if g := plain(got[k]); strings.Join(g, ",") != strings.Join(want, ",") {
			t.Errorf("%s: restored %d rows, want %d as of the high-water mark\n got  %.300v\n want %.300v", k, len(g), len(want), g, want)
		}
	}
	if len(got["alice/notes"]) < 300 || len(got["root/items"]) < 260 {
		t.Fatalf("restored too few rows: %d notes, %d items", len(got["alice/notes"]), len(got["root/items"]))
	}
	// The restored server keeps working: writes, flush of restored rows.
	mustSQL(t, alice2, "INSERT INTO app.notes (id, body) VALUES (99999, 'after')")
	mustComplete(t, runJob(t, root2, "STORAGE FLUSH TABLE app.notes"))
	if c := one(t, alice2, "SELECT count(*) FROM app.notes"); c != fmt.Sprint(len(got["alice/notes"])+1) {
		t.Fatalf("after restore+flush: %s rows", c)
	}
	// A second restore refuses to overwrite the namespace, then overwrites.
	_, job = startBackupJob(t, root2, "RESTORE NAMESPACE app FROM 's3://minio/backups'")
	if job[0] != "failed" || !strings.Contains(fmt.Sprint(job[1]), "already exists") {
		t.Fatalf("restore over existing namespace: %v", job)
	}
	_, job = startBackupJob(t, root2, fmt.Sprintf("RESTORE NAMESPACE app FROM 's3://minio/backups' BACKUP '%s' WITH OVERWRITE", id))
	mustComplete(t, job)
	if c := one(t, alice2, "SELECT count(*) FROM app.notes"); c != fmt.Sprint(len(got["alice/notes"])) {
		t.Fatalf("after overwrite: %s rows", c)
	}
}

// TestBackupIncrementalAndCorruption: a second backup after a small change
// reuses the segments already in the target; a corrupt, a missing object
// and a manifest from a newer format make verify and restore fail naming
// the object, with the restoring server untouched.
func TestBackupIncrementalAndCorruption(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "data")
	mustSQL(t, root, `CREATE NAMESPACE inc;
		CREATE SHARED TABLE inc.docs (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 'minio')`)
	for i := 0; i < 5; i++ {
		insertRange(t, root, "inc.docs", i*1000, i*1000+1000, strings.Repeat("payload", 20))
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE inc.docs"))
	id1, job := startBackupJob(t, root, "BACKUP NAMESPACE inc TO 's3://minio/bk'")
	mustComplete(t, job)
	insertRange(t, root, "inc.docs", 9000, 9010, "small")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE inc.docs"))
	id2, job := startBackupJob(t, root, "BACKUP NAMESPACE inc TO 's3://minio/bk'")
	mustComplete(t, job)
	target := s3Target(t, srv, "data/bk")
	m1, err := backup.LoadManifest(context.Background(), target, id1)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := backup.LoadManifest(context.Background(), target, id2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup 1: %d bytes uploaded; backup 2: %d uploaded, %d reused of %d", m1.BytesUploaded, m2.BytesUploaded, m2.BytesReused, m2.SizeBytes)
	if m2.BytesReused == 0 || m2.BytesUploaded*10 > m2.BytesReused || m2.BytesUploaded > m1.BytesUploaded/5 {
		t.Fatalf("second backup is not incremental: uploaded %d, reused %d (first uploaded %d)", m2.BytesUploaded, m2.BytesReused, m1.BytesUploaded)
	}
	rows := mustRows(t, root, "SHOW BACKUPS IN 's3://minio/bk'")
	if len(rows) != 2 || rows[1][0] != id2 || rows[1][1] != "namespace:inc" || asInt(t, rows[1][8]) != m2.BytesReused {
		t.Fatalf("SHOW BACKUPS: %v", rows)
	}
	_, job = startBackupJob(t, root, "BACKUP VERIFY 's3://minio/bk'")
	mustComplete(t, job)

	// Corrupt one segment object of the newest backup.
	var seg backup.ObjectRef
	for _, te := range m2.Tables {
		for _, cs := range te.Cold {
			seg = cs.Segments[0].Object
		}
	}
	if seg.Key == "" {
		t.Fatal("no segment in backup")
	}
	data, err := target.Get(context.Background(), seg.Key)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 0xff
	if err := target.Put(context.Background(), seg.Key, bad); err != nil {
		t.Fatal(err)
	}
	_, job = startBackupJob(t, root, fmt.Sprintf("BACKUP VERIFY 's3://minio/bk' BACKUP '%s'", id2))
	if job[0] != "failed" || !strings.Contains(fmt.Sprint(job[1]), seg.Key) {
		t.Fatalf("verify of corrupt backup: %v", job)
	}
	n2 := startCold(t, t.TempDir())
	defer n2.Close()
	root2 := login(t, n2, "root", rootPW)
	createS3Storage(t, root2, "minio", srv, "data")
	_, job = startBackupJob(t, root2, "RESTORE DATABASE FROM 's3://minio/bk'")
	if job[0] != "failed" || !strings.Contains(fmt.Sprint(job[1]), seg.Key) || !strings.Contains(fmt.Sprint(job[1]), "corrupt") {
		t.Fatalf("restore of corrupt backup: %v", job)
	}
	if rows := mustRows(t, root2, "SHOW NAMESPACES"); len(rows) != 1 {
		t.Fatalf("failed restore touched the server: %v", rows)
	}
	// Truncated and missing objects.
	if err := target.Put(context.Background(), seg.Key, data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	_, job = startBackupJob(t, root2, "RESTORE DATABASE FROM 's3://minio/bk'")
	if job[0] != "failed" || !strings.Contains(fmt.Sprint(job[1]), seg.Key) || !strings.Contains(fmt.Sprint(job[1]), "truncated") {
		t.Fatalf("restore of truncated object: %v", job)
	}
	if err := target.Delete(context.Background(), seg.Key); err != nil {
		t.Fatal(err)
	}
	_, job = startBackupJob(t, root2, "BACKUP VERIFY 's3://minio/bk'")
	if job[0] != "failed" || !strings.Contains(fmt.Sprint(job[1]), seg.Key) || !strings.Contains(fmt.Sprint(job[1]), "missing") {
		t.Fatalf("verify with a missing object: %v", job)
	}
	// A manifest of a newer format is refused by name.
	if err := target.Put(context.Background(), seg.Key, data); err != nil {
		t.Fatal(err)
	}
	mkey := backup.ManifestKey(id2)
	mdata, err := target.Get(context.Background(), mkey)
	if err != nil {
		t.Fatal(err)
	}
	newer := strings.Replace(string(mdata), `"format_version": 1`, `"format_version": 99`, 1)
	if err := target.Put(context.Background(), mkey, []byte(newer)); err != nil {
		t.Fatal(err)
	}
	resp, err := root2.SQL(context.Background(), fmt.Sprintf("RESTORE DATABASE FROM 's3://minio/bk' BACKUP '%s'", id2))
	if err == nil && resp.Error == nil || !strings.Contains(fmt.Sprint(err, resp), mkey) || !strings.Contains(fmt.Sprint(err, resp), "newer") {
		t.Fatalf("restore of newer-format manifest: %v %+v", err, resp)
	}
	if rows := mustRows(t, root2, "SHOW NAMESPACES"); len(rows) != 1 {
		t.Fatalf("failed restores touched the server: %v", rows)
	}
	// The intact older backup still restores.
	_, job = startBackupJob(t, root2, fmt.Sprintf("RESTORE DATABASE FROM 's3://minio/bk' BACKUP '%s'", id1))
	mustComplete(t, job)
	if c := one(t, root2, "SELECT count(*) FROM inc.docs"); c != "5000" {
		t.Fatalf("restored %s rows", c)
	}
}

// TestBackupObjectStoreDown: with the object store unreachable the backup
// job fails after its retries and no backup is marked complete.
func TestBackupObjectStoreDown(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "data")
	mustSQL(t, root, "CREATE NAMESPACE down; CREATE SHARED TABLE down.t (id BIGINT PRIMARY KEY, body TEXT)")
	insertRange(t, root, "down.t", 0, 100, "x")
	mustSQL(t, root, "CREATE USER carol WITH PASSWORD 'carol-password'")
	carol := login(t, n, "carol", "carol-password")
	wantCode(t, carol, "PERMISSION_DENIED", 403, "BACKUP DATABASE TO 's3://minio/bk'")
	wantCode(t, carol, "PERMISSION_DENIED", 403, "RESTORE DATABASE FROM 's3://minio/bk'")
	wantCode(t, root, "NOT_FOUND", 400, "BACKUP NAMESPACE nope TO 's3://minio/bk'")
	wantCode(t, root, "NOT_FOUND", 400, "BACKUP DATABASE TO 's3://nostorage/bk'")
	srv.Stop()
	_, job := startBackupJob(t, root, "BACKUP DATABASE TO 's3://minio/bk'")
	if job[0] != "failed" || job[1] == nil {
		t.Fatalf("backup with the store down: %v", job)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, r := range mustRows(t, root, "SHOW BACKUPS IN 's3://minio/bk'") {
		if r[2] == "completed" {
			t.Fatalf("a failed backup is listed complete: %v", r)
		}
	}
	// The job failed on its first write, so the target holds nothing; the
	// next backup completes and SHOW BACKUPS (no IN) finds the target
	// through this server's backup jobs.
	id, job := startBackupJob(t, root, "BACKUP DATABASE TO 's3://minio/bk'")
	mustComplete(t, job)
	rows := mustRows(t, root, "SHOW BACKUPS")
	if len(rows) == 0 || rows[len(rows)-1][0] != id || rows[len(rows)-1][2] != "completed" || rows[len(rows)-1][11] != "s3://minio/bk" {
		t.Fatalf("SHOW BACKUPS: %v", rows)
	}
}

// TestBackupRetentionAndRestoreFrom covers the C1 config storages, DELETE
// BACKUP(S) retention and --restore-from on an empty data directory.
func TestBackupRetentionAndRestoreFrom(t *testing.T) {
	srv := startMinIO(t)
	t.Setenv("KB_TEST_S3_KEY", s3test.AccessKey)
	t.Setenv("KB_TEST_S3_SECRET", s3test.SecretKey)
	withStorage := func(dir string) config.Config {
		cfg := coldConfig(dir)
		cfg.Storages = []config.StorageEntry{{ID: "objstore", Type: "s3", Bucket: "kalam", BaseDirectory: "c1", Region: "us-east-1",
			Endpoint: srv.Endpoint, PathStyle: true, AccessKeyIDEnv: "KB_TEST_S3_KEY", SecretAccessKeyEnv: "KB_TEST_S3_SECRET"}}
		return cfg
	}
	n, err := Start(withStorage(t.TempDir()), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	root := login(t, n, "root", rootPW)
	if got := one(t, root, "SELECT storage_type, bucket, base_directory, has_credentials FROM system.storages WHERE storage_id = 'objstore'"); got != "s3|kalam|c1|true" {
		t.Fatalf("config storage: %s", got)
	}
	wantCode(t, root, "INVALID_INPUT", 400, "DROP STORAGE objstore")
	wantCode(t, root, "INVALID_INPUT", 400, "ALTER STORAGE objstore SET REGION 'eu-west-1'")
	mustSQL(t, root, `CREATE NAMESPACE ret; CREATE SHARED TABLE ret.t (id BIGINT PRIMARY KEY, body TEXT) WITH (STORAGE_ID = 'objstore')`)
	var ids []string
	for i := 0; i < 3; i++ {
		// Each backup holds the previous generations as segments and its
		// own generation as hot rows (an object only it references).
		insertRange(t, root, "ret.t", i*100, i*100+100, fmt.Sprintf("gen%d", i))
		id, job := startBackupJob(t, root, "BACKUP DATABASE TO 's3://objstore/backups'")
		mustComplete(t, job)
		ids = append(ids, id)
		mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE ret.t"))
	}
	target := s3Target(t, srv, "c1/backups")
	objects := func() int {
		list, err := target.List(context.Background(), "objects/")
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	before := objects()
	mustSQL(t, root, fmt.Sprintf("DELETE BACKUP '%s' IN 's3://objstore/backups'", ids[1]))
	// Backup 2's own objects that backup 3 also uses stay; nothing of 1 or 3 is lost.
	for _, id := range []string{ids[0], ids[2]} {
		if _, _, err := backup.Verify(context.Background(), backup.RestoreRequest{ID: id, Target: target}); err != nil {
			t.Fatalf("backup %s after deleting %s: %v", id, ids[1], err)
		}
	}
	rows := mustRows(t, root, "DELETE BACKUPS IN 's3://objstore/backups' KEEP LAST 1")
	if len(rows) != 1 || rows[0][0] != ids[0] {
		t.Fatalf("prune deleted %v, want [%s]", rows, ids[0])
	}
	if after := objects(); after >= before {
		t.Fatalf("objects: %d before deletions, %d after", before, after)
	}
	if _, _, err := backup.Verify(context.Background(), backup.RestoreRequest{Target: target}); err != nil {
		t.Fatalf("kept backup: %v", err)
	}
	if rows := mustRows(t, root, "DELETE BACKUPS IN 's3://objstore/backups' KEEP LAST 0 MAX AGE '720h'"); len(rows) != 0 {
		t.Fatalf("max age deleted young backups: %v", rows)
	}
	if rows := mustRows(t, root, "SHOW BACKUPS IN 's3://objstore/backups'"); len(rows) != 1 || rows[0][0] != ids[2] {
		t.Fatalf("after retention: %v", rows)
	}

	// --restore-from bootstraps an empty data dir from the newest backup.
	dir := t.TempDir()
	n2, err := Start(withStorage(dir), quietLog(), WithRestoreFrom("s3://objstore/backups", ""))
	if err != nil {
		t.Fatal(err)
	}
	root2 := login(t, n2, "root", rootPW)
	if c := one(t, root2, "SELECT count(*), min(id), max(id) FROM ret.t"); c != "300|0|299" {
		n2.Close()
		t.Fatalf("bootstrapped server: %s", c)
	}
	mustSQL(t, root2, "INSERT INTO ret.t (id, body) VALUES (1000, 'local')")
	if err := n2.Close(); err != nil {
		t.Fatal(err)
	}
	// A data dir that has data starts normally (no second restore).
	n3, err := Start(withStorage(dir), quietLog(), WithRestoreFrom("s3://objstore/backups", ids[2]))
	if err != nil {
		t.Fatal(err)
	}
	defer n3.Close()
	root3 := login(t, n3, "root", rootPW)
	if c := one(t, root3, "SELECT count(*) FROM ret.t"); c != "301" {
		t.Fatalf("restart with data: %s rows", c)
	}
}
