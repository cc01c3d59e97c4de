package node

import (
	"fmt"
	"strings"
	"testing"
)

// TestLiveAckBatchControl: the subscription_ack carries the first batch's
// batch_control, as upstream's (its clients read "ready" off the ack of an
// empty or one-batch subscription): has_more and status loading when more
// batches follow, has_more false and status ready otherwise.
func TestLiveAckBatchControl(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	_, alice, _ := setupChat(t, n)
	w := dialWS(t, n, alice)
	check := func(id string, opts map[string]any, more bool, status string) {
		t.Helper()
		w.subscribe(id, "SELECT * FROM chat.messages", opts)
		ack := w.expectFor(id, "subscription_ack")
		if bc := ack.BatchControl; bc == nil || bc.BatchNum != 0 || bc.HasMore != more || bc.Status != status || bc.LastSeqID == "" {
			t.Fatalf("%s: ack %s, want has_more %v status %s", id, ack.raw, more, status)
		}
		b := w.expectFor(id, "initial_data_batch")
		if b.BatchControl.HasMore != more || b.BatchControl.Status != status {
			t.Fatalf("%s: first batch %s", id, b.raw)
		}
		w.send(map[string]any{"type": "unsubscribe", "subscription_id": id})
	}
	check("empty", nil, false, "ready")
	var vals []string
	for i := 1; i <= 5; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'r', 'b%d', %d, NULL)", i, i, i))
	}
	mustSQL(t, alice, "INSERT INTO chat.messages (id, room, body, score, tags) VALUES "+strings.Join(vals, ","))
	check("one", nil, false, "ready")
	check("paged", map[string]any{"batch_size": 2}, true, "loading")
}
