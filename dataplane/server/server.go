// Package server is the data plane's HTTP front door: SQL over HTTP, login,
// and health probes. It authenticates requests and hands statements to the
// SQL engine; it holds no data of its own.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// Version is the server version reported by health endpoints; set by main.
var Version = "dev"

// Options configure the HTTP server.
type Options struct {
	MaxBodyBytes int64
	SlowQueryLog time.Duration
	// Security holds rate limits, CORS and setup rules (security.go).
	Security SecurityOptions
}

// Server serves the HTTP API.
type Server struct {
	eng    *kalamsql.Engine
	tokens *auth.TokenIssuer
	// refresh issues refresh tokens, which live 7x longer (as upstream).
	refresh *auth.TokenIssuer
	log     *slog.Logger
	opts    Options
	ready   atomic.Bool
	// readyChecks can hold /readyz at 503 while the node is up (the data
	// volume is below its free-space reserve, a replica is behind).
	readyChecks []func() error
	mux         *http.ServeMux
	// ws is the live-query endpoint state (ws.go); nil until SetLive.
	ws *wsState
	// reg and metrics serve GET /metrics (metrics.go).
	reg     *prometheus.Registry
	metrics *httpMetrics
	// sec holds the rate limiters (security.go).
	sec *security
}

// New builds a server; call SetReady once startup has finished.
func New(eng *kalamsql.Engine, tokens, refresh *auth.TokenIssuer, log *slog.Logger, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 10 << 20
	}
	s := &Server{eng: eng, tokens: tokens, refresh: refresh, log: log, opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/api/sql", s.handleSQL)
	s.mux.HandleFunc("POST /v1/api/auth/login", s.handleLogin)
	s.mux.HandleFunc("GET /v1/api/auth/me", s.handleMe)
	s.mux.HandleFunc("POST /v1/api/auth/refresh", s.handleRefresh)
	s.mux.HandleFunc("POST /v1/api/auth/logout", s.handleLogout)
	s.mux.HandleFunc("POST /v1/api/auth/setup", s.handleSetup)
	s.mux.HandleFunc("GET /v1/api/auth/status", s.handleAuthStatus)
	s.sec = newSecurity(opts.Security)
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /health", s.handleHealthz)
	s.mux.HandleFunc("GET /v1/api/healthcheck", s.handleHealthz)
	s.mux.HandleFunc("GET /v1/ws", s.handleWS)
	s.reg = newRegistry()
	s.metrics = newHTTPMetrics(s.reg)
	s.mux.Handle("GET /metrics", s.metricsHandler())
	return s
}

// SetReady marks the server ready (or not) for /readyz.
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// SetReadyCheck adds a condition /readyz also requires: while it returns
// an error, /readyz answers 503 with the error as its reason. Checks run
// in the order they were added. Call it before serving.
func (s *Server) SetReadyCheck(fn func() error) { s.readyChecks = append(s.readyChecks, fn) }

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.instrument(s.protect(s.mux)) }

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "healthy", "version": Version, "api_version": "v1"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	for _, check := range s.readyChecks {
		if err := check(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// errReader replays a read error after the bytes read before it (nil: EOF).
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

type sqlRequest struct {
	SQL         *string `json:"sql"`
	Params      []any   `json:"params"`
	NamespaceID string  `json:"namespace_id"`
	// Consistency is "linearizable" (default) or "stale": on a replicated
	// cluster a stale read skips the ReadIndex round trip.
	Consistency string `json:"consistency"`
}

// decodeBody decodes a size-limited JSON body; it reports the error code
// and status to answer with.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) (int, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	tooLarge := func() (int, string, error) {
		return http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", errors.New("request body exceeds " + itoa(s.opts.MaxBodyBytes) + " bytes")
	}
	var src io.Reader = r.Body
	if req, ok := v.(*sqlRequest); ok {
		// Read whole (bounded) so the common shape skips reflection
		// (request_fast.go); anything else decodes the same bytes below.
		body, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		if err == nil {
			if fast, ok := decodeSQLRequestFast(body); ok {
				*req = fast
				return 0, "", nil
			}
		}
		src = io.MultiReader(bytes.NewReader(body), errReader{err})
	}
	dec := json.NewDecoder(src)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		return http.StatusBadRequest, kalamsql.CodeInvalidInput, errors.New("malformed JSON body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return http.StatusBadRequest, kalamsql.CodeInvalidInput, errors.New("malformed JSON body: trailing data after the object")
	}
	return 0, "", nil
}

func (s *Server) handleSQL(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	claims, ok := s.authenticate(w, r, start)
	if !ok {
		return
	}
	if !s.sec.userQ.allow(claims.Subject, start) {
		rateLimited(w, start, "too many queries for this user")
		return
	}
	var req sqlRequest
	if !s.readBody(w, r, start, &req) {
		return
	}
	if req.SQL == nil {
		writeError(w, start, http.StatusBadRequest, kalamsql.CodeEmptySQL, `missing "sql" field`)
		return
	}
	if req.Consistency != "" && req.Consistency != "linearizable" && req.Consistency != "stale" {
		writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, `"consistency" must be "linearizable" or "stale"`)
		return
	}
	sess := kalamsql.Session{UserID: claims.Subject, Role: claims.Role, Namespace: req.NamespaceID}
	ctx := kalamsql.WithClientIP(kalamsql.WithOrigin(r.Context(), s.requestOrigin(r)), s.clientIP(r))
	results, err := s.eng.Execute(ctx, sess, kalamsql.Request{SQL: *req.SQL, Params: req.Params, Namespace: req.NamespaceID, Stale: req.Consistency == "stale"})
	s.logSlow(claims.Subject, *req.SQL, time.Since(start), err)
	if err != nil {
		e := kalamsql.AsError(err)
		if e.Status >= 500 {
			s.log.Error("statement failed", "user", claims.Subject, "err", err)
		}
		writeError(w, start, e.Status, e.Code, e.Message)
		return
	}
	out := envelope{Status: "success", Results: make([]queryResult, len(results))}
	for i, res := range results {
		out.Results[i] = queryResult{Schema: s.eng.WireSchema(res.Schema), Rows: res.Rows, RowCount: res.RowCount, Message: res.Message, AsUser: res.AsUser, Truncated: res.Truncated}
	}
	out.Took = tookMs(start)
	writeJSON(w, http.StatusOK, out)
}

