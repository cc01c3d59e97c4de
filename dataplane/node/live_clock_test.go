package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestLiveTimeDependentFilters: rows enter and leave a condition that
// reads NOW() as time passes, with no write: `t > NOW() - 1.5 s` loses
// rows, `t <= NOW()` gains them, each reported once (insert / delete),
// and changes to such rows are reported against what the client holds.
// Such subscriptions cannot resume.
func TestLiveTimeDependentFilters(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.WebSocket.TimeFilterRecheckMS = 100 })
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE tw")
	mustSQL(t, root, "CREATE SHARED TABLE tw.ev (id BIGINT PRIMARY KEY, t BIGINT, note TEXT)")
	w := dialWS(t, n, root)
	recent, due := newMaterialized(t), newMaterialized(t)
	rows, _, pos := w.subscribeAll("recent", "SELECT * FROM tw.ev WHERE t > NOW() - 1500000", nil)
	recent.initial(rows, pos)
	rows, _, pos = w.subscribeAll("due", "SELECT * FROM tw.ev WHERE t <= NOW() AND note <> 'x'", nil)
	due.initial(rows, pos)

	now := time.Now().UnixMicro()
	mustSQL(t, root, fmt.Sprintf("INSERT INTO tw.ev (id, t, note) VALUES (1, %d, 'a'), (2, %d, 'b')", now, now+1_500_000))
	// events: recent +1 +2, due +1 (now); due +2 at ~1.5 s; recent -1 at
	// ~1.5 s, -2 at ~3 s.
	type ev struct{ sub, kind string }
	var got []ev
	deadline := time.Now().Add(8 * time.Second)
	for len(got) < 6 && time.Now().Before(deadline) {
		m, err := w.recvErr(time.Until(deadline))
		if err != nil {
			break
		}
		if m.Type != "change" {
			t.Fatalf("unexpected %s", m.raw)
		}
		mat := map[string]*materialized{"recent": recent, "due": due}[m.SubscriptionID]
		mat.apply(m)
		got = append(got, ev{m.SubscriptionID, m.ChangeType})
	}
	if len(got) != 6 {
		t.Fatalf("got %d events %v, want 6", len(got), got)
	}
	if took := time.Since(time.UnixMicro(now)); took < 3*time.Second {
		t.Fatalf("rows left the result after %v, before their time", took)
	}
	if recent.sortedIDs() != "[]" || due.sortedIDs() != "[1 2]" {
		t.Fatalf("recent %s, due %s", recent.sortedIDs(), due.sortedIDs())
	}
	// Changes are judged by what the client holds: id 2 is held by "due"
	// (update) and not by "recent" (nothing, it does not match); a change
	// that makes it fail the condition deletes it.
	mustSQL(t, root, "UPDATE tw.ev SET note = 'c' WHERE id = 2")
	if m := w.expectFor("due", "change"); m.ChangeType != "update" {
		t.Fatalf("update of a held row: %s", m.raw)
	}
	mustSQL(t, root, "UPDATE tw.ev SET note = 'x' WHERE id = 1")
	if m := w.expectFor("due", "change"); m.ChangeType != "delete" || len(m.OldValues) != 1 || rowID(t, m.OldValues[0]) != 1 {
		t.Fatalf("leave by update: %s", m.raw)
	}
	// A row inserted already inside the window, and one re-entering by
	// an update: plain events.
	mustSQL(t, root, fmt.Sprintf("INSERT INTO tw.ev (id, t, note) VALUES (3, %d, 'd')", time.Now().UnixMicro()+60_000_000))
	if m := w.expectFor("recent", "change"); m.ChangeType != "insert" || rowID(t, m.Rows[0]) != 3 {
		t.Fatalf("insert into the window: %s", m.raw)
	}
	w.expectNothing(500 * time.Millisecond)

	// Resuming a time-dependent subscription is refused.
	w.subscribe("again", "SELECT * FROM tw.ev WHERE t > NOW()", map[string]any{"from": pos})
	if m := w.expect("error"); m.Code != "RESUME_UNAVAILABLE" {
		t.Fatalf("resume: %s", m.raw)
	}
}
