package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// wsMsg is any server message, decoded loosely.
type wsMsg struct {
	Type           string           `json:"type"`
	SubscriptionID string           `json:"subscription_id"`
	ChangeType     string           `json:"change_type"`
	Rows           []map[string]any `json:"rows"`
	OldValues      []map[string]any `json:"old_values"`
	DeletedRows    []map[string]any `json:"deleted_rows"`
	Code           string           `json:"code"`
	Message        string           `json:"message"`
	User           string           `json:"user"`
	Role           string           `json:"role"`
	BatchControl   *struct {
		BatchNum  int    `json:"batch_num"`
		HasMore   bool   `json:"has_more"`
		Status    string `json:"status"`
		LastSeqID string `json:"last_seq_id"`
	} `json:"batch_control"`
	Schema []struct {
		Name     string `json:"name"`
		DataType string `json:"data_type"`
	} `json:"schema"`
	raw []byte
}

// wsClient is a real WebSocket client (coder/websocket) for tests. A
// reader goroutine (stopped by closing the connection, which t.Cleanup
// does) feeds msgs: a read with a deadline would close the connection.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan wsMsg
	done chan struct{}
	err  error // read error, valid after done is closed
	// paused stops the reader from reading (the socket backs up).
	paused chan chan struct{}
}

func wsURL(n *Node) string { return "ws://" + n.Addr() + "/v1/ws?compress=false" }

// dialWS connects and authenticates with the authenticate message.
func dialWS(t *testing.T, n *Node, hc *client.Client) *wsClient {
	t.Helper()
	w := dialRaw(t, n, nil)
	w.send(map[string]any{"type": "authenticate", "method": "jwt", "token": hc.Token,
		"protocol": map[string]string{"serialization": "json", "compression": "none"}})
	if m := w.recv(); m.Type != "auth_success" {
		t.Fatalf("want auth_success, got %s", m.raw)
	}
	return w
}

// dialRaw connects without authenticating.
func dialRaw(t *testing.T, n *Node, opts *websocket.DialOptions) *wsClient {
	t.Helper()
	return dialURL(t, wsURL(n), opts)
}

func dialURL(t *testing.T, url string, opts *websocket.DialOptions) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(64 << 20)
	w := &wsClient{t: t, c: c, msgs: make(chan wsMsg, 4096), done: make(chan struct{}), paused: make(chan chan struct{}, 1)}
	go w.readLoop()
	t.Cleanup(func() {
		c.CloseNow()
		<-w.done
	})
	return w
}

func (w *wsClient) readLoop() {
	defer close(w.done)
	for {
		select {
		case resume := <-w.paused:
			<-resume
		default:
		}
		_, data, err := w.c.Read(context.Background())
		if err != nil {
			w.err = err
			return
		}
		var m wsMsg
		if err := json.Unmarshal(data, &m); err != nil {
			m = wsMsg{Type: "<invalid json>"}
		}
		m.raw = data
		w.msgs <- m
	}
}

// pause stops reading after the next message arrives (the reader is
// blocked in Read until then); the returned func resumes.
func (w *wsClient) pause() (resume func()) {
	ch := make(chan struct{})
	w.paused <- ch
	return func() { close(ch) }
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	w.sendRaw(b)
}

func (w *wsClient) sendRaw(b []byte) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// recvErr returns the next message within d; the error is the
// connection's read error once it is closed and drained.
func (w *wsClient) recvErr(d time.Duration) (wsMsg, error) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case m := <-w.msgs:
		return m, nil
	case <-w.done:
		select {
		case m := <-w.msgs:
			return m, nil
		default:
			return wsMsg{}, w.err
		}
	case <-tm.C:
		return wsMsg{}, errTimeout
	}
}

var errTimeout = errors.New("timeout")

func (w *wsClient) recv() wsMsg {
	w.t.Helper()
	m, err := w.recvErr(15 * time.Second)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return m
}

// expect reads the next message and checks its type.
func (w *wsClient) expect(typ string) wsMsg {
	w.t.Helper()
	m := w.recv()
	if m.Type != typ {
		w.t.Fatalf("want %s, got %s", typ, m.raw)
	}
	return m
}

// expectFor is expect, skipping change messages of other subscriptions.
func (w *wsClient) expectFor(id, typ string) wsMsg {
	w.t.Helper()
	for {
		m := w.recv()
		if m.Type == "change" && m.SubscriptionID != id {
			continue
		}
		if m.Type != typ || m.SubscriptionID != id {
			w.t.Fatalf("want %s for %s, got %s", typ, id, m.raw)
		}
		return m
	}
}

// expectNothing checks that no message arrives within d.
func (w *wsClient) expectNothing(d time.Duration) {
	w.t.Helper()
	if m, err := w.recvErr(d); err == nil {
		w.t.Fatalf("unexpected message %s", m.raw)
	} else if err != errTimeout {
		w.t.Fatalf("connection failed: %v", err)
	}
}

func (w *wsClient) subscribe(id, sql string, opts map[string]any) {
	w.t.Helper()
	if opts == nil {
		opts = map[string]any{}
	}
	w.send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": id, "sql": sql, "options": opts}})
}

