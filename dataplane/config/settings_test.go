package config

import (
	"strings"
	"testing"
)

func TestSettingsFlattenAndRedact(t *testing.T) {
	c := Default()
	c.Auth.RootPassword = "hunter2-hunter2"
	c.Auth.JWTSecret = "0123456789abcdef0123456789abcdef"
	c.Security.TrustedProxyRanges = []string{"10.0.0.0/8"}
	byName := map[string]Setting{}
	for _, s := range c.Settings() {
		if strings.Contains(s.Value, "hunter2") || strings.Contains(s.Value, "0123456789abcdef") {
			t.Fatalf("secret leaked in %s = %q", s.Name, s.Value)
		}
		byName[s.Name] = s
	}
	tests := []struct {
		name, value, category string
	}{
		{"server.port", "8080", "server"},
		{"storage.sync_writes", "true", "storage"},
		{"auth.root_password", Redacted, "auth"},
		{"auth.jwt_secret", Redacted, "auth"},
		{"logging.slow_query_threshold_ms", "1000", "logging"},
		{"security.trusted_proxy_ranges", `["10.0.0.0/8"]`, "security"},
		// Numbers and booleans named after a secret are policy, not secrets.
		{"auth.min_password_length", "8", "auth"},
		{"auth.max_password_length", "1024", "auth"},
		{"security.cors.allow_credentials", "false", "security"},
	}
	for _, tt := range tests {
		s, ok := byName[tt.name]
		if !ok {
			t.Errorf("%s missing", tt.name)
			continue
		}
		if s.Value != tt.value || s.Category != tt.category {
			t.Errorf("%s = %q (%s), want %q (%s)", tt.name, s.Value, s.Category, tt.value, tt.category)
		}
	}
	if byName["server.port"].Description == "" {
		t.Error("server.port has no description")
	}
	// An unset secret shows as empty, not as the redaction marker.
	if v := Default().Settings(); len(v) == 0 {
		t.Fatal("no settings")
	}
	for _, s := range Default().Settings() {
		if s.Name == "auth.root_password" && s.Value != "" {
			t.Errorf("unset root password rendered %q", s.Value)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"root_password": true, "jwt_secret": true, "pg_auth_token": true, "server_key": true,
		"access_key_id_env": false, "secret_access_key_env": false, "port": false, "ca_bundle_file": false,
	} {
		if got := isSecretKey(key); got != want {
			t.Errorf("isSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestEverySettingDescribed: system.settings describes every key.
func TestEverySettingDescribed(t *testing.T) {
	for _, s := range Default().Settings() {
		if s.Description == "" {
			t.Errorf("%s has no description in settingDescriptions", s.Name)
		}
	}
}
