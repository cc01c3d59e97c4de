package upstream

// Ports of a few of the original's 0.4.3 CLI smoke tests
// (cli/tests/smoke/** at tag v0.4.3-rc.4, commit of that tag; see README.md):
// the same statements and assertions, through our HTTP API instead of the
// `kalam` CLI, with the original's job-id parsing helpers
// (cli/tests/common/mod.rs) ported as they are.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// parseJobIDFromFlushOutput is the original's parse_job_id_from_flush_output
// (without its fallback query): the token after "Job ID: ".
func parseJobIDFromFlushOutput(out string) (string, bool) {
	_, after, ok := strings.Cut(out, "Job ID: ")
	if !ok {
		return "", false
	}
	f := strings.Fields(strings.SplitN(after, "\n", 2)[0])
	if len(f) == 0 {
		return "", false
	}
	return f[0], true
}

// parseJobIDsFromFlushAllOutput is the original's
// parse_job_ids_from_flush_all_output: the ids in "Job IDs: [a, b]".
func parseJobIDsFromFlushAllOutput(out string) []string {
	_, after, ok := strings.Cut(out, "Job IDs: [")
	if !ok {
		return nil
	}
	list, _, _ := strings.Cut(after, "]")
	var ids []string
	for _, s := range strings.Split(list, ",") {
		if f := strings.Fields(s); len(f) > 0 {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// message returns the message of the last statement's result.
func message(res *client.Response) string {
	if len(res.Results) == 0 {
		return ""
	}
	return res.Results[len(res.Results)-1].Message
}

// smoke_test_shared_table_crud.rs: smoke_shared_table_crud.
func TestSmokeSharedTableCRUD(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := "smoke_ns.shared_crud"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_ns")
	s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR NOT NULL,
            status VARCHAR,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        ) WITH (
            TYPE = 'SHARED',
            FLUSH_POLICY = 'rows:10'
        )`)
	s.sql(t, s.Root, "INSERT INTO "+full+" (name, status) VALUES ('alpha', 'new')")
	s.sql(t, s.Root, "INSERT INTO "+full+" (name, status) VALUES ('beta', 'new')")
	all := fmt.Sprint(s.sql(t, s.Root, "SELECT * FROM "+full).Results[0].Rows)
	if !strings.Contains(all, "alpha") || !strings.Contains(all, "beta") {
		t.Fatalf("expected 'alpha' and 'beta' in results: %s", all)
	}
	recs, err := s.Root.Records(ctx, "SELECT id, name FROM "+full+" WHERE name IN ('alpha','beta') ORDER BY name")
	if err != nil || len(recs) != 2 {
		t.Fatalf("id select: %v, %v", recs, err)
	}
	alphaID, betaID := recs[0].String("id"), recs[1].String("id")
	s.sql(t, s.Root, "DELETE FROM "+full+" WHERE id = "+alphaID)
	s.sql(t, s.Root, "UPDATE "+full+" SET status='done' WHERE id = "+betaID)
	all = fmt.Sprint(s.sql(t, s.Root, "SELECT * FROM "+full).Results[0].Rows)
	if !strings.Contains(all, "beta") || !strings.Contains(all, "done") || strings.Contains(all, "alpha") {
		t.Fatalf("expected only 'beta' with status 'done': %s", all)
	}
	s.sql(t, s.Root, "DROP TABLE "+full)
	_, err = s.Root.SQL(ctx, "SELECT * FROM "+full)
	if msg := strings.ToLower(fmt.Sprint(err)); err == nil ||
		!(strings.Contains(msg, "not found") || strings.Contains(msg, "does not exist") || strings.Contains(msg, "unknown table")) {
		t.Fatalf("unexpected error selecting dropped table: %v", err)
	}
	s.sql(t, s.Root, "DROP NAMESPACE smoke_ns CASCADE")
}

// smoke_test_system_and_users.rs: smoke_system_tables_and_user_lifecycle.
func TestSmokeSystemTablesAndUserLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, q := range []string{
		"SELECT * FROM system.jobs LIMIT 1",
		"SELECT * FROM system.users LIMIT 1",
		"SELECT * FROM system.live LIMIT 1",
		"SELECT * FROM system.schemas LIMIT 1",
		"SELECT * FROM system.namespaces LIMIT 1",
	} {
		s.sql(t, s.Root, q)
	}
	user := "smoke_user_1"
	s.sql(t, s.Root, "CREATE USER "+user+" WITH PASSWORD 'S1mpleP@ss!' ROLE 'user'")
	if out := fmt.Sprint(s.sql(t, s.Root, "SELECT user_id FROM system.users WHERE user_id='"+user+"'").Results[0].Rows); !strings.Contains(out, user) {
		t.Fatalf("expected newly created user to be listed: %s", out)
	}
	s.sql(t, s.Root, "DROP USER '"+user+"'")
	recs, err := s.Root.Records(ctx, "SELECT * FROM system.users WHERE user_id='"+user+"'")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 && recs[0]["deleted_at"] == nil {
		t.Fatalf("user should be removed or marked deleted: %v", recs)
	}
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_test_flush")
	table := "smoke_test_flush.test_flush_table"
	s.sql(t, s.Root, "CREATE TABLE "+table+" (id INT PRIMARY KEY, value VARCHAR) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:100')")
	s.sql(t, s.Root, "INSERT INTO "+table+" (id, value) VALUES (1, 'test')")
	out := message(s.sql(t, s.Root, "STORAGE FLUSH ALL IN smoke_test_flush"))
	ids := parseJobIDsFromFlushAllOutput(out)
	if len(ids) == 0 {
		t.Fatalf("should parse job IDs from FLUSH ALL output: %q", out)
	}
	for _, id := range ids {
		rows, err := s.Root.Rows(ctx, "SELECT job_id FROM system.jobs WHERE job_id='"+id+"'")
		if err != nil || len(rows) != 1 {
			t.Fatalf("expected exactly one matching job row for id %s, got %v, %v", id, rows, err)
		}
	}
	s.sql(t, s.Root, "DROP NAMESPACE smoke_test_flush CASCADE")
}

// smoke_test_flush_operations.rs, its core: STORAGE FLUSH TABLE answers
// "Job ID: <id>", the job completes in system.jobs with a message, and the
// rows stay readable from the cold tier.
func TestSmokeFlushTableJob(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.sql(t, s.Root, "CREATE NAMESPACE smoke_flush")
	s.sql(t, s.Root, "CREATE SHARED TABLE smoke_flush.t (id BIGINT PRIMARY KEY, v TEXT)")
	s.sql(t, s.Root, "INSERT INTO smoke_flush.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	out := message(s.sql(t, s.Root, "STORAGE FLUSH TABLE smoke_flush.t"))
	id, ok := parseJobIDFromFlushOutput(out)
	if !ok || !strings.HasPrefix(out, "Storage flush started for table 'smoke_flush.t'. Job ID: FL-") {
		t.Fatalf("flush output %q", out)
	}
	for {
		recs, err := s.Root.Records(ctx, "SELECT status, message FROM system.jobs WHERE job_id = '"+id+"'")
		if err != nil || len(recs) != 1 {
			t.Fatalf("job %s: %v, %v", id, recs, err)
		}
		if st := recs[0].String("status"); st == "completed" {
			if !strings.Contains(recs[0].String("message"), "3 row(s)") {
				t.Errorf("job message %q", recs[0].String("message"))
			}
			break
		} else if st == "failed" || ctx.Err() != nil {
			t.Fatalf("job %s: %v", id, recs[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rows, err := s.Root.Rows(ctx, "SELECT v FROM smoke_flush.t ORDER BY id"); err != nil || fmt.Sprint(rows) != "[[a] [b] [c]]" {
		t.Fatalf("after flush: %v, %v", rows, err)
	}
}

// smoke_test_subscription_delete.rs: smoke_subscription_receives_delete_event.
func TestSmokeSubscriptionReceivesDeleteEvent(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	full := "smoke_del.sub_del"
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS smoke_del")
	s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id BIGINT AUTO_INCREMENT PRIMARY KEY,
            content VARCHAR NOT NULL
        ) WITH (TYPE='USER')`)
	s.sql(t, s.Root, "INSERT INTO "+full+" (content) VALUES ('to_be_deleted')")
	ws := connectWS(t, s, s.Token)
	ws.subscribe("sub", "SELECT * FROM "+full)
	s.sql(t, s.Root, "INSERT INTO "+full+" (content) VALUES ('live_insert')")
	if got := ws.notifications(1); len(got) != 1 || got[0].ChangeType != "INSERT" || got[0].Data["content"] != "live_insert" {
		t.Fatalf("expected INSERT change event for 'live_insert': %+v", got)
	}
	s.sql(t, s.Root, "DELETE FROM "+full+" WHERE content = 'to_be_deleted'")
	got := ws.notifications(2)
	if len(got) != 2 || got[1].ChangeType != "DELETE" || got[1].Data["content"] != "to_be_deleted" {
		t.Fatalf("DELETE event should include the deleted row data ('to_be_deleted'): %+v", got)
	}
	s.sql(t, s.Root, "DROP NAMESPACE smoke_del CASCADE")
}
