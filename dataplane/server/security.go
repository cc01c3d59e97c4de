package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// Error codes of the security layer (reference §3.2).
const (
	CodeRateLimited   = "RATE_LIMIT_EXCEEDED"
	CodeAccountLocked = "ACCOUNT_LOCKED"
	CodeRemoteDenied  = "REMOTE_ACCESS_DENIED"
	CodeSetupDone     = "ALREADY_SET_UP"
	// Authentication failures (reference auth-failure codes): no
	// Authorization header; an expired but otherwise valid token; anything
	// else wrong with the token or its user (malformed, bad signature,
	// untrusted issuer, unknown, dropped or revoked user: merged on
	// purpose so probing learns nothing).
	CodeMissingAuth        = "MISSING_AUTHORIZATION"
	CodeTokenExpired       = "TOKEN_EXPIRED"
	CodeInvalidCredentials = "INVALID_CREDENTIALS"
)

// SecurityOptions configure rate limits, CORS, setup and client-address
// resolution. Zero rates are unlimited.
type SecurityOptions struct {
	QueriesPerUserPerSec int
	RequestsPerIPPerSec  int
	AuthPerIPPerSec      int
	// WSMessagesPerUserPerSec and WSMessagesPerIPPerSec bound WebSocket
	// client messages per user (all connections) and per client IP.
	WSMessagesPerUserPerSec int
	WSMessagesPerIPPerSec   int
	AllowRemoteSetup        bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	CORS           CORSOptions
	// External verifies tokens of trusted OIDC issuers (nil: none).
	External *auth.ExternalVerifier
}

// CORSOptions answer browser cross-origin requests.
type CORSOptions struct {
	AllowedOrigins   []string
	AllowedMethods   []string
	AllowedHeaders   []string
	AllowCredentials bool
	MaxAgeSeconds    int
}

// security is the server's limiter state.
type security struct {
	userQ, ipReq, ipAuth *keyedLimiter
	wsUser, wsIP         *keyedLimiter
}

func newSecurity(o SecurityOptions) *security {
	return &security{
		userQ:  newKeyedLimiter(o.QueriesPerUserPerSec),
		ipReq:  newKeyedLimiter(o.RequestsPerIPPerSec),
		ipAuth: newKeyedLimiter(o.AuthPerIPPerSec),
		wsUser: newKeyedLimiter(o.WSMessagesPerUserPerSec),
		wsIP:   newKeyedLimiter(o.WSMessagesPerIPPerSec),
	}
}

// clientIP is the request's client address: the direct peer, or, when the
// peer is a trusted proxy, the nearest untrusted X-Forwarded-For hop.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.opts.Security.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// rateLimited answers 429 with Retry-After.
func rateLimited(w http.ResponseWriter, start time.Time, what string) {
	w.Header().Set("Retry-After", "1")
	writeError(w, start, http.StatusTooManyRequests, CodeRateLimited, "rate limit exceeded: "+what)
}

// exemptFromIPLimit lists probe endpoints that orchestrators poll.
func exemptFromIPLimit(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/health", "/v1/api/healthcheck", "/metrics":
		return true
	}
	return false
}

// protect applies CORS and the per-IP request limit before routing.
func (s *Server) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cors(w, r) {
			return
		}
		if !exemptFromIPLimit(r.URL.Path) && !s.sec.ipReq.allow(s.clientIP(r), time.Now()) {
			rateLimited(w, time.Now(), "too many requests from this address")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cors sets CORS headers for an allowed Origin and answers preflight
// requests; it reports whether the request has been answered.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	o := s.opts.Security.CORS
	origin := r.Header.Get("Origin")
	if origin == "" || len(o.AllowedOrigins) == 0 {
		return false
	}
	allowed, wildcard := false, false
	for _, a := range o.AllowedOrigins {
		if a == "*" {
			allowed, wildcard = true, true
			break
		}
		if strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			allowed = true
			break
		}
	}
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !allowed {
		if preflight {
			writeError(w, time.Now(), http.StatusForbidden, kalamsql.CodePermissionDenied, "origin not allowed")
			return true
		}
		return false // no CORS headers: the browser withholds the response
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if wildcard {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if o.AllowCredentials && !wildcard {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		return false
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(o.AllowedMethods, ", "))
	h.Set("Access-Control-Allow-Headers", strings.Join(o.AllowedHeaders, ", "))
	if o.MaxAgeSeconds > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(o.MaxAgeSeconds))
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// errInactive is returned for a valid signature whose user is gone,
// changed role, locked, or revoked the token.
var errInactive = errors.New("token no longer matches an active user")

// errLocked is errInactive for a user locked out after failed logins
// (answered 403 ACCOUNT_LOCKED over HTTP).
var errLocked = fmt.Errorf("%w: the account is temporarily locked", errInactive)

// verifyAccessToken checks an access token (ours, or one of a trusted OIDC
// issuer) and that its user is still active: exists, not dropped, same
// role, not locked out, and the token is newer than any revocation.
func (s *Server) verifyAccessToken(token string) (auth.Claims, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return auth.Claims{}, errors.New("missing token")
	}
	var claims auth.Claims
	var err error
	if ext := s.opts.Security.External; ext != nil && ext.Handles(token) {
		if claims, err = ext.Verify(token); err != nil {
			return auth.Claims{}, err
		}
		// External tokens carry no KalamDB role: the stored one applies.
		if u, ok := s.eng.Catalog().User(claims.Subject); ok {
			claims.Role = auth.Role(u.Role)
		}
	} else if claims, err = s.tokens.Verify(token, auth.TokenTypeAccess); err != nil {
		return auth.Claims{}, err
	}
	if err := s.checkActive(claims); err != nil {
		return auth.Claims{}, err
	}
	return claims, nil
}

