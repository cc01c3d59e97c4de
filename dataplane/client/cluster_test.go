package client

import (
	"slices"
	"testing"
)

// TestLed: a replica leads the groups whose known leader is itself,
// whatever is_leader says.
func TestLed(t *testing.T) {
	st := ClusterStatus{ReplicaID: 2, Shards: []ClusterShard{
		{Name: "meta", Leader: 2}, {Name: "shared", Leader: 1, IsLeader: true}, {Name: "u0", Leader: 0}, {Name: "u1", Leader: 2, IsLeader: false},
	}}
	if got := st.Led(); !slices.Equal(got, []string{"meta", "u1"}) {
		t.Fatalf("Led() = %v, want [meta u1]", got)
	}
}
