package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
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
	// AddMember adds replica id to every group as a non-voting member (the
	// new node promotes itself once caught up) and, with wait > 0, waits
	// up to wait for it to vote everywhere; it returns the replica's
	// roles. Errors are *kalamsql.Error or mapped by kalamsql.AsError.
	AddMember func(ctx context.Context, id uint64, wait time.Duration) (any, error)
	// MemberState returns replica id's role in every group.
	MemberState func(ctx context.Context, id uint64) (any, error)
	// StepDown hands every group this node leads to another voter and
	// waits until it leads none or ctx ends; the result says what is left.
	StepDown func(ctx context.Context) any
}

// maxMemberWait bounds POST /v1/cluster/members' wait_seconds.
const maxMemberWait = 10 * time.Minute

// maxStepDownWait bounds POST /v1/cluster/step-down's wait_seconds; 30 s
// is the default (a preStop hook has the pod's grace period in all).
const (
	maxStepDownWait     = 10 * time.Minute
	defaultStepDownWait = 30 * time.Second
)

// SetClusterAdmin serves, for admin roles only, GET /v1/cluster/status,
// POST /v1/cluster/transfer-leader {"group": "meta", "target": 2},
// POST /v1/cluster/members {"replica_id": 2, "wait_seconds": 60},
// GET /v1/cluster/members/{id} and POST /v1/cluster/step-down
// {"wait_seconds": 30}. A node without replication does not call
// it and the routes answer 404.
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
	s.mux.HandleFunc("POST /v1/cluster/step-down", admin(func(w http.ResponseWriter, r *http.Request, start time.Time) {
		req := struct {
			WaitSeconds *int `json:"wait_seconds"`
		}{}
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req)
		wait := defaultStepDownWait
		if req.WaitSeconds != nil {
			wait = time.Duration(*req.WaitSeconds) * time.Second
		}
		if (err != nil && !errors.Is(err, io.EOF)) || wait <= 0 || wait > maxStepDownWait {
			writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, `body must be empty or {"wait_seconds": <1..600, default 30>}`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		writeJSON(w, http.StatusOK, a.StepDown(ctx))
	}))
	s.mux.HandleFunc("POST /v1/cluster/members", admin(func(w http.ResponseWriter, r *http.Request, start time.Time) {
		var req struct {
			ReplicaID   uint64 `json:"replica_id"`
			WaitSeconds int    `json:"wait_seconds"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.ReplicaID == 0 || req.WaitSeconds < 0 || time.Duration(req.WaitSeconds)*time.Second > maxMemberWait {
			writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, `body must be {"replica_id": <new replica id ≥ 1>, "wait_seconds": <0..600, optional>}`)
			return
		}
		st, err := a.AddMember(r.Context(), req.ReplicaID, time.Duration(req.WaitSeconds)*time.Second)
		if err != nil {
			e := kalamsql.AsError(err)
			writeError(w, start, e.Status, e.Code, e.Message)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}))
	s.mux.HandleFunc("GET /v1/cluster/members/{id}", admin(func(w http.ResponseWriter, r *http.Request, start time.Time) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil || id == 0 {
			writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, "the path must end in a replica id ≥ 1")
			return
		}
		st, err := a.MemberState(r.Context(), id)
		if err != nil {
			e := kalamsql.AsError(err)
			writeError(w, start, e.Status, e.Code, e.Message)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}))
}
