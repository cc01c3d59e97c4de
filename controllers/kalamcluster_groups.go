package controllers

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// maxReplicaLag is how many Raft entries a replica's applied index may be
// behind its group's leader before the cluster is Degraded (and a rolling
// update waits). The pods' statuses are read one after the other, so a
// busy group shows some lag even when every replica keeps up.
const maxReplicaLag = 1000

// groupHealth is what the merged statuses say about quorum and redundancy.
type groupHealth struct {
	// QuorumLost: a group has no leader, or fewer than a majority report.
	QuorumLost              bool
	QuorumReason, QuorumMsg string
	// Degraded: a replica does not report, or lags.
	Degraded                    bool
	DegradedReason, DegradedMsg string
	// Leads maps a replica id to the groups it leads.
	Leads map[uint64][]string
}

// summarizeGroups merges each pod's GET /v1/cluster/status (by ordinal;
// a pod that did not answer is absent) into status.groups and the
// cluster's quorum and redundancy. Pure: no client, no clock.
func summarizeGroups(kc *kalamv1.KalamCluster, reports map[int]*dpclient.ClusterStatus) ([]kalamv1.GroupStatus, groupHealth) {
	n := int(kc.Spec.Replicas)
	h := groupHealth{Leads: map[uint64][]string{}}
	ordinals := make([]int, 0, len(reports))
	for o := range reports {
		ordinals = append(ordinals, o)
	}
	sort.Ints(ordinals)
	type shardKey struct {
		id   uint64
		name string
	}
	var keys []shardKey
	seen := map[string]bool{}
	for _, o := range ordinals {
		for _, sh := range reports[o].Shards {
			if !seen[sh.Name] {
				seen[sh.Name] = true
				keys = append(keys, shardKey{sh.Shard, sh.Name})
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].id < keys[j].id })

	var groups []kalamv1.GroupStatus
	var leaderless, lagging []string
	for _, k := range keys {
		g := kalamv1.GroupStatus{Name: k.name}
		var term uint64
		members := map[int64]bool{}
		applied := map[uint64]uint64{}
		for _, o := range ordinals {
			for _, sh := range reports[o].Shards {
				if sh.Name != k.name {
					continue
				}
				// The highest term's leader is the current one: a replica
				// that was cut off may still name an older leader.
				if sh.Leader != 0 && sh.Term >= term {
					term, g.Leader = sh.Term, int64(sh.Leader)
				}
				for id := range sh.Members {
					if v, err := strconv.ParseInt(id, 10, 64); err == nil {
						members[v] = true
					}
				}
				applied[reports[o].ReplicaID] = sh.Applied
				g.Replicas = append(g.Replicas, kalamv1.GroupReplicaStatus{
					ReplicaID: int64(reports[o].ReplicaID), Pod: podName(kc, o), Applied: int64(sh.Applied),
				})
			}
		}
		for id := range members {
			g.Members = append(g.Members, id)
		}
		slices.Sort(g.Members)
		ref, ok := applied[uint64(g.Leader)]
		if g.Leader == 0 || !ok {
			for _, a := range applied {
				ref = max(ref, a)
			}
		}
		for i := range g.Replicas {
			g.Replicas[i].Lag = max(int64(ref)-g.Replicas[i].Applied, 0)
			if g.Replicas[i].Lag > maxReplicaLag {
				lagging = append(lagging, fmt.Sprintf("%s on %s (%d behind)", g.Name, g.Replicas[i].Pod, g.Replicas[i].Lag))
			}
		}
		if g.Leader == 0 {
			leaderless = append(leaderless, g.Name)
		} else {
			h.Leads[uint64(g.Leader)] = append(h.Leads[uint64(g.Leader)], g.Name)
		}
		groups = append(groups, g)
	}

	var missing []string
	for o := range n {
		if reports[o] == nil {
			missing = append(missing, podName(kc, o))
		}
	}
	majority := n/2 + 1
	switch {
	case len(reports) < majority:
		h.QuorumLost, h.QuorumReason = true, kalamv1.ReasonMajorityUnreachable
		h.QuorumMsg = fmt.Sprintf("only %d of %d pods answer GET /v1/cluster/status (missing: %s): writes and linearizable reads fail with NO_QUORUM until a majority is back",
			len(reports), n, strings.Join(missing, ", "))
	case len(leaderless) > 0:
		h.QuorumLost, h.QuorumReason = true, kalamv1.ReasonNoLeader
		h.QuorumMsg = fmt.Sprintf("%d Raft group(s) have no leader (%s): their writes and linearizable reads fail with NO_QUORUM until one is elected",
			len(leaderless), strings.Join(first(leaderless, 8), ", "))
	default:
		h.QuorumReason = kalamv1.ReasonQuorumPresent
		h.QuorumMsg = fmt.Sprintf("every one of %d Raft groups has a leader; %d of %d pods report", len(groups), len(reports), n)
	}
	switch {
	case len(missing) > 0:
		h.Degraded, h.DegradedReason = true, kalamv1.ReasonReplicaUnreachable
		h.DegradedMsg = fmt.Sprintf("%s do(es) not answer GET /v1/cluster/status: the cluster runs with less redundancy than declared", strings.Join(missing, ", "))
	case len(lagging) > 0:
		h.Degraded, h.DegradedReason = true, kalamv1.ReasonReplicaLagging
		h.DegradedMsg = fmt.Sprintf("replicas more than %d entries behind their leader: %s", maxReplicaLag, strings.Join(first(lagging, 8), "; "))
	default:
		h.DegradedReason = kalamv1.ReasonFullyReplicated
		h.DegradedMsg = fmt.Sprintf("all %d replicas report and are within %d entries of their leaders", n, maxReplicaLag)
	}
	return groups, h
}

// first keeps a message short: the first n items and how many more.
func first(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return append(slices.Clone(items[:n]), fmt.Sprintf("and %d more", len(items)-n))
}
