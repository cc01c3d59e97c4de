package upstream

// Port of impersonating/smoke_test_as_user_impersonation.rs (v0.4.3-rc.4).

import (
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// impersonation/smoke_test_as_user_impersonation.rs: its eight tests.
func TestSmokeAsUserImpersonation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const password = "test_pass_123"
	users := map[string]*client.Client{}
	user := func(t *testing.T, name, role string) *client.Client {
		if c, ok := users[name]; ok {
			return c
		}
		s.sql(t, s.Root, "CREATE USER "+name+" WITH PASSWORD '"+password+"' ROLE '"+role+"'")
		c, _ := s.login(t, name, password)
		users[name] = c
		return c
	}
	table := func(t *testing.T, ns, def string) string { return s.freshTable(t, ns, ns+".t", def) }
	must := func(t *testing.T, c *client.Client, sql string) string {
		t.Helper()
		out, err := trySQL(c, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	t.Run("smoke_as_user_blocked_for_regular_user", func(t *testing.T) {
		full := table(t, "smoke_as_user_blocked", "(id BIGINT PRIMARY KEY, name VARCHAR) WITH (TYPE='USER')")
		regular := user(t, "regular", "user")
		user(t, "target", "user")
		_, err := trySQL(regular, "EXECUTE AS USER 'target' (INSERT INTO "+full+" (id, name) VALUES (1, 'Test'))")
		if err == nil {
			t.Fatal("Regular user should NOT be able to use AS USER")
		}
		if msg := strings.ToLower(err.Error()); !strings.Contains(msg, "not authorized") && !strings.Contains(msg, "unauthorized") && !strings.Contains(msg, "permission") {
			t.Fatalf("Error should mention authorization: %s", msg)
		}
	})
	t.Run("smoke_as_user_insert_with_service_role", func(t *testing.T) {
		full := table(t, "smoke_as_user_svc_insert", "(id BIGINT PRIMARY KEY, amount VARCHAR) WITH (TYPE='USER')")
		svc := user(t, "service", "service")
		target := user(t, "target", "user")
		must(t, svc, "EXECUTE AS USER 'target' (INSERT INTO "+full+" (id, amount) VALUES (100, '99.99'))")
		if out := must(t, target, "SELECT * FROM "+full); !strings.Contains(out, "99.99") {
			t.Fatalf("Target user should see the impersonated insert: %s", out)
		}
	})
	t.Run("smoke_as_user_update_with_dba_role", func(t *testing.T) {
		full := table(t, "smoke_as_user_dba_update", "(id BIGINT PRIMARY KEY, status VARCHAR) WITH (TYPE='USER')")
		dba := user(t, "dba", "dba")
		target := user(t, "target", "user")
		must(t, dba, "EXECUTE AS USER 'target' (INSERT INTO "+full+" (id, status) VALUES (1, 'active'))")
		must(t, dba, "EXECUTE AS USER 'target' (UPDATE "+full+" SET status = 'inactive' WHERE id = 1)")
		if out := must(t, target, "SELECT * FROM "+full+" WHERE id = 1"); !strings.Contains(out, "inactive") {
			t.Fatalf("Status should be updated to 'inactive': %s", out)
		}
	})
	t.Run("smoke_as_user_delete_with_dba_role", func(t *testing.T) {
		full := table(t, "smoke_as_user_dba_delete", "(id BIGINT PRIMARY KEY, active BOOLEAN) WITH (TYPE='USER')")
		dba := user(t, "dba", "dba")
		target := user(t, "target", "user")
		must(t, dba, "EXECUTE AS USER 'target' (INSERT INTO "+full+" (id, active) VALUES (1, true))")
		if out := must(t, target, "SELECT * FROM "+full); !strings.Contains(out, "true") {
			t.Fatalf("Record should exist before delete: %s", out)
		}
		must(t, dba, "EXECUTE AS USER 'target' (DELETE FROM "+full+" WHERE id = 1)")
		if rows := s.sql(t, target, "SELECT * FROM "+full).Results[0].Rows; len(rows) != 0 {
			t.Fatalf("Record should be deleted: %v", rows)
		}
	})
	t.Run("smoke_as_user_rejected_on_shared_table", func(t *testing.T) {
		full := table(t, "smoke_as_user_shared_reject", "(config_key VARCHAR PRIMARY KEY, config_value VARCHAR) WITH (TYPE='SHARED')")
		dba := user(t, "dba", "dba")
		user(t, "target", "user")
		_, err := trySQL(dba, "EXECUTE AS USER 'target' (INSERT INTO "+full+" (config_key, config_value) VALUES ('k1', 'v1'))")
		if err == nil {
			t.Fatal("AS USER should be rejected on SHARED tables")
		}
		if msg := strings.ToLower(err.Error()); !strings.Contains(msg, "shared") && !strings.Contains(msg, "as user") {
			t.Fatalf("Error should mention SHARED tables or AS USER restriction: %s", msg)
		}
	})
	t.Run("smoke_as_user_full_workflow", func(t *testing.T) {
		full := table(t, "smoke_as_user_full_workflow", "(id BIGINT PRIMARY KEY, title VARCHAR, done BOOLEAN) WITH (TYPE='USER')")
		svc := user(t, "service", "service")
		alice, bob := user(t, "alice", "user"), user(t, "bob", "user")
		must(t, svc, "EXECUTE AS USER 'alice' (INSERT INTO "+full+" (id, title, done) VALUES (1, 'Alice Task 1', false))")
		must(t, svc, "EXECUTE AS USER 'alice' (INSERT INTO "+full+" (id, title, done) VALUES (2, 'Alice Task 2', false))")
		must(t, svc, "EXECUTE AS USER 'bob' (INSERT INTO "+full+" (id, title, done) VALUES (10, 'Bob Task 1', false))")
		if out := must(t, alice, "SELECT * FROM "+full+" ORDER BY id"); !strings.Contains(out, "Alice Task 1") || !strings.Contains(out, "Alice Task 2") || strings.Contains(out, "Bob Task") {
			t.Fatalf("Alice should see her tasks only: %s", out)
		}
		if out := must(t, bob, "SELECT * FROM "+full+" ORDER BY id"); !strings.Contains(out, "Bob Task 1") || strings.Contains(out, "Alice Task") {
			t.Fatalf("Bob should see his task only: %s", out)
		}
		must(t, svc, "EXECUTE AS USER 'alice' (UPDATE "+full+" SET done = true WHERE id = 1)")
		if out := must(t, alice, "SELECT * FROM "+full+" WHERE id = 1"); !strings.Contains(out, "true") {
			t.Fatalf("Task 1 should be marked as done: %s", out)
		}
		must(t, svc, "EXECUTE AS USER 'alice' (DELETE FROM "+full+" WHERE id = 2)")
		if out := must(t, alice, "SELECT * FROM "+full); strings.Contains(out, "Alice Task 2") || !strings.Contains(out, "Alice Task 1") {
			t.Fatalf("Task 2 should be deleted and task 1 kept: %s", out)
		}
	})
	t.Run("smoke_as_user_select_scopes_reads_for_user_tables", func(t *testing.T) {
		full := table(t, "smoke_as_user_select_scope_user", "(id BIGINT PRIMARY KEY, body VARCHAR) WITH (TYPE='USER')")
		svc := user(t, "service", "service")
		user(t, "user1", "user")
		u2 := user(t, "user2", "user")
		must(t, svc, "EXECUTE AS USER 'user1' (INSERT INTO "+full+" (id, body) VALUES (1, 'u1-only'))")
		must(t, svc, "EXECUTE AS USER 'user2' (INSERT INTO "+full+" (id, body) VALUES (2, 'u2-only'))")
		// A service's own SELECT reads every user's rows, as the original's.
		if all := must(t, svc, "SELECT * FROM "+full+" ORDER BY id"); !strings.Contains(all, "u1-only") || !strings.Contains(all, "u2-only") {
			t.Fatalf("service SELECT should see every user's rows: %s", all)
		}
		if out := must(t, svc, "EXECUTE AS USER 'user1' (SELECT * FROM "+full+" ORDER BY id)"); !strings.Contains(out, "u1-only") || strings.Contains(out, "u2-only") {
			t.Fatalf("SELECT AS USER user1: %s", out)
		}
		if out := must(t, u2, "SELECT * FROM "+full+" ORDER BY id"); !strings.Contains(out, "u2-only") || strings.Contains(out, "u1-only") {
			t.Fatalf("user2's own SELECT: %s", out)
		}
	})
	t.Run("smoke_as_user_stream_table_isolation", func(t *testing.T) {
		full := table(t, "smoke_as_user_select_scope_stream", "(id BIGINT PRIMARY KEY, payload VARCHAR) WITH (TYPE='STREAM', TTL_SECONDS=3600)")
		svc := user(t, "service", "service")
		user(t, "user1", "user")
		u2 := user(t, "user2", "user")
		must(t, svc, "EXECUTE AS USER 'user1' (INSERT INTO "+full+" (id, payload) VALUES (1, 'stream-u1'))")
		if out := must(t, u2, "SELECT * FROM "+full); strings.Contains(out, "stream-u1") {
			t.Fatalf("user2 sees user1's stream row: %s", out)
		}
		if out := must(t, svc, "EXECUTE AS USER 'user1' (SELECT * FROM "+full+")"); !strings.Contains(out, "stream-u1") {
			t.Fatalf("SELECT AS USER user1 on stream: %s", out)
		}
		if out := must(t, svc, "EXECUTE AS USER 'user2' (SELECT * FROM "+full+")"); strings.Contains(out, "stream-u1") {
			t.Fatalf("SELECT AS USER user2 on stream sees user1's row: %s", out)
		}
	})
}
