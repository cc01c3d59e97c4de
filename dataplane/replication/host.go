package replication

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/lni/dragonboat/v4"
	"github.com/lni/dragonboat/v4/client"
	dbconfig "github.com/lni/dragonboat/v4/config"
	dblog "github.com/lni/dragonboat/v4/logger"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// Options configure a Host. Every replica of a cluster must agree on
// DeploymentID, Members' ids and UserShards.
type Options struct {
	// ReplicaID is this node's Raft replica id in every shard (≥ 1).
	ReplicaID uint64
	// DeploymentID keeps unrelated clusters from talking to each other.
	DeploymentID uint64
	// Dir holds dragonboat's Raft log and metadata.
	Dir string
	// RaftAddress is the advertised host:port of the Raft transport;
	// RaftListen the local listen address (empty: RaftAddress).
	RaftAddress, RaftListen string
	// GossipAddress is the advertised host:port of the gossip service that
	// maps NodeHostIDs to Raft addresses; GossipListen its bind address
	// (empty: GossipAddress).
	GossipAddress, GossipListen string
	// Members maps every initial member's replica id to its gossip
	// address (this node included).
	Members map[uint64]string
	// UserShards is G (layout.go).
	UserShards int
	// RTT is the Raft tick; ElectionRTT and HeartbeatRTT are in ticks.
	RTT                       time.Duration
	ElectionRTT, HeartbeatRTT uint64
	// ProposalTimeout bounds a write or a ReadIndex barrier: past it the
	// caller gets engine.ErrNoQuorum instead of waiting.
	ProposalTimeout time.Duration
	// SnapshotEntries and CompactionOverhead control log compaction.
	SnapshotEntries, CompactionOverhead uint64
	// Adopt: this node's Pebble holds single-node (v1) data and it has no
	// Raft state yet, so every shard starts as a one-member group of this
	// replica over that data (members.go). Ignored once Raft state exists.
	Adopt bool
	// Join: this node joins a running cluster: shards without Raft state
	// start as non-voting replicas with no initial members, wait to be
	// added (AddMember on a member) and are promoted by PromoteSelf.
	Join bool
	// TLS, when its files are set, turns on mutual TLS on the Raft
	// transport (tls.go).
	TLS    TLSFiles
	Logger *slog.Logger
}

// DefaultOptions returns the timing defaults (docs/high-availability.md).
func DefaultOptions() Options {
	return Options{UserShards: 32, RTT: 20 * time.Millisecond, ElectionRTT: 10, HeartbeatRTT: 2,
		ProposalTimeout: 5 * time.Second, SnapshotEntries: 10000, CompactionOverhead: 5000, Logger: slog.Default()}
}

