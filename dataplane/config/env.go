package config

import (
	"fmt"
	"strconv"
	"strings"
)

// envVar is one environment override: Name is the variable, Key the config
// key it replaces (kept for docs and error messages), apply parses the raw
// value into cfg.
type envVar struct {
	Name  string
	Key   string
	apply func(cfg *Config, raw string) error
}

// envVars is the single source of truth for environment overrides, so the
// loader, EnvVars and the docs cannot drift apart.
var envVars = []envVar{
	{"KALAMDB_POSTGRES_WIRE_ENABLED", "postgres_wire.enabled", setBool(func(c *Config) *bool { return &c.PostgresWire.Enabled })},
	{"KALAMDB_POSTGRES_WIRE_HOST", "postgres_wire.host", setString(func(c *Config) *string { return &c.PostgresWire.Host })},
	{"KALAMDB_POSTGRES_WIRE_PORT", "postgres_wire.port", setInt(func(c *Config) *int { return &c.PostgresWire.Port })},
	{"KALAMDB_SERVER_HOST", "server.host", setString(func(c *Config) *string { return &c.Server.Host })},
	{"KALAMDB_SERVER_PORT", "server.port", setInt(func(c *Config) *int { return &c.Server.Port })},
	{"KALAMDB_SERVER_PUBLIC_ORIGIN", "server.public_origin", setString(func(c *Config) *string { return &c.Server.PublicOrigin })},
	{"KALAMDB_NODE_ID", "server.node_id", setInt(func(c *Config) *int { return &c.Server.NodeID })},
	{"KALAMDB_DATA_DIR", "storage.data_path", setString(func(c *Config) *string { return &c.Storage.DataPath })},
	{"KALAMDB_SYNC_WRITES", "storage.sync_writes", setBool(func(c *Config) *bool { return &c.Storage.SyncWrites })},
	{"KALAMDB_STORAGE_MIN_FREE_MB", "storage.min_free_mb", setInt(func(c *Config) *int { return &c.Storage.MinFreeMB })},
	{"KALAMDB_DEFAULT_QUERY_LIMIT", "limits.default_query_limit", setInt(func(c *Config) *int { return &c.Limits.DefaultQueryLimit })},
	{"KALAMDB_MAX_QUERY_LIMIT", "limits.max_query_limit", setInt(func(c *Config) *int { return &c.Limits.MaxQueryLimit })},
	{"KALAMDB_MAX_RESULT_BYTES", "limits.max_result_bytes", setInt(func(c *Config) *int { return &c.Limits.MaxResultBytes })},
	{"KALAMDB_LOG_LEVEL", "logging.level", setString(func(c *Config) *string { return &c.Logging.Level })},
	{"KALAMDB_LOG_FORMAT", "logging.format", setString(func(c *Config) *string { return &c.Logging.Format })},
	{"KALAMDB_ROOT_PASSWORD", "auth.root_password", setString(func(c *Config) *string { return &c.Auth.RootPassword })},
	{"KALAMDB_JWT_SECRET", "auth.jwt_secret", setString(func(c *Config) *string { return &c.Auth.JWTSecret })},
	{"KALAMDB_JWT_EXPIRY_HOURS", "auth.jwt_expiry_hours", setInt(func(c *Config) *int { return &c.Auth.JWTExpiryHours })},
	{"KALAMDB_BCRYPT_COST", "auth.bcrypt_cost", setInt(func(c *Config) *int { return &c.Auth.BcryptCost })},
	{"KALAMDB_SECURITY_TRUSTED_PROXY_RANGES", "security.trusted_proxy_ranges", setList(func(c *Config) *[]string { return &c.Security.TrustedProxyRanges })},
	{"KALAMDB_WEBSOCKET_AUTH_TIMEOUT_SECONDS", "websocket.auth_timeout_seconds", setInt(func(c *Config) *int { return &c.WebSocket.AuthTimeoutSeconds })},
	{"KALAMDB_WEBSOCKET_IDLE_TIMEOUT_SECONDS", "websocket.idle_timeout_seconds", setInt(func(c *Config) *int { return &c.WebSocket.IdleTimeoutSeconds })},
	{"KALAMDB_WEBSOCKET_MAX_CONNECTIONS", "websocket.max_connections", setInt(func(c *Config) *int { return &c.WebSocket.MaxConnections })},
	{"KALAMDB_WEBSOCKET_MAX_SUBSCRIPTIONS_PER_CONNECTION", "websocket.max_subscriptions_per_connection", setInt(func(c *Config) *int { return &c.WebSocket.MaxSubscriptionsPerConnection })},
	{"KALAMDB_WEBSOCKET_MAX_SUBSCRIPTIONS_PER_USER", "websocket.max_subscriptions_per_user", setInt(func(c *Config) *int { return &c.WebSocket.MaxSubscriptionsPerUser })},
	{"KALAMDB_WEBSOCKET_MAX_MESSAGE_BYTES", "websocket.max_message_bytes", setInt(func(c *Config) *int { return &c.WebSocket.MaxMessageBytes })},
	{"KALAMDB_WEBSOCKET_QUEUE_SIZE", "websocket.queue_size", setInt(func(c *Config) *int { return &c.WebSocket.QueueSize })},
	{"KALAMDB_WEBSOCKET_MAX_QUEUED_BYTES_PER_CONNECTION", "websocket.max_queued_bytes_per_connection", setInt(func(c *Config) *int { return &c.WebSocket.MaxQueuedBytesPerConnection })},
	{"KALAMDB_WEBSOCKET_MAX_QUEUED_BYTES_TOTAL", "websocket.max_queued_bytes_total", setInt(func(c *Config) *int { return &c.WebSocket.MaxQueuedBytesTotal })},
	{"KALAMDB_ALLOW_REMOTE_SETUP", "auth.allow_remote_setup", setBool(func(c *Config) *bool { return &c.Auth.AllowRemoteSetup })},
	{"KALAMDB_RATE_LIMIT_QUERIES_PER_SEC", "rate_limit.max_queries_per_sec", setInt(func(c *Config) *int { return &c.RateLimit.MaxQueriesPerSec })},
	{"KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC", "rate_limit.max_auth_requests_per_ip_per_sec", setInt(func(c *Config) *int { return &c.RateLimit.MaxAuthRequestsPerIPPerSec })},
	{"KALAMDB_SECURITY_CORS_ALLOWED_ORIGINS", "security.cors.allowed_origins", setList(func(c *Config) *[]string { return &c.Security.CORS.AllowedOrigins })},
	{"KALAMDB_TLS_CERT_FILE", "security.tls.cert_file", setString(func(c *Config) *string { return &c.Security.TLS.CertFile })},
	{"KALAMDB_TLS_KEY_FILE", "security.tls.key_file", setString(func(c *Config) *string { return &c.Security.TLS.KeyFile })},
	// [cold]: every key has an override (containers configure the cold tier by env).
	{"KALAMDB_COLD_STORAGE_PATH", "cold.storage_path", setString(func(c *Config) *string { return &c.Cold.StoragePath })},
	{"KALAMDB_COLD_SCHEDULER_TICK_MS", "cold.scheduler_tick_ms", setInt(func(c *Config) *int { return &c.Cold.SchedulerTickMS })},
	{"KALAMDB_COLD_REMOTE_REQUEST_TIMEOUT_SECONDS", "cold.remote_request_timeout_seconds", setInt(func(c *Config) *int { return &c.Cold.RemoteRequestTimeoutSeconds })},
	{"KALAMDB_COLD_REMOTE_CONNECT_TIMEOUT_SECONDS", "cold.remote_connect_timeout_seconds", setInt(func(c *Config) *int { return &c.Cold.RemoteConnectTimeoutSeconds })},
	{"KALAMDB_COLD_REMOTE_MAX_ATTEMPTS", "cold.remote_max_attempts", setInt(func(c *Config) *int { return &c.Cold.RemoteMaxAttempts })},
	{"KALAMDB_COLD_REMOTE_RETRY_BACKOFF_MS", "cold.remote_retry_backoff_ms", setInt(func(c *Config) *int { return &c.Cold.RemoteRetryBackoffMS })},
	{"KALAMDB_COLD_JOB_MAX_ATTEMPTS", "cold.job_max_attempts", setInt(func(c *Config) *int { return &c.Cold.JobMaxAttempts })},
	{"KALAMDB_COLD_JOB_RETRY_BACKOFF_MS", "cold.job_retry_backoff_ms", setInt(func(c *Config) *int { return &c.Cold.JobRetryBackoffMS })},
	{"KALAMDB_COLD_COMPACTION_SEGMENT_THRESHOLD", "cold.compaction_segment_threshold", setInt(func(c *Config) *int { return &c.Cold.CompactionSegmentThreshold })},
	{"KALAMDB_COLD_MAX_ROWS_PER_SEGMENT", "cold.max_rows_per_segment", setInt(func(c *Config) *int { return &c.Cold.MaxRowsPerSegment })},
	{"KALAMDB_COLD_STREAM_EVICTION_INTERVAL_SECONDS", "cold.stream_eviction_interval_seconds", setInt(func(c *Config) *int { return &c.Cold.StreamEvictionIntervalSeconds })},
	{"KALAMDB_COLD_JANITOR_INTERVAL_SECONDS", "cold.janitor_interval_seconds", setInt(func(c *Config) *int { return &c.Cold.JanitorIntervalSeconds })},
	{"KALAMDB_COLD_ORPHAN_GRACE_SECONDS", "cold.orphan_grace_seconds", setInt(func(c *Config) *int { return &c.Cold.OrphanGraceSeconds })},
	{"KALAMDB_COLD_JOB_RETENTION", "cold.job_retention", setInt(func(c *Config) *int { return &c.Cold.JobRetention })},
	// [cluster]: the per-pod identity and addresses come from the pod (env).
	{"KALAMDB_CLUSTER_REPLICA_ID", "cluster.replica_id", setInt(func(c *Config) *int { return &c.Cluster.ReplicaID })},
	{"KALAMDB_CLUSTER_RAFT_ADDRESS", "cluster.raft_address", setString(func(c *Config) *string { return &c.Cluster.RaftAddress })},
	{"KALAMDB_CLUSTER_RAFT_LISTEN_ADDRESS", "cluster.raft_listen_address", setString(func(c *Config) *string { return &c.Cluster.RaftListenAddress })},
	{"KALAMDB_CLUSTER_GOSSIP_ADDRESS", "cluster.gossip_address", setString(func(c *Config) *string { return &c.Cluster.GossipAddress })},
	{"KALAMDB_CLUSTER_GOSSIP_LISTEN_ADDRESS", "cluster.gossip_listen_address", setString(func(c *Config) *string { return &c.Cluster.GossipListenAddress })},
	{"KALAMDB_CLUSTER_JOIN", "cluster.join", setBool(func(c *Config) *bool { return &c.Cluster.Join })},
	{"KALAMDB_CLUSTER_JOIN_ABOVE_REPLICA_ID", "cluster.join_above_replica_id", setInt(func(c *Config) *int { return &c.Cluster.JoinAboveReplicaID })},
	{"KALAMDB_CLUSTER_MEMBERS", "cluster.members", setList(func(c *Config) *[]string { return &c.Cluster.Members })},
	{"KALAMDB_CLUSTER_USER_GROUPS", "cluster.user_groups", setInt(func(c *Config) *int { return &c.Cluster.UserGroups })},
	{"KALAMDB_CLUSTER_TLS_CA_FILE", "cluster.tls.ca_file", setString(func(c *Config) *string { return &c.Cluster.TLS.CAFile })},
	{"KALAMDB_CLUSTER_TLS_CERT_FILE", "cluster.tls.cert_file", setString(func(c *Config) *string { return &c.Cluster.TLS.CertFile })},
	{"KALAMDB_CLUSTER_TLS_KEY_FILE", "cluster.tls.key_file", setString(func(c *Config) *string { return &c.Cluster.TLS.KeyFile })},
	{"KALAMDB_CLUSTER_PROPOSAL_TIMEOUT_MS", "cluster.proposal_timeout_ms", setInt(func(c *Config) *int { return &c.Cluster.ProposalTimeoutMS })},
	{"KALAMDB_COLD_SEGMENT_CACHE_MB", "cold.segment_cache_mb", setInt(func(c *Config) *int { return &c.Cold.SegmentCacheMB })},
}

