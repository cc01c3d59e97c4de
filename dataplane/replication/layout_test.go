package replication

import (
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func TestLayoutCoversEveryGroupOnce(t *testing.T) {
	for _, g := range []int{1, 2, 4, 32} {
		l, err := NewLayout(g)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(l.Shards()); n != g+2 {
			t.Fatalf("G=%d: %d shards, want %d", g, n, g+2)
		}
		seen := map[uint16]uint64{}
		for _, s := range l.Shards() {
			gs := l.Groups(s)
			if len(gs) == 0 {
				t.Fatalf("G=%d: shard %d has no group", g, s)
			}
			for _, eg := range gs {
				if prev, dup := seen[eg]; dup {
					t.Fatalf("G=%d: group %d in shards %d and %d", g, eg, prev, s)
				}
				seen[eg] = s
				if l.ShardOf(eg) != s {
					t.Fatalf("G=%d: ShardOf(%d)=%d, listed under %d", g, eg, l.ShardOf(eg), s)
				}
			}
		}
		if len(seen) != len(keys.AllGroups()) {
			t.Fatalf("G=%d: %d groups covered, want %d", g, len(seen), len(keys.AllGroups()))
		}
		if got := l.Groups(ShardMeta); len(got) != 1 || got[0] != keys.GroupMeta {
			t.Fatalf("meta shard groups %v", got)
		}
	}
}

func TestLayoutRejectsBadG(t *testing.T) {
	for _, g := range []int{0, 3, 64, -1} {
		if _, err := NewLayout(g); err == nil {
			t.Errorf("NewLayout(%d) accepted", g)
		}
	}
}
