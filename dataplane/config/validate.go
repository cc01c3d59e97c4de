package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// minJWTSecretBytes is the shortest accepted configured secret: HS256 keys
// shorter than the 32-byte hash output weaken the signature.
const minJWTSecretBytes = 32

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Validate reports every invalid value at once (joined with errors.Join), each
// naming its key, so an operator fixes a broken file in one round trip. It
// also checks that the files the configuration names exist.
func (c Config) Validate() error {
	var p problems
	c.Security.TLS.checkFiles(&p)
	c.Cluster.TLS.checkFiles(&p)
	return errors.Join(c.validateValues(), errors.Join(p...))
}

// validateValues is Validate without the filesystem.
func (c Config) validateValues() error {
	var p problems
	c.Server.validate(&p)
	c.Storage.validate(&p)
	c.Limits.validate(&p)
	c.Logging.validate(&p)
	c.Auth.validate(&p)
	c.Security.validate(&p)
	c.WebSocket.validate(&p)
	c.Cold.validate(&p)
	c.Backup.validate(&p)
	validateStorages(c.Storages, c.Cluster.RefusesNodeLocalStorage(), &p)
	c.Auth.validateSecurity(&p)
	c.RateLimit.validate(&p)
	c.Audit.validate(&p)
	c.UserManagement.validate(&p)
	c.PostgresWire.validate(&p)
	c.Cluster.validate(&p)
	c.validateNodeID(&p)
	c.Security.TLS.validate(&p)
	c.Security.CORS.validate(&p)
	return errors.Join(p...)
}

func (s ServerConfig) validate(p *problems) {
	switch {
	case strings.TrimSpace(s.Host) == "":
		p.add("server.host", "must not be empty")
	case strings.HasPrefix(s.Host, "["):
		p.add("server.host", "%q: write IPv6 addresses without brackets", s.Host)
	}
	inRange(p, "server.port", s.Port, 1, 65535)
	inRange(p, "server.node_id", s.NodeID, 0, 1023)
	if s.PublicOrigin != "" {
		u, err := url.Parse(s.PublicOrigin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("server.public_origin", "%q is not an http(s) origin like https://db.example.com", s.PublicOrigin)
		}
	}
	positive(p, "server.shutdown_timeout_seconds", s.ShutdownTimeoutSeconds)
}

func (s StorageConfig) validate(p *problems) {
	if strings.TrimSpace(s.DataPath) == "" {
		p.add("storage.data_path", "must not be empty")
	}
	positive(p, "storage.block_cache_size_mb", s.BlockCacheSizeMB)
	positive(p, "storage.memtable_size_mb", s.MemtableSizeMB)
	nonNegative(p, "storage.min_free_mb", s.MinFreeMB)
}

func (l LimitsConfig) validate(p *problems) {
	positive(p, "limits.default_query_limit", l.DefaultQueryLimit)
	positive(p, "limits.max_query_limit", l.MaxQueryLimit)
	if l.DefaultQueryLimit > l.MaxQueryLimit {
		p.add("limits.default_query_limit", "%d is greater than limits.max_query_limit %d", l.DefaultQueryLimit, l.MaxQueryLimit)
	}
	positive(p, "limits.max_sql_bytes", l.MaxSQLBytes)
	positive(p, "limits.max_params", l.MaxParams)
	positive(p, "limits.max_param_bytes", l.MaxParamBytes)
	positive(p, "limits.max_result_bytes", l.MaxResultBytes)
	positive(p, "limits.query_timeout_seconds", l.QueryTimeoutSeconds)
}

func (l LoggingConfig) validate(p *problems) {
	oneOf(p, "logging.level", l.Level, logLevels)
	oneOf(p, "logging.format", l.Format, logFormats)
	positive(p, "logging.slow_query_threshold_ms", l.SlowQueryThresholdMS)
}

// validate never echoes RootPassword or JWTSecret: errors end up in logs.
func (a AuthConfig) validate(p *problems) {
	if a.JWTSecret != "" && len(a.JWTSecret) < minJWTSecretBytes {
		p.add("auth.jwt_secret", "is %d bytes, need at least %d (or leave it empty to generate one)", len(a.JWTSecret), minJWTSecretBytes)
	}
	positive(p, "auth.jwt_expiry_hours", a.JWTExpiryHours)
	inRange(p, "auth.bcrypt_cost", a.BcryptCost, 4, 31)
	positive(p, "auth.min_password_length", a.MinPasswordLength)
	if a.MaxPasswordLength < a.MinPasswordLength {
		p.add("auth.max_password_length", "%d is less than auth.min_password_length %d", a.MaxPasswordLength, a.MinPasswordLength)
	}
}

func (s SecurityConfig) validate(p *problems) {
	positive(p, "security.max_request_body_bytes", s.MaxRequestBodyBytes)
	for _, r := range s.TrustedProxyRanges {
		if _, err := netip.ParsePrefix(r); err != nil {
			p.add("security.trusted_proxy_ranges", "%q is not a CIDR like 10.0.0.0/8", r)
		}
	}
}

// problems collects validation errors so Validate can report them all.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
}

func inRange[T int | int64](p *problems, key string, v, lo, hi T) {
	if v < lo || v > hi {
		p.add(key, "%d is not in %d..%d", v, lo, hi)
	}
}

func positive[T int | int64](p *problems, key string, v T) {
	if v <= 0 {
		p.add(key, "%d must be positive", v)
	}
}

func oneOf(p *problems, key, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		p.add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}