// subscribeAll subscribes and pulls every initial-data batch, returning
// the rows (and deleted rows) in order and the snapshot position.
func (w *wsClient) subscribeAll(id, sql string, opts map[string]any) (rows, deleted []map[string]any, pos uint64) {
	w.t.Helper()
	w.subscribe(id, sql, opts)
	ack := w.expectFor(id, "subscription_ack")
	if ack.SubscriptionID != id {
		w.t.Fatalf("ack for %q, want %q", ack.SubscriptionID, id)
	}
	for {
		b := w.expectFor(id, "initial_data_batch")
		rows = append(rows, b.Rows...)
		deleted = append(deleted, b.DeletedRows...)
		pos, _ = strconv.ParseUint(b.BatchControl.LastSeqID, 10, 64)
		if !b.BatchControl.HasMore {
			if b.BatchControl.Status != "ready" {
				w.t.Fatalf("last batch status %q", b.BatchControl.Status)
			}
			return rows, deleted, pos
		}
		w.send(map[string]any{"type": "next_batch", "subscription_id": id})
	}
}

// closeStatus reads until the connection closes; it returns the close
// code (-1 when closed without one) and the messages read before.
func (w *wsClient) closeStatus(d time.Duration) (websocket.StatusCode, []wsMsg) {
	w.t.Helper()
	var msgs []wsMsg
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m, err := w.recvErr(time.Until(deadline))
		if err == errTimeout {
			break
		}
		if err != nil {
			return websocket.CloseStatus(err), msgs
		}
		msgs = append(msgs, m)
	}
	w.t.Fatalf("connection not closed within %s (got %d messages)", d, len(msgs))
	return 0, nil
}

// rowID returns a row's "id" as int64 (BIGINT travels as a string).
func rowID(t *testing.T, r map[string]any) int64 {
	t.Helper()
	switch v := r["id"].(type) {
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("id %q", v)
		}
		return n
	case float64:
		return int64(v)
	}
	t.Fatalf("row without id: %v", r)
	return 0
}

func rowSeq(t *testing.T, r map[string]any) uint64 {
	t.Helper()
	s, _ := r["_seq"].(string)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("row without _seq string: %v", r)
	}
	return n
}

func ids(t *testing.T, rows []map[string]any) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, strconv.FormatInt(rowID(t, r), 10))
	}
	return strings.Join(parts, ",")
}

// startNodeWith starts a node whose config is adjusted by mutate.
func startNodeWith(t *testing.T, mutate func(*config.Config)) *Node {
	t.Helper()
	cfg := testConfig(t.TempDir())
	if mutate != nil {
		mutate(&cfg)
	}
	n := startNodeCfg(t, cfg)
	t.Cleanup(func() { n.Close() })
	return n
}

// materialize applies initial rows and change messages to a map by id,
// failing on events that contradict the state (an insert of a present
// row, an update or delete of an absent one).
type materialized struct {
	t    *testing.T
	rows map[int64]map[string]any
	// inserts counts insert events per id (exactly-once checks).
	inserts map[int64]int
	lastSeq uint64
	// seqCheck requires change _seq values to increase.
	seqCheck bool
}

func newMaterialized(t *testing.T) *materialized {
	return &materialized{t: t, rows: map[int64]map[string]any{}, inserts: map[int64]int{}}
}

func (m *materialized) seq(s uint64) {
	if m.seqCheck && s <= m.lastSeq {
		m.t.Fatalf("_seq %d after %d: changes out of order or repeated", s, m.lastSeq)
	}
	if s > m.lastSeq {
		m.lastSeq = s
	}
}

func (m *materialized) initial(rows []map[string]any, pos uint64) {
	for _, r := range rows {
		m.rows[rowID(m.t, r)] = r
	}
	m.seq(pos)
}

func (m *materialized) apply(c wsMsg) {
	m.t.Helper()
	switch c.ChangeType {
	case "insert":
		for _, r := range c.Rows {
			id := rowID(m.t, r)
			if _, ok := m.rows[id]; ok {
				m.t.Fatalf("insert of present row %d: %s", id, c.raw)
			}
			m.rows[id] = r
			m.inserts[id]++
			m.seq(rowSeq(m.t, r))
		}
	case "update":
		for _, r := range c.Rows {
			id := rowID(m.t, r)
			if _, ok := m.rows[id]; !ok {
				m.t.Fatalf("update of absent row %d: %s", id, c.raw)
			}
			m.rows[id] = r
			m.seq(rowSeq(m.t, r))
		}
	case "delete":
		for _, r := range c.OldValues {
			id := rowID(m.t, r)
			if _, ok := m.rows[id]; !ok {
				m.t.Fatalf("delete of absent row %d: %s", id, c.raw)
			}
			delete(m.rows, id)
			m.seq(rowSeq(m.t, r))
		}
	default:
		m.t.Fatalf("unknown change %s", c.raw)
	}
}

// sortedIDs renders the ids held.
func (m *materialized) sortedIDs() string {
	var out []int64
	for id := range m.rows {
		out = append(out, id)
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}
