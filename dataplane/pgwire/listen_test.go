package pgwire_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// waitChange waits for a "change" notification and returns its payload.
func waitChange(t *testing.T, c *pgx.Conn, channel string, within time.Duration) (map[string]any, bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		n, err := c.WaitForNotification(ctx)
		cancel()
		if err != nil {
			return nil, false
		}
		if n.Channel != channel {
			t.Fatalf("notification on channel %q, want %q", n.Channel, channel)
		}
		var msg map[string]any
		if err := json.Unmarshal([]byte(n.Payload), &msg); err != nil {
			t.Fatalf("payload is not JSON: %q", n.Payload)
		}
		if msg["type"] == "change" {
			return msg, true
		}
	}
	return nil, false
}

// TestListenOnSubscription opens a SUBSCRIBE TO subscription with LISTEN
// and receives change events as NotificationResponse payloads, scoped to
// the listening user like the WebSocket.
func TestListenOnSubscription(t *testing.T) {
	n := startNode(t)
	root := connect(t, n, "root", rootPW)
	mustExec(t, root, `CREATE USER alice WITH PASSWORD 'alice-password-1' ROLE user`)
	mustExec(t, root, `CREATE USER bob WITH PASSWORD 'bob-password-12' ROLE user`)
	mustExec(t, root, `CREATE USER TABLE default.ev (id BIGINT PRIMARY KEY, body TEXT)`)
	a := connect(t, n, "alice", "alice-password-1")
	b := connect(t, n, "bob", "bob-password-12")
	var subID, sqlText string
	var status, wsURL, opts string
	if err := a.QueryRow(tctx(t), `SUBSCRIBE TO default.ev WHERE id > 10`).Scan(&status, &wsURL, &subID, &sqlText, &opts); err != nil {
		t.Fatal(err)
	}
	mustExec(t, a, `LISTEN "`+subID+`"`)
	// Bob's row is in his own partition; the filter drops id <= 10.
	mustExec(t, b, `INSERT INTO ev (id, body) VALUES (50, 'bob')`)
	mustExec(t, root, `INSERT INTO ev (id, body) VALUES (51, 'root')`)
	a2 := connect(t, n, "alice", "alice-password-1")
	mustExec(t, a2, `INSERT INTO ev (id, body) VALUES (5, 'filtered out')`)
	mustExec(t, a2, `INSERT INTO ev (id, body) VALUES (42, 'hello')`)
	msg, ok := waitChange(t, a, subID, 10*time.Second)
	if !ok {
		t.Fatal("no change notification")
	}
	raw, _ := json.Marshal(msg)
	if !strings.Contains(string(raw), `"hello"`) || strings.Contains(string(raw), "bob") || strings.Contains(string(raw), "filtered out") {
		t.Fatalf("unexpected change payload %s", raw)
	}
	if _, more := waitChange(t, a, subID, 500*time.Millisecond); more {
		t.Fatal("a change alice must not see was delivered")
	}
	mustExec(t, a, `UNLISTEN *`)
	_, err := a.Exec(tctx(t), `LISTEN nosuch`)
	wantSQLState(t, err, "42704")
}
