package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// ClusterMember is a replica's role in every Raft group of a replicated
// cluster (POST /v1/cluster/members, GET /v1/cluster/members/{id};
// docs/high-availability.md#adding-replicas-and-migrating-a-single-node).
type ClusterMember struct {
	ReplicaID  uint64 `json:"replica_id"`
	NodeHostID string `json:"node_host_id"`
	// State is "voter" once the replica votes in every group, else
	// "catching_up".
	State  string `json:"state"`
	Shards []struct {
		Shard string `json:"shard"`
		// Role is "voter", "non_voting" or "absent".
		Role string `json:"role"`
	} `json:"shards"`
}

// Voter reports whether the replica votes in every group.
func (m *ClusterMember) Voter() bool { return m.State == "voter" }

// AddClusterMember asks a member of a replicated cluster to add replica
// id — a node started with cluster.join = true and an empty data
// directory — to every group as a non-voting member; the new node catches
// up and promotes itself to a voter. With wait > 0 (at most 10 minutes)
// the call returns once the replica votes everywhere or wait has passed;
// check Voter() and call again (it is idempotent) until true. A
// NO_QUORUM error (HTTP 503) is retryable.
func (c *Client) AddClusterMember(ctx context.Context, id uint64, wait time.Duration) (*ClusterMember, error) {
	var out ClusterMember
	in := map[string]any{"replica_id": id, "wait_seconds": int(wait / time.Second)}
	if err := c.post(ctx, "/v1/cluster/members", in, true, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ClusterMemberState returns replica id's role in every group.
func (c *Client) ClusterMemberState(ctx context.Context, id uint64) (*ClusterMember, error) {
	status, body, err := c.Do(ctx, http.MethodGet, "/v1/cluster/members/"+strconv.FormatUint(id, 10), nil, true)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, responseError(status, body)
	}
	var out ClusterMember
	return &out, json.Unmarshal(body, &out)
}
