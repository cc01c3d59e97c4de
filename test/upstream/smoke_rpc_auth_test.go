package upstream

// Port of security/smoke_test_rpc_auth.rs (v0.4.3-rc.4): plain HTTP
// requests, as the original sends them with reqwest. Its administrator
// "admin" is this server's "root" (the login adaptation of README.md).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// httpDo sends one request and returns its status and decoded JSON body.
func httpDo(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("Request failed: %v", err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// errorMessage is the original's message lookup: "message", else
// "error"."message", lower-cased.
func errorMessage(body map[string]any) string {
	if m, ok := body["message"].(string); ok {
		return strings.ToLower(m)
	}
	if e, ok := body["error"].(map[string]any); ok {
		if m, ok := e["message"].(string); ok {
			return strings.ToLower(m)
		}
	}
	return ""
}

// security/smoke_test_rpc_auth.rs: its twelve tests.
func TestSmokeRPCAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	sqlURL, meURL, refreshURL := s.URL+"/v1/api/sql", s.URL+"/v1/api/auth/me", s.URL+"/v1/api/auth/refresh"
	loginURL, healthURL := s.URL+"/v1/api/auth/login", s.URL+"/health"
	for _, c := range []struct{ name, auth, sql string }{
		{"smoke_rpc_sql_no_auth_returns_401", "", "SELECT 1"},
		{"smoke_rpc_sql_invalid_bearer_returns_401", "Bearer not.a.valid.jwt", "SELECT 1"},
		{"smoke_rpc_sql_forged_jwt_alg_none_returns_401", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhdHRhY2tlciIsInJvbGUiOiJzeXN0ZW0iLCJleHAiOjk5OTk5OTk5OTl9.", "SELECT * FROM system.users"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"sql": c.sql})
			if st, _ := httpDo(t, "POST", sqlURL, c.auth, string(body)); st != 401 {
				t.Fatalf("want 401, got %d", st)
			}
		})
	}
	t.Run("smoke_rpc_sql_basic_auth_returns_401", func(t *testing.T) {
		if st, _ := httpDo(t, "POST", sqlURL, "Basic YWRtaW46a2FsYW1kYjEyMw==", `{"sql":"SELECT 1"}`); st != 401 && st != 403 {
			t.Fatalf("SQL endpoint with Basic auth must return 401/403, got %d", st)
		}
	})
	t.Run("smoke_rpc_non_login_auth_endpoints_reject_basic_auth", func(t *testing.T) {
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+rootPassword))
		if st, _ := httpDo(t, "GET", meURL, basic, ""); st != 401 {
			t.Errorf("/auth/me with Basic auth must return 401, got %d", st)
		}
		if st, _ := httpDo(t, "POST", refreshURL, basic, ""); st != 401 {
			t.Errorf("/auth/refresh with Basic auth must return 401, got %d", st)
		}
	})
	t.Run("smoke_rpc_me_no_auth_returns_401", func(t *testing.T) {
		if st, _ := httpDo(t, "GET", meURL, "", ""); st != 401 {
			t.Fatalf("/auth/me without credentials must return 401, got %d", st)
		}
	})
	t.Run("smoke_rpc_health_is_public", func(t *testing.T) {
		if st, _ := httpDo(t, "GET", healthURL, "", ""); st < 200 || st > 299 {
			t.Fatalf("/health must be publicly accessible (2xx), got %d", st)
		}
	})
	t.Run("smoke_rpc_login_wrong_password_returns_401_generic_message", func(t *testing.T) {
		st, body := httpDo(t, "POST", loginURL, "", `{"user":"root","password":"this-is-definitely-wrong-password-xyz"}`)
		if st != 401 {
			t.Fatalf("Login with wrong password must return 401, got %d", st)
		}
		if msg := errorMessage(body); strings.Contains(msg, "not found") || strings.Contains(msg, "no user") {
			t.Fatalf("Login error must not reveal whether the user exists. Got: %s", msg)
		}
	})
	t.Run("smoke_rpc_login_nonexistent_user_matches_wrong_password_response", func(t *testing.T) {
		// The lockout counts failed logins per user: this test uses its
		// own user so the failures above do not lock it.
		s.sql(t, s.Root, "CREATE USER enum_target WITH PASSWORD 'Enum_target_123!' ROLE 'user'")
		stReal, bodyReal := httpDo(t, "POST", loginURL, "", `{"user":"enum_target","password":"wrong-pass-abc123"}`)
		stFake, bodyFake := httpDo(t, "POST", loginURL, "", `{"user":"this_user_definitely_does_not_exist_xyz","password":"wrong-pass-abc123"}`)
		if stReal != 401 || stFake != 401 {
			t.Fatalf("Wrong password and non-existent user must both return 401: %d %d", stReal, stFake)
		}
		mr, mf := errorMessage(bodyReal), errorMessage(bodyFake)
		if strings.Contains(mf, "not found") || strings.Contains(mf, "no user") {
			t.Fatalf("Non-existent user error must not say 'not found'. Got: %s", mf)
		}
		if mr != mf {
			t.Fatalf("Error messages must be identical: real_user=%q, fake_user=%q", mr, mf)
		}
	})
	t.Run("smoke_rpc_user_role_cannot_read_system_users", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER smoke_rpc_sec_user WITH PASSWORD 'Smoke_rpc_123!' ROLE 'user'")
		u, _ := s.login(t, "smoke_rpc_sec_user", "Smoke_rpc_123!")
		_, err := trySQL(u, "SELECT * FROM system.users")
		s.sql(t, s.Root, "DROP USER IF EXISTS smoke_rpc_sec_user")
		if err == nil {
			t.Fatal("Regular user must NOT be able to read system.users through the HTTP SQL API")
		}
		msg := strings.ToLower(err.Error())
		if !strings.Contains(msg, "unauthorized") && !strings.Contains(msg, "permission") && !strings.Contains(msg, "access denied") &&
			!strings.Contains(msg, "privilege") && !strings.Contains(msg, "not allowed") {
			t.Fatalf("Expected a permission error, got: %v", err)
		}
	})
	t.Run("smoke_rpc_user_cannot_escalate_own_role", func(t *testing.T) {
		s.sql(t, s.Root, "CREATE USER smoke_rpc_escalate WITH PASSWORD 'Smoke_rpc_456!' ROLE 'user'")
		u, _ := s.login(t, "smoke_rpc_escalate", "Smoke_rpc_456!")
		_, err := trySQL(u, "ALTER USER smoke_rpc_escalate SET ROLE 'system'")
		role := records(t, s.Root, "SELECT role FROM system.users WHERE user_id = 'smoke_rpc_escalate'")
		s.sql(t, s.Root, "DROP USER IF EXISTS smoke_rpc_escalate")
		if err == nil || len(role) != 1 || role[0].String("role") != "user" {
			t.Fatalf("Regular user must NOT be able to escalate their own role: %v, role %v", err, role)
		}
	})
	t.Run("smoke_rpc_sql_empty_body_returns_error", func(t *testing.T) {
		if st, _ := httpDo(t, "POST", sqlURL, "Bearer "+s.Token, ""); st < 400 || st >= 500 {
			t.Fatalf("Empty body with valid auth must return a 4xx error, got %d", st)
		}
	})
}
