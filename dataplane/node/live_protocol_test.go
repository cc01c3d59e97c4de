package node

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestLiveMalformedMessages: broken client messages close that connection
// with a protocol error (after an error message saying why); the server
// and other connections are unharmed.
func TestLiveMalformedMessages(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.WebSocket.MaxMessageBytes = 4096 })
	_, alice, _ := setupChat(t, n)
	bystander := dialWS(t, n, alice)
	bystander.subscribeAll("b", "SELECT * FROM chat.messages", nil)

	cases := []struct {
		name      string
		send      func(w *wsClient)
		code      string
		closeCode websocket.StatusCode
	}{
		{"invalid json", func(w *wsClient) { w.sendRaw([]byte(`{"type":"subscribe",`)) }, "PROTOCOL", websocket.StatusProtocolError},
		{"not an object", func(w *wsClient) { w.sendRaw([]byte(`[1,2,3]`)) }, "PROTOCOL", websocket.StatusProtocolError},
		{"trailing data", func(w *wsClient) { w.sendRaw([]byte(`{"type":"ping"} {"type":"ping"}`)) }, "PROTOCOL", websocket.StatusProtocolError},
		{"unknown type", func(w *wsClient) { w.send(map[string]any{"type": "explode"}) }, "PROTOCOL", websocket.StatusProtocolError},
		{"wrong field type", func(w *wsClient) { w.sendRaw([]byte(`{"type":"subscribe","subscription":{"id":5,"sql":"x"}}`)) }, "PROTOCOL", websocket.StatusProtocolError},
		{"subscribe without subscription", func(w *wsClient) { w.send(map[string]any{"type": "subscribe"}) }, "PROTOCOL", websocket.StatusProtocolError},
		{"binary frame", func(w *wsClient) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = w.c.Write(ctx, websocket.MessageBinary, []byte{0x81, 0xff, 0x00})
		}, "UNSUPPORTED_DATA", websocket.StatusUnsupportedData},
		{"too large", func(w *wsClient) { w.sendRaw([]byte(`{"type":"ping","pad":"` + strings.Repeat("x", 5000) + `"}`)) }, "MESSAGE_TOO_LARGE", websocket.StatusMessageTooBig},
		{"invalid utf8", func(w *wsClient) {
			w.sendRaw([]byte("{\"type\":\"subscribe\",\"subscription\":{\"id\":\"\xff\xfe\",\"sql\":1}}"))
		}, "PROTOCOL", websocket.StatusProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := dialWS(t, n, alice)
			tc.send(w)
			code, msgs := w.closeStatus(10 * time.Second)
			if code != tc.closeCode {
				t.Fatalf("close code %v, want %v (messages %d)", code, tc.closeCode, len(msgs))
			}
			if len(msgs) != 1 || msgs[0].Type != "error" || msgs[0].Code != tc.code || msgs[0].SubscriptionID != "protocol" {
				t.Fatalf("messages before close: %v", msgs)
			}
		})
	}
	// Semantic errors keep the connection open.
	w := dialWS(t, n, alice)
	for _, bad := range []struct{ id, sql, code string }{
		{"", "SELECT * FROM chat.messages", "INVALID_SUBSCRIPTION_ID"},
		{"   ", "SELECT * FROM chat.messages", "INVALID_SUBSCRIPTION_ID"},
		{"x1", "SELECT * FROM chat.nope", "NOT_FOUND"},
		{"x2", "SELECT nope FROM chat.messages", "NOT_FOUND"},
		{"x3", "SELECT * FROM chat.messages ORDER BY id", "INVALID_SQL"},
		{"x4", "SELECT * FROM chat.messages WHERE id IN (SELECT 1)", "INVALID_SQL"},
		{"x5", "SELECT _seq FROM chat.messages", "INVALID_SQL"},
		{"x6", "SELECT * FROM chat.messages WHERE no_such_column = 1", "INVALID_SQL"},
		{"x7", "DELETE FROM chat.messages WHERE id = 1", "INVALID_SQL"},
		{"x8", "SELECT * FROM chat.messages WHERE id = $1", "INVALID_SQL"},
	} {
		w.subscribe(bad.id, bad.sql, nil)
		e := w.expect("error")
		if e.Code != bad.code {
			t.Errorf("subscribe %q %q: got %s", bad.id, bad.sql, e.raw)
		}
	}
	w.subscribe("o", "SELECT * FROM chat.messages", map[string]any{"batch_size": 10, "last_rows": 11})
	if e := w.expect("error"); e.Code != "INVALID_SQL" || !strings.Contains(e.Message, "last_rows") {
		t.Fatalf("%s", e.raw)
	}
	w.subscribe("o", "SELECT * FROM chat.messages", map[string]any{"from": "not-a-number"})
	if e := w.expect("error"); e.Code != "INVALID_SQL" {
		t.Fatalf("%s", e.raw)
	}
	w.send(map[string]any{"type": "next_batch", "subscription_id": "missing"})
	if e := w.expect("error"); e.Code != "INVALID_SUBSCRIPTION_ID" {
		t.Fatalf("%s", e.raw)
	}
	w.subscribeAll("dup", "SELECT * FROM chat.messages", nil)
	w.subscribe("dup", "SELECT * FROM chat.messages", nil)
	if e := w.expect("error"); e.Code != "INVALID_SUBSCRIPTION_ID" {
		t.Fatalf("%s", e.raw)
	}
	// The server still works for everyone.
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room) VALUES (1, 'r')")
	if c := bystander.expect("change"); c.ChangeType != "insert" {
		t.Fatalf("%s", c.raw)
	}
	if c := w.expect("change"); c.SubscriptionID != "dup" {
		t.Fatalf("%s", c.raw)
	}
	dialWS(t, n, alice).subscribeAll("again", "SELECT * FROM chat.messages", nil)
}

