package config

import (
	"net"
	"os"
	"strconv"
	"strings"
)

// ClusterConfig makes the node one replica of a Raft-replicated cluster
// (docs/high-availability.md). With no members it is a single node
// exactly as before: no Raft, no extra ports.
type ClusterConfig struct {
	// ReplicaID is this node's Raft replica id (1..N): its entry in Members.
	// 0 (unset) takes the id of the member whose address is GossipAddress
	// or whose host is RaftAddress's host, so identical pods of a
	// StatefulSet need only their own addresses.
	ReplicaID int `toml:"replica_id"`
	// DeploymentID keeps replicas of different clusters from talking to
	// each other; every member must use the same value.
	DeploymentID int64 `toml:"deployment_id"`
	// RaftAddress is the advertised host:port of this node's Raft transport.
	RaftAddress string `toml:"raft_address"`
	// RaftListenAddress is the local listen address (empty: raft_address).
	RaftListenAddress string `toml:"raft_listen_address"`
	// GossipAddress is the advertised host:port of this node's gossip
	// service, which maps node-host ids to Raft addresses so a member that
	// comes back on a new IP rejoins.
	GossipAddress string `toml:"gossip_address"`
	// GossipListenAddress is the gossip bind address (empty: gossip_address).
	GossipListenAddress string `toml:"gossip_listen_address"`
	// Members lists every initial member as "id=gossip-host:port", this
	// node included. Empty: single node, no replication.
	Members []string `toml:"members"`
	// UserGroups is G, the number of Raft shards the user-table groups are
	// spread over (a power of two up to 32); fixed at cluster creation.
	UserGroups int `toml:"user_groups"`
	// RTTMS is the Raft tick in milliseconds; elections and heartbeats are
	// multiples of it.
	RTTMS int `toml:"rtt_ms"`
	// ElectionTicks and HeartbeatTicks are the election timeout and the
	// heartbeat interval in ticks.
	ElectionTicks  int `toml:"election_ticks"`
	HeartbeatTicks int `toml:"heartbeat_ticks"`
	// ProposalTimeoutMS bounds a write or linearizable read: past it the
	// request fails with NO_QUORUM (HTTP 503) instead of waiting.
	ProposalTimeoutMS int `toml:"proposal_timeout_ms"`
	// Join makes a node with no Raft state join a running cluster: it
	// starts every group as a non-voting replica, waits until a member adds
	// it (POST /v1/cluster/members), catches up and promotes itself. A
	// node that already has Raft state ignores it. Members then serve only
	// as gossip seeds.
	Join bool `toml:"join"`
	// JoinAboveReplicaID, when > 0, makes every node whose replica id is
	// above it join as with Join, and the others not: one pod template
	// (identical env on every pod) can then say "the replicas being added
	// join, the node that holds the data adopts it" — the operator's
	// 1 -> 3 migration sets it to 1. 0: off.
	JoinAboveReplicaID int `toml:"join_above_replica_id"`
	// StartupTimeoutSeconds bounds how long start-up waits for every Raft
	// group to elect a leader (a quorum of members must be up).
	StartupTimeoutSeconds int `toml:"startup_timeout_seconds"`
	// AllowNodeLocalStorage lets a cluster of several members create tables
	// and storages on node-local filesystem storage (the built-in 'local').
	// Off by default: Parquet flushed there exists only on the node that
	// flushed it, so the other replicas lose those rows from their view. For
	// tests and throw-away clusters whose tables are never flushed.
	AllowNodeLocalStorage bool `toml:"allow_node_local_storage"`
	// TLS turns on mutual TLS on the Raft transport ([cluster.tls]).
	TLS ClusterTLSConfig `toml:"tls"`
}

