package upstream

// Port of impersonating/smoke_test_as_user_chat_impersonation.rs
// (v0.4.3-rc.4): a chat where a service writes AS USER into a regular
// user's USER and STREAM tables while the user's subscriptions watch.
// Outputs the original reads from the CLI are cliText; its listener is
// eventListener (smoke_listener_test.go).

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// chatFixture is the original's ChatFixture: three tables and three
// users (user names are their user ids here).
type chatFixture struct {
	s                               *server
	conversations, messages, typing string
	regular, service, other         string
	regularC, serviceC, otherC      *client.Client
	regularToken                    string
	convID, assistantID, userMsgID  int
	assistantText                   string
}

func setupChatFixture(t *testing.T, s *server, suffix string) *chatFixture {
	t.Helper()
	ns := "smoke_imp_chat_" + suffix
	f := &chatFixture{s: s, conversations: ns + ".conversations", messages: ns + ".messages", typing: ns + ".typing_indicators",
		regular: "imp_user_" + suffix, service: "imp_service_" + suffix, other: "imp_other_" + suffix,
		convID: 1001, userMsgID: 2001, assistantID: 2002, assistantText: "Service response via AS USER"}
	s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+ns)
	s.sql(t, s.Root, "CREATE TABLE "+f.conversations+" (id BIGINT PRIMARY KEY, title TEXT, created_by TEXT) WITH (TYPE='USER')")
	s.sql(t, s.Root, "CREATE TABLE "+f.messages+" (id BIGINT PRIMARY KEY, conversation_id BIGINT, sender TEXT, role TEXT, content TEXT, status TEXT) WITH (TYPE='USER')")
	s.sql(t, s.Root, "CREATE TABLE "+f.typing+" (id BIGINT PRIMARY KEY, conversation_id BIGINT, user_name TEXT, is_typing BOOLEAN, state TEXT) WITH (TYPE='STREAM', TTL_SECONDS=3600)")
	const password = "test_pass_123"
	for user, role := range map[string]string{f.regular: "user", f.service: "service", f.other: "user"} {
		s.sql(t, s.Root, fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' ROLE '%s'", user, password, role))
	}
	for _, u := range []string{f.regular, f.other} {
		if recs := records(t, s.Root, "SELECT user_id FROM system.users WHERE user_id = '"+u+"'"); len(recs) != 1 {
			t.Fatalf("Failed to get user_id of %s: %v", u, recs)
		}
	}
	f.regularC, f.regularToken = s.login(t, f.regular, password)
	f.serviceC, _ = s.login(t, f.service, password)
	f.otherC, _ = s.login(t, f.other, password)
	return f
}

// as runs sql as c (the original's execute_sql_via_client_as, which
// expects success) and returns what the CLI prints.
func (f *chatFixture) as(t *testing.T, c *client.Client, sql string) string {
	t.Helper()
	return cliText(f.s.sql(t, c, sql))
}

