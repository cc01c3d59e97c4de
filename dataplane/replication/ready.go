package replication

import (
	"context"
	"fmt"
)

// CaughtUp reports whether this replica has applied every shard's log up to
// what its leader had committed a moment ago: a ReadIndex on each shard
// with a known leader completes only once the local state machine has
// applied up to the leader's confirmed commit index. It is the readiness
// of a clustered node (/readyz): a pod that restarted or was partitioned
// away serves traffic only once it is current.
//
// A shard with no known leader (no quorum) is not counted: losing a quorum
// must not take every pod out of its Service's endpoints (requests then
// answer NO_QUORUM, stale reads still work), and the quorum's state is
// reported by GET /v1/cluster/status instead. ctx bounds the check.
func (h *Host) CaughtUp(ctx context.Context) error {
	shards := h.layout.Shards()
	errc := make(chan error, len(shards))
	n := 0
	for _, s := range shards {
		if _, _, ok, err := h.nh.GetLeaderID(s); err != nil || !ok {
			continue
		}
		n++
		go func() { errc <- h.readIndex(ctx, s) }()
	}
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return fmt.Errorf("not caught up with the Raft leaders: %w", first)
	}
	return nil
}
