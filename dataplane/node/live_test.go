package node

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// setupChat creates chat.messages (USER table) and users alice and bob.
func setupChat(t *testing.T, n *Node) (root, alice, bob *client.Client) {
	t.Helper()
	r := login(t, n, "root", rootPW)
	mustSQL(t, r, `CREATE NAMESPACE chat;
		CREATE USER TABLE chat.messages (id BIGINT PRIMARY KEY, room TEXT NOT NULL, body TEXT, score INT, tags TEXT);
		CREATE USER 'alice' WITH PASSWORD 'alice-pass-1' ROLE user;
		CREATE USER 'bob' WITH PASSWORD 'bob-pass-12' ROLE user`)
	return r, login(t, n, "alice", "alice-pass-1"), login(t, n, "bob", "bob-pass-12")
}

// TestLiveInitialDataPaging: 25 rows in pages of 10, pulled with
// next_batch; batch_control numbering and statuses; a filter with
// pushdown (id range) and one without.
func TestLiveInitialDataPaging(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	_, alice, _ := setupChat(t, n)
	var vals []string
	for i := 1; i <= 25; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'r%d', 'b%d', %d, NULL)", i, i%3, i, i))
	}
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score, tags) VALUES "+strings.Join(vals, ","))
	w := dialWS(t, n, alice)

	w.subscribe("all", "SELECT * FROM chat.messages", map[string]any{"batch_size": 10})
	ack := w.expect("subscription_ack")
	if len(ack.Schema) != 6 || ack.Schema[0].Name != "id" || ack.Schema[5].Name != "_seq" {
		t.Fatalf("ack schema: %s", ack.raw)
	}
	var got []map[string]any
	statuses := []string{}
	for i := 0; ; i++ {
		b := w.expect("initial_data_batch")
		if b.BatchControl.BatchNum != i {
			t.Fatalf("batch_num %d, want %d", b.BatchControl.BatchNum, i)
		}
		statuses = append(statuses, b.BatchControl.Status)
		got = append(got, b.Rows...)
		if !b.BatchControl.HasMore {
			break
		}
		if i == 0 {
			// Nothing more arrives until the client asks.
			w.expectNothing(200 * time.Millisecond)
		}
		w.send(map[string]any{"type": "next_batch", "subscription_id": "all"})
	}
	if fmt.Sprint(statuses) != "[loading loading_batch ready]" {
		t.Fatalf("statuses %v", statuses)
	}
	if len(got) != 25 || rowID(t, got[0]) != 1 || rowID(t, got[24]) != 25 {
		t.Fatalf("rows %s", ids(t, got))
	}
	r := got[6]
	if r["room"] != "r1" || r["body"] != "b7" || r["score"] != float64(7) || r["tags"] != nil || rowSeq(t, r) == 0 {
		t.Fatalf("row 7 = %v", r)
	}
	// A range filter (primary-key pushdown) with a projection: the PK is
	// always sent.
	rows, _, _ := w.subscribeAll("range", "SELECT body FROM chat.messages WHERE id > 20 AND score IS NOT NULL", nil)
	if ids(t, rows) != "21,22,23,24,25" || rows[0]["body"] != "b21" || len(rows[0]) != 3 {
		t.Fatalf("range rows %v", rows)
	}
	// next_batch after ready is an error, not a crash.
	w.send(map[string]any{"type": "next_batch", "subscription_id": "range"})
	if e := w.expect("error"); e.Code != "BATCH_FETCH_FAILED" {
		t.Fatalf("%s", e.raw)
	}
	// last_rows: the newest N by _seq.
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'new' WHERE id = 3")
	// "all" sees the update (full new row, old values of the changed
	// columns plus the key); "range" (id > 20) does not.
	ch := w.expect("change")
	if ch.SubscriptionID != "all" || ch.ChangeType != "update" || ch.Rows[0]["body"] != "new" || ch.Rows[0]["room"] != "r0" ||
		len(ch.OldValues[0]) != 3 || ch.OldValues[0]["body"] != "b3" || rowID(t, ch.OldValues[0]) != 3 {
		t.Fatalf("update event %s", ch.raw)
	}
	w.send(map[string]any{"type": "unsubscribe", "subscription_id": "all"})
	w.send(map[string]any{"type": "unsubscribe", "subscription_id": "range"})
	rows, _, _ = w.subscribeAll("last", "SELECT * FROM chat.messages", map[string]any{"last_rows": 2})
	if ids(t, rows) != "25,3" {
		t.Fatalf("last_rows: %s", ids(t, rows))
	}
}

