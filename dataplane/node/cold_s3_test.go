package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// startMinIO starts a real MinIO for one test.
func startMinIO(t *testing.T) *s3test.Server {
	t.Helper()
	srv, err := s3test.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	st, err := srv.Store(context.Background(), "kalam", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = st
	return srv
}

func createS3Storage(t *testing.T, c *client.Client, id string, srv *s3test.Server, prefix string) {
	t.Helper()
	mustSQL(t, c, fmt.Sprintf(`CREATE STORAGE %s TYPE 's3' NAME 'minio' BUCKET 'kalam' REGION 'us-east-1' BASE_DIRECTORY '%s'
		CONFIG '{"endpoint": "%s", "path_style": true, "tls": false}'
		CREDENTIALS '{"access_key_id": "%s", "secret_access_key": "%s"}'`, id, prefix, srv.Endpoint, s3test.AccessKey, s3test.SecretKey))
}

type noteRow struct {
	body  string
	score int64
}

// TestColdTierS3HundredThousandRows is the acceptance scenario:
// 100k rows for 10 users on a real MinIO, flush, update and delete some,
// flush again, compact, and every user sees exactly the expected rows.
func TestColdTierS3HundredThousandRows(t *testing.T) {
	if testing.Short() {
		t.Skip("100k-row scenario")
	}
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "prod")
	if got := one(t, root, "STORAGE CHECK minio"); !strings.HasPrefix(got, "minio|healthy|true|true|true|true|") {
		t.Fatalf("storage check: %s", got)
	}
	mustSQL(t, root, `CREATE NAMESPACE shop;
		CREATE USER TABLE shop.orders (id BIGINT PRIMARY KEY, body TEXT, score BIGINT) WITH (STORAGE_ID = 'minio')`)
	const users, perUser = 10, 10000
	want := make([]map[int64]noteRow, users)
	clients := make([]*client.Client, users)
	for u := 0; u < users; u++ {
		name := fmt.Sprintf("user%02d", u)
		mustSQL(t, root, fmt.Sprintf("CREATE USER %s WITH PASSWORD 'password-%02d'", name, u))
		clients[u] = login(t, n, name, fmt.Sprintf("password-%02d", u))
		want[u] = map[int64]noteRow{}
	}
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			for start := 0; start < perUser; start += 1000 {
				sql := multiInsert("INSERT INTO shop.orders (id, body, score) VALUES ", start, start+1000, func(i int) string {
					return fmt.Sprintf("(%d, 'u%d-row-%d', %d)", i, u, i, i*u)
				})
				if _, err := clients[u].SQL(context.Background(), sql); err != nil {
					errs <- err
					return
				}
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for u := 0; u < users; u++ {
		for i := 0; i < perUser; i++ {
			want[u][int64(i)] = noteRow{fmt.Sprintf("u%d-row-%d", u, i), int64(i * u)}
		}
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE shop.orders"))

	// Updates and deletes of flushed rows, plus new rows.
	rng := rand.New(rand.NewPCG(1, 2))
	for u := 0; u < users; u++ {
		c := clients[u]
		for k := 0; k < 20; k++ {
			id := int64(rng.IntN(perUser))
			mustSQL(t, c, "UPDATE shop.orders SET body = $1, score = -1 WHERE id = $2", fmt.Sprintf("upd-%d", k), id)
			want[u][id] = noteRow{fmt.Sprintf("upd-%d", k), -1}
		}
		lo := int64(rng.IntN(perUser - 100))
		mustSQL(t, c, "DELETE FROM shop.orders WHERE id >= $1 AND id < $2", lo, lo+50)
		for id := lo; id < lo+50; id++ {
			delete(want[u], id)
		}
		mustSQL(t, c, "INSERT INTO shop.orders (id, body, score) VALUES ($1, 'late', 7)", perUser+u)
		want[u][int64(perUser+u)] = noteRow{"late", 7}
	}
	verifyAll(t, clients, want, "after updates")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE shop.orders"))
	verifyAll(t, clients, want, "second flush")
	job := runJob(t, root, "STORAGE COMPACT TABLE shop.orders")
	mustComplete(t, job)
	verifyAll(t, clients, want, "compaction")

	// Objects follow the path template under the storage prefix.
	st, err := srv.Store(context.Background(), "kalam", "")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(context.Background(), "prod/")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		parts := strings.Split(o.Key, "/")
		if len(parts) != 5 || parts[0] != "prod" || parts[1] != "shop" || parts[2] != "orders" || !strings.HasPrefix(parts[3], "user") {
			t.Fatalf("object %s does not follow prod/{namespace}/{tableName}/{userId}/", o.Key)
		}
		seen[parts[3]+"/"+parts[4]] = true
	}
	for u := 0; u < users; u++ {
		for _, f := range []string{"batch-1.parquet", "batch-2.parquet", "batch-3.parquet", "manifest.json", "manifest-00000000000000000003.json"} {
			if !seen[fmt.Sprintf("user%02d/%s", u, f)] {
				t.Fatalf("missing object user%02d/%s in %v", u, f, objs)
			}
		}
	}
}

// verifyAll pages through every user's rows and compares them exactly.
func verifyAll(t *testing.T, clients []*client.Client, want []map[int64]noteRow, stage string) {
	t.Helper()
	for u, c := range clients {
		got := map[int64]noteRow{}
		last := int64(-1)
		for {
			rows := mustRows(t, c, "SELECT id, body, score FROM shop.orders WHERE id > $1 ORDER BY id LIMIT 1000", last)
			for _, r := range rows {
				id := asInt(t, r[0])
				got[id] = noteRow{r[1].(string), asInt(t, r[2])}
				last = id
			}
			if len(rows) < 1000 {
				break
			}
		}
		if len(got) != len(want[u]) {
			t.Fatalf("%s: user %d sees %d rows, want %d", stage, u, len(got), len(want[u]))
		}
		for id, w := range want[u] {
			if got[id] != w {
				t.Fatalf("%s: user %d row %d = %+v, want %+v", stage, u, id, got[id], w)
			}
		}
	}
}

// TestColdTierS3OutageDuringFlush stops MinIO while a flush runs: the job
// fails visibly after its retries, the hot rows keep serving reads, and
// the next flush succeeds once MinIO is back.
func TestColdTierS3OutageDuringFlush(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "")
	mustSQL(t, root, `CREATE NAMESPACE o; CREATE SHARED TABLE o.s (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'minio');
		CREATE USER TABLE o.u (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'minio')`)
	insert := multiInsert("INSERT INTO o.u (id, v) VALUES ", 0, 2000, func(i int) string { return fmt.Sprintf("(%d, 'v%d')", i, i) })
	for u := 0; u < 8; u++ {
		mustSQL(t, root, fmt.Sprintf("CREATE USER ou%d WITH PASSWORD 'password-%d'", u, u))
		c := login(t, n, fmt.Sprintf("ou%d", u), fmt.Sprintf("password-%d", u))
		mustSQL(t, c, insert)
	}
	mustSQL(t, root, strings.Replace(insert, "o.u", "o.s", 1))
	// First flush of the shared table works; then MinIO goes away mid-job.
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE o.s"))
	mustSQL(t, root, "UPDATE o.s SET v = 'hot' WHERE id = 3")
	rows := mustRows(t, root, "STORAGE FLUSH TABLE o.u")
	id := fmt.Sprint(rows[0][0])
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := one(t, root, "SELECT status FROM system.jobs WHERE job_id = $1", id); st != "queued" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	srv.Stop()
	job := waitJob(t, root, id)
	job2 := runJob(t, root, "STORAGE FLUSH TABLE o.s")
	if job2[0] != "failed" || !strings.Contains(fmt.Sprint(job2[1]), "after 2 attempt(s)") {
		t.Fatalf("flush with MinIO down: %v", job2)
	}
	t.Logf("user-table flush when MinIO stopped mid-job: %v", job)
	// Users whose scope was not flushed before the outage are served from
	// the hot tier; flushed scopes need MinIO and fail with a named error.
	hotServed := 0
	for u := 0; u < 8; u++ {
		c := login(t, n, fmt.Sprintf("ou%d", u), fmt.Sprintf("password-%d", u))
		res, err := c.SQL(context.Background(), "SELECT count(*), sum(id) FROM o.u")
		if err != nil {
			if !strings.Contains(err.Error(), "cold segment") {
				t.Fatalf("user %d: unexpected error while S3 is down: %v", u, err)
			}
			continue
		}
		if got := fmt.Sprint(res.Results[0].Rows[0]); got != "[2000 1999000]" {
			t.Fatalf("user %d while S3 down: %s", u, got)
		}
		hotServed++
	}
	if job[0] == "failed" && hotServed == 0 {
		t.Fatal("no scope stayed hot after the failed flush")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE o.u"))
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE o.s"))
	for u := 0; u < 8; u++ {
		c := login(t, n, fmt.Sprintf("ou%d", u), fmt.Sprintf("password-%d", u))
		if got := one(t, c, "SELECT count(*), sum(id) FROM o.u"); got != "2000|1999000" {
			t.Fatalf("user %d after recovery: %s", u, got)
		}
	}
	if got := one(t, root, "SELECT count(*), sum(id) FROM o.s"); got != "2000|1999000" {
		t.Fatalf("shared after recovery: %s", got)
	}
	if got := one(t, root, "SELECT v FROM o.s WHERE id = 3"); got != "hot" {
		t.Fatalf("updated row: %s", got)
	}
	failed := one(t, root, "SELECT count(*) FROM system.jobs WHERE status = 'failed' AND error_message IS NOT NULL")
	if failed == "0" {
		t.Fatal("no failed job recorded")
	}
}

// TestColdTierHotReadsWhileS3Down checks that a table whose rows are all
// hot keeps serving reads and writes while its storage is unreachable.
func TestColdTierHotReadsWhileS3Down(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "")
	mustSQL(t, root, `CREATE NAMESPACE h; CREATE SHARED TABLE h.s (id BIGINT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'minio')`)
	mustSQL(t, root, "INSERT INTO h.s (id, v) VALUES (1, 'a'), (2, 'b')")
	srv.Stop()
	job := runJob(t, root, "STORAGE FLUSH TABLE h.s")
	if job[0] != "failed" || job[1] == nil {
		t.Fatalf("flush with S3 down: %v", job)
	}
	mustSQL(t, root, "INSERT INTO h.s (id, v) VALUES (3, 'c')")
	if got := one(t, root, "SELECT count(*) FROM h.s"); got != "3" {
		t.Fatalf("hot rows while S3 down: %s", got)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE h.s"))
	if got := one(t, root, "SELECT count(*), group_concat(v, '') FROM h.s"); got != "3|abc" {
		t.Fatalf("after recovery: %s", got)
	}
}

// TestColdTierCorruptAndMissingSegment: a damaged or missing Parquet file
// fails the query with an error naming the segment; the server lives on.
func TestColdTierCorruptAndMissingSegment(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE c; CREATE SHARED TABLE c.a (id BIGINT PRIMARY KEY, v TEXT); CREATE SHARED TABLE c.b (id BIGINT PRIMARY KEY, v TEXT)`)
	mustSQL(t, root, "INSERT INTO c.a (id, v) VALUES (1, 'x'), (2, 'y'); INSERT INTO c.b (id, v) VALUES (1, 'x')")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE c.a"))
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE c.b"))
	a := filepath.Join(dir, "storage", "c", "a", "batch-1.parquet")
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) / 3; i < len(data)-8; i++ {
		data[i] ^= 0x5a
	}
	if err := os.WriteFile(a, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "storage", "c", "b", "batch-1.parquet")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sql, want string }{
		{"SELECT * FROM c.a", "c/a/batch-1.parquet"},
		{"SELECT v FROM c.a WHERE id = 2", "c/a/batch-1.parquet"},
		{"SELECT * FROM c.b", "c/b/batch-1.parquet"},
	} {
		_, err := root.SQL(context.Background(), tc.sql)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: want an error naming %s, got %v", tc.sql, tc.want, err)
		}
	}
	if got := one(t, root, "SELECT 1"); got != "1" {
		t.Fatal("server unhealthy after corrupt segment")
	}
}

// TestColdTierFlushPolicies checks that both parts of FLUSH_POLICY fire on
// their own: rows:N without waiting, interval:S without reaching N.
func TestColdTierFlushPolicies(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE p;
		CREATE SHARED TABLE p.byrows (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:100,interval:3600');
		CREATE SHARED TABLE p.bytime (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:999999,interval:1')`)
	var b strings.Builder
	b.WriteString("INSERT INTO p.byrows (id) VALUES ")
	for i := 0; i < 150; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "(%d)", i)
	}
	start := time.Now()
	mustSQL(t, root, b.String())
	mustSQL(t, root, "INSERT INTO p.bytime (id) VALUES (1), (2)")
	waitFor := func(table, trigger string) time.Duration {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			got := one(t, root, "SELECT count(*) FROM system.jobs WHERE table_name = $1 AND status = 'completed' AND trigger = $2", table, trigger)
			if got != "0" {
				return time.Since(start)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %s-triggered flush of %s", trigger, table)
		return 0
	}
	if d := waitFor("byrows", "rows"); d > 5*time.Second {
		t.Fatalf("rows trigger took %v", d)
	}
	if d := waitFor("bytime", "interval"); d < 900*time.Millisecond || d > 8*time.Second {
		t.Fatalf("interval trigger after %v", d)
	}
	if got := one(t, root, "SELECT count(*) FROM p.byrows"); got != "150" {
		t.Fatalf("byrows rows: %s", got)
	}
	if got := one(t, root, "SELECT count(*) FROM p.bytime"); got != "2" {
		t.Fatalf("bytime rows: %s", got)
	}
}

// TestStreamTTL: STREAM rows disappear after TTL_SECONDS and are evicted.
func TestStreamTTL(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE st; CREATE STREAM TABLE st.ev (id BIGINT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 1)`)
	mustSQL(t, root, "INSERT INTO st.ev (id, v) VALUES (1, 'a'), (2, 'b')")
	if got := one(t, root, "SELECT count(*) FROM st.ev"); got != "2" {
		t.Fatalf("fresh stream rows: %s", got)
	}
	wantCode(t, root, "INVALID_SQL", 400, "STORAGE FLUSH TABLE st.ev")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if one(t, root, "SELECT count(*) FROM system.jobs WHERE job_type = 'stream_eviction' AND table_name = 'ev'") != "0" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := one(t, root, "SELECT count(*) FROM st.ev"); got != "0" {
		t.Fatalf("expired stream rows visible: %s", got)
	}
	if got := one(t, root, "SELECT sum(rows_affected) FROM system.jobs WHERE job_type = 'stream_eviction'"); got != "2" {
		t.Fatalf("eviction jobs evicted %s rows", got)
	}
}

// asInt reads a wire integer (BIGINT travels as a string).
func asInt(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	if err != nil {
		t.Fatalf("not an integer: %v", v)
	}
	return n
}
