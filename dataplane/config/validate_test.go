package config

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"port zero", func(c *Config) { c.Server.Port = 0 }, "config: server.port: 0 is not in 1..65535"},
		{"port too big", func(c *Config) { c.Server.Port = 70000 }, "config: server.port: 70000 is not in 1..65535"},
		{"port max", func(c *Config) { c.Server.Port = 65535 }, ""},
		{"empty host", func(c *Config) { c.Server.Host = " " }, "server.host: must not be empty"},
		{"bracketed host", func(c *Config) { c.Server.Host = "[::1]" }, "server.host: \"[::1]\": write IPv6 addresses without brackets"},
		{"ipv6 host", func(c *Config) { c.Server.Host = "::1" }, ""},
		{"node id negative", func(c *Config) { c.Server.NodeID = -1 }, "server.node_id: -1 is not in 0..1023"},
		{"node id too big", func(c *Config) { c.Server.NodeID = 1024 }, "server.node_id: 1024 is not in 0..1023"},
		{"node id max", func(c *Config) { c.Server.NodeID = 1023 }, ""},
		{"public origin no scheme", func(c *Config) { c.Server.PublicOrigin = "db.example.com" }, "server.public_origin"},
		{"public origin ftp", func(c *Config) { c.Server.PublicOrigin = "ftp://db.example.com" }, "server.public_origin"},
		{"public origin ok", func(c *Config) { c.Server.PublicOrigin = "http://localhost:8080" }, ""},
		{"shutdown timeout", func(c *Config) { c.Server.ShutdownTimeoutSeconds = 0 }, "server.shutdown_timeout_seconds: 0 must be positive"},
		{"empty data path", func(c *Config) { c.Storage.DataPath = "" }, "storage.data_path: must not be empty"},
		{"block cache", func(c *Config) { c.Storage.BlockCacheSizeMB = 0 }, "storage.block_cache_size_mb"},
		{"memtable", func(c *Config) { c.Storage.MemtableSizeMB = -1 }, "storage.memtable_size_mb: -1 must be positive"},
		{"default query limit", func(c *Config) { c.Limits.DefaultQueryLimit = 0 }, "limits.default_query_limit: 0 must be positive"},
		{"max query limit", func(c *Config) { c.Limits.MaxQueryLimit = 0 }, "limits.max_query_limit: 0 must be positive"},
		{"default above max", func(c *Config) { c.Limits.DefaultQueryLimit = 1001 }, "limits.default_query_limit: 1001 is greater than limits.max_query_limit 1000"},
		{"default equals max", func(c *Config) { c.Limits.DefaultQueryLimit = 1000 }, ""},
		{"max sql bytes", func(c *Config) { c.Limits.MaxSQLBytes = 0 }, "limits.max_sql_bytes"},
		{"max params", func(c *Config) { c.Limits.MaxParams = 0 }, "limits.max_params"},
		{"max param bytes", func(c *Config) { c.Limits.MaxParamBytes = 0 }, "limits.max_param_bytes"},
		{"query timeout", func(c *Config) { c.Limits.QueryTimeoutSeconds = 0 }, "limits.query_timeout_seconds"},
		{"log level", func(c *Config) { c.Logging.Level = "INFO" }, `logging.level: "INFO" is not one of debug, info, warn, error`},
		{"log format", func(c *Config) { c.Logging.Format = "xml" }, `logging.format: "xml" is not one of text, json`},
		{"slow query threshold", func(c *Config) { c.Logging.SlowQueryThresholdMS = 0 }, "logging.slow_query_threshold_ms"},
		{"bcrypt low", func(c *Config) { c.Auth.BcryptCost = 3 }, "auth.bcrypt_cost: 3 is not in 4..31"},
		{"bcrypt high", func(c *Config) { c.Auth.BcryptCost = 32 }, "auth.bcrypt_cost: 32 is not in 4..31"},
		{"bcrypt min", func(c *Config) { c.Auth.BcryptCost = 4 }, ""},
		{"min password zero", func(c *Config) { c.Auth.MinPasswordLength = 0 }, "auth.min_password_length: 0 must be positive"},
		{"cleanup schedule not cron", func(c *Config) { c.UserManagement.CleanupJobSchedule = "0 2 * *" }, `user_management.cleanup_job_schedule: "0 2 * *" is not a cron expression`},
		{"cleanup schedule out of range", func(c *Config) { c.UserManagement.CleanupJobSchedule = "0 25 * * *" }, `user_management.cleanup_job_schedule: "0 25 * * *" is not a cron expression`},
		{"max below min", func(c *Config) { c.Auth.MaxPasswordLength = 7 }, "auth.max_password_length: 7 is less than auth.min_password_length 8"},
		{"jwt expiry", func(c *Config) { c.Auth.JWTExpiryHours = 0 }, "auth.jwt_expiry_hours: 0 must be positive"},
		{"jwt secret short", func(c *Config) { c.Auth.JWTSecret = strings.Repeat("x", 31) }, "auth.jwt_secret: is 31 bytes, need at least 32"},
		{"jwt secret ok", func(c *Config) { c.Auth.JWTSecret = strings.Repeat("x", 32) }, ""},
		{"max request body", func(c *Config) { c.Security.MaxRequestBodyBytes = 0 }, "security.max_request_body_bytes"},
		{"bare ip is not cidr", func(c *Config) { c.Security.TrustedProxyRanges = []string{"10.0.0.1"} }, `security.trusted_proxy_ranges: "10.0.0.1" is not a CIDR`},
		{"cidrs ok", func(c *Config) { c.Security.TrustedProxyRanges = []string{"10.0.0.0/8", "::1/128"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate() = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	c := Default()
	c.Server.Port = 0
	c.Logging.Level = "loud"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want error")
	}
	for _, key := range []string{"server.port", "logging.level"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}

func TestClusterValidation(t *testing.T) {
	ok := Default()
	ok.Cluster.Members = []string{"1=127.0.0.1:7001", "2=127.0.0.1:7002", "3=127.0.0.1:7003"}
	ok.Cluster.ReplicaID = 2
	ok.Cluster.RaftAddress = "127.0.0.1:9190"
	ok.Cluster.GossipAddress = "127.0.0.1:7002"
	if err := ok.validateValues(); err != nil {
		t.Fatalf("valid cluster config refused: %v", err)
	}
	for name, mut := range map[string]func(c *ClusterConfig){
		"replica not a member": func(c *ClusterConfig) { c.ReplicaID = 4 },
		"two members":          func(c *ClusterConfig) { c.Members = c.Members[:2] },
		"bad member":           func(c *ClusterConfig) { c.Members[0] = "x=host" },
		"duplicate id":         func(c *ClusterConfig) { c.Members[2] = "1=127.0.0.1:7009" },
		"no raft address":      func(c *ClusterConfig) { c.RaftAddress = "" },
		"G not power of two":   func(c *ClusterConfig) { c.UserGroups = 3 },
		"G too large":          func(c *ClusterConfig) { c.UserGroups = 64 },
		"heartbeat too slow":   func(c *ClusterConfig) { c.HeartbeatTicks = 6 },
		"timeout too small":    func(c *ClusterConfig) { c.ProposalTimeoutMS = 10 },
		"tls without key":      func(c *ClusterConfig) { c.TLS = ClusterTLSConfig{CAFile: "ca.crt", CertFile: "tls.crt"} },
		"tls without ca":       func(c *ClusterConfig) { c.TLS = ClusterTLSConfig{CertFile: "tls.crt", KeyFile: "tls.key"} },
		"tls on single node": func(c *ClusterConfig) {
			c.Members = nil
			c.TLS = ClusterTLSConfig{CAFile: "ca.crt", CertFile: "tls.crt", KeyFile: "tls.key"}
		},
	} {
		c := ok
		c.Cluster.Members = append([]string(nil), ok.Cluster.Members...)
		mut(&c.Cluster)
		if err := c.validateValues(); err == nil || !strings.Contains(err.Error(), "cluster.") {
			t.Errorf("%s: got %v, want a cluster.* error", name, err)
		}
	}
	if Default().Cluster.Enabled() {
		t.Error("the default config must be a single node")
	}
	// Files are checked by Validate (not validateValues): a missing one is
	// named by its key.
	withTLS := ok
	dir := t.TempDir()
	withTLS.Cluster.TLS = ClusterTLSConfig{CAFile: dir + "/ca.crt", CertFile: dir + "/tls.crt", KeyFile: dir + "/tls.key"}
	if err := withTLS.validateValues(); err != nil {
		t.Fatalf("complete cluster.tls refused: %v", err)
	}
	if err := withTLS.Validate(); err == nil || !strings.Contains(err.Error(), "cluster.tls.ca_file") || !strings.Contains(err.Error(), "cluster.tls.key_file") {
		t.Fatalf("missing cluster.tls files: got %v", err)
	}
}

// TestReplicaIDFromAddresses: identical StatefulSet pods set only their
// own addresses (env); an unset replica_id is the member listing that
// gossip address or the raft address's host, and a node listed nowhere is
// refused by name.
func TestReplicaIDFromAddresses(t *testing.T) {
	env := func(gossip string) func(string) (string, bool) {
		raft := "kc-1.kc-headless.ns.svc:9190"
		if gossip != "10.0.0.7:9191" {
			raft = "10.9.9.9:9190"
		}
		vars := map[string]string{
			"KALAMDB_CLUSTER_MEMBERS":        "1=kc-0.kc-headless.ns.svc:9191,2=kc-1.kc-headless.ns.svc:9191,3=kc-2.kc-headless.ns.svc:9191",
			"KALAMDB_CLUSTER_GOSSIP_ADDRESS": gossip,
			"KALAMDB_CLUSTER_RAFT_ADDRESS":   raft,
		}
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, gossip := range []string{"kc-1.kc-headless.ns.svc:9191", "10.0.0.7:9191"} {
		cfg, err := Parse("server.toml", nil, env(gossip))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Cluster.ReplicaID != 2 {
			t.Fatalf("gossip %s: replica_id = %d, want 2 (the member listing kc-1)", gossip, cfg.Cluster.ReplicaID)
		}
	}
	if _, err := Parse("server.toml", nil, env("kc-7.kc-headless.ns.svc:9191")); err == nil || !strings.Contains(err.Error(), "cluster.replica_id") {
		t.Fatalf("unknown gossip address: %v, want a cluster.replica_id error", err)
	}
	// An explicit replica_id wins over the address.
	cfg, err := Parse("server.toml", []byte("[cluster]\nreplica_id = 3\n"), env("kc-1.kc-headless.ns.svc:9191"))
	if err != nil || cfg.Cluster.ReplicaID != 3 {
		t.Fatalf("explicit replica_id: %d, %v", cfg.Cluster.ReplicaID, err)
	}
}
