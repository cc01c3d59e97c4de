package chaos

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestFlushOnGroupLeaders: with the leadership of the shared group and
// of each user group on a different node, a STORAGE FLUSH sent to any
// node answers one job whose parts each ran on that group's leader; the
// rows stay readable on every node from the shared cold storage. A flush
// whose group leader is killed mid-way is finished by the new leader with
// every row present exactly once; a restarted node does not run it
// again.
func TestFlushOnGroupLeaders(t *testing.T) {
	c := startCluster(t, 2) // shards meta, shared, u0, u1
	ctx := context.Background()
	all := c.loginAll(30 * time.Second)
	coldTables(t, all[0], "app.items", "app.notes")
	// One group per node: shared on 1, u0 on 2, u1 on 3.
	for i, name := range []string{"shared", "u0", "u1"} {
		c.transferLeader(t, all, name, i+1)
	}
	insertRange(t, all[1], "app.items", 1, 300)
	// Users spread over both user groups, each writing through a node.
	users := map[string]*client.Client{}
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("writer%d", i)
		if _, err := all[0].SQL(ctx, fmt.Sprintf("CREATE USER %s WITH PASSWORD 'writer-password-1' ROLE user", name)); err != nil {
			t.Fatal(err)
		}
		u := loginUser(t, c.procs[i%3].url, name)
		users[name] = u
		insertRange(t, u, "app.notes", 1, 20)
	}

	leaders := map[string]int{}
	for _, name := range []string{"shared", "u0", "u1"} {
		leaders[name] = c.leaderOf(all, name)
	}
	// The statement through a node that leads none of the table's groups
	// for the shared table, through the shared leader for the user table.
	checkSplitFlush(t, all[1], all, "app.items", 300, 1, leaders)
	checkSplitFlush(t, all[0], all, "app.notes", 6*20, 2, leaders)
	for i, cl := range all {
		if n := count(t, cl, "app.items"); n != 300 {
			t.Errorf("node %d: %d rows in app.items after the flush, want 300", i+1, n)
		}
	}
	for name := range users {
		for i, p := range c.procs {
			cl := loginUser(t, p.url, name)
			if n := count(t, cl, "app.notes"); n != 20 {
				t.Errorf("node %d, %s: %d notes, want 20", i+1, name, n)
			}
		}
	}

	checkPolicyFlushes(t, all[0], users, leaders)

	// Kill the shared group's leader while its part of a flush runs.
	insertRange(t, all[1], "app.items", 301, 20000)
	recs, err := all[1].Records(ctx, "STORAGE FLUSH TABLE app.items")
	if err != nil || len(recs) != 1 {
		t.Fatalf("flush: %v %v", recs, err)
	}
	job := recs[0].String("job_id")
	victim := c.leaderOf(all, "shared")
	part := job + ".shared"
	state := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && state != "running" && state != "completed"; time.Sleep(5 * time.Millisecond) {
		if r, err := all[victim%3].Records(ctx, "SELECT status FROM system.jobs WHERE job_id = $1", part); err == nil && len(r) == 1 {
			state = r[0].String("status")
		}
	}
	c.kill(c.procs[victim-1])
	t.Logf("killed replica %d (shared leader) with its part %s", victim, state)
	alive := []*client.Client{all[victim%3], all[(victim+1)%3]}
	done := waitJobDone(t, alive[0], job, 90*time.Second)
	if done.String("status") != "completed" {
		t.Fatalf("flush after the leader's death: %v", done)
	}
	pr := jobRecord(t, alive[0], part)
	t.Logf("part after the kill: %v", pr)
	if state == "running" && strings.Contains(pr.String("message"), fmt.Sprintf("[replica %d]", victim)) {
		t.Errorf("part %s still names the killed replica %d: %v", part, victim, pr)
	}
	for _, cl := range alive {
		checkItems(t, cl, 20000)
	}
	c.start(c.procs[victim-1])
	c.waitReady(c.procs[victim-1], 120*time.Second)
	back, err := c.login(c.procs[victim-1], 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	checkItems(t, back, 20000)
	if again := jobRecord(t, back, part); again.String("status") != "completed" || again.String("message") != pr.String("message") {
		t.Errorf("part changed after the restart: %v, was %v", again, pr)
	}

	// Compaction through the restarted node: the shared group's leader
	// merges the segments both flushes wrote.
	recs, err = back.Records(ctx, "STORAGE COMPACT TABLE app.items")
	if err != nil || len(recs) != 1 {
		t.Fatalf("compact: %v %v", recs, err)
	}
	cjob := recs[0].String("job_id")
	if done := waitJobDone(t, back, cjob, 60*time.Second); done.String("status") != "completed" || done.Int("rows_affected") != 20000 {
		t.Fatalf("compaction: %v, want completed over 20000 rows", done)
	}
	cpart := jobRecord(t, back, cjob+".shared")
	if want := fmt.Sprintf("[replica %d]", c.leaderOf(all, "shared")); !strings.HasSuffix(cpart.String("message"), want) {
		t.Errorf("compaction part %v, want it on the shared leader %s", cpart, want)
	}
	for _, cl := range append(alive, back) {
		checkItems(t, cl, 20000)
	}

	// Hand the shared group's leadership over (the old leader stays up)
	// while its part of a flush runs: the old leader stops at its next
	// scope or loses the compare-and-set; the new one finishes the part.
	insertRange(t, back, "app.items", 20001, 40000)
	recs, err = back.Records(ctx, "STORAGE FLUSH TABLE app.items")
	if err != nil || len(recs) != 1 {
		t.Fatalf("flush: %v %v", recs, err)
	}
	job = recs[0].String("job_id")
	old := c.leaderOf(all, "shared")
	state = ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && state != "running" && state != "completed"; time.Sleep(5 * time.Millisecond) {
		if r, err := back.Records(ctx, "SELECT status FROM system.jobs WHERE job_id = $1", job+".shared"); err == nil && len(r) == 1 {
			state = r[0].String("status")
		}
	}
	c.transferLeader(t, all, "shared", old%3+1)
	t.Logf("moved the shared leadership %d -> %d with its part %s", old, old%3+1, state)
	if done := waitJobDone(t, back, job, 90*time.Second); done.String("status") != "completed" {
		t.Fatalf("flush across the leader transfer: %v", done)
	}
	t.Logf("part after the transfer: %v", jobRecord(t, back, job+".shared"))
	for _, cl := range all {
		checkItems(t, cl, 40000)
	}
}

