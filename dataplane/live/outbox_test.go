package live

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestOutboxMergesAndBounds(t *testing.T) {
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	b := &Subscription{id: "b", idJSON: []byte(`"b"`)}
	row := func(id string) []byte { return []byte(`{"id":"` + id + `","_seq":"1"}`) }
	o := NewOutbox(3, 100)
	// Five inserts of a, then an update of a, then an insert of b: three
	// frames, so they fit a capacity of 3 messages.
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		if !o.push(outItem{sub: a, kind: changeInsert, row: row(id)}, true) {
			t.Fatalf("insert %s did not fit", id)
		}
	}
	if !o.push(outItem{sub: a, kind: changeUpdate, row: row("1"), old: []byte(`{"id":"1","_seq":"0"}`)}, true) {
		t.Fatal("update did not fit")
	}
	if !o.push(outItem{sub: b, kind: changeDelete, old: row("9")}, true) {
		t.Fatal("delete did not fit")
	}
	if o.push(outItem{sub: a, kind: changeInsert, row: row("6")}, true) {
		t.Fatal("a fourth message fit a capacity of 3")
	}
	o.PushControl(ErrorMessage("a", CodeOverflow, "full")) // control messages always fit
	frames, _, closing, _, _ := o.Take(nil, nil)
	if closing || len(frames) != 4 {
		t.Fatalf("%d frames, closing %v", len(frames), closing)
	}
	want := []string{
		`{"type":"change","subscription_id":"a","change_type":"insert","rows":[{"id":"1","_seq":"1"},{"id":"2","_seq":"1"},{"id":"3","_seq":"1"},{"id":"4","_seq":"1"},{"id":"5","_seq":"1"}]}`,
		`{"type":"change","subscription_id":"a","change_type":"update","rows":[{"id":"1","_seq":"1"}],"old_values":[{"id":"1","_seq":"0"}]}`,
		`{"type":"change","subscription_id":"b","change_type":"delete","old_values":[{"id":"9","_seq":"1"}]}`,
		`{"type":"error","subscription_id":"a","code":"OVERFLOW","message":"full"}`,
	}
	for i, f := range frames {
		if string(f) != want[i] {
			t.Errorf("frame %d:\n got %s\nwant %s", i, f, want[i])
		}
		if !json.Valid(f) {
			t.Errorf("frame %d is not JSON", i)
		}
	}
	// Taking empties the queue and frees capacity.
	if !o.push(outItem{sub: a, kind: changeInsert, row: row("7")}, true) {
		t.Fatal("no room after Take")
	}
	// Merging stops at maxMergedRows.
	o2 := NewOutbox(1000, 100000)
	for i := 0; i < maxMergedRows+1; i++ {
		o2.push(outItem{sub: a, kind: changeInsert, row: row("x")}, true)
	}
	if frames, _, _, _, _ := o2.Take(nil, nil); len(frames) != 2 {
		t.Fatalf("%d frames for %d rows", len(frames), maxMergedRows+1)
	}
	// The byte bound applies even when rows merge; a message larger than
	// the whole bound still goes alone into an empty queue.
	o3 := NewOutbox(1, 1000)
	big := []byte(`{"id":"` + strings.Repeat("z", bytesPerSlot) + `"}`)
	if !o3.push(outItem{sub: a, kind: changeInsert, row: row("0")}, true) {
		t.Fatal("a small row did not fit")
	}
	if o3.push(outItem{sub: a, kind: changeInsert, row: big}, true) {
		t.Fatal("a row over the byte bound fit")
	}
	// Close is reported after the queued frames; pushes after it fail.
	o3.PushControl([]byte(`{"type":"x"}`))
	o3.Close(CloseGoingAway, "bye")
	if o3.push(outItem{sub: a, kind: changeInsert, row: row("1")}, true) {
		t.Fatal("push after Close")
	}
	frames, _, closing, code, reason := o3.Take(nil, nil)
	if len(frames) != 2 || !closing || code != CloseGoingAway || reason != "bye" {
		t.Fatalf("close: %d frames %v %d %q", len(frames), closing, code, reason)
	}
}

func TestOutboxTakesLargeStatements(t *testing.T) {
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	o := NewOutbox(16, 8)
	// 5,000 rows of one statement merge into 20 frames: they fit a
	// capacity of 16 frames only in part, but far more than 16 rows fit.
	n := 0
	for i := 0; i < 5000; i++ {
		if !o.push(outItem{sub: a, kind: changeInsert, row: []byte(`{"id":"1","_seq":"1"}`)}, true) {
			break
		}
		n++
	}
	if n != 16*maxMergedRows {
		t.Fatalf("%d rows fit, want %d", n, 16*maxMergedRows)
	}
}

