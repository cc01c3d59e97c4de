package config

import "testing"

// TestClusterJoins: cluster.join_above_replica_id makes only the replicas
// above it join, so the node holding the data (replica 1) adopts it while
// the new ones (2, 3) join, from one shared env.
func TestClusterJoins(t *testing.T) {
	for _, tc := range []struct {
		join      bool
		above, id int
		wantJoins bool
	}{
		{false, 0, 1, false}, {false, 0, 3, false}, {true, 0, 1, true},
		{false, 1, 1, false}, {false, 1, 2, true}, {false, 1, 3, true},
		{false, 1, 0, false}, // unresolved id never joins by the threshold
		{true, 1, 1, true},
	} {
		c := ClusterConfig{Join: tc.join, JoinAboveReplicaID: tc.above, ReplicaID: tc.id}
		if got := c.Joins(); got != tc.wantJoins {
			t.Errorf("%+v: Joins() = %v, want %v", tc, got, tc.wantJoins)
		}
	}
	cfg := Default()
	if err := applyEnv(&cfg, func(k string) (string, bool) { return "1", k == "KALAMDB_CLUSTER_JOIN_ABOVE_REPLICA_ID" }); err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.JoinAboveReplicaID != 1 {
		t.Fatalf("env: JoinAboveReplicaID = %d", cfg.Cluster.JoinAboveReplicaID)
	}
}

// TestClusterSeveralMembers: per-node AUTO_INCREMENT counters are refused
// in a cluster of several members, and on a joining node even when its
// members list names one existing member only; a single node and a
// one-member cluster keep them.
func TestClusterSeveralMembers(t *testing.T) {
	for _, tc := range []struct {
		members   int
		join      bool
		above, id int
		want      bool
	}{
		{0, false, 0, 0, false}, {1, false, 0, 1, false}, {3, false, 0, 1, true}, {2, false, 0, 2, true},
		{1, true, 0, 2, true}, {1, false, 1, 2, true}, {1, false, 1, 1, false},
	} {
		c := ClusterConfig{Join: tc.join, JoinAboveReplicaID: tc.above, ReplicaID: tc.id}
		for i := range tc.members {
			c.Members = append(c.Members, string(rune('1'+i))+"=127.0.0.1:700"+string(rune('1'+i)))
		}
		if got := c.SeveralMembers(); got != tc.want {
			t.Errorf("%+v: SeveralMembers() = %v, want %v", tc, got, tc.want)
		}
	}
}
