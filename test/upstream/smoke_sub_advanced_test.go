package upstream

// Ports of subscription/smoke_test_subscription_advanced.rs,
// subscription/smoke_test_subscription_reconnect_resume.rs and
// usecases/smoke_test_batch_control.rs (v0.4.3-rc.4), through
// eventListener: the original's assertions on its client's Debug lines.

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// subscription/smoke_test_subscription_advanced.rs: its five tests.
func TestSmokeSubscriptionAdvanced(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	pid := strconv.Itoa(os.Getpid())
	t.Run("smoke_subscription_multi_batch_initial_data", func(t *testing.T) {
		full := "adv_multi.multi_batch"
		s.freshTable(t, "adv_multi", full, "(id INT PRIMARY KEY, data VARCHAR, created_at TIMESTAMP) WITH (TYPE = 'USER')")
		s.insertEach(t, 1, 35, func(i int) string {
			return fmt.Sprintf("INSERT INTO %s (id, data, created_at) VALUES (%d, 'row_%d', %d)", full, i, i, 1730497770045+i)
		})
		time.Sleep(500 * time.Millisecond) // as the original
		l := listen(t, s, s.Token, "sub_multi", "SELECT * FROM "+full, map[string]any{"batch_size": 10})
		events := l.untilReady(45 * time.Second)
		batches, acks := 0, 0
		for _, e := range events {
			if strings.Contains(e, "InitialDataBatch") {
				batches++
			}
			if strings.Contains(e, "Ack") {
				acks++
			}
		}
		t.Logf("%d InitialDataBatch events, %d Ack events", batches, acks)
		if batches+acks == 0 {
			t.Fatalf("Should receive initial data events. All events: %q", events)
		}
		all := strings.Join(events, "\n")
		found := 0
		for i := 1; i <= 5; i++ {
			if strings.Contains(all, fmt.Sprintf("row_%d", i)) {
				found++
			}
		}
		if found < 3 {
			t.Fatalf("Should find at least 3 of our test rows in initial data. Found: %d. Events: %s", found, all)
		}
		for i := len(events) - 1; i >= 0; i-- {
			if e := events[i]; strings.Contains(e, "InitialDataBatch") || strings.Contains(e, "Ack") {
				if strings.Contains(e, "has_more: true") && !strings.Contains(e, "status: Ready") {
					t.Fatalf("Final batch should indicate no more data pending: %s", e)
				}
				break
			}
		}
		// Beyond the original (which stops at the first has_more: false):
		// the batches of 10 carried all 35 rows.
		for i := 1; i <= 35; i++ {
			if !strings.Contains(all, fmt.Sprintf(`"row_%d"`, i)) {
				t.Fatalf("row_%d missing from the initial data: %s", i, all)
			}
		}
		l.stop()
	})
	t.Run("smoke_subscription_resume_from_seq_id", func(t *testing.T) {
		full := "adv_seq.seq_resume"
		s.freshTable(t, "adv_seq", full, "(id INT PRIMARY KEY, value VARCHAR) WITH (TYPE = 'USER')")
		s.insertEach(t, 1, 5, func(i int) string {
			return fmt.Sprintf("INSERT INTO %s (id, value) VALUES (%d, 'initial_%d')", full, i, i)
		})
		query := "SELECT * FROM " + full
		l1 := listen(t, s, s.Token, "seq_1", query, nil)
		if len(l1.untilReady(10*time.Second)) == 0 {
			t.Fatal("Should receive initial data")
		}
		change1 := "change1_" + pid
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, value) VALUES (100, '"+change1+"')")
		var lastSeq string
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if line, ok := l1.next(100 * time.Millisecond); ok && (strings.Contains(line, change1) || strings.Contains(line, "Insert")) {
				if m := regexp.MustCompile(`"_seq": "(\d+)"`).FindStringSubmatch(line); m != nil {
					lastSeq = m[1]
				}
				break
			}
		}
		l1.stop()
		change2, change3 := "change2_"+pid, "change3_"+pid
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, value) VALUES (101, '"+change2+"')")
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, value) VALUES (102, '"+change3+"')")
		// The original's second listener subscribes without from_seq_id.
		l2 := listen(t, s, s.Token, "seq_2", query, nil)
		events := l2.collect(15*time.Second, nil, func(e []string) bool {
			last := e[len(e)-1]
			return strings.Contains(last, change2) || strings.Contains(last, change3) || len(e) >= 3
		})
		l2.stop()
		if len(events) == 0 {
			t.Fatal("Second subscription should receive events")
		}
		all := strings.Join(events, "\n")
		if !strings.Contains(all, change2) && !strings.Contains(all, change3) && !strings.Contains(all, "change") {
			t.Fatalf("Second subscription should see the new changes. Events: %q", events)
		}
		t.Logf("seq_id capture: %q", lastSeq)
	})
	t.Run("smoke_subscription_high_volume_changes", func(t *testing.T) {
		full := "adv_vol.high_vol"
		s.freshTable(t, "adv_vol", full, "(id INT PRIMARY KEY, counter INT, updated_at TIMESTAMP) WITH (TYPE = 'USER')")
		l := listen(t, s, s.Token, "vol", "SELECT * FROM "+full, nil)
		t.Logf("initial subscription ready, %d events", len(l.untilReady(5*time.Second)))
		const inserts, updates = 12, 6
		for i := 1; i <= inserts; i++ {
			s.sql(t, s.Root, fmt.Sprintf("INSERT INTO %s (id, counter, updated_at) VALUES (%d, %d, %d)", full, i, i*100, 1730497770045+i))
		}
		for i := 1; i <= updates; i++ {
			s.sql(t, s.Root, fmt.Sprintf("UPDATE %s SET counter = %d WHERE id = %d", full, i*100+os.Getpid(), i))
		}
		insertCount, updateCount := 0, 0
		var all []string
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			line, ok := l.next(100 * time.Millisecond)
			if !ok {
				if insertCount+updateCount >= (inserts+updates)/2 {
					break
				}
				continue
			}
			all = append(all, line)
			if strings.Contains(line, "Insert") {
				insertCount++
			} else if strings.Contains(line, "Update") || strings.Contains(line, pid) {
				updateCount++
			}
			if insertCount >= inserts && updateCount >= updates || len(all) > inserts+updates {
				break
			}
		}
		t.Logf("%d events: %d inserts, %d updates", len(all), insertCount, updateCount)
		if insertCount < inserts/2 {
			t.Fatalf("Should receive at least %d insert events, got %d. Sample: %q", inserts/2, insertCount, all)
		}
		if updateCount < updates/2 {
			t.Fatalf("Should receive at least %d update events, got %d. Sample: %q", updates/2, updateCount, all)
		}
		for _, e := range all {
			if strings.Contains(e, "ERROR") {
				t.Fatalf("Should not receive any error events: %s", e)
			}
		}
		// Beyond the original's tolerance (half): every event arrived.
		if insertCount != inserts || updateCount != updates {
			t.Fatalf("got %d inserts and %d updates, want %d and %d", insertCount, updateCount, inserts, updates)
		}
		l.stop()
	})
	t.Run("smoke_subscription_delete_events", func(t *testing.T) {
		full := "adv_del.del_events"
		s.freshTable(t, "adv_del", full, "(id INT PRIMARY KEY, name VARCHAR) WITH (TYPE = 'USER')")
		s.insertEach(t, 1, 5, func(i int) string { return fmt.Sprintf("INSERT INTO %s (id, name) VALUES (%d, 'item_%d')", full, i, i) })
		l := listen(t, s, s.Token, "del", "SELECT * FROM "+full, nil)
		l.untilReady(6 * time.Second)
		for _, id := range []int{2, 4} {
			s.sql(t, s.Root, fmt.Sprintf("DELETE FROM %s WHERE id = %d", full, id))
		}
		deletes := l.collect(15*time.Second, func(line string) bool { return strings.Contains(line, "Delete") },
			func(e []string) bool { return len(e) >= 2 })
		if len(deletes) == 0 {
			t.Fatal("Should receive DELETE events")
		}
		all := strings.Join(deletes, "\n")
		if !strings.Contains(all, "item_2") && !strings.Contains(all, "item_4") {
			t.Fatalf("DELETE events should contain old row data. Events: %q", deletes)
		}
		l.stop()
	})
	t.Run("smoke_subscription_column_projection", func(t *testing.T) {
		full := "adv_proj.col_proj"
		s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS adv_proj")
		s.sql(t, s.Root, `CREATE TABLE `+full+` (
            id INT PRIMARY KEY,
            username VARCHAR,
            email VARCHAR,
            age INT,
            status VARCHAR,
            bio TEXT,
            created_at TIMESTAMP
        ) WITH (TYPE = 'USER')`)
		username := "user_" + pid
		s.sql(t, s.Root, "INSERT INTO "+full+" (id, username, email, age, status, bio, created_at) VALUES (1, '"+username+"', 'test@example.com', 25, 'active', 'A long bio text here', 1730497770045)")
		l := listen(t, s, s.Token, "proj", "SELECT username FROM "+full, nil)
		initial := l.untilReady(20 * time.Second)
		text := strings.Join(initial, "\n")
		if !strings.Contains(text, "InitialDataBatch") && !strings.Contains(text, username) && !strings.Contains(text, "total_rows: 1") {
			// The original's branch for a snapshot without the row: read on
			// until an event holds the username or an Insert (here the
			// initial data batch that follows an Ack of one batch).
			found := false
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				line, ok := l.next(100 * time.Millisecond)
				if !ok {
					continue
				}
				initial = append(initial, line)
				if strings.Contains(line, username) || strings.Contains(line, "Insert") {
					found = true
					break
				}
			}
			text = strings.Join(initial, "\n")
			if found {
				if !strings.Contains(text, username) && !strings.Contains(text, "username") {
					t.Fatalf("Insert event should contain username: %s", text)
				}
				if strings.Contains(text, "test@example.com") {
					t.Fatalf("Insert event should NOT contain email value: %s", text)
				}
			}
		} else {
			if !strings.Contains(text, username) && !strings.Contains(text, "username") {
				t.Fatalf("Initial data should contain username. Events: %s", text)
			}
			if strings.Contains(text, "test@example.com") {
				t.Fatalf("Initial data should NOT contain email value. Events: %s", text)
			}
			if strings.Contains(text, "A long bio text here") {
				t.Fatalf("Initial data should NOT contain bio value. Events: %s", text)
			}
		}
		updated := "updated_" + pid
		s.sql(t, s.Root, "UPDATE "+full+" SET username = '"+updated+"', email = 'newemail@example.com', status = 'inactive' WHERE id = 1")
		updates := l.collect(15*time.Second, nil, func(e []string) bool {
			last := e[len(e)-1]
			return strings.Contains(last, "Update") || strings.Contains(last, updated)
		})
		if len(updates) == 0 {
			t.Fatal("Should receive update event")
		}
		u := strings.Join(updates, "\n")
		if !strings.Contains(u, updated) && !strings.Contains(u, "username") {
			t.Fatalf("Update event should contain username. Events: %s", u)
		}
		if !strings.Contains(u, "old_rows") {
			t.Fatalf("Update event should contain old_rows. Events: %s", u)
		}
		if strings.Contains(u, "newemail@example.com") {
			t.Fatalf("Update event should NOT contain email value (not in SELECT projection). Events: %s", u)
		}
		if strings.Contains(u, `"inactive"`) {
			t.Fatalf("Update event should NOT contain status value (not in SELECT projection). Events: %s", u)
		}
		hasSeq := false
		for _, e := range initial {
			hasSeq = hasSeq || strings.Contains(e, "InitialDataBatch") && strings.Contains(e, "_seq")
		}
		if !hasSeq {
			t.Fatalf("InitialDataBatch should contain _seq system column. Events: %q", initial)
		}
		l.stop()
		s.sql(t, s.Root, "DROP NAMESPACE adv_proj CASCADE")
	})
}