// TestLiveChangeEvents: insert, update (new row + old values of changed
// columns), delete (old values, _seq of the delete), a multi-row insert,
// and enter/leave when an update moves a row into or out of a filter
// that uses IN, IS NULL, BETWEEN, LIKE and a function.
func TestLiveChangeEvents(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	_, alice, _ := setupChat(t, n)
	w := dialWS(t, n, alice)
	rows, _, pos := w.subscribeAll("all", "SELECT * FROM chat.messages", nil)
	if len(rows) != 0 {
		t.Fatalf("empty table: rows %v", rows)
	}

	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (1, 'general', 'hello', 5)")
	ins := w.expect("change")
	if ins.ChangeType != "insert" || len(ins.Rows) != 1 || ins.OldValues != nil {
		t.Fatalf("insert event %s", ins.raw)
	}
	r := ins.Rows[0]
	if rowID(t, r) != 1 || r["room"] != "general" || r["body"] != "hello" || r["score"] != float64(5) || r["tags"] != nil || rowSeq(t, r) <= pos {
		t.Fatalf("insert row %v", r)
	}
	insSeq := rowSeq(t, r)

	mustSQL(t, alice, "UPDATE chat.messages SET score = 6 WHERE id = 1")
	up := w.expect("change")
	if up.ChangeType != "update" || up.Rows[0]["score"] != float64(6) || up.Rows[0]["body"] != "hello" ||
		up.OldValues[0]["score"] != float64(5) || rowSeq(t, up.OldValues[0]) != insSeq || rowSeq(t, up.Rows[0]) <= insSeq {
		t.Fatalf("update event %s", up.raw)
	}
	if _, has := up.OldValues[0]["body"]; has {
		t.Fatalf("old_values must hold only changed columns and the key: %s", up.raw)
	}

	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id = 1")
	del := w.expect("change")
	if del.ChangeType != "delete" || del.Rows != nil || rowID(t, del.OldValues[0]) != 1 || del.OldValues[0]["score"] != float64(6) ||
		rowSeq(t, del.OldValues[0]) <= rowSeq(t, up.Rows[0]) {
		t.Fatalf("delete event %s", del.raw)
	}

	// One INSERT of three rows: one message with three rows, in order.
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (10, 'a', 'x', 1), (11, 'b', 'y', 2), (12, 'c', 'z', 3)")
	multi := w.expect("change")
	if multi.ChangeType != "insert" || ids(t, multi.Rows) != "10,11,12" {
		t.Fatalf("multi-row insert %s", multi.raw)
	}
	w.send(map[string]any{"type": "unsubscribe", "subscription_id": "all"})

	// Enter and leave through a rich filter.
	const filter = "SELECT id, room, score FROM chat.messages WHERE room IN ('a', 'b') AND tags IS NULL AND score BETWEEN 1 AND 10 AND upper(body) LIKE 'X%'"
	rows, _, _ = w.subscribeAll("f", filter, nil)
	if ids(t, rows) != "10" {
		t.Fatalf("filtered initial rows %s", ids(t, rows))
	}
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'xylophone' WHERE id = 11") // enters
	if c := w.expect("change"); c.ChangeType != "insert" || ids(t, c.Rows) != "11" || c.Rows[0]["room"] != "b" {
		t.Fatalf("enter: %s", c.raw)
	}
	mustSQL(t, alice, "UPDATE chat.messages SET score = 3 WHERE id = 11") // stays: update
	if c := w.expect("change"); c.ChangeType != "update" || c.OldValues[0]["score"] != float64(2) {
		t.Fatalf("update inside the filter: %s", c.raw)
	}
	mustSQL(t, alice, "UPDATE chat.messages SET tags = 'set' WHERE id = 10") // leaves
	leave := w.expect("change")
	if leave.ChangeType != "delete" || ids(t, leave.OldValues) != "10" {
		t.Fatalf("leave: %s", leave.raw)
	}
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'nothing' WHERE id = 12") // never matched
	mustSQL(t, alice, "UPDATE chat.messages SET score = 99 WHERE id = 10")       // outside, stays outside
	w.expectNothing(300 * time.Millisecond)
	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id = 11")
	if c := w.expect("change"); c.ChangeType != "delete" || ids(t, c.OldValues) != "11" {
		t.Fatalf("delete inside the filter: %s", c.raw)
	}
}

