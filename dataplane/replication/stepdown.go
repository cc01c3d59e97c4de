package replication

import (
	"context"
	"slices"
	"time"
)

// Stepping down: before a node stops (a Kubernetes preStop hook on a node
// drain, which the operator's rolling update does not see), it hands the
// leadership of every group it leads to another voter, so the groups do
// not wait an election timeout for a leader that is gone. A Raft leader
// transfer is a request the leader may let lapse (the target is behind, an
// election timeout on a loaded host), so it is asked again, rotating the
// target, until this replica leads nothing or the caller's context ends.

// StepDownResult is the outcome of StepDown (POST /v1/cluster/step-down).
type StepDownResult struct {
	ReplicaID uint64 `json:"replica_id"`
	// Moved lists the groups this replica led and no longer leads.
	Moved []string `json:"moved"`
	// StillLeading lists the groups it still led when the wait ended.
	StillLeading []string `json:"still_leading"`
	// Alone lists the groups it leads with no other voter to hand them to
	// (a one-member group); they are not waited for.
	Alone []string `json:"alone"`
}

// stepDownPoll is how often StepDown looks at the leaders.
const stepDownPoll = 20 * time.Millisecond

// StepDown transfers the leadership of every group this replica leads to
// another voter and waits until it leads none (or only groups it is the
// only voter of), or until ctx ends; it never fails, the result says what
// is left.
func (h *Host) StepDown(ctx context.Context) StepDownResult {
	res := StepDownResult{ReplicaID: h.opts.ReplicaID, Moved: []string{}, StillLeading: []string{}, Alone: []string{}}
	// A transfer lapses after about an election timeout: ask again after two.
	reask := 2 * time.Duration(h.opts.ElectionRTT) * h.opts.RTT
	led := map[uint64]bool{}
	asked := map[uint64]time.Time{}
	attempt := map[uint64]int{}
	for {
		pending := 0
		for _, s := range h.layout.Shards() {
			if !h.leads(s) {
				continue
			}
			others := h.otherVoters(s)
			if len(others) == 0 {
				if !slices.Contains(res.Alone, h.layout.Name(s)) {
					res.Alone = append(res.Alone, h.layout.Name(s))
				}
				continue
			}
			led[s] = true
			pending++
			if time.Since(asked[s]) < reask {
				continue
			}
			target := others[attempt[s]%len(others)]
			attempt[s]++
			asked[s] = time.Now()
			if err := h.nh.RequestLeaderTransfer(s, target); err != nil {
				h.log.Debug("leader transfer request failed", "shard", h.layout.Name(s), "target", target, "err", err)
			}
		}
		if pending == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(stepDownPoll):
		}
	}
	for _, s := range h.layout.Shards() {
		switch {
		case !led[s]:
		case h.leads(s):
			res.StillLeading = append(res.StillLeading, h.layout.Name(s))
		default:
			res.Moved = append(res.Moved, h.layout.Name(s))
		}
	}
	return res
}

// otherVoters lists shard's voters other than this replica, in id order.
func (h *Host) otherVoters(shard uint64) []uint64 {
	voters, _, _ := h.localRole(shard)
	var out []uint64
	for id := range voters {
		if id != h.opts.ReplicaID {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
