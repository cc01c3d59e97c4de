package replication

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lni/dragonboat/v4"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// Membership changes (docs/high-availability.md#adding-replicas):
//
//   - Adoption. A v1 single-node data directory started with a [cluster]
//     section becomes a one-member group of every shard over the data it
//     already holds: that data is the state at Raft index 0, which no log
//     entry carries. prepareForJoiners therefore makes every single-voter
//     shard unable to replay a new replica from index 1: it proposes one
//     no-op entry (so the state machine's on-disk index is > 0 and a
//     streamed snapshot is installed by the receiver, which compares it
//     with its own 0), takes a snapshot and compacts the whole log behind
//     it. A new replica then always starts from a snapshot (the hot rows
//     and cold-manifest pointers of the shard's groups; Parquet is shared
//     object storage and never copied), and the log entries after it.
//   - Joining. A node started with cluster.join = true starts every shard
//     as a non-voting replica with no initial members and waits to be
//     added (AddMember on an existing member, SyncRequestAddNonVoting).
//     Once added it catches up, confirms it with a ReadIndex (applied up
//     to the leader's commit index) and then promotes itself
//     (SyncRequestAddReplica for its own id, forwarded to the leader):
//     promotion happens only after catch-up, so the added voter never
//     stalls the quorum.
//   - dragonboat must be told at every start whether a replica is
//     non-voting (config.Config.IsNonVoting); a marker file per shard under
//     <dir>/nonvoting records it from the first join start until the
//     promotion is applied locally.

// adoptedMarker in Options.Dir records that this node adopted single-node
// data, so a crash in the middle of starting the shards resumes the
// adoption instead of bootstrapping the rest with other members.
const adoptedMarker = "adopted"

func (h *Host) nonVotingPath(shard uint64) string {
	return filepath.Join(h.opts.Dir, "nonvoting", strconv.FormatUint(shard, 10))
}

func (h *Host) markedNonVoting(shard uint64) bool {
	_, err := os.Stat(h.nonVotingPath(shard))
	return err == nil
}

func (h *Host) markNonVoting(shard uint64) error {
	if err := os.MkdirAll(filepath.Dir(h.nonVotingPath(shard)), 0o755); err != nil {
		return err
	}
	return hot.WriteFileAtomic(h.nonVotingPath(shard), nil, 0o644)
}

