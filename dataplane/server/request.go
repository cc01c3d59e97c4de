package server

import (
	"net/http"
	"time"
)

// allowAuthRequest applies the per-address rate limit of the
// authentication endpoints (login, refresh, setup). When it returns false
// the 429 response is written.
func (s *Server) allowAuthRequest(w http.ResponseWriter, r *http.Request, start time.Time) bool {
	if s.sec.ipAuth.allow(s.clientIP(r), start) {
		return true
	}
	rateLimited(w, start, "too many authentication requests from this address")
	return false
}

// readBody decodes the JSON request body into v. When it returns false
// the error response is written.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, start time.Time, v any) bool {
	status, code, err := s.decodeBody(w, r, v)
	if err != nil {
		writeError(w, start, status, code, err.Error())
		return false
	}
	return true
}
