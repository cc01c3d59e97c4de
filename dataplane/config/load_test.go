package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTOML writes body to server.toml in a temp dir and returns its path.
func writeTOML(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFileOverrides(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml string
		want func(*Config)
	}{
		{"empty file keeps defaults", "", func(*Config) {}},
		{
			name: "server section",
			toml: "[server]\nhost = \"::\"\nport = 9090\nnode_id = 7\npublic_origin = \"https://db.example.com\"\n",
			want: func(c *Config) {
				c.Server.Host, c.Server.Port, c.Server.NodeID = "::", 9090, 7
				c.Server.PublicOrigin = "https://db.example.com"
			},
		},
		{
			name: "partial sections keep other defaults",
			toml: "[storage]\nsync_writes = false\n[limits]\nmax_query_limit = 5000\n[logging]\nformat = \"json\"\n",
			want: func(c *Config) {
				c.Storage.SyncWrites = false
				c.Limits.MaxQueryLimit = 5000
				c.Logging.Format = "json"
			},
		},
		{
			name: "auth and security",
			toml: "[auth]\nbcrypt_cost = 10\njwt_secret = \"" + strings.Repeat("s", 32) + "\"\n" +
				"[security]\ntrusted_proxy_ranges = [\"10.0.0.0/8\", \"fd00::/8\"]\nmax_request_body_bytes = 1024\n",
			want: func(c *Config) {
				c.Auth.BcryptCost = 10
				c.Auth.JWTSecret = strings.Repeat("s", 32)
				c.Security.TrustedProxyRanges = []string{"10.0.0.0/8", "fd00::/8"}
				c.Security.MaxRequestBodyBytes = 1024
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadWithEnv(writeTOML(t, tc.toml), env(nil))
			if err != nil {
				t.Fatalf("LoadWithEnv: %v", err)
			}
			want := Default()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadEmptyPathIsDefault(t *testing.T) {
	got, err := LoadWithEnv("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("got %+v, want defaults", got)
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml string
		want []string // substrings of the error
	}{
		{"unknown key", "[server]\nprot = 1\n", []string{`unknown key "server.prot" in `, "server.toml"}},
		{"unknown keys", "[server]\nprot = 1\nhots = \"x\"\n", []string{`unknown keys "server.prot", "server.hots"`}},
		{"unknown table reported once", "[srever]\nhost = \"x\"\nport = 1\n", []string{`unknown key "srever" in`}},
		{"unknown top-level key", "debug = true\n", []string{`unknown key "debug"`}},
		{"wrong type", "[server]\nport = \"8080\"\n", []string{"server.toml", `"server.port"`, "incompatible types"}},
		{"wrong type bool", "[storage]\nsync_writes = \"yes\"\n", []string{`"storage.sync_writes"`}},
		{"wrong type list", "[security]\ntrusted_proxy_ranges = \"10.0.0.0/8\"\n", []string{`"security.trusted_proxy_ranges"`}},
		{"syntax error", "[server]\nhost = \"127.0.0.1\"\nport = = 8080\n", []string{"server.toml", "line 3"}},
		{"invalid value", "[server]\nport = 70000\n", []string{"config: server.port: 70000 is not in 1..65535"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadWithEnv(writeTOML(t, tc.toml), env(nil))
			if err == nil {
				t.Fatal("LoadWithEnv succeeded, want error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := LoadWithEnv(path, env(nil))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want one naming %s", err, path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want it to wrap fs.ErrNotExist", err)
	}
}

// TestParseNeedsNoFilesystem: Parse checks values only, so a configuration
// naming a certificate that exists only in the serving pod is accepted, and
// a bad value is still refused with its key.
func TestParseNeedsNoFilesystem(t *testing.T) {
	t.Setenv("TMPDIR", "/nonexistent-kalamdb-tmp")
	doc := []byte("[security.tls]\ncert_file = \"/etc/kalamdb-tls/tls.crt\"\nkey_file = \"/etc/kalamdb-tls/tls.key\"\n")
	cfg, err := Parse("server.toml", doc, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.Security.TLS.CertFile != "/etc/kalamdb-tls/tls.crt" {
		t.Fatalf("cert_file %q", cfg.Security.TLS.CertFile)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "security.tls.cert_file") {
		t.Fatalf("Validate on a machine without the file: %v", err)
	}
	_, err = Parse("server.toml", []byte("[security.tls]\ncert_file = \"/x\"\n[limits]\nmax_query_limit = -1\n"), func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "security.tls") || !strings.Contains(err.Error(), "limits.max_query_limit") {
		t.Fatalf("Parse of bad values: %v", err)
	}
	if _, err := Parse("server.toml", []byte("[limts]\nx = 1\n"), func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), `unknown key "limts"`) {
		t.Fatalf("Parse of a typo: %v", err)
	}
}