// subscription/smoke_test_subscription_reconnect_resume.rs: its two tests.
// The client's disconnect and connect are a closed connection and a new
// one (what its SharedConnection does).
func TestSmokeSubscriptionReconnectResume(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	// collectUntil is the original's collect_until.
	collectUntil := func(l *eventListener, timeout time.Duration, done func([]string) bool) []string {
		var events []string
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			if line, ok := l.next(100 * time.Millisecond); ok {
				events = append(events, line)
				if done(events) {
					break
				}
			}
		}
		return events
	}
	contains := func(events []string, needle string) bool {
		for _, e := range events {
			if strings.Contains(e, needle) {
				return true
			}
		}
		return false
	}
	hasAck := func(events []string) bool {
		for _, e := range events {
			if strings.HasPrefix(e, "Ack {") {
				return true
			}
		}
		return false
	}
	seqOf := regexp.MustCompile(`last_seq_id: Some\(SeqId\((\d+)\)\)`)
	for _, tc := range []struct {
		name, ns string
		fromSeq  bool
	}{
		{"smoke_subscription_reconnect_basic_resume", "sub_recon_basic", false},
		{"smoke_subscription_resume_from_seq_id", "sub_recon_seq", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := tc.ns + ".resume"
			s.sql(t, s.Root, "CREATE NAMESPACE IF NOT EXISTS "+tc.ns)
			s.sql(t, s.Root, "CREATE TABLE IF NOT EXISTS "+full+" (id INT PRIMARY KEY, payload TEXT) WITH (TYPE='USER')")
			query := "SELECT id, payload FROM " + full
			l := listen(t, s, s.Token, "recon_"+tc.ns, query, nil)
			ackEvents := collectUntil(l, 8*time.Second, hasAck)
			if tc.fromSeq && !hasAck(ackEvents) {
				t.Fatalf("should receive subscription ACK; got %q", ackEvents)
			}
			var ackSeq string
			for _, e := range ackEvents {
				if m := seqOf.FindStringSubmatch(e); strings.HasPrefix(e, "Ack {") && m != nil {
					ackSeq = m[1]
					break
				}
			}
			pre := "pre_" + tc.ns
			s.sql(t, s.Root, "INSERT INTO "+full+" (id, payload) VALUES (1, '"+pre+"')")
			changeEvents := collectUntil(l, 10*time.Second, func(e []string) bool { return contains(e, pre) })
			if !contains(changeEvents, pre) {
				t.Fatalf("pre-disconnect event should arrive; got %q", changeEvents)
			}
			// The most recent seq_id of an Ack or InitialDataBatch, else the Ack's.
			lastSeq := ackSeq
			for i := len(changeEvents) - 1; i >= 0; i-- {
				e := changeEvents[i]
				if m := seqOf.FindStringSubmatch(e); m != nil && (strings.HasPrefix(e, "Ack {") || strings.HasPrefix(e, "InitialDataBatch {")) {
					lastSeq = m[1]
					break
				}
			}
			l.stop()
			gap1, gap2 := "gap1_"+tc.ns, "gap2_"+tc.ns
			s.sql(t, s.Root, "INSERT INTO "+full+" (id, payload) VALUES (2, '"+gap1+"')")
			s.sql(t, s.Root, "INSERT INTO "+full+" (id, payload) VALUES (3, '"+gap2+"')")
			var options map[string]any
			if tc.fromSeq && lastSeq != "" {
				options = map[string]any{"from_seq_id": lastSeq}
				t.Logf("re-subscribing from seq_id=%s", lastSeq)
			}
			l2 := listen(t, s, s.Token, "recon2_"+tc.ns, query, options)
			resume := collectUntil(l2, 15*time.Second, func(e []string) bool { return contains(e, gap1) && contains(e, gap2) })
			if !contains(resume, gap1) || !contains(resume, gap2) {
				t.Fatalf("gap rows should arrive after reconnect; got %q", resume)
			}
			if tc.fromSeq && lastSeq != "" {
				afterAck := false
				for _, e := range resume {
					if afterAck && strings.HasPrefix(e, "Insert {") && strings.Contains(e, pre) {
						t.Fatalf("pre-disconnect row must not be replayed as Insert after from_seq_id resume: %s", e)
					}
					afterAck = afterAck || strings.HasPrefix(e, "Ack {")
				}
			}
			post := "post_" + tc.ns
			s.sql(t, s.Root, "INSERT INTO "+full+" (id, payload) VALUES (4, '"+post+"')")
			if ev := collectUntil(l2, 10*time.Second, func(e []string) bool { return contains(e, post) }); !contains(ev, post) {
				t.Fatalf("post-reconnect Insert should arrive as live event; got %q", ev)
			}
			l2.stop()
			s.sql(t, s.Root, "DROP NAMESPACE "+tc.ns+" CASCADE")
		})
	}
}