func TestHardCapClosesConnection(t *testing.T) {
	o := NewOutbox(16, 2)
	o.PushControl([]byte(`{}`))
	o.PushControl([]byte(`{}`))
	o.PushControl([]byte(`{}`)) // over the hard cap: the client is not reading
	if !o.Closing() {
		t.Fatal("hard cap did not close")
	}
}

func TestBatchMessage(t *testing.T) {
	cases := []struct {
		num    int
		more   bool
		resume bool
		status string
	}{{0, true, false, "loading"}, {1, true, false, "loading_batch"}, {2, false, false, "ready"}, {0, false, true, "ready"}}
	for _, c := range cases {
		b := batchMessage([]byte(`"s"`), [][]byte{[]byte(`{"id":1}`)}, nil, c.resume, c.num, c.more, 42)
		var m struct {
			Type         string            `json:"type"`
			Rows         []json.RawMessage `json:"rows"`
			DeletedRows  []json.RawMessage `json:"deleted_rows"`
			BatchControl struct {
				BatchNum  int    `json:"batch_num"`
				HasMore   bool   `json:"has_more"`
				Status    string `json:"status"`
				LastSeqID string `json:"last_seq_id"`
			} `json:"batch_control"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		bc := m.BatchControl
		if m.Type != "initial_data_batch" || len(m.Rows) != 1 || bc.BatchNum != c.num || bc.HasMore != c.more || bc.Status != c.status || bc.LastSeqID != "42" {
			t.Errorf("%+v: %s", c, b)
		}
		if c.resume != strings.Contains(string(b), `"deleted_rows":[]`) {
			t.Errorf("deleted_rows presence wrong: %s", b)
		}
	}
}

func TestKeyUser(t *testing.T) {
	key := append([]byte{0, 70, 0x10, 0, 0, 0, 9}, []byte("alice\x00pk")...)
	if u, ok := keyUser(key); !ok || u != "alice" {
		t.Fatalf("%q %v", u, ok)
	}
	if _, ok := keyUser([]byte{0, 1, 0x10, 0, 0, 0, 9, 'x'}); ok {
		t.Fatal("key without terminator")
	}
	if _, ok := keyUser([]byte{0, 1}); ok {
		t.Fatal("short key")
	}
}

func TestValidSubID(t *testing.T) {
	for id, want := range map[string]bool{"s1": true, "a b": true, "": false, "  ": false, "x\n": false,
		strings.Repeat("x", MaxSubscriptionIDLen): true, strings.Repeat("x", MaxSubscriptionIDLen+1): false, "\xff": false} {
		if validSubID(id) != want {
			t.Errorf("validSubID(%q) != %v", id, want)
		}
	}
}

// TestOutboxTakeUpTo: a bounded take leaves the rest queued with its
// counters and merge run intact, keeps every byte charged (queued or in
// flight) and reports a pending close only with the last message.
func TestOutboxTakeUpTo(t *testing.T) {
	m := budgetManager(1<<20, 1<<20)
	o := NewOutbox(1000, 100)
	if !m.Attach(o) {
		t.Fatal("attach")
	}
	a := &Subscription{id: "a", idJSON: []byte(`"a"`)}
	for range 10 {
		if !o.push(outItem{sub: a, kind: changeInsert, row: rowOf(1000)}, true) {
			t.Fatal("push")
		}
	}
	o.PushControl([]byte(`{"type":"error"}`))
	o.Close(CloseNormal, "bye")
	held := o.Held()
	frames, _, closing, _, _, more := o.TakeUpTo(nil, nil, 2500)
	if len(frames) != 1 || !more || closing {
		t.Fatalf("first take: %d frames, more %v, closing %v", len(frames), more, closing)
	}
	if got := bytes.Count(frames[0], []byte(`"v"`)); got != 3 {
		t.Fatalf("first frame carries %d rows, want 3", got)
	}
	if o.Held() != held || o.Len() != 8 {
		t.Fatalf("after a bounded take: held %d (was %d), %d queued", o.Held(), held, o.Len())
	}
	o.Sent()
	frames, _, closing, code, _, more := o.TakeUpTo(nil, nil, 0)
	if len(frames) != 2 || more || !closing || code != CloseNormal {
		t.Fatalf("second take: %d frames, more %v, closing %v %d", len(frames), more, closing, code)
	}
	if got := bytes.Count(frames[0], []byte(`"v"`)); got != 7 {
		t.Fatalf("second frame carries %d rows, want 7", got)
	}
	o.Sent()
	if o.Held() != 0 || m.budget.used.Load() != 0 {
		t.Fatalf("held %d, budget used %d after everything was sent", o.Held(), m.budget.used.Load())
	}
}
