package server

import (
	"encoding/json"
	"net/http"
	"time"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// ClusterAdmin is what a replicated node exposes to operators
// (docs/high-availability.md#operator-facing-api).
type ClusterAdmin struct {
	// Status is this replica's view of every Raft group.
	Status func() any
	// TransferLeader asks the leader of the named group to hand its
	// leadership to replica target; it returns before the transfer is
	// done (poll Status).
	TransferLeader func(group string, target uint64) error
}

// SetClusterAdmin serves, for admin roles only, GET /v1/cluster/status
// and POST /v1/cluster/transfer-leader {"group": "meta", "target": 2}. A
// node without replication does not call it and the routes answer 404.
func (s *Server) SetClusterAdmin(a ClusterAdmin) {
	admin := func(h func(w http.ResponseWriter, r *http.Request, start time.Time)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			claims, ok := s.authenticate(w, r, start)
			if !ok {
				return
			}
			if !claims.Role.IsAdmin() {
				writeError(w, start, http.StatusForbidden, kalamsql.CodePermissionDenied, "cluster administration needs an admin role")
				return
			}
			h(w, r, start)
		}
	}
	s.mux.HandleFunc("GET /v1/cluster/status", admin(func(w http.ResponseWriter, _ *http.Request, _ time.Time) {
		writeJSON(w, http.StatusOK, a.Status())
	}))
	s.mux.HandleFunc("POST /v1/cluster/transfer-leader", admin(func(w http.ResponseWriter, r *http.Request, start time.Time) {
		var req struct {
			Group  string `json:"group"`
			Target uint64 `json:"target"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Group == "" || req.Target == 0 {
			writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, `body must be {"group": "<name from /v1/cluster/status>", "target": <replica id>}`)
			return
		}
		if err := a.TransferLeader(req.Group, req.Target); err != nil {
			writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, err.Error())
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"group": req.Group, "target": req.Target})
	}))
}