// ClusterTLSConfig is mutual TLS between replicas on the Raft port: every
// connection presents cert_file, and the peer must be signed by ca_file.
// A dialling replica also verifies that the peer's certificate names the
// host of its raft_address. All three set = on; none = plaintext.
// Gossip (the node-host id to address map) is not encrypted by it.
type ClusterTLSConfig struct {
	// CAFile is the PEM bundle of CAs a peer's certificate must chain to.
	CAFile string `toml:"ca_file"`
	// CertFile and KeyFile are this replica's PEM certificate (usable for
	// both server and client authentication) and key.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// Enabled reports whether mutual TLS is configured.
func (t ClusterTLSConfig) Enabled() bool { return t.CAFile != "" }

func (t ClusterTLSConfig) validate(p *problems) {
	set := 0
	for _, f := range []string{t.CAFile, t.CertFile, t.KeyFile} {
		if f != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		p.add("cluster.tls", "ca_file, cert_file and key_file must be set together")
	}
}

// checkFiles reports a CA, certificate or key file that cannot be found.
func (t ClusterTLSConfig) checkFiles(p *problems) {
	for key, f := range map[string]string{"cluster.tls.ca_file": t.CAFile, "cluster.tls.cert_file": t.CertFile, "cluster.tls.key_file": t.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			p.add(key, "%v", err)
		}
	}
}

func defaultCluster() ClusterConfig {
	return ClusterConfig{Members: []string{}, UserGroups: 32, RTTMS: 20, ElectionTicks: 10, HeartbeatTicks: 2,
		ProposalTimeoutMS: 5000, StartupTimeoutSeconds: 300}
}

// Joins reports whether this node joins a running cluster: cluster.join,
// or a replica id above cluster.join_above_replica_id (once resolved).
func (c ClusterConfig) Joins() bool {
	return c.Join || (c.JoinAboveReplicaID > 0 && c.ReplicaID > c.JoinAboveReplicaID)
}

// RefusesNodeLocalStorage reports whether tables and storages on node-local
// filesystem storage are refused: a cluster of more than one member
// without allow_node_local_storage.
func (c ClusterConfig) RefusesNodeLocalStorage() bool {
	return len(c.Members) > 1 && !c.AllowNodeLocalStorage
}

// SeveralMembers reports whether the node is, or is joining, a cluster of
// more than one member: several members listed, or it joins a running
// cluster (its members list may name one existing member only).
func (c ClusterConfig) SeveralMembers() bool {
	return len(c.Members) > 1 || c.Joins()
}

// Enabled reports whether the node runs replicated.
func (c ClusterConfig) Enabled() bool { return len(c.Members) > 0 }

// resolveReplicaID fills an unset ReplicaID from Members: the member
// whose address is this node's GossipAddress, or whose host is the host
// of its RaftAddress (a pod's stable DNS name: gossip must advertise an
// IPv4 address, so in Kubernetes the members are listed by name while each
// pod advertises its IP). No match, or several, leaves it 0, which
// validation refuses.
func (c *ClusterConfig) resolveReplicaID() {
	if c.ReplicaID != 0 || !c.Enabled() {
		return
	}
	raftHost, _, _ := net.SplitHostPort(strings.TrimSpace(c.RaftAddress))
	var p problems
	found := 0
	for id, addr := range c.parseMembers(&p) {
		host, _, _ := net.SplitHostPort(addr)
		if addr == strings.TrimSpace(c.GossipAddress) || (raftHost != "" && host == raftHost) {
			if found != 0 {
				return
			}
			found = int(id)
		}
	}
	c.ReplicaID = found
}

// maxSnowflakeNode is the largest node id a SNOWFLAKE_ID() value can
// carry (10 bits).
const maxSnowflakeNode = 1023

// SnowflakeNodeID is the node id this node's SNOWFLAKE_ID() values carry
// (and hot.Options.NodeID). On a single node it is server.node_id as
// configured (0: the one stored in the data directory, or 1). In a
// cluster every replica generates ids for the same tables at the same
// time, so unless server.node_id is set it is the replica id, unique per
// member by construction; derived then reports that the stored id (1 on
// every replica of a cluster created before this rule) is to be replaced.
// A node migrated from a single node keeps its id 1 as replica 1; the
// replicas that join it are 2, 3.
func (c Config) SnowflakeNodeID() (id int, derived bool) {
	if !c.Cluster.Enabled() || c.Server.NodeID != 0 {
		return c.Server.NodeID, false
	}
	return c.Cluster.ReplicaID, true
}