// NodeHostID is the dragonboat NodeHostID of replica id in a deployment: a
// name-based UUID, so every member can address every other before they
// ever talked (NodeHostID addressing lets a member come back on a new IP).
func NodeHostID(deployment, replica uint64) string {
	var in [16]byte
	binary.BigEndian.PutUint64(in[0:8], deployment)
	binary.BigEndian.PutUint64(in[8:16], replica)
	sum := sha1.Sum(append([]byte("kalamdb-nodehost:"), in[:]...))
	u := sum[:16]
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Host owns this node's dragonboat NodeHost and one replica of every
// shard. It is the clustered node's engine.Proposer.
type Host struct {
	opts   Options
	layout Layout
	nh     *dragonboat.NodeHost
	db     *pebble.DB
	exec   *engine.Executor
	cat    *catalog.Cache
	log    *slog.Logger
	// nonce tells this process's proposals apart in the log; nextID
	// numbers them; waiters holds their callers (statemachine.go).
	nonce    uint64
	nextID   atomic.Uint64
	waiters  sync.Map     // uint64 -> *waiter
	machines sync.Map     // shard -> *stateMachine
	leaders  *leaderWatch // leaders.go
	// reads shares ReadIndex calls between concurrent readers
	// (readindex.go); stop ends its goroutines' context on Close.
	reads  *readCoalescer
	stop   context.CancelFunc
	closed sync.Once
}

type waiter struct {
	done chan struct{}
	res  engine.Result
	err  error
}

// Start starts the NodeHost and this node's replica of every shard. It
// returns once they are started, not once they have leaders (WaitReady).
func Start(opts Options, db *pebble.DB, exec *engine.Executor, cat *catalog.Cache) (*Host, error) {
	layout, err := NewLayout(opts.UserShards)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if _, ok := opts.Members[opts.ReplicaID]; !ok {
		return nil, fmt.Errorf("replica id %d is not one of the members", opts.ReplicaID)
	}
	quietDragonboat()
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, err
	}
	h := &Host{opts: opts, layout: layout, db: db, exec: exec, cat: cat, log: opts.Logger, nonce: binary.BigEndian.Uint64(nb[:]) | 1, leaders: newLeaderWatch()}
	var life context.Context
	life, h.stop = context.WithCancel(context.Background())
	h.reads = newReadCoalescer(life, h.readIndex)
	var seeds []string
	for id, addr := range opts.Members {
		if id != opts.ReplicaID {
			seeds = append(seeds, addr)
		}
	}
	sort.Strings(seeds)
	gossipBind := opts.GossipListen
	if gossipBind == "" {
		gossipBind = opts.GossipAddress
	}
	if err := opts.TLS.Check(opts.RaftAddress); err != nil {
		return nil, err
	}
	nhc := dbconfig.NodeHostConfig{
		MutualTLS:                  opts.TLS.Enabled(),
		CAFile:                     opts.TLS.CAFile,
		CertFile:                   opts.TLS.CertFile,
		KeyFile:                    opts.TLS.KeyFile,
		DeploymentID:               opts.DeploymentID,
		NodeHostID:                 NodeHostID(opts.DeploymentID, opts.ReplicaID),
		NodeHostDir:                filepath.Join(opts.Dir, "nodehost"),
		WALDir:                     filepath.Join(opts.Dir, "wal"),
		RTTMillisecond:             uint64(max(opts.RTT.Milliseconds(), 1)),
		RaftAddress:                opts.RaftAddress,
		ListenAddress:              opts.RaftListen,
		DefaultNodeRegistryEnabled: true,
		RaftEventListener:          hostEvents{h.leaders},
		Gossip: dbconfig.GossipConfig{
			BindAddress:      gossipBind,
			AdvertiseAddress: opts.GossipAddress,
			Seed:             seeds,
		},
	}
	if h.nh, err = dragonboat.NewNodeHost(nhc); err != nil {
		h.stop()
		return nil, fmt.Errorf("while starting the Raft node host: %w", err)
	}
	members := map[uint64]dragonboat.Target{}
	for id := range opts.Members {
		members[id] = NodeHostID(opts.DeploymentID, id)
	}
	anyState := false
	for _, s := range layout.Shards() {
		anyState = anyState || h.nh.HasNodeInfo(s, opts.ReplicaID)
	}
	if opts.Join && opts.Adopt && !anyState {
		h.Close()
		return nil, fmt.Errorf("cluster.join is set but this data directory already holds single-node data: a joining replica must start empty (it receives the data from the cluster); to make this node's data the cluster's, start it without cluster.join and add the other replicas to it")
	}
	adoptPath := filepath.Join(opts.Dir, adoptedMarker)
	_, err = os.Stat(adoptPath)
	adopt := err == nil || (opts.Adopt && !opts.Join && !anyState)
	if adopt && !anyState {
		if err := hot.WriteFileAtomic(adoptPath, nil, 0o644); err != nil {
			h.Close()
			return nil, err
		}
		h.log.Warn("adopting this node's single-node data as a one-member Raft group of every shard; add replicas with POST /v1/cluster/members", "replica_id", opts.ReplicaID)
	}
	for _, s := range layout.Shards() {
		rc := dbconfig.Config{
			ReplicaID: opts.ReplicaID, ShardID: s,
			ElectionRTT: opts.ElectionRTT, HeartbeatRTT: opts.HeartbeatRTT,
			CheckQuorum: true, PreVote: true,
			SnapshotEntries: opts.SnapshotEntries, CompactionOverhead: opts.CompactionOverhead,
		}
		initial, join := members, false
		switch {
		case h.nh.HasNodeInfo(s, opts.ReplicaID):
			// A restart passes no members: dragonboat has them in its log.
			initial = nil
			rc.IsNonVoting = h.markedNonVoting(s)
		case opts.Join:
			initial, join, rc.IsNonVoting = nil, true, true
			if err := h.markNonVoting(s); err != nil {
				h.Close()
				return nil, err
			}
		case adopt:
			initial = map[uint64]dragonboat.Target{opts.ReplicaID: members[opts.ReplicaID]}
		}
		if err := h.nh.StartOnDiskReplica(initial, join, h.newStateMachine, rc); err != nil {
			h.Close()
			return nil, fmt.Errorf("while starting replica of shard %s: %w", layout.Name(s), err)
		}
	}
	return h, nil
}

