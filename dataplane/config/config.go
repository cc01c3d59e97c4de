// Package config loads the KalamDB data-plane server configuration from a
// TOML file plus KALAMDB_* environment overrides.
//
// The precedence is: built-in defaults, then the TOML file, then environment
// variables. The result is always validated, and nothing ever silently falls
// back to a default: unknown keys, wrongly typed values and malformed
// environment variables are errors, because a typo in a production config is
// far cheaper to catch at start-up than after the server ran with the wrong
// setting.
package config

import (
	"net"
	"strconv"
)

// Config is the complete data-plane server configuration. Its sections mirror
// the [server], [storage], [limits], [logging], [auth] and [security] tables
// of the TOML file.
type Config struct {
	Server   ServerConfig   `toml:"server"`
	Storage  StorageConfig  `toml:"storage"`
	Limits   LimitsConfig   `toml:"limits"`
	Logging  LoggingConfig  `toml:"logging"`
	Auth     AuthConfig     `toml:"auth"`
	Security SecurityConfig `toml:"security"`
	// WebSocket bounds live-query connections (websocket.go).
	WebSocket WebSocketConfig `toml:"websocket"`
	// Cold controls the cold tier (cold.go).
	Cold ColdConfig `toml:"cold"`
	// Backup bounds the memory of BACKUP and RESTORE.
	Backup BackupConfig `toml:"backup"`
	// Storages are config-declared storages ([[storages]], storages.go).
	Storages []StorageEntry `toml:"storages"`
	// RateLimit and Audit are request limits and the audit log (security.go).
	RateLimit RateLimitConfig `toml:"rate_limit"`
	Audit     AuditConfig     `toml:"audit"`
	// UserManagement schedules the purge of dropped users (usermgmt.go).
	UserManagement UserManagementConfig `toml:"user_management"`
	// PostgresWire is the PostgreSQL wire-protocol listener (postgres_wire.go).
	PostgresWire PostgresWireConfig `toml:"postgres_wire"`
	// Compat holds switches for the original project's behaviour (compat.go).
	Compat CompatConfig `toml:"compat"`
	// Cluster makes the node a replica of a Raft-replicated cluster
	// (cluster.go); empty members: single node.
	Cluster ClusterConfig `toml:"cluster"`
}

// ServerConfig controls the network listener and node identity.
type ServerConfig struct {
	// Host is the interface to listen on; IPv6 addresses go without brackets.
	Host string `toml:"host"`
	// Port is the TCP port to listen on.
	Port int `toml:"port"`
	// PublicOrigin is the externally visible origin (e.g.
	// "https://db.example.com"), used when the server builds absolute URLs
	// behind a proxy. Empty means derive it from the request.
	PublicOrigin string `toml:"public_origin"`
	// NodeID is this node's snowflake ID (1..1023). Zero means read it from,
	// or derive and persist it in, the data directory.
	NodeID int `toml:"node_id"`
	// ShutdownTimeoutSeconds bounds how long graceful shutdown waits for
	// in-flight requests before the listener is closed forcibly.
	ShutdownTimeoutSeconds int `toml:"shutdown_timeout_seconds"`
}

// StorageConfig controls the on-disk storage engine.
type StorageConfig struct {
	// DataPath is the directory holding all persistent state.
	DataPath string `toml:"data_path"`
	// BlockCacheSizeMB is the size of the shared block cache in MiB.
	BlockCacheSizeMB int `toml:"block_cache_size_mb"`
	// MemtableSizeMB is the size of one memtable in MiB.
	MemtableSizeMB int `toml:"memtable_size_mb"`
	// SyncWrites makes every write fsync the WAL before it is acknowledged;
	// disabling it trades durability on power loss for throughput.
	SyncWrites bool `toml:"sync_writes"`
	// MinFreeMB is the free space (MiB) the data volume keeps: below it,
	// writes are refused with DISK_FULL and /readyz answers 503, before
	// Pebble's own writes (WAL, flushes, compactions) can fail. 0 disables
	// the check (a full volume then stops the process; docs/operations.md).
	MinFreeMB int `toml:"min_free_mb"`
}

// LimitsConfig bounds the work a single request may cause.
type LimitsConfig struct {
	// DefaultQueryLimit is the row limit applied when a query has none.
	DefaultQueryLimit int `toml:"default_query_limit"`
	// MaxQueryLimit is the largest row limit a client may request.
	MaxQueryLimit int `toml:"max_query_limit"`
	// MaxSQLBytes is the largest accepted SQL statement text.
	MaxSQLBytes int `toml:"max_sql_bytes"`
	// MaxParams is the largest number of bind parameters per statement.
	MaxParams int `toml:"max_params"`
	// MaxParamBytes is the largest size of a single bind parameter.
	MaxParamBytes int `toml:"max_param_bytes"`
	// MaxResultBytes bounds the rows one statement's answer holds in
	// memory (HTTP and PostgreSQL wire); a larger answer fails with
	// RESULT_TOO_LARGE instead of growing the heap.
	MaxResultBytes int `toml:"max_result_bytes"`
	// QueryTimeoutSeconds cancels queries that run longer than this.
	QueryTimeoutSeconds int `toml:"query_timeout_seconds"`
}

