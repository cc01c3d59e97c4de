package config

import (
	"log/slog"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
}

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct {
		host string
		port int
		want string
	}{
		{"127.0.0.1", 8080, "127.0.0.1:8080"},
		{"0.0.0.0", 1, "0.0.0.0:1"},
		{"::1", 8080, "[::1]:8080"},
		{"::", 9000, "[::]:9000"},
		{"db.example.com", 443, "db.example.com:443"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			c := Default()
			c.Server.Host, c.Server.Port = tc.host, tc.port
			if got := c.ListenAddr(); got != tc.want {
				t.Errorf("ListenAddr() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSlogLevel(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
	} {
		t.Run(tc.level, func(t *testing.T) {
			if got := (LoggingConfig{Level: tc.level}).SlogLevel(); got != tc.want {
				t.Errorf("SlogLevel() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEnvVarsAreUniqueAndPrefixed(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range EnvVars() {
		if !strings.HasPrefix(name, "KALAMDB_") {
			t.Errorf("%s lacks the KALAMDB_ prefix", name)
		}
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
	}
	if len(seen) != 63 {
		t.Errorf("EnvVars() has %d names, want 63", len(seen))
	}
}

// env turns a map into a getenv func for LoadWithEnv.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}