// waitQueryContains is the original's wait_for_query_contains_with, as the
// regular user.
func (f *chatFixture) waitQueryContains(t *testing.T, sql, want string, timeout time.Duration) (string, error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := f.as(t, f.regularC, sql)
		if strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("%q not in %s", want, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// listenAsRegular is AuthSubscriptionListener::start as the regular user.
func (f *chatFixture) listenAsRegular(t *testing.T, query string) *eventListener {
	return listen(t, f.s, f.regularToken, fmt.Sprintf("chat_%d", time.Now().UnixNano()), query, nil)
}

// baseFlow is the original's run_base_chat_flow_with_impersonation.
func (f *chatFixture) baseFlow(t *testing.T) {
	t.Helper()
	f.as(t, f.regularC, fmt.Sprintf("INSERT INTO %s (id, title, created_by) VALUES (%d, 'Conversation', '%s')", f.conversations, f.convID, f.regular))
	f.as(t, f.regularC, fmt.Sprintf("INSERT INTO %s (id, conversation_id, sender, role, content, status) VALUES (%d, %d, '%s', 'user', 'Hello from regular user', 'sent')", f.messages, f.userMsgID, f.convID, f.regular))
	typing := f.listenAsRegular(t, fmt.Sprintf("SELECT * FROM %s WHERE conversation_id = %d", f.typing, f.convID))
	time.Sleep(350 * time.Millisecond)
	for _, v := range []struct {
		id    int
		state string
	}{{3001, "thinking"}, {3002, "typing"}} {
		f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (INSERT INTO %s (id, conversation_id, user_name, is_typing, state) VALUES (%d, %d, 'AI Assistant', true, '%s'))", f.regular, f.typing, v.id, f.convID, v.state))
	}
	if _, err := typing.waitFor([]string{"thinking", "typing"}, 12*time.Second); err != nil {
		q := fmt.Sprintf("SELECT state FROM %s WHERE conversation_id = %d", f.typing, f.convID)
		out, ferr := f.waitQueryContains(t, q, "thinking", 12*time.Second)
		if ferr != nil {
			out, ferr = f.waitQueryContains(t, q, "typing", 12*time.Second)
		}
		if ferr != nil {
			t.Fatalf("Regular user should receive typing signal via subscription or persisted rows: subscription error: %v; fallback error: %v", err, ferr)
		}
		t.Logf("typing signal only through the fallback query: %s", out)
	}
	typing.stop()
	messages := f.listenAsRegular(t, fmt.Sprintf("SELECT * FROM %s WHERE conversation_id = %d", f.messages, f.convID))
	time.Sleep(350 * time.Millisecond)
	if _, err := messages.waitFor([]string{fmt.Sprint(f.userMsgID), "hello from regular user"}, 12*time.Second); err != nil {
		out := f.as(t, f.regularC, fmt.Sprintf("SELECT id, content FROM %s WHERE id = %d", f.messages, f.userMsgID))
		if !strings.Contains(out, fmt.Sprint(f.userMsgID)) && !strings.Contains(strings.ToLower(out), "hello from regular user") {
			t.Fatalf("Regular user subscription should see initial own message: %v. Fallback result: %s", err, out)
		}
	}
	f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (INSERT INTO %s (id, conversation_id, sender, role, content, status) VALUES (%d, %d, 'AI Assistant', 'assistant', '%s', 'sent'))", f.regular, f.messages, f.assistantID, f.convID, f.assistantText))
	if out := f.as(t, f.regularC, fmt.Sprintf("SELECT id, role, content FROM %s WHERE id = %d", f.messages, f.assistantID)); !strings.Contains(out, fmt.Sprint(f.assistantID)) && !strings.Contains(out, f.assistantText) {
		t.Fatalf("AS USER insert should be visible in regular user scope: %s", out)
	}
	if _, err := messages.waitFor([]string{fmt.Sprint(f.assistantID), "service response via as user", "ai assistant"}, 12*time.Second); err != nil {
		out := f.as(t, f.regularC, fmt.Sprintf("SELECT id, content FROM %s WHERE id = %d", f.messages, f.assistantID))
		if !strings.Contains(out, fmt.Sprint(f.assistantID)) && !strings.Contains(strings.ToLower(out), "service response via as user") {
			t.Fatalf("Regular user should receive inserted assistant message in subscription: %v. Fallback result: %s", err, out)
		}
	}
	messages.stop()
}

func (f *chatFixture) regularSeesBoth(t *testing.T) {
	t.Helper()
	out := f.as(t, f.regularC, fmt.Sprintf("SELECT role, content FROM %s WHERE conversation_id = %d ORDER BY id", f.messages, f.convID))
	if !strings.Contains(out, "Hello from regular user") || !strings.Contains(out, f.assistantText) {
		t.Fatalf("Regular user should see both own and service messages: %s", out)
	}
}

func (f *chatFixture) otherSeesNothing(t *testing.T) {
	t.Helper()
	out := f.as(t, f.otherC, fmt.Sprintf("SELECT role, content FROM %s WHERE conversation_id = %d ORDER BY id", f.messages, f.convID))
	if strings.Contains(out, "Hello from regular user") || strings.Contains(out, f.assistantText) {
		t.Fatalf("Other user should not see regular user's messages: %s", out)
	}
}

// cleanup is the original's ChatFixture::cleanup.
func (f *chatFixture) cleanup(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, sql := range []string{"DROP USER IF EXISTS " + f.regular, "DROP USER IF EXISTS " + f.service, "DROP USER IF EXISTS " + f.other,
		"DROP TABLE IF EXISTS " + f.typing, "DROP TABLE IF EXISTS " + f.messages, "DROP TABLE IF EXISTS " + f.conversations} {
		_, _ = f.s.Root.SQL(ctx, sql)
	}
}

// impersonating/smoke_test_as_user_chat_impersonation.rs: its four tests.
func TestSmokeAsUserChatImpersonation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("smoke_as_user_chat_insert_and_select_flow", func(t *testing.T) {
		f := setupChatFixture(t, s, "insert_select")
		f.baseFlow(t)
		f.regularSeesBoth(t)
		out := f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (SELECT role, content FROM %s WHERE conversation_id = %d ORDER BY id)", f.regular, f.messages, f.convID))
		if !strings.Contains(out, "Hello from regular user") || !strings.Contains(out, f.assistantText) {
			t.Fatalf("Service SELECT AS USER should return regular user scoped rows: %s", out)
		}
		f.otherSeesNothing(t)
		f.cleanup(t)
	})
	t.Run("smoke_as_user_chat_select_scope_for_different_user", func(t *testing.T) {
		f := setupChatFixture(t, s, "select_scope")
		f.baseFlow(t)
		out := f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (SELECT role, content FROM %s WHERE conversation_id = %d ORDER BY id)", f.other, f.messages, f.convID))
		if strings.Contains(out, "Hello from regular user") || strings.Contains(out, f.assistantText) {
			t.Fatalf("Service SELECT AS USER for unrelated user should be empty: %s", out)
		}
		f.cleanup(t)
	})
	t.Run("smoke_as_user_chat_update_flow", func(t *testing.T) {
		f := setupChatFixture(t, s, "update")
		f.baseFlow(t)
		l := f.listenAsRegular(t, fmt.Sprintf("SELECT * FROM %s WHERE conversation_id = %d", f.messages, f.convID))
		time.Sleep(350 * time.Millisecond)
		if _, err := l.waitFor([]string{fmt.Sprint(f.assistantID), "service response via as user"}, 6*time.Second); err != nil {
			q := fmt.Sprintf("SELECT id, content FROM %s WHERE id = %d", f.messages, f.assistantID)
			if _, ferr := f.waitQueryContains(t, q, fmt.Sprint(f.assistantID), 12*time.Second); ferr != nil {
				t.Fatalf("Regular user update listener should receive initial message snapshot before update: %v. Fallback: %v", err, ferr)
			}
		}
		f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (UPDATE %s SET content = 'Service response updated', status = 'delivered' WHERE id = %d)", f.regular, f.messages, f.assistantID))
		if _, err := l.waitFor([]string{"updated", "delivered", "service response updated"}, 12*time.Second); err != nil {
			t.Fatalf("Regular user should receive updated message in subscription: %v", err)
		}
		l.stop()
		if out := f.as(t, f.regularC, fmt.Sprintf("SELECT content, status FROM %s WHERE id = %d", f.messages, f.assistantID)); !strings.Contains(out, "Service response updated") || !strings.Contains(out, "delivered") {
			t.Fatalf("Updated assistant message should be visible to regular user: %s", out)
		}
		if out := f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (SELECT content, status FROM %s WHERE id = %d)", f.regular, f.messages, f.assistantID)); !strings.Contains(out, "Service response updated") || !strings.Contains(out, "delivered") {
			t.Fatalf("Service SELECT AS USER should reflect updated values: %s", out)
		}
		f.otherSeesNothing(t)
		f.cleanup(t)
	})
	t.Run("smoke_as_user_chat_delete_flow", func(t *testing.T) {
		f := setupChatFixture(t, s, "delete")
		f.baseFlow(t)
		f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (DELETE FROM %s WHERE id = %d)", f.regular, f.messages, f.assistantID))
		out := f.as(t, f.regularC, fmt.Sprintf("SELECT role, content FROM %s WHERE conversation_id = %d ORDER BY id", f.messages, f.convID))
		if !strings.Contains(out, "Hello from regular user") || strings.Contains(out, f.assistantText) {
			t.Fatalf("Deleted assistant message should no longer be visible: %s", out)
		}
		out = f.as(t, f.serviceC, fmt.Sprintf("EXECUTE AS USER '%s' (SELECT role, content FROM %s WHERE conversation_id = %d ORDER BY id)", f.regular, f.messages, f.convID))
		if !strings.Contains(out, "Hello from regular user") || strings.Contains(out, f.assistantText) {
			t.Fatalf("Service SELECT AS USER should reflect deleted assistant message: %s", out)
		}
		f.otherSeesNothing(t)
		f.cleanup(t)
	})
}
