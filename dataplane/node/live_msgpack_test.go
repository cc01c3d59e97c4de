package node

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/live/wire"
)

// mpFrame is one server frame as a MessagePack client sees it.
type mpFrame struct {
	typ  websocket.MessageType
	gz   bool   // the payload was gzip-compressed
	body []byte // the payload after gunzip (MessagePack when binary)
	json []byte // body, transcoded to JSON when binary
	msg  wsMsg
}

// dialMsgpack connects a raw client (no reader goroutine: reads are
// synchronous, so frame types can be checked one by one).
func dialMsgpack(t *testing.T, url string, h http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// readFrame reads one frame and decodes it as a client would: binary
// frames starting with the gzip magic are gunzipped, then binary payloads
// must be a msgpack map and are transcoded to JSON.
func readFrame(t *testing.T, c *websocket.Conn) (mpFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		return mpFrame{}, err
	}
	f := mpFrame{typ: typ, body: data, json: data}
	if typ == websocket.MessageBinary {
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("gzip: %v", err)
			}
			if f.body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			f.gz = true
		}
		if b := f.body[0]; !(b >= 0x80 && b <= 0x8f || b == 0xde || b == 0xdf) {
			t.Fatalf("binary payload is not a msgpack map: % x", f.body[:min(len(f.body), 16)])
		}
		if f.json, err = wire.AppendJSONFromMsgpack(nil, f.body); err != nil {
			t.Fatalf("server sent invalid msgpack: %v", err)
		}
	}
	if err := json.Unmarshal(f.json, &f.msg); err != nil {
		t.Fatalf("frame %s: %v", f.json, err)
	}
	f.msg.raw = f.json
	return f, nil
}

