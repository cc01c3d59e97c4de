package flush

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// clusterManager is a manager of replica 1 in a cluster with two user
// shards, leading the groups lead returns true for (no storage: only
// the leadership rules are exercised).
func clusterManager(lead func(shard string) bool) *Manager {
	first := keys.AllDataGroups()[1]
	name := func(g uint16) string {
		switch g {
		case keys.GroupMeta:
			return "meta"
		case keys.GroupShared:
			return "shared"
		}
		return fmt.Sprintf("u%d", (g-first)%2)
	}
	return &Manager{opts: Options{Cluster: &Cluster{
		Leads: func(g uint16) bool { return lead(name(g)) }, ShardName: name, Self: "replica 1"}}}
}

func TestSkipScope(t *testing.T) {
	m := clusterManager(func(s string) bool { return s == "u0" })
	first := keys.AllDataGroups()[1]
	u0, u1 := first, first+1
	cases := []struct {
		sel       scopeSel
		g         uint16
		skip      bool
		leaderErr bool
	}{
		{scopeSel{}, u0, false, false},                          // automatic job: a group it leads
		{scopeSel{}, u1, true, false},                           // automatic job: another leader's group
		{scopeSel{}, keys.GroupShared, true, false},             // idem
		{scopeSel{shard: "u0", strict: true}, u0, false, false}, // its part
		{scopeSel{shard: "u0", strict: true}, u1, true, false},  // not the part's group
		{scopeSel{shard: "u1", strict: true}, u1, true, true},   // a part of a group it does not lead
	}
	for i, c := range cases {
		skip, err := m.skipScope(c.sel, c.g)
		if skip != c.skip || errors.Is(err, errLeadershipLost) != c.leaderErr {
			t.Errorf("case %d: skip %v err %v, want %v %v", i, skip, err, c.skip, c.leaderErr)
		}
	}
	single := &Manager{}
	if skip, err := single.skipScope(scopeSel{}, u1); skip || err != nil {
		t.Errorf("single node: skip %v %v", skip, err)
	}
}

func TestShardsOf(t *testing.T) {
	m := clusterManager(func(string) bool { return false })
	if got := m.shardsOf(&catalog.Table{Type: catalog.TableShared}); !slices.Equal(got, []string{"shared"}) {
		t.Errorf("shared table: %v", got)
	}
	got := m.shardsOf(&catalog.Table{Type: catalog.TableUser})
	slices.Sort(got)
	if !slices.Equal(got, []string{"u0", "u1"}) {
		t.Errorf("user table: %v", got)
	}
}

// TestInterrupted: who fails an unfinished job record on a replicated
// node — its own node after a restart, the meta leader for the
// catalog-wide jobs — and that parts and parents are never failed.
func TestInterrupted(t *testing.T) {
	follower := clusterManager(func(string) bool { return false })
	metaLeader := clusterManager(func(s string) bool { return s == "meta" })
	run := catalog.JobRunning
	cases := []struct {
		j                   catalog.Job
		follower, metaLeads bool
	}{
		{catalog.Job{Type: JobFlush, Status: run, Node: "replica 1"}, true, true},
		{catalog.Job{Type: JobFlush, Status: run, Node: "replica 2"}, false, false},
		{catalog.Job{Type: JobFlush, Status: catalog.JobCompleted, Node: "replica 1"}, false, false},
		{catalog.Job{Type: JobDropCleanup, Status: run, Node: "replica 2"}, false, true},
		{catalog.Job{Type: JobUserCleanup, Status: catalog.JobQueued, Node: "replica 3"}, false, true},
		{catalog.Job{Type: JobFlush, Status: run}, false, true}, // no node: an older version's
		{catalog.Job{Type: JobFlush, Status: run, Node: "replica 1", Parent: "FL-1"}, false, false},
		{catalog.Job{Type: JobFlush, Status: catalog.JobQueued, Node: "replica 1", Parts: []string{"u0"}}, false, false},
	}
	for i, c := range cases {
		if got := follower.interrupted(&c.j); got != c.follower {
			t.Errorf("case %d on a follower: %v, want %v", i, got, c.follower)
		}
		if got := metaLeader.interrupted(&c.j); got != c.metaLeads {
			t.Errorf("case %d on the meta leader: %v, want %v", i, got, c.metaLeads)
		}
	}
	if !(&Manager{}).interrupted(&catalog.Job{Type: JobFlush, Status: run, Node: "replica 2"}) {
		t.Error("single node: every unfinished job not its own is interrupted")
	}
}
