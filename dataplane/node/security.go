package node

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/server"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// applySecurityOptions copies lockout and audit settings into the SQL
// engine's options.
func applySecurityOptions(cfg config.Config, o *kalamsql.Options) {
	a := cfg.Auth
	o.Lockout = auth.LockoutPolicy{
		MaxAttempts: a.LockoutMaxAttempts,
		Window:      time.Duration(a.LockoutWindowSeconds) * time.Second,
		Duration:    time.Duration(a.LockoutDurationSeconds) * time.Second,
	}
	o.AuditEnabled = cfg.Audit.Enabled
	o.AuditRetention = time.Duration(cfg.Audit.RetentionDays) * 24 * time.Hour
}

// serverSecurity builds the HTTP server's rate limits, CORS, proxy trust
// and external token issuers from cfg (validated already).
func serverSecurity(cfg config.Config) server.SecurityOptions {
	o := server.SecurityOptions{
		QueriesPerUserPerSec:    cfg.RateLimit.MaxQueriesPerSec,
		RequestsPerIPPerSec:     cfg.RateLimit.MaxRequestsPerIPPerSec,
		AuthPerIPPerSec:         cfg.RateLimit.MaxAuthRequestsPerIPPerSec,
		WSMessagesPerUserPerSec: cfg.RateLimit.MaxWSMessagesPerUserPerSec,
		WSMessagesPerIPPerSec:   cfg.RateLimit.MaxWSMessagesPerIPPerSec,
		AllowRemoteSetup:        cfg.Auth.AllowRemoteSetup,
		CORS: server.CORSOptions{
			AllowedOrigins:   cfg.Security.CORS.AllowedOrigins,
			AllowedMethods:   cfg.Security.CORS.AllowedMethods,
			AllowedHeaders:   cfg.Security.CORS.AllowedHeaders,
			AllowCredentials: cfg.Security.CORS.AllowCredentials,
			MaxAgeSeconds:    cfg.Security.CORS.MaxAgeSeconds,
		},
	}
	for _, r := range cfg.Security.TrustedProxyRanges {
		if p, err := netip.ParsePrefix(r); err == nil {
			o.TrustedProxies = append(o.TrustedProxies, p)
		}
	}
	var issuers []auth.TrustedIssuer
	for _, i := range cfg.Auth.OIDCIssuers {
		issuers = append(issuers, auth.TrustedIssuer{Issuer: i.Issuer, Audience: i.Audience, JWKSURL: i.JWKSURL, JWKSFile: i.JWKSFile})
	}
	o.External = auth.NewExternalVerifier(issuers)
	return o
}

// checkExposure refuses to serve a non-loopback address with a JWT secret
// anyone could know: a well-known placeholder or a low-entropy value. An
// empty secret is fine: the server generates a random one and persists it
// in the data directory (jwtSecret).
func checkExposure(cfg config.Config) error {
	if isLoopbackHost(cfg.Server.Host) || cfg.Auth.JWTSecret == "" {
		return nil
	}
	if why := auth.WeakSecret(cfg.Auth.JWTSecret); why != "" {
		return fmt.Errorf("refusing to listen on %s: auth.jwt_secret is %s; set a random secret of at least 32 bytes (or leave it empty to generate one)", cfg.Server.Host, why)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// secureListener applies the per-IP connection limit and, when configured,
// TLS (TLS 1.2+) to the API listener. The certificate is re-read when its
// files change (server.CertReloader); the reloader is returned so the
// PostgreSQL listener serves the same certificate.
func secureListener(cfg config.Config, ln net.Listener, log *slog.Logger) (net.Listener, *server.CertReloader, error) {
	ln = server.LimitConnsPerIP(ln, cfg.RateLimit.MaxConnectionsPerIP)
	t := cfg.Security.TLS
	if t.CertFile == "" {
		return ln, nil, nil
	}
	certs, err := server.NewCertReloader(t.CertFile, t.KeyFile, log)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return tls.NewListener(ln, certs.TLSConfig()), certs, nil
}
