// Package pgwire serves KalamDB SQL over the PostgreSQL wire protocol 3.0
// (docs/postgres-wire.md), so psql, pgx, psycopg, node-postgres, JDBC and
// BI tools connect unchanged. Message framing is pgproto3's (pgx); this
// package maps the protocol onto the SQL engine: startup, TLS, SCRAM-SHA-256
// authentication against KalamDB users, the simple and extended query
// protocols, type OIDs and formats, SQLSTATE errors, single-statement
// transactions, cancel requests and LISTEN on live queries.
//
// Invariants:
//   - Every connection runs as exactly one authenticated KalamDB user; its
//     statements go through sql.Engine.Execute with that user's session,
//     so USER-table scoping and SHARED access levels are the HTTP API's.
//   - A statement error never leaves the connection out of protocol sync:
//     in the extended protocol, messages after an error are discarded until
//     Sync, as PostgreSQL does.
//   - Every goroutine is owned: Serve's accept loop and one goroutine per
//     connection (plus its notification pump), all stopped by Close.
package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// Options configure a Server.
type Options struct {
	// TLS, when set, is offered to clients that send SSLRequest (the
	// server's HTTP certificate). Nil answers SSLRequest with 'N'.
	TLS *tls.Config
	// RequireTLS refuses non-loopback connections that did not negotiate
	// TLS (set when the HTTP API is TLS-only).
	RequireTLS bool
	// MaxConnections caps concurrent connections (53300 beyond).
	MaxConnections int
	// AuthTimeout bounds startup and authentication.
	AuthTimeout time.Duration
	// AllowAuth is the HTTP API's per-IP authentication rate limit; nil
	// allows everything.
	AllowAuth func(ip string) bool
	// AllowQuery is the HTTP API's per-user query rate limit; nil allows
	// everything.
	AllowQuery func(user string) bool
	// SlowQuery logs statements at least this slow (0: never).
	SlowQuery time.Duration
	// Metrics receives connection and statement observations (nil: none).
	Metrics *Metrics
	// Live serves LISTEN on subscriptions (nil: LISTEN is refused).
	Live *live.Manager
	// ServerVersion is reported as server_version's KalamDB part.
	ServerVersion string
	// MaxResultRows is the most rows one statement returns; a statement
	// with more fails with SQLSTATE 54000. The wire protocol cannot flag a
	// cut answer, so the HTTP API's default_query_limit does not apply.
	// 0 means 1,000,000.
	MaxResultRows int
}

// Server is a PostgreSQL wire-protocol listener.
type Server struct {
	eng  *kalamsql.Engine
	log  *slog.Logger
	opts Options

	mu     sync.Mutex
	conns  map[uint32]*conn
	closed bool
	wg     sync.WaitGroup
	nConns atomic.Int64
}

// New builds a server over eng.
func New(eng *kalamsql.Engine, log *slog.Logger, opts Options) *Server {
	if opts.AuthTimeout <= 0 {
		opts.AuthTimeout = 10 * time.Second
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 256
	}
	if opts.MaxResultRows <= 0 {
		opts.MaxResultRows = 1000000
	}
	return &Server{eng: eng, log: log, opts: opts, conns: map[uint32]*conn{}}
}

// Serve accepts connections on ln until ctx ends or Close is called. It
// returns nil on a normal stop.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return fmt.Errorf("while accepting PostgreSQL connections: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, nc)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close terminates every connection (with SQLSTATE 57P01 admin_shutdown)
// and waits for their goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
}

// register gives c a process id and secret key for cancel requests.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		pid := binary.BigEndian.Uint32(b[:]) & 0x7fffffff
		if _, taken := s.conns[pid]; pid != 0 && !taken {
			c.pid = pid
			break
		}
	}
	c.secret = make([]byte, 4)
	_, _ = rand.Read(c.secret)
	s.conns[c.pid] = c
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.pid] == c {
		delete(s.conns, c.pid)
	}
}

// cancel handles a CancelRequest: the running statement of the connection
// with that pid and secret is cancelled (57014). Wrong keys are ignored
// silently, as PostgreSQL does.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.conns[pid]
	s.mu.Unlock()
	if c == nil || !constantTimeEqual(c.secret, secret) {
		return
	}
	c.cancelRunning()
}

func constantTimeEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// audit writes an audit record, logging (never failing the login) on error.
func (s *Server) audit(ctx context.Context, rec catalog.AuditRecord) {
	if err := s.eng.Audit(ctx, rec); err != nil {
		s.log.Error("audit log write failed", "action", rec.Action, "err", err)
	}
}