// LoggingConfig controls the server log output.
type LoggingConfig struct {
	// Level is one of debug, info, warn or error.
	Level string `toml:"level"`
	// Format is "text" for humans or "json" for log pipelines.
	Format string `toml:"format"`
	// SlowQueryThresholdMS logs queries that take at least this long.
	SlowQueryThresholdMS int `toml:"slow_query_threshold_ms"`
}

// AuthConfig controls authentication and password hashing.
type AuthConfig struct {
	// RootPassword is the password of the built-in root user. Empty leaves
	// the root password unset.
	RootPassword string `toml:"root_password"`
	// JWTSecret signs access tokens. Empty makes the server generate a random
	// secret once and persist it in the data directory, so tokens survive
	// restarts without an operator having to invent a secret.
	JWTSecret string `toml:"jwt_secret"`
	// JWTExpiryHours is the lifetime of issued tokens.
	JWTExpiryHours int `toml:"jwt_expiry_hours"`
	// BcryptCost is the bcrypt work factor (4..31) for new password hashes.
	BcryptCost int `toml:"bcrypt_cost"`
	// MinPasswordLength is the shortest accepted password, in characters.
	MinPasswordLength int `toml:"min_password_length"`
	// MaxPasswordLength is the longest accepted password, in characters; it
	// caps the hashing work an unauthenticated request can cause.
	MaxPasswordLength int `toml:"max_password_length"`
	// LockoutMaxAttempts failed logins within LockoutWindowSeconds lock the
	// account for LockoutDurationSeconds (ACCOUNT_LOCKED); 0 disables.
	LockoutMaxAttempts     int `toml:"lockout_max_attempts"`
	LockoutWindowSeconds   int `toml:"lockout_window_seconds"`
	LockoutDurationSeconds int `toml:"lockout_duration_seconds"`
	// AllowRemoteSetup lets POST /v1/api/auth/setup be called from a
	// non-loopback address (it only works while root has no password).
	AllowRemoteSetup bool `toml:"allow_remote_setup"`
	// OIDCIssuers are trusted external token issuers (security.go).
	OIDCIssuers []OIDCIssuer `toml:"oidc_issuers"`
}

// SecurityConfig holds request hardening settings.
type SecurityConfig struct {
	// MaxRequestBodyBytes is the largest accepted body on any endpoint.
	MaxRequestBodyBytes int64 `toml:"max_request_body_bytes"`
	// TrustedProxyRanges lists the CIDRs whose X-Forwarded-* headers are
	// believed; requests from anywhere else cannot spoof their client IP.
	TrustedProxyRanges []string `toml:"trusted_proxy_ranges"`
	// TLS and CORS harden the HTTP/WS listener (security.go).
	TLS  TLSConfig  `toml:"tls"`
	CORS CORSConfig `toml:"cors"`
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

// Default returns the configuration used when neither the file nor the
// environment sets a key. It matches docs/server.example.toml, which a test
// enforces.
func Default() Config {
	return Config{
		Server: ServerConfig{
			Host:                   "127.0.0.1",
			Port:                   8080,
			PublicOrigin:           "",
			NodeID:                 0,
			ShutdownTimeoutSeconds: 30,
		},
		Storage: StorageConfig{
			DataPath:         "./data",
			BlockCacheSizeMB: 64,
			MemtableSizeMB:   64,
			SyncWrites:       true,
			MinFreeMB:        256,
		},
		Limits: LimitsConfig{
			DefaultQueryLimit:   50,
			MaxQueryLimit:       1000,
			MaxSQLBytes:         1 * mib,
			MaxParams:           50,
			MaxParamBytes:       512 * kib,
			MaxResultBytes:      64 * mib,
			QueryTimeoutSeconds: 30,
		},
		Logging: LoggingConfig{
			Level:                "info",
			Format:               "text",
			SlowQueryThresholdMS: 1000,
		},
		Auth: AuthConfig{
			RootPassword:      "",
			JWTSecret:         "",
			JWTExpiryHours:    24,
			BcryptCost:        12,
			MinPasswordLength: 8,
			MaxPasswordLength: 1024,
			// Upstream: 5 failed logins lock the account for 15 minutes.
			LockoutMaxAttempts:     5,
			LockoutWindowSeconds:   900,
			LockoutDurationSeconds: 900,
			AllowRemoteSetup:       false,
			OIDCIssuers:            []OIDCIssuer{},
		},
		Security: SecurityConfig{
			MaxRequestBodyBytes: 10 * mib,
			// Non-nil so a default config compares equal to one decoded from
			// a file that spells out "trusted_proxy_ranges = []".
			TrustedProxyRanges: []string{},
			CORS:               defaultCORS(),
		},
		WebSocket: defaultWebSocket(),
		Cold:      defaultCold(),
		Backup:    defaultBackup(),
		Storages:  []StorageEntry{},
		RateLimit: defaultRateLimit(),
		Audit:     defaultAudit(),

		UserManagement: defaultUserManagement(),
		PostgresWire:   defaultPostgresWire(),
		Cluster:        defaultCluster(),
	}
}

// ListenAddr returns the host:port address to listen on, bracketing IPv6
// hosts as net.Listen expects.
func (c Config) ListenAddr() string {
	return net.JoinHostPort(c.Server.Host, strconv.Itoa(c.Server.Port))
}