// EnvVars returns the names of all supported environment overrides, in the
// order they are applied.
func EnvVars() []string {
	names := make([]string, len(envVars))
	for i, v := range envVars {
		names[i] = v.Name
	}
	return names
}

// applyEnv applies every override that getenv reports as set. A variable set
// to the empty string still counts as set: it overrides string keys with ""
// (which Validate may then reject) instead of being silently ignored.
func applyEnv(cfg *Config, getenv func(string) (string, bool)) error {
	for _, v := range envVars {
		raw, ok := getenv(v.Name)
		if !ok {
			continue
		}
		if err := v.apply(cfg, raw); err != nil {
			return fmt.Errorf("config: env %s (overrides %s): %w", v.Name, v.Key, err)
		}
	}
	return nil
}

// setString stores the value verbatim: trimming could corrupt secrets.
func setString(field func(*Config) *string) func(*Config, string) error {
	return func(cfg *Config, raw string) error {
		*field(cfg) = raw
		return nil
	}
}

func setInt(field func(*Config) *int) func(*Config, string) error {
	return func(cfg *Config, raw string) error {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not an integer", raw)
		}
		*field(cfg) = n
		return nil
	}
}

func setBool(field func(*Config) *bool) func(*Config, string) error {
	return func(cfg *Config, raw string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not a boolean (use true or false)", raw)
		}
		*field(cfg) = b
		return nil
	}
}

// setList splits a comma-separated value, ignoring blanks so that
// "a, b," means [a b] and "" clears the list.
func setList(field func(*Config) *[]string) func(*Config, string) error {
	return func(cfg *Config, raw string) error {
		items := []string{}
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		*field(cfg) = items
		return nil
	}
}