// TestLiveSameSemantics: for each condition, the rows a subscription gets
// as initial data are exactly the rows it gets as insert events when the
// same rows are inserted after subscribing (SQLite evaluates both).
func TestLiveSameSemantics(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.WebSocket.MaxMessagesPerSecond = 100000 })
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE s;
		CREATE USER TABLE s.src (id BIGINT PRIMARY KEY, name TEXT, n INT, f DOUBLE, ok BOOLEAN, ts TIMESTAMP, d DECIMAL(10,2), j JSON);
		CREATE USER TABLE s.dst (id BIGINT PRIMARY KEY, name TEXT, n INT, f DOUBLE, ok BOOLEAN, ts TIMESTAMP, d DECIMAL(10,2), j JSON)`)
	data := `(1, 'Alice', 1, 1.5, true, '2025-01-01T00:00:00Z', 10.25, '{"k": 1}'),
		(2, 'bob', NULL, -2.0, false, '2025-06-01T12:00:00Z', 0.5, '{"k": 2}'),
		(3, 'carol', 3, NULL, NULL, NULL, NULL, NULL),
		(4, '', 40, 0.0, true, '2024-12-31T23:59:59Z', -3.00, '[]'),
		(5, 'ALICE', 5, 1e10, false, '2026-01-01T00:00:00Z', 99999.99, '{"k": "x"}'),
		(6, 'a_b%c', -6, 3.25, true, '2025-01-01T00:00:00.5Z', 1.10, 'null')`
	mustSQL(t, root, "INSERT INTO s.src VALUES "+data)
	conds := []string{
		"n IN (1, 3, 40)", "n NOT IN (1, 3)", "n IS NULL", "n IS NOT NULL", "f IS NULL OR f > 1",
		"n BETWEEN 2 AND 10", "name LIKE 'a%'", "name ILIKE 'a%'", "name LIKE 'a\\_b\\%c' ESCAPE '\\'", "lower(name) = 'alice'",
		"length(name) = 0", "ok", "NOT ok", "ok = true", "ts > TIMESTAMP '2025-01-01T00:00:00Z'", "ts >= '2025-01-01T00:00:00Z'",
		"d > 1", "d = 10.25", "coalesce(n, 0) % 2 = 1", "CASE WHEN n > 3 THEN 'big' ELSE 'small' END = 'big'",
		"json_extract(j, '$.k') = 1", "id = CAST('3' AS INTEGER)", "name || 'x' = 'bobx'", "abs(n) > 4", "n::text = '40'",
		"_seq > 0", "name = CURRENT_USER()", "f IS DISTINCT FROM 1.5", "substr(name, 1, 1) IN ('A', 'a')",
	}
	mustSQL(t, root, "CREATE USER TABLE s.mark (id BIGINT PRIMARY KEY)")
	w := dialWS(t, n, root)
	// The sentinel table lives in the same group as s.dst, so its change is
	// dispatched after every change to s.dst made before it.
	w.subscribeAll("mark", "SELECT * FROM s.mark", nil)
	for i, cond := range conds {
		rows, _, _ := w.subscribeAll(fmt.Sprintf("i%d", i), "SELECT id FROM s.src WHERE "+cond, nil)
		lid := fmt.Sprintf("l%d", i)
		w.subscribeAll(lid, "SELECT id FROM s.dst WHERE "+cond, nil)
		initial := ids(t, rows)
		mustSQL(t, root, "INSERT INTO s.dst VALUES "+data)
		mustSQL(t, root, fmt.Sprintf("INSERT INTO s.mark VALUES (%d)", i))
		var live []map[string]any
		for {
			m := w.recv()
			if m.Type == "change" && m.SubscriptionID == "mark" {
				break
			}
			if m.Type != "change" {
				t.Fatalf("%s: unexpected %s", cond, m.raw)
			}
			if m.SubscriptionID == lid && m.ChangeType == "insert" {
				live = append(live, m.Rows...)
			}
		}
		if got := ids(t, live); got != initial {
			t.Errorf("WHERE %s: initial data %q, live inserts %q", cond, initial, got)
		}
		w.send(map[string]any{"type": "unsubscribe", "subscription_id": fmt.Sprintf("i%d", i)})
		w.send(map[string]any{"type": "unsubscribe", "subscription_id": lid})
		mustSQL(t, root, "DELETE FROM s.dst WHERE id > 0")
	}
}

// TestLiveGapFreeHandover: while a subscription pulls its initial data
// page by page, another client inserts, updates and deletes rows. Every
// change committed during the load is delivered exactly once: the final
// materialized state equals a SELECT, and each inserted row shows up
// exactly once (in the initial data or as one insert event).
func TestLiveGapFreeHandover(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.WebSocket.MaxMessagesPerSecond = 100000
		c.Limits.MaxQueryLimit = 100000
	})
	_, alice, _ := setupChat(t, n)
	const base = 2000
	for b := 0; b < base; b += 500 {
		var vals []string
		for i := b + 1; i <= b+500; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'r', 'v0', %d)", i, i))
		}
		mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES "+strings.Join(vals, ","))
	}
	w := dialWS(t, n, alice)
	w.subscribe("s", "SELECT * FROM chat.messages WHERE score % 2 = 0 OR id > 5000", map[string]any{"batch_size": 50})

	// The writer runs until the subscription has gone live, so changes land
	// before, during and after the load.
	live := make(chan struct{})
	writerDone := make(chan int)
	go func() {
		ops := 0
		defer func() { writerDone <- ops }()
		for i := 0; i < 400; i++ {
			select {
			case <-live:
				if i > 300 {
					return
				}
			default:
			}
			var q string
			switch i % 4 {
			case 0:
				q = fmt.Sprintf("INSERT INTO chat.messages (id, room, body, score) VALUES (%d, 'r', 'new', %d)", 5001+i, i)
			case 1:
				q = fmt.Sprintf("UPDATE chat.messages SET body = 'u%d' WHERE id = %d", i, 2*(i%base/2)+2)
			case 2:
				q = fmt.Sprintf("UPDATE chat.messages SET score = score + 1 WHERE id = %d", i%base+1) // flips parity: enter/leave
			case 3:
				q = fmt.Sprintf("DELETE FROM chat.messages WHERE id = %d", (i*7)%base+1)
			}
			if _, err := alice.SQL(ctx(t), q); err != nil {
				t.Errorf("%s: %v", q, err)
				return
			}
			ops++
		}
	}()

	mat := newMaterialized(t)
	mat.seqCheck = true
	w.expectFor("s", "subscription_ack")
	batches := 0
	for {
		m := w.recv()
		switch m.Type {
		case "initial_data_batch":
			batches++
			for _, r := range m.Rows {
				id := rowID(t, r)
				if _, dup := mat.rows[id]; dup {
					t.Fatalf("row %d twice in the initial data", id)
				}
				mat.rows[id] = r
				mat.inserts[id]++
			}
			if !m.BatchControl.HasMore {
				close(live)
				goto liveLoop
			}
			w.send(map[string]any{"type": "next_batch", "subscription_id": "s"})
		case "change":
			t.Fatalf("change before the initial data completed: %s", m.raw)
		default:
			t.Fatalf("unexpected %s", m.raw)
		}
	}
liveLoop:
	ops := <-writerDone
	if batches < 10 || ops < 100 {
		t.Fatalf("test did not overlap enough: %d batches, %d writes", batches, ops)
	}
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (999999, 'end', 'end', 0)")
	for {
		m := w.expect("change")
		mat.apply(m)
		if _, ok := mat.rows[999999]; ok {
			break
		}
	}
	want := mustRows(t, alice, "SELECT id FROM chat.messages WHERE score % 2 = 0 OR id > 5000 ORDER BY id LIMIT 100000")
	var wantIDs []int64
	for _, r := range want {
		wantIDs = append(wantIDs, rowID(t, map[string]any{"id": r[0]}))
	}
	if got := mat.sortedIDs(); got != fmt.Sprint(wantIDs) {
		t.Fatalf("materialized state differs from SELECT:\n got %s\nwant %v", got, wantIDs)
	}
	for id, c := range mat.inserts {
		if c > 1 && id > 5000 {
			t.Fatalf("row %d inserted %d times", id, c)
		}
	}
	t.Logf("%d batches, %d concurrent writes, %d rows at the end", batches, ops, len(mat.rows))
}

// TestLiveResume: a client records the last _seq it saw, disconnects,
// misses inserts, updates and deletes (including rows entering and
// leaving its filter), and resumes with from: the replay brings it to
// exactly the current result, each changed key once, then live events
// continue. Resuming from a point older than the history horizon, or
// ahead of the server, is refused explicitly.
func TestLiveResume(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Limits.MaxQueryLimit = 100000 })
	_, alice, _ := setupChat(t, n)
	var vals []string
	for i := 1; i <= 300; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'r', 'v', %d)", i, i))
	}
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES "+strings.Join(vals, ","))
	const q = "SELECT * FROM chat.messages WHERE score < 1000"

	w := dialWS(t, n, alice)
	mat := newMaterialized(t)
	rows, _, pos := w.subscribeAll("s", q, nil)
	mat.initial(rows, pos)
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'seen' WHERE id <= 5")
	// Consecutive rows may arrive in one message or several.
	for seen := 0; seen < 5; {
		c := w.expect("change")
		mat.apply(c)
		seen += len(c.Rows)
	}
	w.c.CloseNow()
	last := mat.lastSeq

	// Missed while disconnected.
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (301, 'r', 'new', 1), (302, 'r', 'new', 2000)")
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'missed' WHERE id BETWEEN 10 AND 19")
	mustSQL(t, alice, "UPDATE chat.messages SET score = 5000 WHERE id IN (20, 21)") // leave the filter
	mustSQL(t, alice, "UPDATE chat.messages SET score = 1 WHERE id = 302")          // enters
	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id IN (30, 31, 32)")
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES (303, 'r', 'gone', 3)")
	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id = 303") // born and gone

	w2 := dialWS(t, n, alice)
	replay, deleted, pos2 := w2.subscribeAll("s", q, map[string]any{"from": fmt.Sprint(last), "batch_size": 4})
	changed := map[int64]int{}
	for _, r := range replay {
		id := rowID(t, r)
		changed[id]++
		if rowSeq(t, r) <= last {
			t.Fatalf("replayed row %d has _seq %d <= from %d", id, rowSeq(t, r), last)
		}
		mat.rows[id] = r
	}
	for _, r := range deleted {
		id := rowID(t, r)
		changed[id]++
		delete(mat.rows, id)
	}
	for id, c := range changed {
		if c != 1 {
			t.Fatalf("key %d replayed %d times", id, c)
		}
	}
	// 10 updated + 301 + 302 in rows; 20, 21 (left), 30-32, 303 deleted.
	if len(replay) != 12 || len(deleted) != 6 {
		t.Fatalf("replay: %d rows (%s), %d deleted (%s)", len(replay), ids(t, replay), len(deleted), ids(t, deleted))
	}
	mat.lastSeq = pos2
	// Live again.
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'after' WHERE id = 1")
	c := w2.expect("change")
	if c.ChangeType != "update" || rowSeq(t, c.Rows[0]) <= pos2 {
		t.Fatalf("after resume: %s", c.raw)
	}
	mat.apply(c)
	want := mustRows(t, alice, "SELECT id FROM chat.messages WHERE score < 1000 ORDER BY id LIMIT 100000")
	var wantIDs []int64
	for _, r := range want {
		wantIDs = append(wantIDs, rowID(t, map[string]any{"id": r[0]}))
	}
	if got := mat.sortedIDs(); got != fmt.Sprint(wantIDs) {
		t.Fatalf("state after resume differs:\n got %s\nwant %v", got, wantIDs)
	}
	if mat.rows[10]["body"] != "missed" || mat.rows[1]["body"] != "after" {
		t.Fatalf("values after resume: %v %v", mat.rows[10], mat.rows[1])
	}

	// Ahead of the server: refused.
	w2.subscribe("ahead", q, map[string]any{"from": fmt.Sprint(pos2 + 1<<40)})
	if e := w2.expectFor("ahead", "error"); e.Code != "RESUME_UNAVAILABLE" {
		t.Fatalf("%s", e.raw)
	}
	// Older than the history horizon (as a cold-tier flush records it):
	// refused, never a silent gap.
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], pos2-1)
	if err := n.store.DB.Set(keys.HistoryHorizon(keys.UserGroup("alice"), tableID(t, n, "chat", "messages"), "alice", true), h[:], pebble.Sync); err != nil {
		t.Fatal(err)
	}
	w2.subscribe("old", q, map[string]any{"from": fmt.Sprint(last)})
	if e := w2.expectFor("old", "error"); e.Code != "RESUME_UNAVAILABLE" || !strings.Contains(e.Message, "resubscribe without from") {
		t.Fatalf("%s", e.raw)
	}
	// From at the horizon is fine.
	w2.subscribeAll("ok", q, map[string]any{"from_seq_id": pos2})
}

func tableID(t *testing.T, n *Node, ns, name string) uint32 {
	t.Helper()
	tb, ok := n.Engine().Catalog().Table(ns, name)
	if !ok {
		t.Fatalf("table %s.%s not found", ns, name)
	}
	return tb.ID
}

// TestLiveIsolation: alice and bob subscribe to the same USER table and
// write rows with the same primary keys; each sees only its own rows,
// as initial data and as changes, even with a condition true for every
// row. SHARED tables follow ACCESS_LEVEL.
func TestLiveIsolation(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root, alice, bob := setupChat(t, n)
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body) VALUES (1, 'a', 'alice-1')")
	mustSQL(t, bob, "INSERT INTO chat.messages (id, room, body) VALUES (1, 'b', 'bob-1')")
	wa, wb := dialWS(t, n, alice), dialWS(t, n, bob)
	ra, _, _ := wa.subscribeAll("s", "SELECT * FROM chat.messages WHERE 1 = 1", nil)
	rb, _, _ := wb.subscribeAll("s", "SELECT * FROM chat.messages WHERE 1 = 1", nil)
	if len(ra) != 1 || ra[0]["body"] != "alice-1" || len(rb) != 1 || rb[0]["body"] != "bob-1" {
		t.Fatalf("initial data crossed users: %v / %v", ra, rb)
	}
	mustSQL(t, bob, "INSERT INTO chat.messages (id, room, body) VALUES (2, 'b', 'bob-2')")
	mustSQL(t, bob, "UPDATE chat.messages SET body = 'bob-1b' WHERE id = 1")
	mustSQL(t, bob, "DELETE FROM chat.messages WHERE id = 2")
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body) VALUES (3, 'a', 'alice-3')")
	if c := wa.expect("change"); c.ChangeType != "insert" || c.Rows[0]["body"] != "alice-3" {
		t.Fatalf("alice got %s", c.raw)
	}
	for _, want := range []string{"insert", "update", "delete"} {
		if c := wb.expect("change"); c.ChangeType != want || strings.Contains(string(c.raw), "alice") {
			t.Fatalf("bob got %s, want %s", c.raw, want)
		}
	}
	wa.expectNothing(200 * time.Millisecond)
	wb.expectNothing(100 * time.Millisecond)
	// root (an admin) also only sees its own USER rows.
	wr := dialWS(t, n, root)
	if rr, _, _ := wr.subscribeAll("s", "SELECT * FROM chat.messages", nil); len(rr) != 0 {
		t.Fatalf("root sees other users' rows: %v", rr)
	}

	// SHARED: PUBLIC is readable by users; PRIVATE is not; a dba may.
	mustSQL(t, root, `CREATE SHARED TABLE chat.rooms (name TEXT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
		CREATE SHARED TABLE chat.secrets (name TEXT PRIMARY KEY, v TEXT);
		INSERT INTO chat.rooms VALUES ('general', 'General')`)
	ra, _, _ = wa.subscribeAll("rooms", "SELECT * FROM chat.rooms", nil)
	if len(ra) != 1 || ra[0]["name"] != "general" {
		t.Fatalf("rooms %v", ra)
	}
	mustSQL(t, root, "INSERT INTO chat.rooms VALUES ('random', 'Random')")
	if c := wa.expect("change"); c.SubscriptionID != "rooms" || c.Rows[0]["name"] != "random" {
		t.Fatalf("shared change %s", c.raw)
	}
	wa.subscribe("secrets", "SELECT * FROM chat.secrets", nil)
	if e := wa.expectFor("secrets", "error"); e.Code != "UNAUTHORIZED" {
		t.Fatalf("%s", e.raw)
	}
	wr.subscribeAll("secrets", "SELECT * FROM chat.secrets", nil)
	// System views cannot be subscribed to.
	wr.subscribe("sys", "SELECT * FROM system.users", nil)
	if e := wr.expectFor("sys", "error"); e.Code != "UNSUPPORTED" {
		t.Fatalf("%s", e.raw)
	}
}

// TestLiveOverflow: a client that stops reading gets its subscription
// ended with OVERFLOW once its bounded queue is full, after every event
// queued before (no gap inside what it got); writers are not stalled and
// another subscriber on the same rows receives everything.
func TestLiveOverflow(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.WebSocket.QueueSize = 16 })
	_, alice, _ := setupChat(t, n)
	slow, fast := dialWS(t, n, alice), dialWS(t, n, alice)
	slow.subscribeAll("s", "SELECT * FROM chat.messages", nil)
	fast.subscribeAll("f", "SELECT id FROM chat.messages", nil)
	resume := slow.pause()
	// Fast reader: count rows in the background.
	fastRows := make(chan int, 1)
	stopFast := make(chan struct{})
	go func() {
		got := 0
		defer func() { fastRows <- got }()
		for {
			m, err := fast.recvErr(200 * time.Millisecond)
			if err == nil {
				got += len(m.Rows)
				continue
			}
			select {
			case <-stopFast:
				return
			default:
			}
		}
	}()
	body := strings.Repeat("x", 4000)
	inserted := 0
	var slowest time.Duration
	for i := 0; i < 400 && n.Live().Stats().Subscriptions > 1; i++ {
		var vals []string
		for j := 0; j < 50; j++ {
			inserted++
			vals = append(vals, fmt.Sprintf("(%d, 'r', '%s', %d)", inserted, body, inserted))
		}
		start := time.Now()
		mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES "+strings.Join(vals, ","))
		slowest = max(slowest, time.Since(start))
	}
	if n.Live().Stats().Subscriptions != 1 {
		t.Fatalf("the slow subscription was not ended after %d rows", inserted)
	}
	if slowest > 5*time.Second {
		t.Fatalf("a writer was stalled for %s by a slow subscriber", slowest)
	}
	resume()
	var got []int64
	for {
		m := slow.recv()
		if m.Type == "error" {
			if m.Code != "OVERFLOW" || m.SubscriptionID != "s" {
				t.Fatalf("%s", m.raw)
			}
			break
		}
		if m.Type != "change" || m.ChangeType != "insert" {
			t.Fatalf("unexpected %s", m.raw)
		}
		for _, r := range m.Rows {
			got = append(got, rowID(t, r))
		}
	}
	for i, id := range got {
		if id != int64(i+1) {
			t.Fatalf("events before the overflow error have a gap or reorder at %d: id %d", i, id)
		}
	}
	if len(got) >= inserted {
		t.Fatalf("no overflow: got all %d rows", len(got))
	}
	slow.expectNothing(200 * time.Millisecond) // the subscription is over
	time.Sleep(300 * time.Millisecond)
	close(stopFast)
	if f := <-fastRows; f != inserted {
		t.Fatalf("the fast subscriber got %d of %d rows", f, inserted)
	}
	t.Logf("slow client got %d of %d rows before OVERFLOW; slowest insert %s", len(got), inserted, slowest)
}

// TestLiveStreamTable: a STREAM table without a primary key pages its
// initial data by _seq and delivers inserts; rows carry _seq.
func TestLiveStreamTable(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	_, alice, bob := setupChat(t, n)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE STREAM TABLE chat.typing (room TEXT, who TEXT) WITH (TTL_SECONDS = 3600)")
	for i := 0; i < 5; i++ {
		mustSQL(t, alice, fmt.Sprintf("INSERT INTO chat.typing (room, who) VALUES ('r%d', 'alice')", i))
	}
	w := dialWS(t, n, alice)
	rows, _, _ := w.subscribeAll("t", "SELECT room FROM chat.typing WHERE room <> 'r2'", map[string]any{"batch_size": 2})
	if len(rows) != 4 || rows[0]["room"] != "r0" || rows[3]["room"] != "r4" {
		t.Fatalf("stream initial data: %v", rows)
	}
	for i := 1; i < len(rows); i++ {
		if rowSeq(t, rows[i]) <= rowSeq(t, rows[i-1]) {
			t.Fatalf("stream rows not in _seq order: %v", rows)
		}
	}
	mustSQL(t, bob, "INSERT INTO chat.typing (room, who) VALUES ('r9', 'bob')") // not alice's
	mustSQL(t, alice, "INSERT INTO chat.typing (room, who) VALUES ('r9', 'alice')")
	if c := w.expect("change"); c.ChangeType != "insert" || c.Rows[0]["room"] != "r9" || rowSeq(t, c.Rows[0]) == 0 {
		t.Fatalf("stream insert %s", c.raw)
	}
	w.expectNothing(200 * time.Millisecond)
}
