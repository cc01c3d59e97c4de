package replication

import (
	"testing"

	"github.com/lni/dragonboat/v4/raftio"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestLeaderWatch: a waiter's channel closes only when its shard gets a
// leader at a higher term, not on an election in progress (leader 0), a
// repeated report of the same term, or another shard's change.
func TestLeaderWatch(t *testing.T) {
	lw := newLeaderWatch()
	if !lw.update(raftio.LeaderInfo{ShardID: 1, Term: 3, LeaderID: 1}) {
		t.Fatal("first leader not announced")
	}
	a, b := lw.changed(1), lw.changed(2)
	for _, info := range []raftio.LeaderInfo{
		{ShardID: 1, Term: 3, LeaderID: 1}, // same term again
		{ShardID: 1, Term: 4, LeaderID: 0}, // election under way
		{ShardID: 1, Term: 2, LeaderID: 2}, // stale
	} {
		if lw.update(info) || closed(a) {
			t.Fatalf("%+v announced a new leader", info)
		}
	}
	if !lw.update(raftio.LeaderInfo{ShardID: 1, Term: 4, LeaderID: 2}) || !closed(a) {
		t.Fatal("new leader at a higher term not announced")
	}
	if closed(b) {
		t.Fatal("shard 2's waiter woken by shard 1's change")
	}
	if c := lw.changed(1); closed(c) {
		t.Fatal("a waiter after the change sees it")
	}
}