// quietDragonboat keeps dragonboat's routine logging out of the server
// log: it reports every election and lost connection as a warning, which
// is normal life for a cluster (GET /v1/cluster/status shows the state).
// Errors still go to stderr.
func quietDragonboat() {
	for _, p := range []string{"raft", "rsm", "transport", "dragonboat", "logdb", "raftpb", "config", "settings", "gossip", "grpc", "registry", "tan", "fileutil", "vfs", "dragonboat/raft"} {
		dblog.GetLogger(p).SetLevel(dblog.ERROR)
	}
}

// Close stops every replica and the NodeHost. Raft needs no clean
// shutdown for correctness; Close only releases ports and files.
func (h *Host) Close() {
	h.closed.Do(func() {
		h.stop()
		h.nh.Close()
		h.reads.wait()
	})
}

// Layout returns the shard layout.
func (h *Host) Layout() Layout { return h.layout }

// WaitReady blocks until every shard has a known leader, or ctx ends.
func (h *Host) WaitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		missing := ""
		for _, s := range h.layout.Shards() {
			if _, _, ok, err := h.nh.GetLeaderID(s); err != nil || !ok {
				missing = h.layout.Name(s)
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("while waiting for a leader of shard %s: %w", missing, ctx.Err())
		case <-t.C:
		}
	}
}

