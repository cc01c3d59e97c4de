package server

import "time"

// AllowAuthFrom applies the per-address authentication rate limit of the
// HTTP login endpoints to another protocol's login (the PostgreSQL wire
// listener shares the buckets, so switching protocol gains nothing).
func (s *Server) AllowAuthFrom(ip string) bool { return s.sec.ipAuth.allow(ip, time.Now()) }

// AllowQueryFor applies the per-user query rate limit of POST /v1/api/sql
// to a statement from another protocol, sharing the same buckets.
func (s *Server) AllowQueryFor(user string) bool { return s.sec.userQ.allow(user, time.Now()) }