// batchEvent is the original's ParsedEvent of a Debug line.
type batchEvent struct {
	kind           string // Ack, InitialDataBatch, Insert, Error, Other
	batchNum       int
	hasMore        bool
	status         string // loading, loading_batch, ready, unknown
	subscriptionID string
}

// parseBatchEvent is the original's ParsedEvent::parse.
func parseBatchEvent(line string) batchEvent {
	e := batchEvent{kind: "Other"}
	switch {
	case strings.Contains(line, "Ack {"):
		e.kind = "Ack"
	case strings.Contains(line, "InitialDataBatch {"):
		e.kind = "InitialDataBatch"
	case strings.Contains(line, "Insert {"):
		e.kind = "Insert"
	case strings.HasPrefix(line, "ERROR:"):
		e.kind = "Error"
	}
	if m := regexp.MustCompile(`subscription_id: "([^"]*)"`).FindStringSubmatch(line); m != nil {
		e.subscriptionID = m[1]
	}
	if m := regexp.MustCompile(`batch_num: (\d+)`).FindStringSubmatch(line); m != nil {
		e.batchNum, _ = strconv.Atoi(m[1])
	}
	e.hasMore = strings.Contains(line, "has_more: true")
	switch {
	case strings.Contains(line, "Ready"):
		e.status = "ready"
	case strings.Contains(line, "LoadingBatch"):
		e.status = "loading_batch"
	case strings.Contains(line, "Loading"):
		e.status = "loading"
	default:
		e.status = "unknown"
	}
	return e
}

