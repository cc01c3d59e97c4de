package pgwire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// maxMessageBytes bounds one frontend message (a statement text, a Bind
// with its parameters): the SQL engine's own limits are far below it.
const maxMessageBytes = 64 << 20

// conn is one client connection.
type conn struct {
	srv     *Server
	nc      net.Conn
	be      *pgproto3.Backend
	ip      string
	tls     bool
	pid     uint32
	secret  []byte
	sess    kalamsql.Session
	params  map[string]string
	tx      txState
	stmts   map[string]*prepared
	portals map[string]*portal
	// skipToSync is set after an error in the extended protocol.
	skipToSync bool
	listen     *listener
	pending    map[string]pendingSub
	// idle is set while waiting for a Query or Sync's successor: live
	// notifications are only sent then.
	idle  atomic.Bool
	types *pgtype.Map

	// runMu guards the running statement's cancel function.
	runMu     sync.Mutex
	runCancel context.CancelFunc
	cancelled bool
	closing   bool
	writeMu   sync.Mutex
}

func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	c := &conn{srv: s, nc: nc, ip: remoteIP(nc.RemoteAddr()), params: map[string]string{},
		stmts: map[string]*prepared{}, portals: map[string]*portal{}}
	defer nc.Close()
	m := s.opts.Metrics
	start := time.Now()
	_ = nc.SetDeadline(start.Add(s.opts.AuthTimeout))
	c.be = pgproto3.NewBackend(nc, nc)
	c.be.SetMaxBodyLen(maxMessageBytes)
	ok, err := c.startup(ctx)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		s.log.Debug("postgres connection startup failed", "client", c.ip, "err", err)
	}
	if !ok {
		m.observeConn("rejected")
		return
	}
	_ = nc.SetDeadline(time.Time{})
	m.observeConn("accepted")
	m.connOpen(1)
	defer m.connOpen(-1)
	defer s.unregister(c)
	defer c.stopListening()
	err = c.loop(ctx)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("postgres connection ended", "client", c.ip, "user", c.sess.UserID, "err", err)
	}
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func (c *conn) loopback() bool {
	ip := net.ParseIP(c.ip)
	return ip != nil && ip.IsLoopback()
}

// fatal sends a FATAL error and reports the connection as not started.
func (c *conn) fatal(code, format string, args ...any) (bool, error) {
	c.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: fmt.Sprintf(format, args...)})
	return false, c.be.Flush()
}

// startup runs SSL negotiation, the startup message and authentication.
func (c *conn) startup(ctx context.Context) (bool, error) {
	s := c.srv
	var sm *pgproto3.StartupMessage
	for sm == nil {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			return false, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.tls || s.opts.TLS == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false, err
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false, err
			}
			tc := tls.Server(c.nc, s.opts.TLS)
			if err := tc.HandshakeContext(ctx); err != nil {
				return false, fmt.Errorf("while negotiating TLS: %w", err)
			}
			c.nc, c.tls = tc, true
			c.be = pgproto3.NewBackend(tc, tc)
			c.be.SetMaxBodyLen(maxMessageBytes)
		case *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			s.cancel(m.ProcessID, m.SecretKey)
			return false, nil
		case *pgproto3.StartupMessage:
			sm = m
		}
	}
	if sm.ProtocolVersion != pgproto3.ProtocolVersion30 {
		// 3.2 clients fall back to 3.0 when told (NegotiateProtocolVersion).
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0})
	}
	if s.opts.RequireTLS && !c.tls && !c.loopback() {
		return c.fatal("28000", "this server accepts PostgreSQL connections over TLS only (sslmode=require)")
	}
	if n := s.nConns.Add(1); int(n) > s.opts.MaxConnections {
		s.nConns.Add(-1)
		return c.fatal("53300", "sorry, too many clients already (postgres_wire.max_connections = %d)", s.opts.MaxConnections)
	}
	started := false
	defer func() {
		if !started {
			s.nConns.Add(-1)
		}
	}()
	user := sm.Parameters["user"]
	if user == "" {
		return c.fatal("28000", "no user name given in the startup message")
	}
	if s.opts.AllowAuth != nil && !s.opts.AllowAuth(c.ip) {
		return c.fatal("53400", "too many authentication requests from this address (rate_limit.max_auth_requests_per_ip_per_sec)")
	}
	u, err := c.authenticate(ctx, user)
	if err != nil {
		s.audit(kalamsql.WithClientIP(ctx, c.ip), catalog.AuditRecord{Actor: user, Action: kalamsql.AuditLoginFailed, Details: err.Error()})
		if errors.Is(err, errProtocol) {
			return c.fatal("08P01", "%v", err)
		}
		return c.fatal("28P01", "%v", err)
	}
	s.audit(kalamsql.WithClientIP(ctx, c.ip), catalog.AuditRecord{Actor: u.UserID, Action: kalamsql.AuditLogin, Details: "postgres wire protocol"})
	c.sess = kalamsql.Session{UserID: u.UserID, Role: auth.Role(u.Role), Namespace: "default"}
	for k, v := range sm.Parameters {
		switch k {
		case "user", "database":
		case "options":
			c.applyStartupOptions(v)
		default:
			c.params[strings.ToLower(k)] = v
		}
	}
	if sp, ok := c.params["search_path"]; ok {
		c.setSearchPath(sp)
	}
	if !s.register(c) {
		return c.fatal("57P01", "terminating connection due to administrator command")
	}
	started = true
	context.AfterFunc(ctx, func() { c.shutdown() })
	c.be.Send(&pgproto3.AuthenticationOk{})
	for _, k := range reportedParams {
		c.be.Send(&pgproto3.ParameterStatus{Name: k, Value: c.paramValue(k)})
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return true, c.be.Flush()
}

