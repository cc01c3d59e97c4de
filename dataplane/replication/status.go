package replication

import (
	"github.com/lni/dragonboat/v4"
	"sort"
)

// ShardStatus is this replica's view of one shard (GET /v1/cluster/status).
type ShardStatus struct {
	Shard  uint64   `json:"shard"`
	Name   string   `json:"name"`
	Groups []uint16 `json:"groups"`
	// Leader is the leader's replica id as this replica knows it (0: none).
	Leader   uint64 `json:"leader"`
	Term     uint64 `json:"term"`
	IsLeader bool   `json:"is_leader"`
	// NonVoting: this replica is a non-voting member still catching up
	// (a joining node before it promotes itself).
	NonVoting bool `json:"non_voting"`
	// Members maps each voting replica id to its NodeHostID.
	Members map[uint64]string `json:"members"`
	// Applied is the last Raft index this replica applied; comparing it
	// across replicas gives each replica's lag.
	Applied uint64 `json:"applied"`
}

// Status describes this node and its replica of every shard.
type Status struct {
	ReplicaID   uint64        `json:"replica_id"`
	NodeHostID  string        `json:"node_host_id"`
	RaftAddress string        `json:"raft_address"`
	Shards      []ShardStatus `json:"shards"`
}

// Status returns this replica's current view.
func (h *Host) Status() Status {
	st := Status{ReplicaID: h.opts.ReplicaID, NodeHostID: h.nh.ID(), RaftAddress: h.nh.RaftAddress()}
	info := h.nh.GetNodeHostInfo(dragonboat.NodeHostInfoOption{SkipLogInfo: true})
	byShard := map[uint64]int{}
	if info != nil {
		for i, si := range info.ShardInfoList {
			byShard[si.ShardID] = i
		}
	}
	for _, s := range h.layout.Shards() {
		ss := ShardStatus{Shard: s, Name: h.layout.Name(s), Groups: h.layout.Groups(s), Members: map[uint64]string{}}
		if i, ok := byShard[s]; ok {
			si := info.ShardInfoList[i]
			// dragonboat's ShardInfo.IsLeader is never set (node.getShardInfo
			// leaves it false): a replica leads when the leader it knows is itself.
			ss.Leader, ss.Term, ss.NonVoting = si.LeaderID, si.Term, si.IsNonVoting
			ss.IsLeader = si.LeaderID != 0 && si.LeaderID == h.opts.ReplicaID
			for id, t := range si.Replicas {
				ss.Members[id] = t
			}
		}
		if m, ok := h.machines.Load(s); ok {
			ss.Applied = m.(*stateMachine).applied.Load()
		}
		st.Shards = append(st.Shards, ss)
	}
	sort.Slice(st.Shards, func(i, j int) bool { return st.Shards[i].Shard < st.Shards[j].Shard })
	return st
}
