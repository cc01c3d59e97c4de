package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestLiveSubscribeOnLaggingReplica: a WebSocket subscription to a table
// that was just created through other replicas, sent to a replica that
// has not applied the CREATE yet, is accepted — the replica catches up on
// the meta group (ReadIndex) before it would answer NOT_FOUND. The lag is
// made real: the replica is SIGSTOPped while the table is created through
// the other two, the subscribe message waits in its socket, and it is
// resumed; the Raft messages that bring the table wait in its sockets too,
// and applying them takes an fsync, while planning the subscription takes
// microseconds.
func TestLiveSubscribeOnLaggingReplica(t *testing.T) {
	c := startCluster(t, 1)
	all := c.loginAll(30 * time.Second)
	ctx := context.Background()
	for round := range 3 {
		meta := c.leaderOf(all, "meta")
		if meta == 0 {
			t.Fatal("no meta leader")
		}
		lag := c.procs[meta%3] // a follower of meta
		via := all[meta-1]
		hdr := http.Header{}
		hdr.Set("Authorization", "Bearer "+all[lag.id-1].Token)
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		conn, _, err := websocket.Dial(dctx, strings.Replace(lag.url, "http://", "ws://", 1)+"/v1/ws?compress=false", &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		table := fmt.Sprintf("default.lagging%d", round)
		c.signal(lag, syscall.SIGSTOP)
		if _, err := via.SQL(ctx, "CREATE SHARED TABLE "+table+" (id BIGINT PRIMARY KEY, v TEXT)"); err != nil {
			c.signal(lag, syscall.SIGCONT)
			t.Fatal(err)
		}
		sub, _ := json.Marshal(map[string]any{"type": "subscribe", "subscription": map[string]any{
			"id": "s", "sql": "SELECT * FROM " + table, "options": map[string]any{}}})
		werr := conn.Write(dctx, websocket.MessageText, sub)
		c.signal(lag, syscall.SIGCONT)
		if werr != nil {
			t.Fatal(werr)
		}
		for {
			_, data, err := conn.Read(dctx)
			if err != nil {
				t.Fatalf("round %d: reading from node %d: %v", round, lag.id, err)
			}
			var m struct{ Type, Code, Message string }
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			if m.Type == "error" {
				t.Fatalf("round %d: subscribe on lagging node %d: %s %s", round, lag.id, m.Code, m.Message)
			}
			if m.Type == "subscription_ack" {
				break
			}
		}
		conn.Close(websocket.StatusNormalClosure, "done")
		cancel()
	}
}