// applyStartupOptions reads "-c name=value" pairs of the options parameter.
func (c *conn) applyStartupOptions(opts string) {
	f := strings.Fields(opts)
	for i := 0; i < len(f); i++ {
		kv := f[i]
		if kv == "-c" && i+1 < len(f) {
			i++
			kv = f[i]
		} else if after, ok := strings.CutPrefix(kv, "--"); ok {
			kv = after
		} else if after, ok := strings.CutPrefix(kv, "-c"); ok {
			kv = after
		}
		if k, v, ok := strings.Cut(kv, "="); ok {
			c.params[strings.ToLower(strings.ReplaceAll(k, "-", "_"))] = v
		}
	}
}

var errProtocol = errors.New("authentication protocol violation")

// authenticate runs SCRAM-SHA-256 against the user's stored verifier, or a
// cleartext password (TLS or loopback only) for users without one. Lockout
// and failure counting are the HTTP login's.
func (c *conn) authenticate(ctx context.Context, user string) (*catalog.User, error) {
	eng := c.srv.eng
	u, err := eng.LoginUser(user)
	if errors.Is(err, kalamsql.ErrAccountLocked) {
		return nil, fmt.Errorf("account %q is locked after repeated failed logins", user)
	}
	switch {
	case err == nil && u.ScramSHA256 != "":
		v, perr := auth.ParseScramVerifier(u.ScramSHA256)
		if perr != nil {
			return nil, fmt.Errorf("password authentication failed for user %q", user)
		}
		ok, err := c.scram(v)
		if err != nil {
			return nil, err
		}
		if oerr := eng.LoginOutcome(ctx, user, ok); oerr != nil {
			return nil, oerr
		}
		if !ok {
			return nil, fmt.Errorf("password authentication failed for user %q", user)
		}
		return u, nil
	case err == nil && u.PasswordHash == "" && u.UserID == kalamsql.RootUser:
		// root without a password logs in from localhost only, as over HTTP.
		if !c.loopback() {
			return nil, errors.New("root has no password: it may only connect from localhost")
		}
		return u, nil
	case err != nil:
		// Unknown user: run SCRAM against a throw-away verifier so the
		// exchange looks the same as for a real user.
		v, _ := auth.NewScramVerifier("unknown user")
		pv, _ := auth.ParseScramVerifier(v)
		if _, err := c.scram(pv); err != nil {
			return nil, err
		}
		if oerr := eng.LoginOutcome(ctx, user, false); oerr != nil {
			return nil, oerr
		}
		return nil, fmt.Errorf("password authentication failed for user %q", user)
	}
	// A password set before SCRAM verifiers existed: cleartext over TLS or
	// loopback, checked with bcrypt (ALTER USER ... PASSWORD adds a verifier).
	if !c.tls && !c.loopback() {
		return nil, fmt.Errorf("user %q has no SCRAM-SHA-256 verifier yet (set the password again with ALTER USER) and cleartext passwords need TLS", user)
	}
	c.be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := c.be.Flush(); err != nil {
		return nil, err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
		return nil, err
	}
	msg, err := c.be.Receive()
	if err != nil {
		return nil, err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return nil, errProtocol
	}
	au, err := eng.Authenticate(ctx, user, pm.Password, c.loopback())
	if err != nil {
		return nil, fmt.Errorf("password authentication failed for user %q", user)
	}
	return au, nil
}

// scram runs the SASL exchange; ok=false is a wrong password.
func (c *conn) scram(v auth.ScramVerifier) (bool, error) {
	c.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if err := c.be.Flush(); err != nil {
		return false, err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return false, err
	}
	msg, err := c.be.Receive()
	if err != nil {
		return false, err
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != "SCRAM-SHA-256" {
		return false, fmt.Errorf("%w: want SCRAM-SHA-256", errProtocol)
	}
	ss := auth.NewScramServer(v)
	serverFirst, err := ss.First(string(first.Data))
	if err != nil {
		return false, fmt.Errorf("%w: %v", errProtocol, err)
	}
	c.be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := c.be.Flush(); err != nil {
		return false, err
	}
	if err := c.be.SetAuthType(pgproto3.AuthTypeSASLContinue); err != nil {
		return false, err
	}
	msg, err = c.be.Receive()
	if err != nil {
		return false, err
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return false, errProtocol
	}
	serverFinal, ok, err := ss.Final(string(final.Data))
	if err != nil {
		return false, fmt.Errorf("%w: %v", errProtocol, err)
	}
	if !ok {
		return false, nil
	}
	c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
	return true, nil
}

// shutdown ends the connection from the server side (57P01).
func (c *conn) shutdown() {
	c.runMu.Lock()
	if c.closing {
		c.runMu.Unlock()
		return
	}
	c.closing = true
	if c.runCancel != nil {
		c.runCancel()
	}
	c.runMu.Unlock()
	c.writeMu.Lock()
	c.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"})
	_ = c.be.Flush()
	c.writeMu.Unlock()
	_ = c.nc.SetReadDeadline(time.Now())
}

// cancelRunning cancels the statement in progress, if any (CancelRequest).
func (c *conn) cancelRunning() {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.runCancel != nil {
		c.cancelled = true
		c.runCancel()
	}
}

// statementContext returns the context one statement runs under: cancelled
// by a CancelRequest or by server shutdown.
func (c *conn) statementContext(ctx context.Context) (context.Context, func() bool) {
	sctx, cancel := context.WithCancel(kalamsql.WithClientIP(ctx, c.ip))
	c.runMu.Lock()
	c.runCancel, c.cancelled = cancel, false
	c.runMu.Unlock()
	return sctx, func() bool {
		c.runMu.Lock()
		defer c.runMu.Unlock()
		cancel()
		c.runCancel = nil
		return c.cancelled
	}
}
