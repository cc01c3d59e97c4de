package upstream

// A port of the original's WebSocket live-query tests,
// backend/tests/integration/combined/test_live_query_changes.rs (T196-T205,
// run by backend/tests/ws_tests.sh; see README.md): the same tables,
// statements, counts and assertions, through our WebSocket protocol. The
// original's harness cannot run them (they are compiled out and nine of ten
// connect to a fixed ws://localhost:8080/ws while their server is
// in-process); here each test gets a fresh server, like its TestServer::new().
// One deviation: where the original sleeps a fixed time and then counts,
// these wait until the expected count arrives (at most 10 s) and then for
// 300 ms more, so a slow shared machine cannot fail them and extra
// notifications are still caught.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// notification is the original test client's view of one changed row.
type notification struct {
	ChangeType string         // INSERT, UPDATE or DELETE
	Data       map[string]any // the row (for a delete: the deleted row)
	OldValues  map[string]any // an update's old values
}

// wsClient is the original's WebSocketClient: connect, subscribe, collect.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	mu   sync.Mutex
	got  []notification
	raw  []string // every message after the initial data, as received
	done chan struct{}
}

// connectWS opens /v1/ws and authenticates with token.
func connectWS(t *testing.T, s *server, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.URL, "http", "ws", 1)+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20)
	c := &wsClient{t: t, conn: conn, done: make(chan struct{})}
	c.send(map[string]any{"type": "authenticate", "method": "jwt", "token": token})
	if m := c.read(ctx); m["type"] != "auth_success" {
		t.Fatalf("authenticate: %v", m)
	}
	t.Cleanup(func() { c.disconnect() })
	return c
}

func (c *wsClient) send(m map[string]any) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read(ctx context.Context) map[string]any {
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatal(err)
	}
	return m
}

// subscribe subscribes, waits until the initial data is complete, and then
// collects change notifications in the background. It returns the initial
// data's rows.
func (c *wsClient) subscribe(id, sql string) (initial []map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": id, "sql": sql}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		m := c.read(ctx)
		if m["type"] == "error" {
			c.t.Fatalf("subscribe %s: %v", sql, m)
		}
		if m["type"] == "initial_data_batch" {
			rows, _ := m["rows"].([]any)
			for _, r := range rows {
				if r, ok := r.(map[string]any); ok {
					initial = append(initial, r)
				}
			}
		}
		if bc, ok := m["batch_control"].(map[string]any); ok && m["type"] == "initial_data_batch" && bc["status"] == "ready" {
			break
		}
	}
	go c.collect()
	return initial
}

func (c *wsClient) collect() {
	defer close(c.done)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m struct {
			Type       string           `json:"type"`
			ChangeType string           `json:"change_type"`
			Rows       []map[string]any `json:"rows"`
			OldValues  []map[string]any `json:"old_values"`
		}
		c.mu.Lock()
		c.raw = append(c.raw, string(b))
		c.mu.Unlock()
		if json.Unmarshal(b, &m) != nil || m.Type != "change" {
			continue
		}
		c.mu.Lock()
		switch m.ChangeType {
		case "insert":
			for _, r := range m.Rows {
				c.got = append(c.got, notification{ChangeType: "INSERT", Data: r})
			}
		case "update":
			for i, r := range m.Rows {
				n := notification{ChangeType: "UPDATE", Data: r}
				if i < len(m.OldValues) {
					n.OldValues = m.OldValues[i]
				}
				c.got = append(c.got, n)
			}
		case "delete":
			for _, r := range m.OldValues {
				c.got = append(c.got, notification{ChangeType: "DELETE", Data: r})
			}
		}
		c.mu.Unlock()
	}
}

// notifications waits until at least want notifications arrived (at most
// 10 s) and 300 ms more, and returns them all.
func (c *wsClient) notifications(want int) []notification {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := len(c.got)
		c.mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notification(nil), c.got...)
}

func (c *wsClient) disconnect() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.done
}

// wsFixture is the original's setup_test_table: namespace test_ns and
// user1's USER table test_ns.messages, created by user1, with no primary key.
type wsFixture struct {
	s     *server
	user  *client.Client
	token string
}

func setupTestTable(t *testing.T) *wsFixture {
	t.Helper()
	s := startServer(t)
	s.sql(t, s.Root, "CREATE USER user1 WITH PASSWORD 'user1-password' ROLE user")
	s.sql(t, s.Root, "CREATE NAMESPACE test_ns")
	user, token := s.login(t, "user1", "user1-password")
	s.sql(t, user, `CREATE USER TABLE test_ns.messages (
            id TEXT,
            content TEXT,
            priority INT,
            created_at BIGINT
        ) STORAGE local`)
	return &wsFixture{s: s, user: user, token: token}
}