// authenticate checks the Bearer token and that its user still exists with
// the same role.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, start time.Time) (auth.Claims, bool) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		if strings.HasPrefix(h, "Basic ") {
			writeError(w, start, http.StatusUnauthorized, CodeMissingAuth, "Basic auth is not accepted here: log in at /v1/api/auth/login and send the access token as Bearer")
			return auth.Claims{}, false
		}
		writeError(w, start, http.StatusUnauthorized, CodeMissingAuth, "missing Authorization: Bearer token")
		return auth.Claims{}, false
	}
	claims, err := s.verifyAccessToken(token)
	if err != nil {
		status, code, msg := authFailure(err)
		writeError(w, start, status, code, msg)
		return auth.Claims{}, false
	}
	setRequestUser(r, claims.Subject)
	return claims, true
}

type loginRequest struct {
	User     string `json:"user"`
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.allowAuthRequest(w, r, start) {
		return
	}
	var req loginRequest
	if !s.readBody(w, r, start, &req) {
		return
	}
	if req.User == "" {
		req.User = req.Username
	}
	if req.User == "" || len(req.User) > 128 || len(req.Password) > 64<<10 {
		writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, "user (1..128 chars) and password (at most 64 KiB) are required")
		return
	}
	u, err := s.eng.Authenticate(r.Context(), req.User, req.Password, isLoopback(r.RemoteAddr))
	if err != nil {
		s.audit(r.Context(), r, catalog.AuditRecord{Actor: req.User, Action: kalamsql.AuditLoginFailed, Details: err.Error()})
		if errors.Is(err, kalamsql.ErrAccountLocked) {
			writeError(w, start, http.StatusForbidden, CodeAccountLocked, err.Error())
			return
		}
		if errors.Is(err, kalamsql.ErrRemoteRoot) {
			writeError(w, start, http.StatusForbidden, CodeRemoteDenied, err.Error())
			return
		}
		writeError(w, start, http.StatusUnauthorized, "INVALID_CREDENTIALS", err.Error())
		return
	}
	s.audit(r.Context(), r, catalog.AuditRecord{Actor: u.UserID, Action: kalamsql.AuditLogin})
	s.issueTokens(w, start, u.UserID, u.Email, auth.Role(u.Role))
}

// issueTokens answers a login or refresh with a new access/refresh pair.
func (s *Server) issueTokens(w http.ResponseWriter, start time.Time, userID, email string, role auth.Role) {
	access, exp, err := s.tokens.Issue(userID, role, auth.TokenTypeAccess)
	if err != nil {
		writeError(w, start, http.StatusInternalServerError, kalamsql.CodeInternal, "could not issue token")
		return
	}
	refresh, rexp, err := s.refresh.Issue(userID, role, auth.TokenTypeRefresh)
	if err != nil {
		writeError(w, start, http.StatusInternalServerError, kalamsql.CodeInternal, "could not issue token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"user":               map[string]any{"id": userID, "username": userID, "role": string(role), "email": email},
		"admin_ui_access":    role.IsAdmin(),
		"access_token":       access,
		"expires_at":         exp.UTC().Format(time.RFC3339),
		"refresh_token":      refresh,
		"refresh_expires_at": rexp.UTC().Format(time.RFC3339),
	})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	claims, ok := s.authenticate(w, r, start)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": claims.Subject, "role": claims.Role, "admin_ui_access": claims.Role.IsAdmin()})
}

// isLoopback reports whether a request's direct peer is this host. Proxy
// headers are deliberately ignored: they are client-controlled.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Shutdown helpers.

// Serve runs an http.Server on ln until ctx ends, then shuts down
// gracefully within timeout.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, timeout time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// handleRefresh exchanges a refresh token (JSON body or Bearer) for a new
// access/refresh pair, re-checking that the user is still active.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.allowAuthRequest(w, r, start) {
		return
	}
	var req refreshRequest
	if r.ContentLength != 0 {
		if !s.readBody(w, r, start, &req) {
			return
		}
	}
	token := req.RefreshToken
	if token == "" {
		token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	claims, err := s.refresh.Verify(strings.TrimSpace(token), auth.TokenTypeRefresh)
	u, ok := s.eng.Catalog().User(claims.Subject)
	if err == nil && !ok {
		err = errInactive
	}
	if err == nil {
		err = s.checkActive(claims)
	}
	if err != nil {
		status, code, msg := authFailure(err)
		writeError(w, start, status, code, msg)
		return
	}
	s.issueTokens(w, start, u.UserID, u.Email, claims.Role)
}