// validateNodeID refuses a cluster node's snowflake node id that is out of
// range or that another member uses by default (its replica id).
func (c Config) validateNodeID(p *problems) {
	if !c.Cluster.Enabled() || c.Cluster.ReplicaID <= 0 {
		return
	}
	id, derived := c.SnowflakeNodeID()
	if derived {
		if id > maxSnowflakeNode {
			p.add("server.node_id", "not set, and the replica id %d is above %d, the largest snowflake node id: set a unique server.node_id on every member", id, maxSnowflakeNode)
		}
		return
	}
	var ignored problems
	if _, ok := c.Cluster.parseMembers(&ignored)[uint64(id)]; ok && id != c.Cluster.ReplicaID {
		p.add("server.node_id", "%d is the snowflake node id of member %d (a member without server.node_id uses its replica id), so both would generate the same SNOWFLAKE_ID() values: leave server.node_id unset (0: this node's replica id, %d) or pick an id that is no member's replica id", id, id, c.Cluster.ReplicaID)
	}
}

// ParseMembers returns Members as replica id -> gossip address.
func (c ClusterConfig) ParseMembers() (map[uint64]string, error) {
	var p problems
	out := c.parseMembers(&p)
	if len(p) > 0 {
		return nil, p[0]
	}
	return out, nil
}

func (c ClusterConfig) parseMembers(p *problems) map[uint64]string {
	out := map[uint64]string{}
	for _, m := range c.Members {
		id, addr, ok := strings.Cut(m, "=")
		n, err := strconv.ParseUint(strings.TrimSpace(id), 10, 64)
		if !ok || err != nil || n == 0 {
			p.add("cluster.members", "%q: want \"id=host:port\" with id ≥ 1", m)
			continue
		}
		addr = strings.TrimSpace(addr)
		if _, _, err := net.SplitHostPort(addr); err != nil {
			p.add("cluster.members", "%q: %v", m, err)
			continue
		}
		if _, dup := out[n]; dup {
			p.add("cluster.members", "replica id %d is listed twice", n)
		}
		out[n] = addr
	}
	return out
}

func (c ClusterConfig) validate(p *problems) {
	inRange(p, "cluster.user_groups", c.UserGroups, 1, 32)
	if c.UserGroups&(c.UserGroups-1) != 0 {
		p.add("cluster.user_groups", "%d is not a power of two", c.UserGroups)
	}
	inRange(p, "cluster.rtt_ms", c.RTTMS, 1, 10000)
	inRange(p, "cluster.election_ticks", c.ElectionTicks, 3, 1000)
	inRange(p, "cluster.heartbeat_ticks", c.HeartbeatTicks, 1, 1000)
	if c.HeartbeatTicks*2 > c.ElectionTicks {
		p.add("cluster.heartbeat_ticks", "%d must be at most half of election_ticks (%d)", c.HeartbeatTicks, c.ElectionTicks)
	}
	inRange(p, "cluster.proposal_timeout_ms", c.ProposalTimeoutMS, 100, 600000)
	inRange(p, "cluster.join_above_replica_id", c.JoinAboveReplicaID, 0, 5)
	inRange(p, "cluster.startup_timeout_seconds", c.StartupTimeoutSeconds, 1, 86400)
	if c.DeploymentID < 0 {
		p.add("cluster.deployment_id", "%d must not be negative", c.DeploymentID)
	}
	c.TLS.validate(p)
	if !c.Enabled() {
		if c.TLS.Enabled() {
			p.add("cluster.tls", "is set but cluster.members is empty (a single node has no Raft port)")
		}
		return
	}
	members := c.parseMembers(p)
	if len(members) != 1 && len(members) != 3 && len(members) != 5 {
		p.add("cluster.members", "%d members: a cluster has 1, 3 or 5", len(members))
	}
	if _, ok := members[uint64(max(c.ReplicaID, 0))]; !ok {
		if c.ReplicaID == 0 {
			p.add("cluster.replica_id", "not set, and neither gossip_address %q nor the host of raft_address %q names exactly one of cluster.members", c.GossipAddress, c.RaftAddress)
		} else {
			p.add("cluster.replica_id", "%d is not one of cluster.members", c.ReplicaID)
		}
	}
	for key, addr := range map[string]string{"cluster.raft_address": c.RaftAddress, "cluster.gossip_address": c.GossipAddress} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			p.add(key, "%q: %v (required with cluster.members)", addr, err)
		}
	}
	for key, addr := range map[string]string{"cluster.raft_listen_address": c.RaftListenAddress, "cluster.gossip_listen_address": c.GossipListenAddress} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			p.add(key, "%q: %v", addr, err)
		}
	}
}