func (h *Host) unmarkNonVoting(shard uint64) error {
	err := os.Remove(h.nonVotingPath(shard))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// voters returns this replica's view of shard's voting members and
// whether this replica is itself non-voting (false, false when unknown).
func (h *Host) localRole(shard uint64) (voters map[uint64]string, nonVoting, known bool) {
	info := h.nh.GetNodeHostInfo(dragonboat.NodeHostInfoOption{SkipLogInfo: true})
	if info == nil {
		return nil, false, false
	}
	for _, si := range info.ShardInfoList {
		if si.ShardID == shard && !si.Pending {
			return si.Replicas, si.IsNonVoting, true
		}
	}
	return nil, false, false
}

// PrepareForJoiners makes every shard whose only voter is this replica
// safe to add replicas to (see the comment at the top of this file). It
// is idempotent and cheap once done (the log stays compacted).
func (h *Host) PrepareForJoiners(ctx context.Context) error {
	for _, s := range h.layout.Shards() {
		voters, _, known := h.localRole(s)
		if !known || len(voters) != 1 {
			continue
		}
		if _, self := voters[h.opts.ReplicaID]; !self {
			continue
		}
		if err := h.compactForJoiners(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// compactForJoiners runs on the shard's leader: when its log still starts
// at index 1 it proposes a no-op, snapshots and compacts the log behind
// the snapshot, and waits until the compaction is visible to Raft.
func (h *Host) compactForJoiners(ctx context.Context, shard uint64) error {
	lr, err := h.nh.GetLogReader(shard)
	if err != nil {
		return fmt.Errorf("while reading shard %s's log: %w", h.layout.Name(shard), err)
	}
	if first, _ := lr.GetRange(); first > 1 {
		return nil
	}
	home := h.layout.Groups(shard)[0]
	noop := &engine.Command{Version: engine.CommandVersion, Group: home, TimeMs: time.Now().UnixMilli()}
	if _, err := h.Propose(ctx, noop); err != nil {
		return fmt.Errorf("while preparing shard %s for new replicas: %w", h.layout.Name(shard), err)
	}
	sctx, cancel := context.WithTimeout(ctx, h.opts.ProposalTimeout)
	defer cancel()
	_, err = h.nh.SyncRequestSnapshot(sctx, shard, dragonboat.SnapshotOption{OverrideCompactionOverhead: true, CompactionOverhead: 0})
	if err != nil && !errors.Is(err, dragonboat.ErrRejected) {
		return fmt.Errorf("while snapshotting shard %s for new replicas: %w", h.layout.Name(shard), err)
	}
	for {
		if first, _ := lr.GetRange(); first > 1 {
			return nil
		}
		select {
		case <-sctx.Done():
			return fmt.Errorf("shard %s: the log was not compacted within %s", h.layout.Name(shard), h.opts.ProposalTimeout)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// MemberRole is one shard's view of a replica in MemberStatus.
type MemberRole struct {
	Shard string `json:"shard"`
	// Role is "voter", "non_voting" or "absent".
	Role string `json:"role"`
}

// MemberStatus reports a replica's role in every shard; State is "voter"
// once it votes in all of them, else "catching_up".
type MemberStatus struct {
	ReplicaID  uint64       `json:"replica_id"`
	NodeHostID string       `json:"node_host_id"`
	State      string       `json:"state"`
	Shards     []MemberRole `json:"shards"`
}

// ErrMemberRemoved is returned for a replica id that was removed from a
// shard: Raft never lets an id back in (a replacement needs a new id).
var ErrMemberRemoved = errors.New("replica id was removed from the cluster; a replacement needs a new replica id")

// membership reads shard's membership (linearizable). A read that times
// out (a member slow to answer the leader's heartbeat on a loaded host)
// is retried for up to three proposal timeouts before NO_QUORUM.
func (h *Host) membership(ctx context.Context, shard uint64) (*dragonboat.Membership, error) {
	bctx, cancel := context.WithTimeout(ctx, 3*h.opts.ProposalTimeout)
	defer cancel()
	var m *dragonboat.Membership
	err := h.retryConfigChange(bctx, shard, func(c context.Context) error {
		var err error
		m, err = h.nh.SyncGetShardMembership(c, shard)
		return err
	})
	return m, err
}

// AddMember adds replica id (a node started with cluster.join = true) to
// every shard as a non-voting member; the new node promotes itself once it
// has caught up. It is idempotent: shards where id is already a member
// are left alone. With wait > 0 it then waits (at most wait) until id
// votes in every shard. Any member may run it: dragonboat forwards the
// membership change to each shard's leader.
func (h *Host) AddMember(ctx context.Context, id uint64, wait time.Duration) (MemberStatus, error) {
	if id == 0 {
		return MemberStatus{}, fmt.Errorf("replica id must be ≥ 1")
	}
	target := NodeHostID(h.opts.DeploymentID, id)
	for _, s := range h.layout.Shards() {
		m, err := h.membership(ctx, s)
		if err != nil {
			return MemberStatus{}, err
		}
		if _, gone := m.Removed[id]; gone {
			return MemberStatus{}, fmt.Errorf("shard %s: replica %d: %w", h.layout.Name(s), id, ErrMemberRemoved)
		}
		_, voter := m.Nodes[id]
		_, learner := m.NonVotings[id]
		if voter || learner {
			continue
		}
		if h.leads(s) {
			if err := h.compactForJoiners(ctx, s); err != nil {
				return MemberStatus{}, err
			}
		}
		if err := h.retryConfigChange(ctx, s, func(c context.Context) error {
			return h.nh.SyncRequestAddNonVoting(c, s, id, target, 0)
		}); err != nil {
			return MemberStatus{}, fmt.Errorf("while adding replica %d to shard %s: %w", id, h.layout.Name(s), err)
		}
	}
	deadline := time.Now().Add(wait)
	for {
		st, err := h.MemberState(ctx, id)
		if err != nil || st.State == "voter" || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// MemberState reports replica id's role in every shard (linearizable
// membership reads).
func (h *Host) MemberState(ctx context.Context, id uint64) (MemberStatus, error) {
	st := MemberStatus{ReplicaID: id, NodeHostID: NodeHostID(h.opts.DeploymentID, id), State: "voter"}
	for _, s := range h.layout.Shards() {
		m, err := h.membership(ctx, s)
		if err != nil {
			return st, err
		}
		role := "absent"
		if _, ok := m.Nodes[id]; ok {
			role = "voter"
		} else if _, ok := m.NonVotings[id]; ok {
			role = "non_voting"
		}
		if role != "voter" {
			st.State = "catching_up"
		}
		st.Shards = append(st.Shards, MemberRole{Shard: h.layout.Name(s), Role: role})
	}
	return st, nil
}

// retryConfigChange runs a membership change (or read) until it is
// accepted: Raft refuses one while another is pending or no leader is
// known, and a loaded member may answer late, which is temporary. Each
// attempt is bounded by ProposalTimeout; the whole by ctx.
func (h *Host) retryConfigChange(ctx context.Context, shard uint64, change func(context.Context) error) error {
	for {
		c, cancel := context.WithTimeout(ctx, h.opts.ProposalTimeout)
		err := change(c)
		cancel()
		if err == nil {
			return nil
		}
		transient := errors.Is(err, dragonboat.ErrRejected) || errors.Is(err, dragonboat.ErrTimeout) ||
			errors.Is(err, context.DeadlineExceeded) || retryable(err)
		if !transient {
			return h.mapErr(shard, "membership change", err)
		}
		select {
		case <-ctx.Done():
			return h.mapErr(shard, "membership change", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (h *Host) leads(shard uint64) bool {
	id, _, ok, err := h.nh.GetLeaderID(shard)
	return err == nil && ok && id == h.opts.ReplicaID
}

// PromoteSelf promotes this replica to a voter in every shard where it is
// still non-voting (a node that joined): for each it waits for a leader,
// confirms it has caught up with a ReadIndex, asks for its own promotion
// and waits until the promotion is applied here. Bounded by ctx.
func (h *Host) PromoteSelf(ctx context.Context) error {
	self := NodeHostID(h.opts.DeploymentID, h.opts.ReplicaID)
	for _, s := range h.layout.Shards() {
		if !h.markedNonVoting(s) {
			continue
		}
		for {
			_, nonVoting, known := h.localRole(s)
			if known && !nonVoting {
				break // promoted (possibly by an earlier run)
			}
			if err := h.readIndex(ctx, s); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("while catching up shard %s: %w", h.layout.Name(s), err)
				}
				continue
			}
			err := h.retryConfigChange(ctx, s, func(c context.Context) error {
				return h.nh.SyncRequestAddReplica(c, s, h.opts.ReplicaID, self, 0)
			})
			if err != nil {
				return fmt.Errorf("while promoting replica %d in shard %s: %w", h.opts.ReplicaID, h.layout.Name(s), err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("while waiting for the promotion in shard %s: %w", h.layout.Name(s), ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err := h.unmarkNonVoting(s); err != nil {
			return err
		}
		h.log.Info("replica promoted to voter", "shard", h.layout.Name(s), "replica_id", h.opts.ReplicaID)
	}
	return nil
}
