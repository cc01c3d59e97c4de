package config

import (
	"net/url"
	"os"
	"strings"
)

// RateLimitConfig bounds request rates ([rate_limit]). Zero disables a
// limit. Requests over a limit get HTTP 429 RATE_LIMIT_EXCEEDED.
type RateLimitConfig struct {
	// MaxQueriesPerSec limits SQL requests per authenticated user.
	MaxQueriesPerSec int `toml:"max_queries_per_sec"`
	// MaxRequestsPerIPPerSec limits all API requests per client IP.
	MaxRequestsPerIPPerSec int `toml:"max_requests_per_ip_per_sec"`
	// MaxAuthRequestsPerIPPerSec limits login/refresh/setup attempts per
	// client IP: the brute-force guard that works across user names.
	MaxAuthRequestsPerIPPerSec int `toml:"max_auth_requests_per_ip_per_sec"`
	// MaxConnectionsPerIP caps concurrent TCP connections from one IP.
	MaxConnectionsPerIP int `toml:"max_connections_per_ip"`
	// MaxWSMessagesPerUserPerSec and MaxWSMessagesPerIPPerSec bound the
	// WebSocket messages one user (over all their connections) or one client
	// address may send per second; websocket.max_messages_per_second bounds
	// one connection.
	MaxWSMessagesPerUserPerSec int `toml:"max_ws_messages_per_user_per_sec"`
	MaxWSMessagesPerIPPerSec   int `toml:"max_ws_messages_per_ip_per_sec"`
}

// AuditConfig controls system.audit_log ([audit]).
type AuditConfig struct {
	// Enabled records logins, DDL, user changes and EXECUTE AS.
	Enabled bool `toml:"enabled"`
	// RetentionDays bounds the log: older records are deleted as new ones
	// are written.
	RetentionDays int `toml:"retention_days"`
}

// TLSConfig enables HTTPS/WSS on the API listener ([security.tls]).
type TLSConfig struct {
	// CertFile and KeyFile are PEM files; both empty = plain HTTP.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// CORSConfig answers browser cross-origin requests ([security.cors]).
type CORSConfig struct {
	// AllowedOrigins lists origins ("https://app.example.com") or "*".
	// Empty = no CORS headers (browsers then refuse cross-origin calls).
	AllowedOrigins []string `toml:"allowed_origins"`
	// AllowedMethods and AllowedHeaders are sent on preflight answers.
	AllowedMethods []string `toml:"allowed_methods"`
	AllowedHeaders []string `toml:"allowed_headers"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true (never
	// together with "*").
	AllowCredentials bool `toml:"allow_credentials"`
	// MaxAgeSeconds lets browsers cache preflight answers.
	MaxAgeSeconds int `toml:"max_age_seconds"`
}

// OIDCIssuer is an external identity provider whose RS256/ES256 tokens are
// accepted as access tokens ([[auth.oidc_issuers]]).
type OIDCIssuer struct {
	// Issuer must equal the token's iss claim exactly.
	Issuer string `toml:"issuer"`
	// Audience, when set, must be in the token's aud claim.
	Audience string `toml:"audience"`
	// JWKSURL (https, or http to a loopback host) or JWKSFile holds the keys.
	JWKSURL  string `toml:"jwks_url"`
	JWKSFile string `toml:"jwks_file"`
}

// DefaultQueriesPerSec is the default per-user SQL request rate, the
// original project's (its limiter refills 100 tokens a second; ours allows
// a burst of twice the rate).
const DefaultQueriesPerSec = 100

func defaultRateLimit() RateLimitConfig {
	return RateLimitConfig{MaxQueriesPerSec: DefaultQueriesPerSec, MaxAuthRequestsPerIPPerSec: 20}
}

func defaultAudit() AuditConfig { return AuditConfig{Enabled: true, RetentionDays: 90} }

func defaultCORS() CORSConfig {
	return CORSConfig{
		AllowedOrigins: []string{},
		AllowedMethods: []string{"GET", "POST", "OPTIONS"},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
		MaxAgeSeconds:  600,
	}
}

func (r RateLimitConfig) validate(p *problems) {
	nonNegative(p, "rate_limit.max_queries_per_sec", r.MaxQueriesPerSec)
	nonNegative(p, "rate_limit.max_requests_per_ip_per_sec", r.MaxRequestsPerIPPerSec)
	nonNegative(p, "rate_limit.max_auth_requests_per_ip_per_sec", r.MaxAuthRequestsPerIPPerSec)
	nonNegative(p, "rate_limit.max_connections_per_ip", r.MaxConnectionsPerIP)
	nonNegative(p, "rate_limit.max_ws_messages_per_user_per_sec", r.MaxWSMessagesPerUserPerSec)
	nonNegative(p, "rate_limit.max_ws_messages_per_ip_per_sec", r.MaxWSMessagesPerIPPerSec)
}

func (a AuditConfig) validate(p *problems) {
	positive(p, "audit.retention_days", a.RetentionDays)
}

func (t TLSConfig) validate(p *problems) {
	if (t.CertFile == "") != (t.KeyFile == "") {
		p.add("security.tls", "cert_file and key_file must be set together")
	}
}

// checkFiles reports a certificate or key file that cannot be found.
func (t TLSConfig) checkFiles(p *problems) {
	for key, f := range map[string]string{"security.tls.cert_file": t.CertFile, "security.tls.key_file": t.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			p.add(key, "%v", err)
		}
	}
}

func (c CORSConfig) validate(p *problems) {
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			if c.AllowCredentials {
				p.add("security.cors.allow_credentials", "cannot be true with allowed_origins \"*\"")
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			p.add("security.cors.allowed_origins", "%q is not an origin like https://app.example.com or \"*\"", o)
		}
	}
	nonNegative(p, "security.cors.max_age_seconds", c.MaxAgeSeconds)
}

func (a AuthConfig) validateSecurity(p *problems) {
	nonNegative(p, "auth.lockout_max_attempts", a.LockoutMaxAttempts)
	if a.LockoutMaxAttempts > 0 {
		positive(p, "auth.lockout_window_seconds", a.LockoutWindowSeconds)
		positive(p, "auth.lockout_duration_seconds", a.LockoutDurationSeconds)
	}
	for _, o := range a.OIDCIssuers {
		if strings.TrimSpace(o.Issuer) == "" {
			p.add("auth.oidc_issuers", "an entry has no issuer")
		}
		if o.Issuer == "kalamdb" {
			p.add("auth.oidc_issuers", "issuer \"kalamdb\" is reserved for the server's own tokens")
		}
		if (o.JWKSURL == "") == (o.JWKSFile == "") {
			p.add("auth.oidc_issuers", "issuer %q: set exactly one of jwks_url and jwks_file", o.Issuer)
		}
		if o.JWKSURL != "" {
			u, err := url.Parse(o.JWKSURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				p.add("auth.oidc_issuers", "issuer %q: jwks_url %q is not an http(s) URL", o.Issuer, o.JWKSURL)
			}
		}
	}
}

func nonNegative(p *problems, key string, v int) {
	if v < 0 {
		p.add(key, "%d must not be negative", v)
	}
}
