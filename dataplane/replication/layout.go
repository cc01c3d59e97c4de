package replication

import (
	"fmt"
	"slices"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Raft shard ids (part of the replicated state: never renumber). The meta
// shard replicates the meta group (catalog, users, jobs), the shared shard
// the shared-table group, and user shard k the user groups whose index
// (group - first user group) is k mod G.
const (
	ShardMeta      uint64 = 1
	ShardShared    uint64 = 1000
	firstUserShard uint64 = 2000
)

// Layout maps the engine's groups onto Raft shards. G (UserShards) is a
// power of two that divides keys.UserGroups, fixed at cluster creation:
// every replica must use the same layout.
type Layout struct {
	userShards uint16
	// first user group id: engine groups AllDataGroups()[1:] start here.
	firstUser uint16
}

// NewLayout returns the layout with userShards user shards.
func NewLayout(userShards int) (Layout, error) {
	if userShards < 1 || userShards > int(keys.UserGroups) || userShards&(userShards-1) != 0 || int(keys.UserGroups)%userShards != 0 {
		return Layout{}, fmt.Errorf("user shards %d must be a power of two in 1..%d", userShards, keys.UserGroups)
	}
	return Layout{userShards: uint16(userShards), firstUser: keys.AllDataGroups()[1]}, nil
}

// ShardOf returns the Raft shard that replicates engine group g.
func (l Layout) ShardOf(g uint16) uint64 {
	switch g {
	case keys.GroupMeta:
		return ShardMeta
	case keys.GroupShared:
		return ShardShared
	}
	return firstUserShard + uint64((g-l.firstUser)%l.userShards)
}

// Shards lists every shard id, meta first.
func (l Layout) Shards() []uint64 {
	out := []uint64{ShardMeta, ShardShared}
	for k := uint64(0); k < uint64(l.userShards); k++ {
		out = append(out, firstUserShard+k)
	}
	return out
}

// Groups lists the engine groups shard s replicates, ascending; the first
// is the shard's home group, which holds its replicated-log state.
func (l Layout) Groups(s uint64) []uint16 {
	var out []uint16
	for _, g := range keys.AllGroups() {
		if l.ShardOf(g) == s {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// Name is a shard's name in status output: meta, shared, u<k>.
func (l Layout) Name(s uint64) string {
	switch s {
	case ShardMeta:
		return "meta"
	case ShardShared:
		return "shared"
	}
	return fmt.Sprintf("u%d", s-firstUserShard)
}
