package node

import (
	"testing"
	"time"
)

// TestLiveEqualityIndexedFilters: subscriptions whose condition has a
// top-level `column = literal` term are dispatched through the equality
// index; rows moving between values still produce insert / update /
// delete, and conditions the index cannot key (OR, parentheses, other
// types) behave as before.
func TestLiveEqualityIndexedFilters(t *testing.T) {
	n := startNodeWith(t, nil)
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE eq")
	mustSQL(t, root, "CREATE SHARED TABLE eq.items (id BIGINT PRIMARY KEY, room TEXT, n INT, note TEXT)")
	w := dialWS(t, n, root)
	subs := map[string]string{
		"a":      "SELECT * FROM eq.items WHERE room = 'a'",
		"b":      "SELECT * FROM eq.items WHERE 'b' = room",
		"a-big":  "SELECT * FROM eq.items WHERE room = 'a' AND n > 5",
		"n7":     "SELECT * FROM eq.items WHERE n = 7 AND note IS NOT NULL",
		"neg":    "SELECT * FROM eq.items WHERE n = -1",
		"a-or-c": "SELECT * FROM eq.items WHERE room = 'a' OR room = 'c'",
		"paren":  "SELECT * FROM eq.items WHERE (room = 'b')",
		"numtxt": "SELECT * FROM eq.items WHERE note = 5",
		"all":    "SELECT * FROM eq.items",
	}
	mats := map[string]*materialized{}
	for id, q := range subs {
		rows, _, pos := w.subscribeAll(id, q, nil)
		m := newMaterialized(t)
		m.initial(rows, pos)
		mats[id] = m
	}
	steps := []string{
		"INSERT INTO eq.items (id, room, n, note) VALUES (1, 'a', 1, 'x'), (2, 'b', 7, 'y'), (3, 'c', -1, '5'), (4, NULL, 7, NULL)",
		"UPDATE eq.items SET room = 'b' WHERE id = 1",        // a -> b
		"UPDATE eq.items SET n = 9, room = 'a' WHERE id = 2", // b -> a, enters a-big
		"UPDATE eq.items SET note = 'z' WHERE id = 4",        // enters n7
		"UPDATE eq.items SET room = 'c', n = 7 WHERE id = 3",
		"DELETE FROM eq.items WHERE id = 2",
		"UPDATE eq.items SET note = 'q' WHERE id = 1", // stays in b
	}
	for _, s := range steps {
		mustSQL(t, root, s)
	}
	// Every subscription must converge to what a fresh SELECT returns.
	mustSQL(t, root, "INSERT INTO eq.items (id, room, n, note) VALUES (100, 'sentinel', 0, 'end')")
	want := map[string]string{}
	fresh := dialWS(t, n, root)
	for id, q := range subs {
		rows, _, pos := fresh.subscribeAll(id, q, nil)
		m := newMaterialized(t)
		m.initial(rows, pos)
		want[id] = m.sortedIDs()
	}
	// Drain changes until each subscription saw the sentinel (or, for the
	// ones that never match it, until "all" saw it and nothing more came).
	seenAll := false
	for !seenAll {
		m := w.recv()
		if m.Type != "change" {
			t.Fatalf("unexpected %s", m.raw)
		}
		mats[m.SubscriptionID].apply(m)
		if m.SubscriptionID == "all" {
			for _, r := range m.Rows {
				if rowID(t, r) == 100 {
					seenAll = true
				}
			}
		}
	}
	w.expectNothing(300 * time.Millisecond)
	for id, m := range mats {
		if got := m.sortedIDs(); got != want[id] {
			t.Errorf("%s (%s): live state %s, SELECT %s", id, subs[id], got, want[id])
		}
	}
}
