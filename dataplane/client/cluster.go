package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ClusterShard is one Raft group as a replica reports it
// (GET /v1/cluster/status; docs/high-availability.md).
type ClusterShard struct {
	Shard  uint64   `json:"shard"`
	Name   string   `json:"name"`
	Groups []uint16 `json:"groups"`
	// Leader is the leader's replica id as this replica knows it (0: none).
	Leader   uint64 `json:"leader"`
	Term     uint64 `json:"term"`
	IsLeader bool   `json:"is_leader"`
	// Members maps replica id (decimal) to NodeHostID.
	Members map[string]string `json:"members"`
	// Applied is the last Raft index this replica applied.
	Applied uint64 `json:"applied"`
}

// ClusterStatus is one replica's view of the cluster.
type ClusterStatus struct {
	ReplicaID   uint64         `json:"replica_id"`
	NodeHostID  string         `json:"node_host_id"`
	RaftAddress string         `json:"raft_address"`
	Shards      []ClusterShard `json:"shards"`
}

// Led returns the names of the groups this replica leads: those whose
// leader, as this replica knows it, is itself (decided from leader, not
// is_leader, which servers before the fix of dragonboat's ShardInfo
// always reported false).
func (s *ClusterStatus) Led() []string {
	var out []string
	for _, sh := range s.Shards {
		if sh.Leader != 0 && sh.Leader == s.ReplicaID {
			out = append(out, sh.Name)
		}
	}
	return out
}

// ClusterStatus returns the server's view of every Raft group (admin
// roles). A single node answers 404: *APIError with HTTPStatus 404.
func (c *Client) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	status, body, err := c.Do(ctx, http.MethodGet, "/v1/cluster/status", nil, true)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, apiError(status, body)
	}
	var out ClusterStatus
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("while decoding the cluster status: %w", err)
	}
	return &out, nil
}

// TransferLeader asks the leader of group (a name from ClusterStatus) to
// hand its leadership to replica target. It returns once the request is
// sent; the leader may drop it (poll ClusterStatus and ask again).
func (c *Client) TransferLeader(ctx context.Context, group string, target uint64) error {
	body, err := json.Marshal(map[string]any{"group": group, "target": target})
	if err != nil {
		return err
	}
	status, resp, err := c.Do(ctx, http.MethodPost, "/v1/cluster/transfer-leader", body, true)
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		return apiError(status, resp)
	}
	return nil
}

// StepDownResult is the answer of StepDown: which groups the node handed
// over, which it still leads, and which it leads alone (no other voter).
type StepDownResult struct {
	ReplicaID    uint64   `json:"replica_id"`
	Moved        []string `json:"moved"`
	StillLeading []string `json:"still_leading"`
	Alone        []string `json:"alone"`
}

// StepDown asks the node to hand the leadership of every group it leads to
// another voter, waiting up to wait (1 s .. 10 min) for it to lead none
// (POST /v1/cluster/step-down). A single node answers 404 (*APIError).
// Give the client's HTTP timeout more than wait.
func (c *Client) StepDown(ctx context.Context, wait time.Duration) (*StepDownResult, error) {
	body, err := json.Marshal(map[string]any{"wait_seconds": int(max(wait, time.Second) / time.Second)})
	if err != nil {
		return nil, err
	}
	status, resp, err := c.Do(ctx, http.MethodPost, "/v1/cluster/step-down", body, true)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, apiError(status, resp)
	}
	var out StepDownResult
	if err := json.Unmarshal(resp, &out); err != nil {
		return nil, fmt.Errorf("while decoding the step-down answer: %w", err)
	}
	return &out, nil
}

// apiError is the error of a non-success answer.
func apiError(status int, body []byte) error {
	ae, _ := decodeAPIError(status, body)
	return ae
}

// decodeAPIError decodes the server's error envelope; enveloped is false
// when the body is not one (a proxy's page, the mux's 404) and the error
// carries the body as its message with code HTTP_ERROR.
func decodeAPIError(status int, body []byte) (ae *APIError, enveloped bool) {
	var env struct {
		Error *APIError `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		env.Error.HTTPStatus = status
		return env.Error, true
	}
	return &APIError{HTTPStatus: status, Code: "HTTP_ERROR", Message: strings.TrimSpace(string(body))}, false
}

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
		return nil, apiError(status, body)
	}
	var out ClusterMember
	return &out, json.Unmarshal(body, &out)
}
