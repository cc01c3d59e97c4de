package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// scopeKeys counts the hot keys of user's scope of table tn (ns.name).
func scopeKeys(t *testing.T, n *Node, ns, name, user string) int {
	t.Helper()
	tb, ok := n.eng.Catalog().Table(ns, name)
	if !ok {
		t.Fatalf("table %s.%s missing", ns, name)
	}
	p := keys.ScopePrefix(keys.UserGroup(user), tb.ID, user, true)
	it, err := n.store.DB.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	c := 0
	for it.First(); it.Valid(); it.Next() {
		c++
	}
	return c
}

// TestSecurityDroppedUserPurge: DROP USER keeps the rows (unreadable) and
// the name for the grace period, then a user_cleanup job purges rows and
// record and the name can be created again, with no data.
func TestSecurityDroppedUserPurge(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.UserManagement.DeletionGracePeriodSeconds = 3
		c.UserManagement.CleanupIntervalSeconds = 1
	})
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE app;
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT);
		CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY, body TEXT) WITH (TTL_SECONDS = 3600);
		CREATE USER 'bob' WITH PASSWORD 'bob-strong-pw1' ROLE user;
		CREATE USER 'carol' WITH PASSWORD 'carol-strong-pw1' ROLE user`)
	bob := login(t, n, "bob", "bob-strong-pw1")
	carol := login(t, n, "carol", "carol-strong-pw1")
	mustSQL(t, bob, `INSERT INTO app.notes (id, body) VALUES (1, 'b1'), (2, 'b2'), (3, 'b3')`)
	mustSQL(t, bob, `INSERT INTO app.events (id, body) VALUES (1, 'e1')`)
	mustSQL(t, carol, `INSERT INTO app.notes (id, body) VALUES (1, 'c1')`)
	mustSQL(t, root, `DROP USER 'bob'`)

	// Grace period: rows kept but unreachable, name reserved, ALTER refused.
	if got := scopeKeys(t, n, "app", "notes", "bob"); got != 3 {
		t.Fatalf("bob's rows during grace: %d keys", got)
	}
	wantCode(t, bob, "INVALID_CREDENTIALS", 401, `SELECT * FROM app.notes`)
	wantCode(t, root, "ALREADY_EXISTS", 400, `CREATE USER 'bob' WITH PASSWORD 'bob-strong-pw2' ROLE user`)
	_, err := root.SQL(ctx(t), `ALTER USER 'bob' SET EMAIL 'b@example.com'`)
	if ae, ok := err.(*client.APIError); !ok || ae.Code != "NOT_FOUND" || !strings.Contains(ae.Message, "dropped") {
		t.Fatalf("ALTER of a dropped user: %v", err)
	}

	// After the grace period the job runs and everything of bob is gone.
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows := mustRows(t, root, `SELECT status FROM system.jobs WHERE job_type = 'user_cleanup'`)
		if fmt.Sprint(rows) == "[[completed]]" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no completed user_cleanup job: %v", rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := scopeKeys(t, n, "app", "notes", "bob"); got != 0 {
		t.Fatalf("bob's notes after purge: %d keys", got)
	}
	if got := scopeKeys(t, n, "app", "events", "bob"); got != 0 {
		t.Fatalf("bob's events after purge: %d keys", got)
	}
	if got := one(t, root, `SELECT count(*) FROM system.users WHERE user_id = 'bob'`); got != "0" {
		t.Fatalf("bob still in system.users: %s", got)
	}
	// Other users are untouched; the name is free again and owns nothing.
	if got := fmt.Sprint(mustRows(t, carol, `SELECT id, body FROM app.notes`)); got != "[[1 c1]]" {
		t.Fatalf("carol's rows: %s", got)
	}
	mustSQL(t, root, `CREATE USER 'bob' WITH PASSWORD 'bob-strong-pw2' ROLE user`)
	bob2 := login(t, n, "bob", "bob-strong-pw2")
	if rows := mustRows(t, bob2, `SELECT id FROM app.notes`); len(rows) != 0 {
		t.Fatalf("new bob sees old rows: %v", rows)
	}
}

// TestSecurityAuditAtomic: a DDL's audit record exists iff the DDL applied;
// a failing or denied statement leaves only a *_FAILED record.
func TestSecurityAuditAtomic(t *testing.T) {
	f := newSecFixture(t, nil)
	count := func(action, target string) string {
		return one(t, f.root, `SELECT count(*) FROM system.audit_log WHERE action = $1 AND target = $2`, action, target)
	}
	mustSQL(t, f.root, `CREATE NAMESPACE audited`)
	if got := count("CREATE_NAMESPACE", "audited"); got != "1" {
		t.Fatalf("CREATE_NAMESPACE records: %s", got)
	}
	wantCode(t, f.root, "ALREADY_EXISTS", 400, `CREATE NAMESPACE audited`)
	if got := count("CREATE_NAMESPACE", "audited"); got != "1" {
		t.Fatalf("failed DDL wrote a success record: %s", got)
	}
	if got := count("CREATE_NAMESPACE_FAILED", "audited"); got != "1" {
		t.Fatalf("CREATE_NAMESPACE_FAILED records: %s", got)
	}
	// IF NOT EXISTS no-op: the statement succeeded, so it is recorded.
	mustSQL(t, f.root, `CREATE NAMESPACE IF NOT EXISTS audited`)
	if got := count("CREATE_NAMESPACE", "audited"); got != "2" {
		t.Fatalf("IF NOT EXISTS records: %s", got)
	}
	// Denied: nothing applied, the attempt is recorded as failed.
	wantCode(t, f.mallory, "PERMISSION_DENIED", 403, `CREATE USER 'eve' WITH PASSWORD 'eve-strong-pw1' ROLE dba`)
	if got := count("CREATE_USER", "eve"); got != "0" {
		t.Fatalf("denied CREATE USER recorded as done: %s", got)
	}
	if got := one(t, f.root, `SELECT count(*) FROM system.audit_log WHERE action = 'CREATE_USER_FAILED' AND target = 'eve' AND actor_user_id = 'mallory' AND details LIKE 'PERMISSION_DENIED%'`); got != "1" {
		t.Fatalf("CREATE_USER_FAILED records: %s", got)
	}
	// The record was committed with the change: same meta-group batch, so
	// its audit id follows the catalog change directly and carries the IP.
	if got := one(t, f.root, `SELECT ip_address FROM system.audit_log WHERE action = 'CREATE_NAMESPACE' AND target = 'audited' ORDER BY audit_id LIMIT 1`); got != "127.0.0.1" {
		t.Fatalf("ip: %s", got)
	}
}

// TestSecurityLockoutSurvivesRestart: a lock is persisted in the user
// record and restored at start; it still ends at its expiry.
func TestSecurityLockoutSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Auth.LockoutMaxAttempts = 3
	cfg.Auth.LockoutDurationSeconds = 6
	n, err := Start(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE USER 'alice' WITH PASSWORD 'alice-strong-pw' ROLE user`)
	anon := client.New("http://" + n.Addr())
	for i := range 3 {
		if _, err := anon.Login(ctx(t), "alice", fmt.Sprintf("guess-%d-pw", i)); err == nil {
			t.Fatal("bad password accepted")
		}
	}
	lockedAt := time.Now()
	if got := one(t, root, `SELECT count(*) FROM system.audit_log WHERE action = 'ACCOUNT_LOCKED' AND target = 'alice'`); got != "1" {
		t.Fatalf("ACCOUNT_LOCKED records: %s", got)
	}
	n.Close()

	n, err = Start(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	anon = client.New("http://" + n.Addr())
	_, err = anon.Login(ctx(t), "alice", "alice-strong-pw")
	if ae, ok := err.(*client.APIError); !ok || ae.HTTPStatus != 403 || ae.Code != "ACCOUNT_LOCKED" {
		t.Fatalf("after restart: want ACCOUNT_LOCKED, got %v", err)
	}
	root = login(t, n, "root", rootPW)
	if got := one(t, root, `SELECT failed_login_attempts FROM system.users WHERE user_id = 'alice'`); got == "" {
		t.Fatal("no failed_login_attempts")
	}
	if u, _ := n.eng.Catalog().User("alice"); u.LockedUntil == 0 {
		t.Fatalf("lock not persisted: %+v", u)
	}
	time.Sleep(time.Until(lockedAt.Add(6*time.Second + 300*time.Millisecond)))
	if _, err := anon.Login(ctx(t), "alice", "alice-strong-pw"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	var u *catalog.User
	u, _ = n.eng.Catalog().User("alice")
	if u.LockedUntil != 0 {
		t.Fatalf("stale lock kept after a successful login: %+v", u)
	}
}

// TestUserCleanupCronSchedule: with cleanup_job_schedule set, the cleanup
// follows it, not the (here hour-long) interval.
func TestUserCleanupCronSchedule(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.UserManagement.DeletionGracePeriodSeconds = 1
		c.UserManagement.CleanupIntervalSeconds = 3600
		c.UserManagement.CleanupJobSchedule = "@every 1s"
	})
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE USER 'dave' WITH PASSWORD 'dave-strong-pw1' ROLE user`)
	mustSQL(t, root, `DROP USER 'dave'`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows := mustRows(t, root, `SELECT status FROM system.jobs WHERE job_type = 'user_cleanup'`)
		if strings.Contains(fmt.Sprint(rows), "completed") && one(t, root, `SELECT count(*) FROM system.users WHERE user_id = 'dave'`) == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no user_cleanup on the cron schedule: jobs %v", rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
