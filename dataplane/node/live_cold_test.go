package node

import (
	"fmt"
	"strings"
	"testing"
)

// TestLiveWithColdTier: initial data includes rows flushed to the cold
// tier; a flush that purges hot rows and tombstones raises the history
// horizon in the same commit, so a resume from before it is refused
// (never a silent gap), while a resume from after it replays from the
// hot tier as usual.
func TestLiveWithColdTier(t *testing.T) {
	n := startCold(t, t.TempDir())
	defer n.Close()
	root, alice, _ := setupChat(t, n)
	var vals []string
	for i := 1; i <= 50; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'r', 'v', %d)", i, i))
	}
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score) VALUES "+strings.Join(vals, ","))
	w := dialWS(t, n, alice)
	mat := newMaterialized(t)
	rows, _, pos := w.subscribeAll("s", "SELECT * FROM chat.messages", nil)
	mat.initial(rows, pos)
	before := pos
	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id <= 5")
	for got := 0; got < 5; {
		c := w.expect("change")
		mat.apply(c)
		got += len(c.OldValues)
	}
	w.c.CloseNow()

	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE chat.messages"))
	// Initial data now comes (partly) from Parquet.
	w2 := dialWS(t, n, alice)
	rows, _, pos2 := w2.subscribeAll("all", "SELECT * FROM chat.messages", map[string]any{"batch_size": 7})
	if len(rows) != 45 || rowID(t, rows[0]) != 6 || rowID(t, rows[44]) != 50 {
		t.Fatalf("initial data after flush: %d rows (%s)", len(rows), ids(t, rows))
	}
	// The deletes' tombstones left the hot tier with the flush.
	w2.subscribe("old", "SELECT * FROM chat.messages", map[string]any{"from": fmt.Sprint(before)})
	if e := w2.expectFor("old", "error"); e.Code != "RESUME_UNAVAILABLE" {
		t.Fatalf("resume from before the flush: %s", e.raw)
	}
	// After the flush: changes since are hot and replay normally.
	mustSQL(t, alice, "UPDATE chat.messages SET body = 'after' WHERE id = 10")
	mustSQL(t, alice, "DELETE FROM chat.messages WHERE id = 11")
	if c := w2.expect("change"); c.ChangeType != "update" {
		t.Fatalf("%s", c.raw)
	}
	if c := w2.expect("change"); c.ChangeType != "delete" {
		t.Fatalf("%s", c.raw)
	}
	upd, del, _ := w2.subscribeAll("new", "SELECT * FROM chat.messages", map[string]any{"from": fmt.Sprint(pos2)})
	if ids(t, upd) != "10" || ids(t, del) != "11" || upd[0]["body"] != "after" {
		t.Fatalf("replay after the flush: rows %v deleted %v", upd, del)
	}
}