// TestLiveAuth covers Bearer on the upgrade, the authenticate message,
// bad tokens, messages before authentication, the auth and idle
// timeouts, and revocation of a connected user's tokens.
func TestLiveAuth(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.WebSocket.AuthTimeoutSeconds = 1
		c.WebSocket.IdleTimeoutSeconds = 2
	})
	_, alice, _ := setupChat(t, n)

	// Bearer on the upgrade: auth_success arrives unprompted.
	h := http.Header{}
	h.Set("Authorization", "Bearer "+alice.Token)
	w := dialRaw(t, n, &websocket.DialOptions{HTTPHeader: h})
	if m := w.expect("auth_success"); m.User != "alice" || m.Role != "user" {
		t.Fatalf("%s", m.raw)
	}
	w.subscribeAll("s", "SELECT * FROM chat.messages", nil)

	for _, tc := range []struct {
		name string
		msg  any
		code string
	}{
		{"bad token", map[string]any{"type": "authenticate", "method": "jwt", "token": "nope"}, "UNAUTHORIZED"},
		{"subscribe first", map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "s", "sql": "SELECT 1"}}, "AUTH_REQUIRED"},
		{"unknown serialization", map[string]any{"type": "authenticate", "method": "jwt", "token": alice.Token, "protocol": map[string]string{"serialization": "cbor"}}, "UNSUPPORTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dialRaw(t, n, nil)
			w.send(tc.msg)
			code, msgs := w.closeStatus(10 * time.Second)
			if code != websocket.StatusPolicyViolation || len(msgs) != 1 || msgs[0].Type != "auth_error" || msgs[0].Code != tc.code {
				t.Fatalf("close %v, messages %v", code, msgs)
			}
		})
	}
	// Bad Bearer header.
	h.Set("Authorization", "Bearer garbage")
	bad := dialRaw(t, n, &websocket.DialOptions{HTTPHeader: h})
	if code, msgs := bad.closeStatus(10 * time.Second); code != websocket.StatusPolicyViolation || len(msgs) != 1 || msgs[0].Code != "UNAUTHORIZED" {
		t.Fatalf("bad bearer: %v %v", code, msgs)
	}
	// Silence before authenticating.
	quiet := dialRaw(t, n, nil)
	if code, msgs := quiet.closeStatus(10 * time.Second); code != websocket.StatusPolicyViolation || len(msgs) != 1 || msgs[0].Code != "AUTH_TIMEOUT" {
		t.Fatalf("auth timeout: %v %v", code, msgs)
	}
	// Idle: pings keep a connection open, silence closes it.
	pinger := dialWS(t, n, alice)
	idle := dialWS(t, n, alice)
	for i := 0; i < 6; i++ {
		time.Sleep(500 * time.Millisecond)
		pinger.send(map[string]any{"type": "ping"})
	}
	if code, msgs := idle.closeStatus(10 * time.Second); code != websocket.StatusPolicyViolation || len(msgs) != 1 || msgs[0].Code != "IDLE_TIMEOUT" {
		t.Fatalf("idle: %v %v", code, msgs)
	}
	pinger.subscribeAll("still", "SELECT * FROM chat.messages", nil)

	// Revocation: a password change closes the user's open connections.
	mustSQL(t, alice, "ALTER USER alice SET PASSWORD 'alice-pass-2'")
	code, msgs := pinger.closeStatus(10 * time.Second)
	if code != websocket.StatusPolicyViolation || len(msgs) == 0 || msgs[len(msgs)-1].Code != "AUTH_REVOKED" {
		t.Fatalf("revocation: %v %v", code, msgs)
	}
}