// Propose replicates cmd through its group's shard and returns the
// result of applying it on this replica, once a quorum has it durably.
// A proposal that cannot commit within ProposalTimeout fails with
// engine.ErrNoQuorum (outcome unknown); it never waits longer.
func (h *Host) Propose(ctx context.Context, cmd *engine.Command) (engine.Result, error) {
	if err := h.exec.Admit(cmd); err != nil {
		return engine.Result{}, err
	}
	id := h.nextID.Add(1)
	data, err := encodeEntry(h.nonce, id, cmd)
	if err != nil {
		return engine.Result{}, err
	}
	shard := h.layout.ShardOf(cmd.Group)
	w := &waiter{done: make(chan struct{})}
	h.waiters.Store(id, w)
	defer h.waiters.Delete(id)
	// Once proposed the entry may commit even if the caller goes away:
	// keep waiting for the outcome (bounded) rather than guess.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.ProposalTimeout)
	defer cancel()
	session := h.nh.GetNoOPSession(shard)
	for {
		err = h.proposeOnce(pctx, session, shard, data)
		if err == nil || !retryable(err) || pctx.Err() != nil {
			break
		}
		// Dropped before it entered the log (no leader known yet):
		// safe to propose again.
		select {
		case <-pctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err != nil {
		return engine.Result{}, h.mapErr(shard, "write", err)
	}
	select {
	case <-w.done:
		return w.res, w.err
	default:
		return engine.Result{}, fmt.Errorf("shard %s: entry committed but its local result is missing", h.layout.Name(shard))
	}
}

// errLeaderChanged: the proposal was in flight when its shard got a new
// leader and did not commit within leaderChangeGrace after (leaders.go).
var errLeaderChanged = errors.New("the shard's leader changed while the write was in flight")

// proposeOnce proposes data once and waits until this replica applied
// it, ctx ends, or the shard got a new leader and the entry did not
// commit within leaderChangeGrace (errLeaderChanged). Only a nil error
// means the entry committed.
func (h *Host) proposeOnce(ctx context.Context, session *client.Session, shard uint64, data []byte) error {
	deadline, _ := ctx.Deadline()
	// Taken before proposing: a leader elected after this point may not
	// have the entry.
	changed := h.leaders.changed(shard)
	rs, err := h.nh.Propose(session, data, max(time.Until(deadline), time.Millisecond))
	if err != nil {
		return err
	}
	var grace <-chan time.Time
	for {
		select {
		case r := <-rs.AppliedC():
			rs.Release()
			switch {
			case r.Completed():
				return nil
			case r.Dropped():
				return dragonboat.ErrShardNotReady
			case r.Terminated():
				return dragonboat.ErrShardClosed
			case r.Rejected():
				return dragonboat.ErrRejected
			case r.Aborted():
				return dragonboat.ErrAborted
			}
			return dragonboat.ErrTimeout
		case <-changed:
			// The entry may be in the new leader's log and commit with
			// its first entry; give it that long, never re-propose it.
			changed = nil
			t := time.NewTimer(h.leaderChangeGrace())
			defer t.Stop()
			grace = t.C
		case <-grace:
			// Abandoned, not released: dragonboat may still complete it.
			return errLeaderChanged
		case <-ctx.Done():
			return dragonboat.ErrTimeout
		}
	}
}

// retryable reports dragonboat errors that mean the request was not
// admitted into the log, so retrying cannot apply it twice.
func retryable(err error) bool {
	return errors.Is(err, dragonboat.ErrShardNotReady) || errors.Is(err, dragonboat.ErrSystemBusy)
}

func (h *Host) mapErr(shard uint64, what string, err error) error {
	switch {
	case errors.Is(err, dragonboat.ErrClosed), errors.Is(err, dragonboat.ErrShardClosed):
		return engine.ErrClosed
	case errors.Is(err, dragonboat.ErrShardNotFound):
		return fmt.Errorf("shard %s is not hosted here: %w", h.layout.Name(shard), err)
	}
	msg := fmt.Sprintf("%s on shard %s could not reach a quorum within %s (%v)", what, h.layout.Name(shard), h.opts.ProposalTimeout, err)
	if errors.Is(err, errLeaderChanged) {
		msg = fmt.Sprintf("%s on shard %s did not commit within %s of a new leader's election (%v)", what, h.layout.Name(shard), h.leaderChangeGrace(), err)
	}
	if what == "write" {
		msg += "; the write may or may not have been applied"
	}
	return &engine.Error{Kind: engine.ErrNoQuorum, Msg: msg, Row: -1}
}

// ReadBarrier makes the following local reads of groups linearizable: it
// runs ReadIndex on each of their shards (in parallel) and returns once
// this replica has applied up to the index a quorum confirmed. Concurrent
// callers share ReadIndex calls that started after they arrived
// (readindex.go). It fails
// with engine.ErrNoQuorum within ProposalTimeout when a shard's leader
// cannot confirm its leadership (a minority partition).
func (h *Host) ReadBarrier(ctx context.Context, groups []uint16) error {
	shards := make([]uint64, 0, len(groups))
	for _, g := range groups {
		if s := h.layout.ShardOf(g); !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	return h.reads.readAll(ctx, shards)
}

// ReadBarrierAll is ReadBarrier on every shard: once it returns, this
// replica has applied every write any replica acknowledged before the
// call, in every group — what a cluster-consistent backup pins its
// snapshot after.
func (h *Host) ReadBarrierAll(ctx context.Context) error {
	return h.reads.readAll(ctx, h.layout.Shards())
}

// readIndex runs one ReadIndex on shard (again after a leader change or
// a dropped request) until it completes or ProposalTimeout passes. ctx is
// the Host's lifetime (readindex.go shares the call between callers): it
// ends only when the Host closes.
func (h *Host) readIndex(ctx context.Context, shard uint64) error {
	deadline := time.Now().Add(h.opts.ProposalTimeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return h.mapErr(shard, "read", dragonboat.ErrTimeout)
		}
		changed := h.leaders.changed(shard)
		rs, err := h.nh.ReadIndex(shard, left)
		if err != nil {
			if retryable(err) {
				select {
				case <-ctx.Done():
					return engine.ErrClosed
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			return h.mapErr(shard, "read", err)
		}
		var r dragonboat.RequestResult
		select {
		case r = <-rs.ResultC():
		case <-changed:
			// Possibly sent to a leader that died: a ReadIndex changes
			// nothing, so ask the new leader at once (leaders.go).
			continue
		case <-ctx.Done():
			return engine.ErrClosed
		}
		rs.Release()
		switch {
		case r.Completed():
			return nil
		case r.Dropped():
			continue // no leader yet; retry until the deadline
		case r.Terminated():
			return engine.ErrClosed
		}
		return h.mapErr(shard, "read", dragonboat.ErrTimeout)
	}
}

// LeadsGroup reports whether this replica currently leads the shard that
// replicates engine group g: the node that flushes and compacts g's
// scopes.
func (h *Host) LeadsGroup(g uint16) bool {
	id, _, ok, err := h.nh.GetLeaderID(h.layout.ShardOf(g))
	return err == nil && ok && id == h.opts.ReplicaID
}

// ShardName names the shard replicating engine group g (meta, shared,
// u<k>).
func (h *Host) ShardName(g uint16) string { return h.layout.Name(h.layout.ShardOf(g)) }

// ReplicaID is this node's replica id.
func (h *Host) ReplicaID() uint64 { return h.opts.ReplicaID }

// TransferLeaderOf asks the leader of the shard named name (meta, shared,
// u<k>) to hand its leadership to replica target; an operator drains a
// node this way before restarting it. It returns once the request is
// sent: watch Status for the outcome.
func (h *Host) TransferLeaderOf(name string, target uint64) error {
	for _, s := range h.layout.Shards() {
		if h.layout.Name(s) != name {
			continue
		}
		if voters, _, _ := h.localRole(s); voters[target] == "" {
			return fmt.Errorf("replica %d is not a voting member of %s", target, name)
		}
		return h.nh.RequestLeaderTransfer(s, target)
	}
	return fmt.Errorf("no Raft group named %q", name)
}