// expectMP reads the next frame and checks its message type and that it
// is a binary (msgpack) frame.
func expectMP(t *testing.T, c *websocket.Conn, typ string) mpFrame {
	t.Helper()
	f, err := readFrame(t, c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if f.msg.Type != typ || f.typ != websocket.MessageBinary {
		t.Fatalf("want binary %s, got %v %s", typ, f.typ, f.json)
	}
	return f
}

// sendMP sends v as MessagePack in a binary frame.
func sendMP(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := wire.AppendMsgpackFromJSON(nil, j)
	if err != nil {
		t.Fatal(err)
	}
	sendFrame(t, c, websocket.MessageBinary, mp)
}

func sendFrame(t *testing.T, c *websocket.Conn, typ websocket.MessageType, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// authMP authenticates with the authenticate message (JSON, text) and
// checks the JSON text auth_success reporting the protocol.
func authMP(t *testing.T, c *websocket.Conn, token, compression string) {
	t.Helper()
	auth, _ := json.Marshal(map[string]any{"type": "authenticate", "method": "jwt", "token": token,
		"protocol": map[string]string{"serialization": "msgpack", "compression": compression}})
	sendFrame(t, c, websocket.MessageText, auth)
	expectAuthSuccess(t, c, compression)
}

func expectAuthSuccess(t *testing.T, c *websocket.Conn, compression string) {
	t.Helper()
	f, err := readFrame(t, c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	want := `"protocol":{"serialization":"msgpack","compression":"` + compression + `"}`
	if f.typ != websocket.MessageText || f.msg.Type != "auth_success" || !strings.Contains(string(f.json), want) {
		t.Fatalf("want a text auth_success with %s, got %v %s", want, f.typ, f.json)
	}
}

// closeCode reads until the connection ends; it returns the close status
// and the frames read before.
func closeCode(t *testing.T, c *websocket.Conn) (websocket.StatusCode, []mpFrame) {
	t.Helper()
	var got []mpFrame
	for range 100 {
		f, err := readFrame(t, c)
		if err != nil {
			return websocket.CloseStatus(err), got
		}
		got = append(got, f)
	}
	t.Fatal("connection not closed")
	return 0, nil
}

// TestLiveMsgpack: MessagePack negotiated by the authenticate message and
// by ?serialization=msgpack with a Bearer header; the auth exchange stays
// JSON text; subscribe in a msgpack binary frame; subscription_ack,
// initial_data_batch, errors and an insert's change event arrive as
// binary msgpack maps with the right values (BIGINT ids and _seq as
// strings, INT as an integer); a JSON text frame is still accepted.
func TestLiveMsgpack(t *testing.T) {
	n := startNodeWith(t, nil)
	_, alice, _ := setupChat(t, n)
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (1, 'r', 'hello', 7)")

	c := dialMsgpack(t, wsURL(n), nil)
	authMP(t, c, alice.Token, "none")
	sendMP(t, c, map[string]any{"type": "subscribe", "subscription": map[string]any{
		"id": "m", "sql": "SELECT * FROM chat.messages", "options": map[string]any{"batch_size": 10}}})
	ack := expectMP(t, c, "subscription_ack")
	if ack.msg.SubscriptionID != "m" || len(ack.msg.Schema) != 6 || ack.msg.Schema[5].Name != "_seq" {
		t.Fatalf("ack %s", ack.json)
	}
	batch := expectMP(t, c, "initial_data_batch")
	if len(batch.msg.Rows) != 1 || batch.msg.BatchControl == nil || batch.msg.BatchControl.Status != "ready" {
		t.Fatalf("batch %s", batch.json)
	}
	r := batch.msg.Rows[0]
	if r["id"] != "1" || r["room"] != "r" || r["body"] != "hello" || r["score"] != 7.0 || r["tags"] != nil {
		t.Fatalf("row %v", r)
	}
	rowSeq(t, r) // _seq present, as a decimal string
	// INT travels as a msgpack integer (positive fixint 7), not a float.
	if !bytes.Contains(batch.body, []byte("\xa5score\x07")) {
		t.Fatalf("score not a fixint: % x", batch.body)
	}

	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (382711920304820224, 'r2', 'hi', -40)")
	ch := expectMP(t, c, "change")
	if ch.msg.ChangeType != "insert" || len(ch.msg.Rows) != 1 {
		t.Fatalf("change %s", ch.json)
	}
	r = ch.msg.Rows[0]
	if r["id"] != "382711920304820224" || r["room"] != "r2" || r["score"] != -40.0 {
		t.Fatalf("change row %v", r)
	}
	if rowSeq(t, r) <= rowSeq(t, batch.msg.Rows[0]) {
		t.Fatalf("_seq not increasing: %s", ch.json)
	}
	// Errors after the exchange are msgpack too.
	sendMP(t, c, map[string]any{"type": "next_batch", "subscription_id": "missing"})
	if e := expectMP(t, c, "error"); e.msg.Code != "INVALID_SUBSCRIPTION_ID" {
		t.Fatalf("%s", e.json)
	}
	// A JSON text frame is accepted from a msgpack client; the reply is
	// msgpack.
	sendFrame(t, c, websocket.MessageText, []byte(`{"type":"subscribe","subscription":{"id":"t","sql":"SELECT id FROM chat.messages WHERE room = 'r2'"}}`))
	expectMP(t, c, "subscription_ack")
	if b := expectMP(t, c, "initial_data_batch"); len(b.msg.Rows) != 1 || b.msg.Rows[0]["id"] != "382711920304820224" {
		t.Fatalf("%s", b.json)
	}

	// Bearer header with ?serialization=msgpack: auth_success arrives
	// unprompted, as JSON text.
	h := http.Header{}
	h.Set("Authorization", "Bearer "+alice.Token)
	b := dialMsgpack(t, wsURL(n)+"&serialization=msgpack", h)
	expectAuthSuccess(t, b, "none")
	sendMP(t, b, map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "b", "sql": "SELECT * FROM chat.messages"}})
	expectMP(t, b, "subscription_ack")
	if bb := expectMP(t, b, "initial_data_batch"); len(bb.msg.Rows) != 2 {
		t.Fatalf("%s", bb.json)
	}
	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id = 1")
	for _, conn := range []*websocket.Conn{c, b} {
		if d := expectMP(t, conn, "change"); d.msg.ChangeType != "delete" || len(d.msg.OldValues) != 1 || d.msg.OldValues[0]["id"] != "1" {
			t.Fatalf("%s", d.json)
		}
	}
	// An unknown serialization is still refused.
	bad := dialMsgpack(t, wsURL(n)+"&serialization=cbor", h)
	if code, frames := closeCode(t, bad); code != websocket.StatusPolicyViolation || len(frames) != 1 || frames[0].msg.Code != "UNSUPPORTED" {
		t.Fatalf("cbor: %v %v", code, frames)
	}
}

// TestLiveMsgpackGzip: with msgpack and gzip negotiated, a large initial
// batch arrives as a binary frame with the gzip magic that gunzips to a
// msgpack map; a small message is msgpack without gzip.
func TestLiveMsgpackGzip(t *testing.T) {
	n := startNodeWith(t, nil)
	_, alice, _ := setupChat(t, n)
	big := strings.Repeat("z", 2000)
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body) VALUES (1, 'r', '"+big+"')")
	c := dialMsgpack(t, "ws://"+n.Addr()+"/v1/ws", nil)
	authMP(t, c, alice.Token, "gzip")
	sendMP(t, c, map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "g", "sql": "SELECT * FROM chat.messages"}})
	ack := expectMP(t, c, "subscription_ack")
	if ack.gz != (len(ack.body) >= 512) {
		t.Fatalf("ack of %d bytes: gzip %v", len(ack.body), ack.gz)
	}
	batch := expectMP(t, c, "initial_data_batch")
	if !batch.gz || len(batch.msg.Rows) != 1 || batch.msg.Rows[0]["body"] != big {
		t.Fatalf("gzip %v, batch %.200s", batch.gz, batch.json)
	}
	sendMP(t, c, map[string]any{"type": "next_batch", "subscription_id": "missing"})
	if e := expectMP(t, c, "error"); e.gz {
		t.Fatalf("small error gzipped: %s", e.json)
	}
}