// TestLiveLimitsAndCompression: subscriptions per connection and per
// user, the message rate limit, and gzip for large payloads.
func TestLiveLimitsAndCompression(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.WebSocket.MaxSubscriptionsPerConnection = 3
		c.WebSocket.MaxSubscriptionsPerUser = 4
		c.WebSocket.MaxMessagesPerSecond = 20
	})
	_, alice, bob := setupChat(t, n)
	w1, w2 := dialWS(t, n, alice), dialWS(t, n, alice)
	for i := 0; i < 3; i++ {
		w1.subscribeAll(fmt.Sprint("s", i), "SELECT * FROM chat.messages", nil)
	}
	w1.subscribe("s3", "SELECT * FROM chat.messages", nil)
	if e := w1.expect("error"); e.Code != "SUBSCRIPTION_LIMIT_EXCEEDED" || !strings.Contains(e.Message, "per connection") {
		t.Fatalf("%s", e.raw)
	}
	w2.subscribeAll("t0", "SELECT * FROM chat.messages", nil)
	w2.subscribe("t1", "SELECT * FROM chat.messages", nil)
	if e := w2.expect("error"); e.Code != "SUBSCRIPTION_LIMIT_EXCEEDED" || !strings.Contains(e.Message, "per user") {
		t.Fatalf("%s", e.raw)
	}
	// Ending one frees a slot.
	w1.send(map[string]any{"type": "unsubscribe", "subscription_id": "s0"})
	time.Sleep(100 * time.Millisecond)
	w2.subscribeAll("t1", "SELECT * FROM chat.messages", nil)
	// Other users are not affected by alice's limit.
	dialWS(t, n, bob).subscribeAll("b", "SELECT * FROM chat.messages", nil)

	// Rate limit: a burst over the limit is answered with errors, and the
	// connection stays usable.
	w3 := dialWS(t, n, bob)
	for i := 0; i < 40; i++ {
		w3.send(map[string]any{"type": "ping"})
	}
	if e := w3.expect("error"); e.Code != "RATE_LIMIT_EXCEEDED" || e.SubscriptionID != "rate_limit" {
		t.Fatalf("%s", e.raw)
	}

	// gzip: negotiated in authenticate; payloads >= 512 B arrive as
	// binary gzip frames, small ones as text.
	raw := dialRaw(t, n, nil)
	raw.c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+n.Addr()+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	auth, _ := json.Marshal(map[string]any{"type": "authenticate", "method": "jwt", "token": bob.Token,
		"protocol": map[string]string{"serialization": "json", "compression": "gzip"}})
	if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
		t.Fatal(err)
	}
	if typ, data, err := c.Read(ctx); err != nil || typ != websocket.MessageText || !strings.Contains(string(data), `"compression":"gzip"`) {
		t.Fatalf("auth_success: %v %s %v", typ, data, err)
	}
	mustSQL(t, bob, "INSERT INTO chat.messages (id, room, body) VALUES (1, 'r', '"+strings.Repeat("z", 2000)+"')")
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "g", "sql": "SELECT * FROM chat.messages"}})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	var sawBinary bool
	for i := 0; i < 2; i++ {
		typ, data, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ == websocket.MessageBinary {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
			sawBinary = true
			if !strings.Contains(string(data), `"initial_data_batch"`) || !strings.Contains(string(data), strings.Repeat("z", 2000)) {
				t.Fatalf("gzip payload %s", data[:min(len(data), 200)])
			}
		}
	}
	if !sawBinary {
		t.Fatal("no gzip frame for a 2 KB initial batch")
	}
}

