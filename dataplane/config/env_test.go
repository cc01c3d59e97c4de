package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnvOverrides(t *testing.T) {
	secret := strings.Repeat("k", 40)
	got, err := LoadWithEnv("", env(map[string]string{
		"KALAMDB_SERVER_HOST":                   "0.0.0.0",
		"KALAMDB_SERVER_PORT":                   " 9000 ",
		"KALAMDB_SERVER_PUBLIC_ORIGIN":          "https://db.example.com",
		"KALAMDB_NODE_ID":                       "42",
		"KALAMDB_DATA_DIR":                      "/var/lib/kalamdb",
		"KALAMDB_ROOT_PASSWORD":                 " spaces kept ",
		"KALAMDB_JWT_SECRET":                    secret,
		"KALAMDB_JWT_EXPIRY_HOURS":              "2",
		"KALAMDB_BCRYPT_COST":                   "10",
		"KALAMDB_LOG_LEVEL":                     "debug",
		"KALAMDB_LOG_FORMAT":                    "json",
		"KALAMDB_SYNC_WRITES":                   "false",
		"KALAMDB_MAX_QUERY_LIMIT":               "200",
		"KALAMDB_DEFAULT_QUERY_LIMIT":           "20",
		"KALAMDB_SECURITY_TRUSTED_PROXY_RANGES": "10.0.0.0/8, 192.168.0.0/16,",
	}))
	if err != nil {
		t.Fatalf("LoadWithEnv: %v", err)
	}
	want := Default()
	want.Server = ServerConfig{Host: "0.0.0.0", Port: 9000, PublicOrigin: "https://db.example.com", NodeID: 42, ShutdownTimeoutSeconds: 30}
	want.Storage.DataPath = "/var/lib/kalamdb"
	want.Storage.SyncWrites = false
	want.Auth.RootPassword = " spaces kept "
	want.Auth.JWTSecret = secret
	want.Auth.JWTExpiryHours = 2
	want.Auth.BcryptCost = 10
	want.Logging.Level, want.Logging.Format = "debug", "json"
	want.Limits.MaxQueryLimit, want.Limits.DefaultQueryLimit = 200, 20
	want.Security.TrustedProxyRanges = []string{"10.0.0.0/8", "192.168.0.0/16"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestEnvWinsOverFile(t *testing.T) {
	path := writeTOML(t, "[server]\nport = 9090\nhost = \"10.1.1.1\"\n[security]\ntrusted_proxy_ranges = [\"10.0.0.0/8\"]\n")
	got, err := LoadWithEnv(path, env(map[string]string{
		"KALAMDB_SERVER_PORT":                   "7070",
		"KALAMDB_SECURITY_TRUSTED_PROXY_RANGES": "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Server.Port != 7070 {
		t.Errorf("port = %d, want env value 7070", got.Server.Port)
	}
	if got.Server.Host != "10.1.1.1" {
		t.Errorf("host = %q, want file value 10.1.1.1", got.Server.Host)
	}
	if len(got.Security.TrustedProxyRanges) != 0 {
		t.Errorf("trusted_proxy_ranges = %v, want cleared by empty env", got.Security.TrustedProxyRanges)
	}
}

func TestBadEnv(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        string
	}{
		{"KALAMDB_SERVER_PORT", "abc", `config: env KALAMDB_SERVER_PORT (overrides server.port): "abc" is not an integer`},
		{"KALAMDB_SERVER_PORT", "", "KALAMDB_SERVER_PORT"},
		{"KALAMDB_SERVER_PORT", "70000", "config: server.port: 70000 is not in 1..65535"},
		{"KALAMDB_NODE_ID", "1.5", "KALAMDB_NODE_ID"},
		{"KALAMDB_NODE_ID", "1024", "server.node_id"},
		{"KALAMDB_SYNC_WRITES", "yes", `KALAMDB_SYNC_WRITES (overrides storage.sync_writes): "yes" is not a boolean`},
		{"KALAMDB_BCRYPT_COST", "3", "auth.bcrypt_cost: 3 is not in 4..31"},
		{"KALAMDB_JWT_EXPIRY_HOURS", "x", "KALAMDB_JWT_EXPIRY_HOURS"},
		{"KALAMDB_MAX_QUERY_LIMIT", "-", "KALAMDB_MAX_QUERY_LIMIT"},
		{"KALAMDB_DEFAULT_QUERY_LIMIT", "5000", "limits.default_query_limit: 5000 is greater than"},
		{"KALAMDB_LOG_LEVEL", "verbose", `logging.level: "verbose" is not one of`},
		{"KALAMDB_LOG_FORMAT", "xml", "logging.format"},
		{"KALAMDB_SERVER_HOST", "", "server.host: must not be empty"},
		{"KALAMDB_DATA_DIR", "", "storage.data_path: must not be empty"},
		{"KALAMDB_JWT_SECRET", "short", "auth.jwt_secret: is 5 bytes"},
		{"KALAMDB_SECURITY_TRUSTED_PROXY_RANGES", "10.0.0.0/8,nonsense", `"nonsense" is not a CIDR`},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := LoadWithEnv("", env(map[string]string{tc.name: tc.value}))
			if err == nil {
				t.Fatal("LoadWithEnv succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestBadEnvDoesNotLeakSecret(t *testing.T) {
	_, err := LoadWithEnv("", env(map[string]string{"KALAMDB_JWT_SECRET": "hunter2-secret"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v, want an error that does not echo the secret", err)
	}
}

// TestColdEnvOverrides sets every [cold] override and checks each lands in
// its field, and that a malformed or out-of-range value names the variable
// or the key.
func TestColdEnvOverrides(t *testing.T) {
	got, err := LoadWithEnv("", env(map[string]string{
		"KALAMDB_COLD_STORAGE_PATH":                     "/srv/cold",
		"KALAMDB_COLD_SCHEDULER_TICK_MS":                "100",
		"KALAMDB_COLD_REMOTE_REQUEST_TIMEOUT_SECONDS":   "30",
		"KALAMDB_COLD_REMOTE_CONNECT_TIMEOUT_SECONDS":   "5",
		"KALAMDB_COLD_REMOTE_MAX_ATTEMPTS":              "2",
		"KALAMDB_COLD_REMOTE_RETRY_BACKOFF_MS":          "50",
		"KALAMDB_COLD_JOB_MAX_ATTEMPTS":                 "7",
		"KALAMDB_COLD_JOB_RETRY_BACKOFF_MS":             "500",
		"KALAMDB_COLD_COMPACTION_SEGMENT_THRESHOLD":     "0",
		"KALAMDB_COLD_MAX_ROWS_PER_SEGMENT":             "5000",
		"KALAMDB_COLD_STREAM_EVICTION_INTERVAL_SECONDS": "3",
		"KALAMDB_COLD_JANITOR_INTERVAL_SECONDS":         "60",
		"KALAMDB_COLD_ORPHAN_GRACE_SECONDS":             "0",
		"KALAMDB_COLD_JOB_RETENTION":                    "10",
		"KALAMDB_COLD_SEGMENT_CACHE_MB":                 "0",
	}))
	if err != nil {
		t.Fatalf("LoadWithEnv: %v", err)
	}
	want := ColdConfig{StoragePath: "/srv/cold", SchedulerTickMS: 100, RemoteRequestTimeoutSeconds: 30,
		RemoteConnectTimeoutSeconds: 5, RemoteMaxAttempts: 2, RemoteRetryBackoffMS: 50, JobMaxAttempts: 7,
		JobRetryBackoffMS: 500, CompactionSegmentThreshold: 0, MaxRowsPerSegment: 5000, MaxSegmentMB: 256,
		StreamEvictionIntervalSeconds: 3, JanitorIntervalSeconds: 60, OrphanGraceSeconds: 0, JobRetention: 10,
		SegmentCacheMB: 0}
	if got.Cold != want {
		t.Errorf("cold = %+v\nwant   %+v", got.Cold, want)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"KALAMDB_COLD_SCHEDULER_TICK_MS", "fast", "KALAMDB_COLD_SCHEDULER_TICK_MS (overrides cold.scheduler_tick_ms)"},
		{"KALAMDB_COLD_MAX_ROWS_PER_SEGMENT", "10", "cold.max_rows_per_segment: 10 is not in"},
		{"KALAMDB_COLD_SEGMENT_CACHE_MB", "-1", "cold.segment_cache_mb"},
	} {
		if _, err := LoadWithEnv("", env(map[string]string{tc.name: tc.value})); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: err = %v, want it to contain %q", tc.name, tc.value, err, tc.want)
		}
	}
}