// subscribedAll is setup_test_table plus one client subscribed to
// SELECT * FROM test_ns.messages, the start of most of the tests.
func subscribedAll(t *testing.T) (*wsFixture, *wsClient) {
	t.Helper()
	f := setupTestTable(t)
	ws := connectWS(t, f.s, f.token)
	ws.subscribe("messages", "SELECT * FROM test_ns.messages")
	return f, ws
}

// insertThen is T197/T198: subscribe, insert one row (values), wait
// 100 ms, run then, and return the notifications and the first of kind.
func insertThen(t *testing.T, values, then, kind string) ([]notification, *notification) {
	t.Helper()
	f, ws := subscribedAll(t)
	f.exec(t, `INSERT INTO test_ns.messages (id, content, priority, created_at)
               VALUES (`+values+`)`)
	time.Sleep(100 * time.Millisecond)
	f.exec(t, then)
	got := ws.notifications(2)
	if len(got) < 2 {
		t.Fatalf("Expected INSERT and %s notifications, got %+v", kind, got)
	}
	for i := range got {
		if got[i].ChangeType == kind {
			return got, &got[i]
		}
	}
	t.Fatalf("Should have %s notification: %+v", kind, got)
	return nil, nil
}

// insertRange inserts msg<from>..msg<to-1> as the original's loops do.
func (f *wsFixture) insertRange(t *testing.T, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		f.insertMsg(t, fmt.Sprintf("msg%d", i), fmt.Sprintf("Content %d", i), i%10)
	}
}

// unique fails the test on two notifications for the same id.
func unique(t *testing.T, got []notification) {
	t.Helper()
	seen := map[any]bool{}
	for _, n := range got {
		if seen[n.Data["id"]] {
			t.Fatalf("Duplicate notification for ID: %v", n.Data["id"])
		}
		seen[n.Data["id"]] = true
	}
}

func (f *wsFixture) exec(t *testing.T, sql string) {
	t.Helper()
	f.s.sql(t, f.user, sql)
}

func (f *wsFixture) insertMsg(t *testing.T, id string, content string, priority int) {
	t.Helper()
	f.exec(t, fmt.Sprintf(`INSERT INTO test_ns.messages (id, content, priority, created_at)
               VALUES ('%s', '%s', %d, %d)`, id, content, priority, time.Now().UnixMilli()))
}

// T196
func TestLiveQueryDetectsInserts(t *testing.T) {
	t.Parallel()
	f := setupTestTable(t)
	ws := connectWS(t, f.s, f.token)
	ws.subscribe("messages", "SELECT * FROM test_ns.messages WHERE created_at > 0")
	f.insertRange(t, 0, 100)
	got := ws.notifications(100)
	if len(got) != 100 {
		t.Fatalf("Expected 100 INSERT notifications, got %d", len(got))
	}
	for _, n := range got {
		if n.ChangeType != "INSERT" || n.Data["id"] == nil || n.Data["content"] == nil {
			t.Fatalf("notification %+v", n)
		}
	}
}

// T197
func TestLiveQueryDetectsUpdates(t *testing.T) {
	t.Parallel()
	_, upd := insertThen(t, "'msg1', 'Original', 5, 1000",
		`UPDATE test_ns.messages SET content = 'Updated', priority = 10 WHERE id = 'msg1'`, "UPDATE")
	if upd.Data["content"] != "Updated" || upd.Data["priority"] != float64(10) {
		t.Errorf("new values %v", upd.Data)
	}
	if upd.OldValues != nil && (upd.OldValues["content"] != "Original" || upd.OldValues["priority"] != float64(5)) {
		t.Errorf("old values %v", upd.OldValues)
	}
}

// T198
func TestLiveQueryDetectsDeletes(t *testing.T) {
	t.Parallel()
	got, del := insertThen(t, "'msg1', 'To be deleted', 1, 1000",
		`DELETE FROM test_ns.messages WHERE id = 'msg1'`, "DELETE")
	if del.Data["_deleted"] != true {
		t.Errorf("_deleted flag should be true: %v", del.Data)
	}
	if del.Data["id"] != "msg1" {
		t.Errorf("id %v, want msg1", del.Data["id"])
	}
	if got[0].Data["_deleted"] != false {
		t.Errorf("an insert's _deleted should be false: %v", got[0].Data)
	}
}