// TestDropCleanupOnMetaLeader: a DROP TABLE through a follower leaves the
// cleanup to the meta leader; when that leader dies before doing it, the
// new meta leader takes it over, and the restarted node does not run it
// again.
func TestDropCleanupOnMetaLeader(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	all := c.loginAll(30 * time.Second)
	cold := coldTables(t, all[0], "app.gone")
	insertRange(t, all[0], "app.gone", 1, 200)
	flush(t, all[0], "app.gone")
	dir := filepath.Join(cold, "app", "gone")
	if files, _ := os.ReadDir(dir); len(files) == 0 {
		t.Fatalf("no cold objects under %s after the flush", dir)
	}
	meta := c.leaderOf(all, "meta")
	via := all[meta%3]
	if _, err := via.SQL(ctx, "DROP TABLE app.gone"); err != nil {
		t.Fatal(err)
	}
	c.kill(c.procs[meta-1])
	alive := all[meta%3]
	var rec client.Record
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rec = dropJob(t, alive, "completed")
		if rec != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no completed drop_cleanup job for app.gone: %v", dropJob(t, alive, ""))
		}
	}
	newMeta := c.leaderOf(all, "meta")
	t.Logf("cleanup after the meta leader (replica %d) died: %v", meta, rec)
	if !strings.Contains(rec.String("message"), fmt.Sprintf("[replica %d]", newMeta)) {
		t.Errorf("cleanup ran elsewhere than the new meta leader %d: %v", newMeta, rec)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("%d cold object(s) left under %s", len(files), dir)
	}
	// The name is free again through any node.
	if _, err := all[(meta+1)%3].SQL(ctx, "CREATE SHARED TABLE app.gone (id BIGINT PRIMARY KEY)"); err != nil {
		t.Fatalf("re-create after the cleanup: %v", err)
	}
	c.start(c.procs[meta-1])
	c.waitReady(c.procs[meta-1], 120*time.Second)
	time.Sleep(2 * time.Second) // a resumption at start-up would have run by now
	// (A cleanup the killed leader had started in the instant before its
	// death is failed as interrupted: only completed ones count.)
	if n := countJobs(t, alive, "drop_cleanup", "completed"); n != 1 {
		t.Errorf("%d completed drop_cleanup jobs after the restart, want 1", n)
	}
}