// TestLiveMsgpackMalformed: a malformed msgpack frame closes the
// connection with a protocol error (the error itself in msgpack); binary
// frames are refused on a JSON connection and before authentication; the
// server keeps serving new msgpack connections.
func TestLiveMsgpackMalformed(t *testing.T) {
	n := startNodeWith(t, nil)
	_, alice, _ := setupChat(t, n)
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"truncated", []byte{0x82, 0xa4, 't', 'y', 'p', 'e'}},
		{"non-string key", []byte{0x81, 0x01, 0xc0}},
		{"ext value", []byte{0x81, 0xa1, 'a', 0xd4, 0x01, 0x02}},
		{"trailing bytes", []byte{0x81, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'p', 'i', 'n', 'g', 0xc0}},
		{"huge declared length", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}},
		{"not a map", []byte{0x93, 0x01, 0x02, 0x03}},
		{"never-used byte", []byte{0xc1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialMsgpack(t, wsURL(n), nil)
			authMP(t, c, alice.Token, "none")
			sendFrame(t, c, websocket.MessageBinary, tc.frame)
			code, frames := closeCode(t, c)
			if code != websocket.StatusProtocolError || len(frames) != 1 || frames[0].typ != websocket.MessageBinary ||
				frames[0].msg.Type != "error" || frames[0].msg.Code != "PROTOCOL" || frames[0].msg.SubscriptionID != "protocol" {
				t.Fatalf("close %v, frames %v", code, frames)
			}
		})
	}
	// A valid msgpack frame on a JSON connection is refused as before.
	valid, _ := wire.AppendMsgpackFromJSON(nil, []byte(`{"type":"ping"}`))
	w := dialWS(t, n, alice)
	sendFrame(t, w.c, websocket.MessageBinary, valid)
	if code, msgs := w.closeStatus(10 * time.Second); code != websocket.StatusUnsupportedData || len(msgs) != 1 || msgs[0].Code != "UNSUPPORTED_DATA" {
		t.Fatalf("json connection: %v %v", code, msgs)
	}
	// So is a binary frame before authenticating (authenticate is text).
	pre := dialMsgpack(t, wsURL(n), nil)
	sendFrame(t, pre, websocket.MessageBinary, valid)
	if code, frames := closeCode(t, pre); code != websocket.StatusUnsupportedData || len(frames) != 1 || frames[0].typ != websocket.MessageText || frames[0].msg.Code != "UNSUPPORTED_DATA" {
		t.Fatalf("before auth: %v %v", code, frames)
	}
	// The server still serves msgpack clients.
	c := dialMsgpack(t, wsURL(n), nil)
	authMP(t, c, alice.Token, "none")
	sendMP(t, c, map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "ok", "sql": "SELECT * FROM chat.messages"}})
	expectMP(t, c, "subscription_ack")
	expectMP(t, c, "initial_data_batch")
}