// TestLiveSQLSurface: SUBSCRIBE TO over HTTP answers with a ws_url built
// from the request's host; system.live lists subscriptions; KILL LIVE
// QUERY ends one (own only, unless admin); dropping the table ends its
// subscriptions; shutdown closes connections with "going away".
func TestLiveSQLSurface(t *testing.T) {
	n := startNode(t, t.TempDir())
	root, alice, bob := setupChat(t, n)

	res := mustSQL(t, alice, "SUBSCRIBE TO chat.messages WHERE room = 'general' OPTIONS (last_rows = 10, from = 5)")
	r := res.Results[0]
	if len(r.Rows) != 1 || r.Schema[1].Name != "ws_url" {
		t.Fatalf("SUBSCRIBE TO: %+v", r)
	}
	row := r.Rows[0]
	if row[0] != "active" || row[1] != "ws://"+n.Addr()+"/v1/ws" || !strings.HasPrefix(row[2].(string), "sub-") ||
		row[3] != `SELECT * FROM "chat"."messages" WHERE room = 'general'` || row[4] != `{"from":"5","last_rows":10}` {
		t.Fatalf("SUBSCRIBE TO row %v", row)
	}
	// The advertised SQL subscribes as is.
	w := dialWS(t, n, alice)
	w.subscribeAll("general", row[3].(string), nil)
	wantCode(t, alice, "NOT_FOUND", 400, "SUBSCRIBE TO chat.nope")
	wantCode(t, alice, "INVALID_SQL", 400, "SUBSCRIBE TO chat.messages OPTIONS (bogus = 1)")
	wantCode(t, alice, "INVALID_SQL", 400, "SUBSCRIBE TO chat.messages WHERE a = 1 ORDER BY a")

	wb := dialWS(t, n, bob)
	wb.subscribeAll("mine", "SELECT * FROM chat.messages", nil)
	rows := mustRows(t, root, "SELECT live_id, user_id, subscription_id, namespace_id, table_name, status, query FROM system.live ORDER BY user_id")
	if len(rows) != 2 || rows[0][1] != "alice" || rows[0][2] != "general" || rows[0][3] != "chat" || rows[0][4] != "messages" || rows[0][5] != "active" || rows[1][1] != "bob" {
		t.Fatalf("system.live: %v", rows)
	}
	aliceLive, bobLive := rows[0][0].(string), rows[1][0].(string)
	wantCode(t, alice, "PERMISSION_DENIED", 403, "SELECT * FROM system.live")
	// A user cannot kill someone else's subscription (and cannot tell it exists).
	wantCode(t, alice, "NOT_FOUND", 400, "KILL LIVE QUERY '"+bobLive+"'")
	mustSQL(t, alice, "KILL LIVE QUERY '"+aliceLive+"'")
	if e := w.expect("error"); e.Code != "KILLED" || e.SubscriptionID != "general" {
		t.Fatalf("%s", e.raw)
	}
	mustSQL(t, root, "KILL LIVE QUERY '"+bobLive+"'")
	if e := wb.expect("error"); e.Code != "KILLED" {
		t.Fatalf("%s", e.raw)
	}
	wantCode(t, root, "NOT_FOUND", 400, "KILL LIVE QUERY '"+bobLive+"'")
	if rows := mustRows(t, root, "SELECT * FROM system.live"); len(rows) != 0 {
		t.Fatalf("system.live after kills: %v", rows)
	}

	// Dropping the table ends its subscriptions.
	wb.subscribeAll("again", "SELECT * FROM chat.messages", nil)
	mustSQL(t, root, "DROP TABLE chat.messages")
	if e := wb.expect("error"); e.Code != "NOT_FOUND" || e.SubscriptionID != "again" {
		t.Fatalf("%s", e.raw)
	}

	// Shutdown: every connection is told and closed with 1001.
	wb.subscribe("x", "SELECT * FROM chat.nope", nil)
	wb.expect("error")
	closed := make(chan error, 1)
	go func() { closed <- n.Close() }()
	code, msgs := wb.closeStatus(10 * time.Second)
	if code != websocket.StatusGoingAway || len(msgs) != 1 || msgs[0].Code != "SHUTDOWN" {
		t.Fatalf("shutdown: %v %v", code, msgs)
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
}

// TestLiveEndpointGuards: public_origin drives SUBSCRIBE TO's ws_url,
// max_connections and allowed_origins refuse upgrades with HTTP errors.
func TestLiveEndpointGuards(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.Server.PublicOrigin = "https://db.example.com"
		c.WebSocket.MaxConnections = 1
		c.WebSocket.AllowedOrigins = []string{"app.example.com"}
	})
	_, alice, _ := setupChat(t, n)
	res := mustSQL(t, alice, "SUBSCRIBE TO chat.messages")
	if url := res.Results[0].Rows[0][1]; url != "wss://db.example.com/v1/ws" {
		t.Fatalf("ws_url %v", url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A foreign browser origin is refused.
	h := http.Header{}
	h.Set("Origin", "https://evil.example.org")
	if _, resp, err := websocket.Dial(ctx, wsURL(n), &websocket.DialOptions{HTTPHeader: h}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", resp, err)
	}
	h.Set("Origin", "https://app.example.com")
	first := dialRaw(t, n, &websocket.DialOptions{HTTPHeader: h})
	// The one slot is taken: the next upgrade gets 503.
	if _, resp, err := websocket.Dial(ctx, wsURL(n), nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("over max_connections: %v %v", resp, err)
	}
	first.c.CloseNow()
	// The slot is released when the connection ends.
	deadline := time.Now().Add(5 * time.Second)
	for n.Live().Stats().Attached > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	dialWS(t, n, alice)
}
