package controllers

import (
	"strings"
	"testing"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// report is one pod's cluster status: replica id, then per group
// name -> leader, term, applied.
func report(replica uint64, shards ...dpclient.ClusterShard) *dpclient.ClusterStatus {
	for i := range shards {
		shards[i].Members = map[string]string{"1": "a", "2": "b", "3": "c"}
		shards[i].IsLeader = shards[i].Leader == replica
	}
	return &dpclient.ClusterStatus{ReplicaID: replica, Shards: shards}
}

func shard(id uint64, name string, leader, term, applied uint64) dpclient.ClusterShard {
	return dpclient.ClusterShard{Shard: id, Name: name, Leader: leader, Term: term, Applied: applied}
}

func TestSummarizeGroups(t *testing.T) {
	kc := replicatedCluster()
	healthy := map[int]*dpclient.ClusterStatus{
		0: report(1, shard(1, "meta", 2, 3, 100), shard(1000, "shared", 1, 2, 50)),
		1: report(2, shard(1, "meta", 2, 3, 100), shard(1000, "shared", 1, 2, 48)),
		2: report(3, shard(1000, "shared", 1, 2, 50), shard(1, "meta", 2, 3, 97)),
	}
	groups, h := summarizeGroups(kc, healthy)
	if h.QuorumLost || h.Degraded || h.QuorumReason != kalamv1.ReasonQuorumPresent || h.DegradedReason != kalamv1.ReasonFullyReplicated {
		t.Fatalf("healthy cluster: %+v", h)
	}
	if len(groups) != 2 || groups[0].Name != "meta" || groups[1].Name != "shared" {
		t.Fatalf("groups in shard order: %+v", groups)
	}
	meta := groups[0]
	if meta.Leader != 2 || len(meta.Members) != 3 || meta.Members[0] != 1 || len(meta.Replicas) != 3 {
		t.Fatalf("meta %+v", meta)
	}
	if r := meta.Replicas[2]; r.Pod != "prod-2" || r.ReplicaID != 3 || r.Applied != 97 || r.Lag != 3 {
		t.Fatalf("meta replica 3 %+v", r)
	}
	if got := h.Leads[2]; len(got) != 1 || got[0] != "meta" {
		t.Fatalf("replica 2 leads %v", got)
	}

	// One pod gone, another lagging: degraded, quorum kept.
	one := map[int]*dpclient.ClusterStatus{0: healthy[0], 1: report(2, shard(1, "meta", 2, 3, 100), shard(1000, "shared", 1, 2, 50-1))}
	if _, h := summarizeGroups(kc, one); h.QuorumLost || !h.Degraded || h.DegradedReason != kalamv1.ReasonReplicaUnreachable || !strings.Contains(h.DegradedMsg, "prod-2") {
		t.Fatalf("one pod missing: %+v", h)
	}
	lag := map[int]*dpclient.ClusterStatus{0: healthy[0], 1: healthy[1], 2: report(3, shard(1, "meta", 2, 3, 0), shard(1000, "shared", 1, 2, 50))}
	lag[0].Shards[0].Applied, lag[1].Shards[0].Applied = maxReplicaLag+5, maxReplicaLag+5
	if _, h := summarizeGroups(kc, lag); !h.Degraded || h.DegradedReason != kalamv1.ReasonReplicaLagging || !strings.Contains(h.DegradedMsg, "meta on prod-2") {
		t.Fatalf("lagging replica: %+v", h)
	}

	// A stale replica names an old leader in an older term: the newest wins.
	stale := map[int]*dpclient.ClusterStatus{0: report(1, shard(1, "meta", 1, 2, 10)), 1: report(2, shard(1, "meta", 3, 4, 10)), 2: report(3, shard(1, "meta", 3, 4, 10))}
	if g, _ := summarizeGroups(kc, stale); g[0].Leader != 3 {
		t.Fatalf("leader from the highest term: %d", g[0].Leader)
	}

	// No leader, or a minority answering: quorum lost.
	noLeader := map[int]*dpclient.ClusterStatus{0: report(1, shard(1, "meta", 0, 5, 10)), 1: report(2, shard(1, "meta", 0, 5, 10))}
	if _, h := summarizeGroups(kc, noLeader); !h.QuorumLost || h.QuorumReason != kalamv1.ReasonNoLeader || !strings.Contains(h.QuorumMsg, "meta") {
		t.Fatalf("no leader: %+v", h)
	}
	if _, h := summarizeGroups(kc, map[int]*dpclient.ClusterStatus{0: healthy[0]}); !h.QuorumLost || h.QuorumReason != kalamv1.ReasonMajorityUnreachable {
		t.Fatalf("minority: %+v", h)
	}
}
