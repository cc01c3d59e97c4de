package server

import (
	"net/http"
	"time"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// SetClusterStatus serves GET /v1/cluster/status (admin roles only) with
// what status returns: this replica's view of every Raft group (leader,
// members, applied index; docs/high-availability.md). A node without
// replication does not call it and the route answers 404.
func (s *Server) SetClusterStatus(status func() any) {
	s.mux.HandleFunc("GET /v1/cluster/status", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		claims, ok := s.authenticate(w, r, start)
		if !ok {
			return
		}
		if !claims.Role.IsAdmin() {
			writeError(w, start, http.StatusForbidden, kalamsql.CodePermissionDenied, "cluster status needs an admin role")
			return
		}
		writeJSON(w, http.StatusOK, status())
	})
}