// coldTables creates a filesystem storage in a directory every node
// shares (as S3 would be) and, in namespace app, the tables named (a
// USER table for app.notes, SHARED otherwise) with columns (id, v) on
// it. It returns the storage's directory.
func coldTables(t *testing.T, cl *client.Client, tables ...string) string {
	t.Helper()
	cold := filepath.Join(t.TempDir(), "cold")
	stmts := []string{fmt.Sprintf("CREATE STORAGE shared_cold TYPE 'filesystem' BASE_DIRECTORY '%s'", cold), "CREATE NAMESPACE app"}
	for _, name := range tables {
		kind := "SHARED"
		if name == "app.notes" {
			kind = "USER"
		}
		stmts = append(stmts, fmt.Sprintf("CREATE %s TABLE %s (id BIGINT PRIMARY KEY, v TEXT NOT NULL) WITH (STORAGE_ID = 'shared_cold')", kind, name))
	}
	for _, q := range stmts {
		if _, err := cl.SQL(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return cold
}

// checkPolicyFlushes: the rows trigger of a USER table's FLUSH_POLICY
// queues flushes on the leaders of the user groups only, and no row is
// lost.
func checkPolicyFlushes(t *testing.T, root *client.Client, users map[string]*client.Client, leaders map[string]int) {
	t.Helper()
	if _, err := root.SQL(context.Background(), "CREATE USER TABLE app.auto (id BIGINT PRIMARY KEY, v TEXT NOT NULL) WITH (STORAGE_ID = 'shared_cold', FLUSH_POLICY = 'rows:30')"); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		insertRange(t, u, "app.auto", 1, 20)
	}
	var jobs []client.Record
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		jobs = jobs[:0]
		running := false
		for _, r := range allJobs(t, root) {
			if r.String("table_name") == "auto" && r.String("job_type") == "flush" {
				jobs = append(jobs, r)
				running = running || r.String("status") != "completed"
			}
		}
		if len(jobs) > 0 && !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy flushes of app.auto: %v", jobs)
		}
	}
	ok := map[string]bool{fmt.Sprintf("[replica %d]", leaders["u0"]): true, fmt.Sprintf("[replica %d]", leaders["u1"]): true}
	for _, r := range jobs {
		msg := r.String("message")
		if r.String("trigger") != "rows" || !ok[msg[strings.LastIndex(msg, "["):]] {
			t.Errorf("policy flush %v: want trigger rows on a user group's leader %v", r, ok)
		}
		t.Logf("policy flush %s: %d rows, %s", r.String("job_id"), r.Int("rows_affected"), msg)
	}
	for name, u := range users {
		if n := count(t, u, "app.auto"); n != 20 {
			t.Errorf("%s: %d rows in app.auto, want 20", name, n)
		}
	}
}

// loginUser logs name in on the node at url, retrying while the node
// has not applied the user's creation yet (a login reads locally).
func loginUser(t *testing.T, url, name string) *client.Client {
	t.Helper()
	u := client.New(url)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := u.Login(context.Background(), name, "writer-password-1")
		if err == nil {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("login %s on %s: %v", name, url, err)
		}
	}
}

// transferLeader moves the leadership of group name to replica target,
// asking again every 2 s (a leader may drop the request).
func (c *cluster) transferLeader(t *testing.T, all []*client.Client, name string, target int) {
	t.Helper()
	ctx := context.Background()
	body := []byte(fmt.Sprintf(`{"group":%q,"target":%d}`, name, target))
	start, last := time.Now(), time.Time{}
	for ; c.leaderOf(all, name) != target; time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%s leader still %d, want %d", name, c.leaderOf(all, name), target)
		}
		if time.Since(last) < 2*time.Second {
			continue
		}
		code, resp, err := all[target%3].Do(ctx, http.MethodPost, "/v1/cluster/transfer-leader", body, true)
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("transfer %s: %d %s %v", name, code, resp, err)
		}
		last = time.Now()
	}
}