// batchEvents is the original's collect_events_with_retry (3 attempts) of
// collect_batches_until_ready: events until an InitialDataBatch without
// has_more.
func batchEvents(t *testing.T, s *server, query string, options map[string]any, timeout time.Duration) []batchEvent {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		l := listen(t, s, s.Token, fmt.Sprintf("batch_test_%d", time.Now().UnixNano()), query, options)
		var events []batchEvent
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			line, ok := l.next(100 * time.Millisecond)
			if !ok {
				continue
			}
			e := parseBatchEvent(line)
			events = append(events, e)
			if e.kind == "InitialDataBatch" && !e.hasMore {
				break
			}
		}
		l.stop()
		if len(events) > 0 {
			return events
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil
}

func ofKind(events []batchEvent, kind string) []batchEvent {
	var out []batchEvent
	for _, e := range events {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// usecases/smoke_test_batch_control.rs: its four tests.
func TestSmokeBatchControl(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	finalReady := func(t *testing.T, batches []batchEvent) {
		t.Helper()
		if last := batches[len(batches)-1]; last.hasMore || last.status != "ready" {
			t.Fatalf("Final batch should have has_more=false and status=ready: %+v", last)
		}
	}
	t.Run("smoke_batch_control_single_batch", func(t *testing.T) {
		full := "bc_single.single_batch"
		s.freshTable(t, "bc_single", full, "(id INT PRIMARY KEY, name VARCHAR) WITH (TYPE = 'USER')")
		s.insertEach(t, 1, 5, func(i int) string { return fmt.Sprintf("INSERT INTO %s (id, name) VALUES (%d, 'name_%d')", full, i, i) })
		events := batchEvents(t, s, "SELECT * FROM "+full, nil, 10*time.Second)
		acks := ofKind(events, "Ack")
		if len(acks) == 0 {
			t.Fatalf("Should receive Ack event: %+v", events)
		}
		if acks[0].batchNum != 0 {
			t.Fatalf("First batch should be batch_num=0: %+v", acks[0])
		}
		batches := ofKind(events, "InitialDataBatch")
		if len(batches) == 0 {
			t.Fatalf("Should receive InitialDataBatch event: %+v", events)
		}
		finalReady(t, batches)
	})
	t.Run("smoke_batch_control_multi_batch", func(t *testing.T) {
		full := "bc_multi.multi_batch"
		s.freshTable(t, "bc_multi", full, "(id INT PRIMARY KEY, data VARCHAR, value INT) WITH (TYPE = 'USER')")
		s.insertEach(t, 1, 25, func(i int) string {
			return fmt.Sprintf("INSERT INTO %s (id, data, value) VALUES (%d, 'row_data_%d', %d)", full, i, i, i*10)
		})
		batches := ofKind(batchEvents(t, s, "SELECT * FROM "+full, map[string]any{"batch_size": 5}, 15*time.Second), "InitialDataBatch")
		if len(batches) < 2 {
			t.Fatalf("Should receive at least 2 batch events for 25 rows with batch_size=5: %+v", batches)
		}
		for i := 1; i < len(batches); i++ {
			if n := batches[i].batchNum; n <= batches[i-1].batchNum && n != 0 {
				t.Fatalf("batch_num should increment or be 0 for first batch. Got %d after %d", n, batches[i-1].batchNum)
			}
		}
		if st := batches[0].status; st != "loading" && st != "ready" {
			t.Fatalf("First batch should have status=loading or ready: %+v", batches[0])
		}
		finalReady(t, batches)
	})
	t.Run("smoke_batch_control_empty_table", func(t *testing.T) {
		full := "bc_empty.empty"
		s.freshTable(t, "bc_empty", full, "(id INT PRIMARY KEY, data VARCHAR) WITH (TYPE = 'USER')")
		acks := ofKind(batchEvents(t, s, "SELECT * FROM "+full, nil, 10*time.Second), "Ack")
		if len(acks) == 0 {
			t.Fatal("Should receive Ack event for empty table")
		}
		if a := acks[0]; a.batchNum != 0 || a.hasMore || a.status != "ready" {
			t.Fatalf("Empty table should have batch_num=0, has_more=false, status=ready in its Ack: %+v", a)
		}
	})
	t.Run("smoke_batch_control_data_ordering", func(t *testing.T) {
		full := "bc_order.ordering"
		s.freshTable(t, "bc_order", full, "(id INT PRIMARY KEY, seq INT, label VARCHAR) WITH (TYPE = 'USER')")
		s.insertEach(t, 1, 15, func(i int) string {
			return fmt.Sprintf("INSERT INTO %s (id, seq, label) VALUES (%d, %d, 'item_%d')", full, i, i*100, i)
		})
		batches := ofKind(batchEvents(t, s, "SELECT * FROM "+full, map[string]any{"batch_size": 5}, 15*time.Second), "InitialDataBatch")
		if len(batches) == 0 {
			// The original's fallback: the rows in order by SELECT.
			recs := records(t, s.Root, "SELECT id, seq, label FROM "+full+" ORDER BY id")
			if len(recs) != 15 {
				t.Fatalf("Fallback SELECT should return all inserted rows: %v", recs)
			}
			for i, r := range recs {
				if r.Int("id") != int64(i+1) || r.Int("seq") != int64(i+1)*100 || r.String("label") != fmt.Sprintf("item_%d", i+1) {
					t.Fatalf("Fallback row %d: %v", i, r)
				}
			}
		} else {
			finalReady(t, batches)
		}
	})
}
