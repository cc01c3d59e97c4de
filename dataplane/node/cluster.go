package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/replication"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// replicatedExec is the write path of a clustered node: proposals go
// through Raft, observers still hang off the executor's apply path (which
// the shards' state machines drive on every replica).
type replicatedExec struct {
	*replication.Host
	exec *engine.Executor
}

// AddObserver registers o on the executor's apply path.
func (r replicatedExec) AddObserver(o engine.Observer) { r.exec.AddObserver(o) }

// coldCluster splits the cold tier's work by this node's Raft
// leaderships (flush/parts.go).
func (n *Node) coldCluster() *flush.Cluster {
	return &flush.Cluster{Leads: n.repl.LeadsGroup, ShardName: n.repl.ShardName,
		Self: fmt.Sprintf("replica %d", n.repl.ReplicaID())}
}

// startReplication starts this node's replica of every Raft shard and
// waits (bounded by cluster.startup_timeout_seconds) until each has a
// leader, so the start-up writes that follow can commit.
func (n *Node) startReplication(cfg config.Config, cat *catalog.Cache, log *slog.Logger) error {
	c := cfg.Cluster
	members, err := c.ParseMembers()
	if err != nil {
		return err
	}
	opts := replication.DefaultOptions()
	opts.ReplicaID = uint64(c.ReplicaID)
	opts.DeploymentID = uint64(c.DeploymentID)
	opts.Dir = filepath.Join(cfg.Storage.DataPath, "raft")
	opts.RaftAddress, opts.RaftListen = c.RaftAddress, c.RaftListenAddress
	opts.GossipAddress, opts.GossipListen = c.GossipAddress, c.GossipListenAddress
	opts.Members = members
	opts.UserShards = c.UserGroups
	opts.RTT = time.Duration(c.RTTMS) * time.Millisecond
	opts.ElectionRTT, opts.HeartbeatRTT = uint64(c.ElectionTicks), uint64(c.HeartbeatTicks)
	opts.ProposalTimeout = time.Duration(c.ProposalTimeoutMS) * time.Millisecond
	opts.TLS = replication.TLSFiles{CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile}
	opts.Logger = log
	// Single-node data (v1, or a node that ran without [cluster]) is
	// adopted as a one-member group; a joining node must start empty.
	opts.Adopt = len(cat.Namespaces()) > 0 || len(cat.Users()) > 0
	opts.Join = c.Joins()
	if n.repl, err = replication.Start(opts, n.store.DB, n.exec, cat); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.StartupTimeoutSeconds)*time.Second)
	defer cancel()
	if err := n.repl.WaitReady(ctx); err != nil {
		if c.Joins() {
			return fmt.Errorf("while waiting to be added to the cluster (POST /v1/cluster/members {\"replica_id\": %d} on a member): %w", c.ReplicaID, err)
		}
		return fmt.Errorf("while waiting for a quorum of cluster.members: %w", err)
	}
	// A joined replica votes only once it has caught up; a node that is
	// the only voter of a group makes the group safe to add replicas to.
	if err := n.repl.PromoteSelf(ctx); err != nil {
		return err
	}
	if err := n.repl.PrepareForJoiners(ctx); err != nil {
		return err
	}
	log.Info("replication ready", "replica_id", c.ReplicaID, "raft_address", c.RaftAddress, "shards", len(n.repl.Layout().Shards()))
	return nil
}

// clusterAdmin is the operator API of a clustered node (server.ClusterAdmin).
func (n *Node) clusterAdmin() server.ClusterAdmin {
	return server.ClusterAdmin{
		Status:         func() any { return n.repl.Status() },
		TransferLeader: n.repl.TransferLeaderOf,
		AddMember: func(ctx context.Context, id uint64, wait time.Duration) (any, error) {
			st, err := n.repl.AddMember(ctx, id, wait)
			if errors.Is(err, replication.ErrMemberRemoved) {
				return nil, &kalamsql.Error{Code: kalamsql.CodeInvalidInput, Status: http.StatusBadRequest, Message: err.Error()}
			}
			return st, err
		},
		MemberState: func(ctx context.Context, id uint64) (any, error) { return n.repl.MemberState(ctx, id) },
		StepDown:    func(ctx context.Context) any { return n.repl.StepDown(ctx) },
	}
}
