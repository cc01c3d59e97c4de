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
