package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