// T199
func TestConcurrentWritersNoMessageLoss(t *testing.T) {
	t.Parallel()
	f, ws := subscribedAll(t)
	var wg sync.WaitGroup
	for w := 0; w < 5; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := f.user.SQL(ctx, fmt.Sprintf(`INSERT INTO test_ns.messages (id, content, priority, created_at)
                       VALUES ('writer%d_msg%d', 'Writer %d Row %d', %d, %d)`, w, i, w, i, i%10, time.Now().UnixMilli()))
				cancel()
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got := ws.notifications(100)
	if len(got) != 100 {
		t.Fatalf("Should receive all 100 notifications without loss, got %d", len(got))
	}
	unique(t, got)
}

// T200
func TestAIMessageScenario(t *testing.T) {
	t.Parallel()
	f, ws := subscribedAll(t)
	for i := 0; i < 50; i++ {
		f.exec(t, fmt.Sprintf(`INSERT INTO test_ns.messages (id, content, priority, created_at)
               VALUES ('ai_msg%d', 'AI Response %d', 1, %d)`, i, i, time.Now().UnixMilli()))
		time.Sleep(10 * time.Millisecond)
	}
	got := ws.notifications(50)
	if len(got) != 50 {
		t.Fatalf("Human client should receive all AI messages, got %d", len(got))
	}
	prev := -1
	for _, n := range got {
		var id int
		if _, err := fmt.Sscanf(n.Data["id"].(string), "ai_msg%d", &id); err != nil || id <= prev {
			t.Fatalf("Messages should be in chronological order: %v after %d", n.Data["id"], prev)
		}
		prev = id
	}
}

// T201
func TestMixedOperationsOrdering(t *testing.T) {
	t.Parallel()
	f, ws := subscribedAll(t)
	f.exec(t, `INSERT INTO test_ns.messages (id, content, priority, created_at)
               VALUES ('msg1', 'First', 1, 1000)`)
	time.Sleep(50 * time.Millisecond)
	f.exec(t, `UPDATE test_ns.messages SET content = 'Updated' WHERE id = 'msg1'`)
	time.Sleep(50 * time.Millisecond)
	f.exec(t, `DELETE FROM test_ns.messages WHERE id = 'msg1'`)
	got := ws.notifications(3)
	if len(got) < 3 {
		t.Fatalf("Should have INSERT, UPDATE, DELETE notifications: %+v", got)
	}
	for i, want := range []string{"INSERT", "UPDATE", "DELETE"} {
		if got[i].ChangeType != want {
			t.Errorf("notification %d is %s, want %s", i, got[i].ChangeType, want)
		}
	}
}

// T202
func TestChangesCounterAccuracy(t *testing.T) {
	t.Parallel()
	f, ws := subscribedAll(t)
	f.insertRange(t, 0, 50)
	ws.notifications(50)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs, err := f.s.Root.Records(ctx, "SELECT live_id, changes FROM system.live_queries WHERE user_id = 'user1'")
	if err != nil || len(recs) == 0 {
		t.Fatalf("system.live_queries: %v, %v", recs, err)
	}
	if n := recs[0].Int("changes"); n != 50 {
		t.Errorf("Changes counter should be 50, got %d", n)
	}
}

// T203
func TestMultipleListenersSameTable(t *testing.T) {
	t.Parallel()
	f := setupTestTable(t)
	var clients []*wsClient
	for i := 0; i < 3; i++ {
		clients = append(clients, connectWS(t, f.s, f.token))
	}
	for _, c := range clients {
		c.subscribe("messages", "SELECT * FROM test_ns.messages")
	}
	f.insertRange(t, 0, 10)
	for i, c := range clients {
		if n := len(c.notifications(10)); n != 10 {
			t.Errorf("Client %d should receive all notifications, got %d", i+1, n)
		}
	}
}

// T204
func TestListenerReconnectNoDataLoss(t *testing.T) {
	t.Parallel()
	f, ws := subscribedAll(t)
	f.insertRange(t, 0, 10)
	if n := len(ws.notifications(10)); n != 10 {
		t.Fatalf("first connection: %d notifications, want 10", n)
	}
	ws.disconnect()
	ws2 := connectWS(t, f.s, f.token)
	ws2.subscribe("messages", "SELECT * FROM test_ns.messages")
	f.insertRange(t, 10, 20)
	if n := len(ws2.notifications(10)); n != 10 {
		t.Errorf("New subscription should receive new data: %d notifications, want 10", n)
	}
}

// T205
func TestHighFrequencyChanges(t *testing.T) {
	t.Parallel()
	f, ws := subscribedAll(t)
	f.insertRange(t, 0, 1000)
	got := ws.notifications(1000)
	if len(got) != 1000 {
		t.Fatalf("Should receive all 1000 notifications even at high frequency, got %d", len(got))
	}
	unique(t, got)
}
