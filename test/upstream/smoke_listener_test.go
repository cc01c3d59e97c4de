package upstream

// The original's subscription listeners (cli/tests/common/mod.rs
// SubscriptionListener, and the per-file listeners of
// subscription/smoke_test_subscription_advanced.rs,
// usecases/smoke_test_batch_control.rs and
// impersonating/smoke_test_as_user_chat_impersonation.rs) run its Rust
// client's subscription and hand the test one line per event,
// format!("{:?}", change_event). eventListener does the same over our
// WebSocket: it renders every server message as the Rust client's
// ChangeEvent Debug text (debugEvent) and, like that client, asks for the
// next initial-data batch while has_more is true.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// eventListener is one WebSocket connection with one subscription.
type eventListener struct {
	t      *testing.T
	conn   *websocket.Conn
	lines  chan string
	quit   chan struct{} // closed by stop: the reader stops delivering
	done   chan struct{}
	closed bool
}

// listen connects with token and subscribes to sql with options (nil for
// none) under id.
func listen(t *testing.T, s *server, token, id, sql string, options map[string]any) *eventListener {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.URL, "http", "ws", 1)+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20)
	l := &eventListener{t: t, conn: conn, lines: make(chan string, 4096), quit: make(chan struct{}), done: make(chan struct{})}
	l.send(map[string]any{"type": "authenticate", "method": "jwt", "token": token})
	if _, b, err := conn.Read(ctx); err != nil || !strings.Contains(string(b), `"auth_success"`) {
		t.Fatalf("authenticate: %s, %v", b, err)
	}
	sub := map[string]any{"id": id, "sql": sql}
	if options != nil {
		sub["options"] = options
	}
	l.send(map[string]any{"type": "subscribe", "subscription": sub})
	go l.read()
	t.Cleanup(l.stop)
	return l
}

func (l *eventListener) send(m map[string]any) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.conn.Write(ctx, websocket.MessageText, b)
}

func (l *eventListener) read() {
	defer close(l.done)
	defer close(l.lines)
	for {
		_, b, err := l.conn.Read(context.Background())
		if err != nil {
			return
		}
		var m map[string]any
		line := string(b)
		if json.Unmarshal(b, &m) == nil {
			line = debugEvent(m)
		}
		select {
		case l.lines <- line:
		case <-l.quit:
			return
		}
		if bc, ok := m["batch_control"].(map[string]any); ok && m["type"] == "initial_data_batch" && bc["has_more"] == true {
			l.send(map[string]any{"type": "next_batch", "subscription_id": m["subscription_id"]})
		}
	}
}

// next is the original's try_read_line: the next event within timeout.
func (l *eventListener) next(timeout time.Duration) (string, bool) {
	select {
	case line, ok := <-l.lines:
		if !ok { // the connection ended: nothing more will come
			time.Sleep(min(timeout, 100*time.Millisecond))
		}
		return line, ok
	case <-time.After(timeout):
		return "", false
	}
}

// untilReady is the original's collect_events_until_ready: events until
// one says "status: Ready", or an Ack without "has_more: true".
func (l *eventListener) untilReady(timeout time.Duration) []string {
	var events []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		line, ok := l.next(100 * time.Millisecond)
		if !ok {
			continue
		}
		events = append(events, line)
		if strings.Contains(line, "status: Ready") || (strings.Contains(line, "Ack") && !strings.Contains(line, "has_more: true")) {
			break
		}
	}
	return events
}

// collect is the original's read loops after a change: events for at
// most timeout, those keep accepts (nil: all) kept, until done(kept); a
// 100 ms lull ends the wait too once something was kept.
func (l *eventListener) collect(timeout time.Duration, keep func(string) bool, done func([]string) bool) []string {
	var kept []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		line, ok := l.next(100 * time.Millisecond)
		if !ok {
			if len(kept) > 0 {
				break
			}
			continue
		}
		if keep != nil && !keep(line) {
			continue
		}
		if kept = append(kept, line); done(kept) {
			break
		}
	}
	return kept
}

// waitFor is the chat test's wait_for_any_event: the first event holding
// one of patterns (case-insensitive) within timeout.
func (l *eventListener) waitFor(patterns []string, timeout time.Duration) (string, error) {
	var seen []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		line, ok := l.next(200 * time.Millisecond)
		if !ok {
			continue
		}
		for _, p := range patterns {
			if strings.Contains(strings.ToLower(line), strings.ToLower(p)) {
				return line, nil
			}
		}
		if len(seen) < 8 {
			seen = append(seen, line)
		}
	}
	return "", fmt.Errorf("no matching event found for patterns %q; seen events: %q", patterns, seen)
}

// stop closes the connection (the client's disconnect) and waits for the
// reader.
func (l *eventListener) stop() {
	if l.closed {
		return
	}
	l.closed = true
	close(l.quit)
	_ = l.conn.Close(websocket.StatusNormalClosure, "")
	<-l.done
}

// debugEvent renders a server message as the Rust client's
// format!("{:?}", change_event) (link/link-common/src/subscription/models:
// ChangeEvent, BatchControl with BatchStatus Loading/LoadingBatch/Ready).
// Row values are their JSON (strings quoted, as Debug quotes them).
func debugEvent(m map[string]any) string {
	id := fmt.Sprintf("%q", fmt.Sprint(m["subscription_id"]))
	switch m["type"] {
	case "subscription_ack":
		return fmt.Sprintf("Ack { subscription_id: %s, total_rows: %v, batch_control: %s, schema: %s }",
			id, m["total_rows"], debugBatchControl(m["batch_control"]), debugJSON(m["schema"]))
	case "initial_data_batch":
		return fmt.Sprintf("InitialDataBatch { subscription_id: %s, rows: %s, batch_control: %s }",
			id, debugRows(m["rows"]), debugBatchControl(m["batch_control"]))
	case "change":
		switch m["change_type"] {
		case "insert":
			return fmt.Sprintf("Insert { subscription_id: %s, rows: %s }", id, debugRows(m["rows"]))
		case "update":
			return fmt.Sprintf("Update { subscription_id: %s, rows: %s, old_rows: %s }", id, debugRows(m["rows"]), debugRows(m["old_values"]))
		case "delete":
			return fmt.Sprintf("Delete { subscription_id: %s, old_rows: %s }", id, debugRows(m["old_values"]))
		}
	case "error":
		return fmt.Sprintf("Error { subscription_id: %s, code: %q, message: %q }", id, fmt.Sprint(m["code"]), fmt.Sprint(m["message"]))
	}
	return "Unknown { raw: " + debugJSON(m) + " }"
}

func debugBatchControl(v any) string {
	bc, _ := v.(map[string]any)
	status := map[any]string{"loading": "Loading", "loading_batch": "LoadingBatch", "ready": "Ready"}[bc["status"]]
	seq := "None"
	if s, ok := bc["last_seq_id"]; ok && s != nil {
		seq = fmt.Sprintf("Some(SeqId(%v))", s)
	}
	return fmt.Sprintf("BatchControl { batch_num: %v, has_more: %v, status: %s, last_seq_id: %s }", bc["batch_num"], bc["has_more"], status, seq)
}

func debugRows(v any) string {
	rows, _ := v.([]any)
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		row, _ := r.(map[string]any)
		keys := make([]string, 0, len(row))
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		cells := make([]string, len(keys))
		for i, k := range keys {
			cells[i] = fmt.Sprintf("%q: %s", k, debugJSON(row[k]))
		}
		parts = append(parts, "{"+strings.Join(cells, ", ")+"}")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func debugJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