func (s *Server) checkActive(claims auth.Claims) error {
	u, ok := s.eng.Catalog().User(claims.Subject)
	// RevokeTokens sets tokens_valid_after one ms past the revocation, so a
	// token minted in the same millisecond is revoked too.
	if !ok || u.DeletedAt != 0 || u.Role != string(claims.Role) || claims.IssuedAtMs < u.TokensValidAfter {
		return errInactive
	}
	if s.eng.Locked(u.UserID) {
		return errLocked
	}
	return nil
}

// audit writes a record, logging (not failing the request) on error: the
// request's own effect has already happened.
func (s *Server) audit(ctx context.Context, r *http.Request, rec catalog.AuditRecord) {
	rec.IP = s.clientIP(r)
	if err := s.eng.Audit(ctx, rec); err != nil {
		s.log.Error("audit log write failed", "action", rec.Action, "err", err)
	}
}

// handleLogout revokes every token of the caller (all sessions: tokens are
// stateless, so revocation is by issue time).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	claims, ok := s.authenticate(w, r, start)
	if !ok {
		return
	}
	if err := s.eng.RevokeTokens(r.Context(), claims.Subject); err != nil {
		writeError(w, start, http.StatusInternalServerError, kalamsql.CodeInternal, "could not revoke tokens")
		return
	}
	s.audit(r.Context(), r, catalog.AuditRecord{Actor: claims.Subject, Action: kalamsql.AuditLogout})
	writeJSON(w, http.StatusOK, map[string]string{"message": "logged out; every token issued before now is revoked"})
}

type setupRequest struct {
	RootPassword string `json:"root_password"`
	User         string `json:"user"`
	Password     string `json:"password"`
	Email        string `json:"email"`
}

// handleSetup sets root's password on first start (and optionally creates a
// dba). Loopback only unless allow_remote_setup; 409 once set up.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.allowAuthRequest(w, r, start) {
		return
	}
	if !s.opts.Security.AllowRemoteSetup && !isLoopback(r.RemoteAddr) {
		writeError(w, start, http.StatusForbidden, CodeRemoteDenied, "setup is only allowed from localhost (auth.allow_remote_setup)")
		return
	}
	var req setupRequest
	if !s.readBody(w, r, start, &req) {
		return
	}
	if req.RootPassword == "" || len(req.RootPassword) > 64<<10 || len(req.Password) > 64<<10 || (req.User != "" && req.Password == "") {
		writeError(w, start, http.StatusBadRequest, kalamsql.CodeInvalidInput, "root_password is required; user needs password")
		return
	}
	if err := s.eng.Setup(r.Context(), req.RootPassword, req.User, req.Password, req.Email); err != nil {
		if errors.Is(err, kalamsql.ErrAlreadySetUp) {
			writeError(w, start, http.StatusConflict, CodeSetupDone, err.Error())
			return
		}
		e := kalamsql.AsError(err)
		writeError(w, start, e.Status, e.Code, e.Message)
		return
	}
	s.audit(r.Context(), r, catalog.AuditRecord{Actor: kalamsql.RootUser, Action: kalamsql.AuditSetup, Target: req.User})
	writeJSON(w, http.StatusOK, map[string]any{"message": "setup complete", "user": req.User})
}

// handleAuthStatus reports whether first-start setup is pending (loopback).
func (s *Server) handleAuthStatus(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		writeError(w, time.Now(), http.StatusForbidden, CodeRemoteDenied, "only available from localhost")
		return
	}
	need := s.eng.NeedsSetup()
	msg := "the server is set up"
	if need {
		msg = "root has no password: POST /v1/api/auth/setup from localhost"
	}
	writeJSON(w, http.StatusOK, map[string]any{"needs_setup": need, "message": msg})
}

// authFailure maps a token verification failure to the reference's
// auth-failure codes: TOKEN_EXPIRED for an expired but otherwise valid
// token, ACCOUNT_LOCKED (403) while its user is locked out, and
// INVALID_CREDENTIALS for everything else.
func authFailure(err error) (status int, code, msg string) {
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return http.StatusUnauthorized, CodeTokenExpired, "token expired: refresh it or log in again"
	case errors.Is(err, errLocked):
		return http.StatusForbidden, CodeAccountLocked, "account is temporarily locked after repeated failed logins"
	case errors.Is(err, errInactive):
		return http.StatusUnauthorized, CodeInvalidCredentials, "token no longer matches an active user"
	}
	return http.StatusUnauthorized, CodeInvalidCredentials, "invalid token"
}