// checkSplitFlush runs STORAGE FLUSH TABLE table through cl and checks
// that its parts ran on the leaders of their groups and flushed rows.
func checkSplitFlush(t *testing.T, cl *client.Client, all []*client.Client, table string, rows int64, wantParts int, leaders map[string]int) {
	t.Helper()
	recs, err := cl.Records(context.Background(), "STORAGE FLUSH TABLE "+table)
	if err != nil || len(recs) != 1 {
		t.Fatalf("flush %s: %v %v", table, recs, err)
	}
	job := recs[0].String("job_id")
	done := waitJobDone(t, cl, job, 60*time.Second)
	if done.String("status") != "completed" || done.Int("rows_affected") != rows {
		t.Fatalf("flush %s: %v, want completed with %d rows", table, done, rows)
	}
	parts := 0
	for _, r := range allJobs(t, all[0]) {
		id := r.String("job_id")
		if !strings.HasPrefix(id, job+".") {
			continue
		}
		parts++
		group := strings.TrimPrefix(id, job+".")
		if want := fmt.Sprintf("[replica %d]", leaders[group]); r.String("status") != "completed" || !strings.HasSuffix(r.String("message"), want) {
			t.Errorf("part %s: %v, want completed on its group's leader %s", id, r, want)
		}
		t.Logf("%s: %s, %d rows, %s", id, r.String("status"), r.Int("rows_affected"), r.String("message"))
	}
	if parts != wantParts {
		t.Errorf("%d parts of %s, want %d", parts, job, wantParts)
	}
}

// waitJobDone polls a job until it is completed or failed.
func waitJobDone(t *testing.T, cl *client.Client, job string, limit time.Duration) client.Record {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		recs, err := cl.Records(context.Background(), "SELECT * FROM system.jobs WHERE job_id = $1", job)
		if err == nil && len(recs) == 1 {
			if st := recs[0].String("status"); st == "completed" || st == "failed" {
				return recs[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not finish: %v %v", job, recs, err)
		}
	}
}

func jobRecord(t *testing.T, cl *client.Client, id string) client.Record {
	t.Helper()
	recs, err := cl.Records(context.Background(), "SELECT * FROM system.jobs WHERE job_id = $1", id)
	if err != nil || len(recs) != 1 {
		t.Fatalf("job %s: %v %v", id, recs, err)
	}
	return recs[0]
}

func allJobs(t *testing.T, cl *client.Client) []client.Record {
	t.Helper()
	recs, err := cl.Records(context.Background(), "SELECT * FROM system.jobs")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// dropJob returns app.gone's drop_cleanup job with status (any: "").
func dropJob(t *testing.T, cl *client.Client, status string) client.Record {
	t.Helper()
	for _, r := range allJobs(t, cl) {
		if r.String("job_type") == "drop_cleanup" && r.String("table_name") == "gone" && (status == "" || r.String("status") == status) {
			return r
		}
	}
	return nil
}

func countJobs(t *testing.T, cl *client.Client, typ, status string) int {
	t.Helper()
	n := 0
	for _, r := range allJobs(t, cl) {
		if r.String("job_type") == typ && r.String("status") == status {
			n++
		}
	}
	return n
}

// insertRange inserts ids lo..hi into table (id, v) in batches.
func insertRange(t *testing.T, cl *client.Client, table string, lo, hi int) {
	t.Helper()
	for start := lo; start <= hi; start += 500 {
		var vals []string
		for id := start; id <= min(hi, start+499); id++ {
			vals = append(vals, fmt.Sprintf("(%d, 'row-%d')", id, id))
		}
		if _, err := cl.SQL(context.Background(), fmt.Sprintf("INSERT INTO %s (id, v) VALUES %s", table, strings.Join(vals, ", "))); err != nil {
			t.Fatalf("insert into %s: %v", table, err)
		}
	}
}

func count(t *testing.T, cl *client.Client, table string) int64 {
	t.Helper()
	recs, err := cl.Records(context.Background(), "SELECT COUNT(*) AS n FROM "+table)
	if err != nil || len(recs) != 1 {
		t.Fatalf("count %s: %v %v", table, recs, err)
	}
	return recs[0].Int("n")
}

// checkItems checks app.items holds ids 1..n, each exactly once.
func checkItems(t *testing.T, cl *client.Client, n int) {
	t.Helper()
	if got := count(t, cl, "app.items"); got != int64(n) {
		t.Errorf("%s: COUNT(*) = %d, want %d", cl.BaseURL, got, n)
	}
	ids, err := readIDs(cl, "app.items")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Errorf("%s: %d distinct ids, want %d", cl.BaseURL, len(ids), n)
	}
}
