package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/pgwire"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
)

// startPostgresWire starts the PostgreSQL wire-protocol listener when
// [postgres_wire] enables it. It shares the HTTP API's certificate, rate
// limits, lockout and audit log.
func (n *Node) startPostgresWire() error {
	pc := n.cfg.PostgresWire
	if !pc.Enabled {
		return nil
	}
	host := pc.Host
	if host == "" {
		host = n.cfg.Server.Host
	}
	addr := net.JoinHostPort(host, strconv.Itoa(pc.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("while listening for PostgreSQL clients on %s: %w", addr, err)
	}
	ln = server.LimitConnsPerIP(ln, n.cfg.RateLimit.MaxConnectionsPerIP)
	var tc *tls.Config
	if n.certs != nil {
		// The API listener's certificate, reloaded on rotation.
		tc = n.certs.TLSConfig()
	}
	n.pg = pgwire.New(n.eng, n.log.With("component", "pgwire"), pgwire.Options{
		TLS:            tc,
		RequireTLS:     tc != nil,
		MaxConnections: pc.MaxConnections,
		AuthTimeout:    time.Duration(pc.AuthTimeoutSeconds) * time.Second,
		AllowAuth:      n.srv.AllowAuthFrom,
		AllowQuery:     n.srv.AllowQueryFor,
		SlowQuery:      time.Duration(n.cfg.Logging.SlowQueryThresholdMS) * time.Millisecond,
		Metrics:        pgwire.NewMetrics(n.srv.Registry()),
		Live:           n.live,
		ServerVersion:  server.Version,
		MaxResultRows:  pc.MaxResultRows,
	})
	n.pgLn = ln
	ctx, cancel := context.WithCancel(context.Background())
	n.pgStop = cancel
	n.pgDone = make(chan struct{})
	go func() {
		defer close(n.pgDone)
		if err := n.pg.Serve(ctx, ln); err != nil {
			n.log.Error("PostgreSQL listener stopped", "err", err)
		}
	}()
	n.log.Info("PostgreSQL wire protocol listening", "addr", ln.Addr().String(), "tls", tc != nil)
	return nil
}

// stopPostgresWire closes the listener and every wire connection.
func (n *Node) stopPostgresWire() {
	if n.pg == nil {
		return
	}
	n.pgStop()
	<-n.pgDone
	n.pg.Close()
}

// PostgresAddr is the PostgreSQL listener's address ("" when disabled).
func (n *Node) PostgresAddr() string {
	if n.pgLn == nil {
		return ""
	}
	return n.pgLn.Addr().String()
}
