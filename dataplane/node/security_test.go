package node

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// Security suite: a real server over HTTP and WebSocket, attacked by a user
// ("mallory") trying to reach another user's ("alice") rows or to raise its
// privileges. Every attempt must be refused (or see only mallory's own
// rows) AND must change nothing: alice's data is checked after each group.

const testJWTSecret = "k9Qv2LmX7pR4tW8zB1nC6dF3hJ5sG0aE-test-secret"

// secFixture is a node with alice's secrets in a USER table, a DBA-level
// SHARED table, and a low-privilege attacker.
type secFixture struct {
	n                     *Node
	root, alice, mallory  *client.Client
	aliceLogin, malLogin  *client.LoginResponse
	aliceNotes, dbaSecret string
}

func newSecFixture(t *testing.T, mutate func(*config.Config)) *secFixture {
	t.Helper()
	n := startNodeWith(t, func(c *config.Config) {
		c.Auth.JWTSecret = testJWTSecret
		if mutate != nil {
			mutate(c)
		}
	})
	f := &secFixture{n: n, root: login(t, n, "root", rootPW)}
	mustSQL(t, f.root, `CREATE NAMESPACE app;
		CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT);
		CREATE SHARED TABLE app.vault (id BIGINT PRIMARY KEY, secret TEXT) WITH (ACCESS_LEVEL = 'DBA');
		CREATE SHARED TABLE app.board (id BIGINT PRIMARY KEY, msg TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
		INSERT INTO app.vault (id, secret) VALUES (1, 'dba-only-secret');
		INSERT INTO app.board (id, msg) VALUES (1, 'hello');
		CREATE USER 'alice' WITH PASSWORD 'alice-strong-pw' ROLE user;
		CREATE USER 'mallory' WITH PASSWORD 'mallory-strong-pw' ROLE user;
		CREATE USER 'svc' WITH PASSWORD 'svc-strong-pw1' ROLE service;
		CREATE USER 'dba1' WITH PASSWORD 'dba1-strong-pw' ROLE dba`)
	var err error
	f.alice = client.New("http://" + n.Addr())
	if f.aliceLogin, err = f.alice.Login(ctx(t), "alice", "alice-strong-pw"); err != nil {
		t.Fatal(err)
	}
	f.mallory = client.New("http://" + n.Addr())
	if f.malLogin, err = f.mallory.Login(ctx(t), "mallory", "mallory-strong-pw"); err != nil {
		t.Fatal(err)
	}
	mustSQL(t, f.alice, `INSERT INTO app.notes (id, body) VALUES (1, 'alice-secret-1'), (2, 'alice-secret-2')`)
	mustSQL(t, f.mallory, `INSERT INTO app.notes (id, body) VALUES (1, 'mallory-1')`)
	f.aliceNotes = "[[1 alice-secret-1] [2 alice-secret-2]]"
	f.dbaSecret = "[[1 dba-only-secret]]"
	return f
}

// intact asserts that alice's rows and the DBA table are unchanged.
func (f *secFixture) intact(t *testing.T) {
	t.Helper()
	alice := login(t, f.n, "alice", "alice-strong-pw")
	if got := fmt.Sprint(mustRows(t, alice, `SELECT id, body FROM app.notes ORDER BY id`)); got != f.aliceNotes {
		t.Fatalf("alice's rows changed: %s", got)
	}
	if got := fmt.Sprint(mustRows(t, f.root, `SELECT id, secret FROM app.vault ORDER BY id`)); got != f.dbaSecret {
		t.Fatalf("vault changed: %s", got)
	}
	if got := fmt.Sprint(mustRows(t, f.root, `SELECT role FROM system.users WHERE user_id = 'mallory'`)); got != "[[user]]" {
		t.Fatalf("mallory's role changed: %s", got)
	}
}

// noLeak runs sql as c; it must either fail with one of the allowed codes
// or succeed without returning any of alice's or the vault's values.
func noLeak(t *testing.T, c *client.Client, sql string, codes ...string) {
	t.Helper()
	res, err := c.SQL(ctx(t), sql)
	if err != nil {
		ae, ok := err.(*client.APIError)
		if !ok {
			t.Fatalf("%s: transport error %v", sql, err)
		}
		for _, code := range codes {
			if ae.Code == code {
				return
			}
		}
		t.Fatalf("%s: unexpected error %s/%d: %s", sql, ae.Code, ae.HTTPStatus, ae.Message)
	}
	out := fmt.Sprint(res.Results)
	for _, secret := range []string{"alice-secret", "dba-only-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("%s leaked %s: %s", sql, secret, out)
		}
	}
}

func TestSecurityCrossUserSQL(t *testing.T) {
	f := newSecFixture(t, nil)
	m := f.mallory
	refused := []string{"PERMISSION_DENIED", "INVALID_SQL", "NOT_FOUND", "SQL_EXECUTION_ERROR", "INVALID_INPUT"}
	for _, sql := range []string{
		`SELECT id, body FROM app.notes`,
		`SELECT * FROM app.notes WHERE 1=1 OR 1=1`,
		`SELECT * FROM app.notes WHERE id = 1 OR body LIKE 'alice%'`,
		`SELECT body FROM app.notes UNION SELECT body FROM app.notes`,
		`SELECT body FROM app.notes UNION ALL SELECT secret FROM app.vault`,
		`SELECT (SELECT group_concat(body) FROM app.notes)`,
		`SELECT * FROM app.notes WHERE id IN (SELECT id FROM app.notes)`,
		`SELECT * FROM app.notes /* alice */ -- AND user = 'alice'`,
		`SELECT * FROM "app"."notes"`,
		`SELECT * FROM "app.notes"`,
		`SELECT * FROM temp."app.notes"`,
		`SELECT * FROM main."app.notes"`,
		`SELECT * FROM "app"."notes\u0000alice"`,
		`SELECT * FROM app.notes AS n1 JOIN app.notes AS n2 ON n1.id = n2.id`,
		`WITH x AS (SELECT * FROM app.notes) SELECT * FROM x`,
		`SELECT * FROM sqlite_master`,
		`SELECT * FROM sqlite_temp_master`,
		`SELECT * FROM temp.sqlite_master`,
		`PRAGMA table_info('app.notes')`,
		`ATTACH DATABASE '/tmp/x.db' AS x`,
		`SELECT * FROM app.vault`,
		`SELECT * FROM app.board b JOIN app.vault v ON v.id = b.id`,
		`SELECT * FROM system.users`,
		`SELECT * FROM system.audit_log`,
		`SELECT * FROM app.notes; SELECT * FROM app.vault`,
		`SELECT 1; DROP NAMESPACE app CASCADE`,
	} {
		noLeak(t, m, sql, refused...)
	}
	// Writes aimed at alice's rows touch only mallory's own.
	for _, sql := range []string{
		`UPDATE app.notes SET body = 'pwned' WHERE id IN (SELECT id FROM app.notes)`,
		`UPDATE app.notes SET body = 'pwned' WHERE 1=1 OR id = 2`,
		`DELETE FROM app.notes WHERE id > 0 OR body LIKE 'alice%'`,
		`INSERT INTO app.notes (id, body) VALUES (2, 'overwrite alice 2')`,
		`DELETE FROM app.notes WHERE id = 2`,
	} {
		mustSQL(t, m, sql)
	}
	// Privileged statements are refused with 403.
	for _, sql := range []string{
		`INSERT INTO app.vault (id, secret) VALUES (2, 'x')`,
		`UPDATE app.vault SET secret = 'x' WHERE id = 1`,
		`DELETE FROM app.vault WHERE id = 1`,
		`INSERT INTO app.board (id, msg) VALUES (2, 'x')`,
		`DROP TABLE app.notes`,
		`DROP NAMESPACE app CASCADE`,
		`CREATE USER 'm2' WITH PASSWORD 'another-pw-1' ROLE system`,
		`ALTER USER 'mallory' SET ROLE dba`,
		`ALTER USER 'alice' SET PASSWORD 'taken-over-pw'`,
		`DROP USER 'alice'`,
	} {
		wantCode(t, m, "PERMISSION_DENIED", 403, sql)
	}
	f.intact(t)
}

func TestSecuritySubscriptionIsolation(t *testing.T) {
	f := newSecFixture(t, nil)
	w := dialWS(t, f.n, f.mallory)
	rows, _, _ := w.subscribeAll("mine", `SELECT id, body FROM app.notes`, nil)
	if got := fmt.Sprint(rows); strings.Contains(got, "alice") || len(rows) != 1 {
		t.Fatalf("mallory's initial data: %s", got)
	}
	for id, sql := range map[string]string{
		"vault": `SELECT * FROM app.vault`,
		"users": `SELECT * FROM system.users`,
		"union": `SELECT body FROM app.notes UNION SELECT secret FROM app.vault`,
	} {
		w.subscribe(id, sql, nil)
		if e := w.expectFor(id, "error"); e.Code == "" || strings.Contains(string(e.raw), "secret") {
			t.Fatalf("subscribe %s: %s", id, e.raw)
		}
	}
	// alice's writes are never delivered to mallory.
	mustSQL(t, f.alice, `INSERT INTO app.notes (id, body) VALUES (3, 'alice-secret-3')`)
	mustSQL(t, f.mallory, `INSERT INTO app.notes (id, body) VALUES (3, 'mallory-3')`)
	for {
		m := w.expectFor("mine", "change")
		if strings.Contains(string(m.raw), "alice") {
			t.Fatalf("alice's change delivered to mallory: %s", m.raw)
		}
		if strings.Contains(string(m.raw), "mallory-3") {
			break
		}
	}
	f.aliceNotes = "[[1 alice-secret-1] [2 alice-secret-2] [3 alice-secret-3]]"
	f.intact(t)
}

func TestSecurityExecuteAs(t *testing.T) {
	f := newSecFixture(t, nil)
	svc := login(t, f.n, "svc", "svc-strong-pw1")
	dba := login(t, f.n, "dba1", "dba1-strong-pw")
	for _, tc := range []struct {
		c      *client.Client
		code   string
		status int
		sql    string
	}{
		{f.mallory, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'alice' (SELECT * FROM app.notes)`},
		{f.mallory, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'alice' (DELETE FROM app.notes WHERE id > 0)`},
		{f.mallory, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'alice' (UPDATE app.notes SET body = 'x' WHERE id = 1)`},
		{f.mallory, "PERMISSION_DENIED", 403, `execute as user "alice" (SELECT * FROM app.notes)`},
		{f.mallory, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'nobody' (SELECT 1)`},
		{svc, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'dba1' (SELECT * FROM app.notes)`},
		{svc, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'root' (SELECT * FROM app.notes)`},
		{dba, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'root' (SELECT * FROM app.notes)`},
		{svc, "INVALID_SQL", 400, `EXECUTE AS USER 'alice' (SELECT * FROM app.vault)`},
		{svc, "INVALID_SQL", 400, `EXECUTE AS USER 'alice' (SELECT * FROM app.notes UNION SELECT msg FROM app.board)`},
		{svc, "PERMISSION_DENIED", 403, `EXECUTE AS USER 'alice' (SELECT * FROM system.users)`},
		{svc, "INVALID_SQL", 400, `EXECUTE AS USER 'alice' (DROP TABLE app.notes)`},
		{svc, "INVALID_SQL", 400, `EXECUTE AS USER 'alice' (EXECUTE AS USER 'mallory' (SELECT 1))`},
		{svc, "INVALID_SQL", 400, `EXECUTE AS USER 'alice' (SELECT 1 -- )`},
		{svc, "INVALID_SQL", 400, `EXECUTE AS USER 'alice' (SELECT 1) DELETE FROM app.notes WHERE id > 0`},
	} {
		wantCode(t, tc.c, tc.code, tc.status, tc.sql)
	}
	f.intact(t)
	// Allowed: service -> user, reads and writes only alice's rows.
	res := mustSQL(t, svc, `EXECUTE AS USER 'alice' (SELECT id, body FROM app.notes ORDER BY id)`)
	if got := fmt.Sprint(res.Results[0].Rows); got != f.aliceNotes || res.Results[0].AsUser != "alice" {
		t.Fatalf("svc as alice: %s as %q", got, res.Results[0].AsUser)
	}
	mustSQL(t, dba, `EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES (9, 'by-dba'))`)
	if got := fmt.Sprint(mustRows(t, f.mallory, `SELECT id FROM app.notes WHERE id = 9`)); got != "[]" {
		t.Fatalf("EXECUTE AS insert landed in mallory's rows: %s", got)
	}
	mustSQL(t, f.mallory, `EXECUTE AS USER 'mallory' (SELECT 1)`) // self: a no-op
	// Both outcomes are audited with actor and subject.
	rows := mustRows(t, f.root, `SELECT actor_user_id, action, subject_user_id FROM system.audit_log WHERE action LIKE 'EXECUTE_AS%' ORDER BY audit_id`)
	got := fmt.Sprint(rows)
	for _, want := range []string{"[mallory EXECUTE_AS_DENIED alice]", "[svc EXECUTE_AS alice]", "[dba1 EXECUTE_AS alice]", "[dba1 EXECUTE_AS_DENIED root]"} {
		if !strings.Contains(got, want) {
			t.Fatalf("audit log lacks %s: %s", want, got)
		}
	}
}

// signHS256 signs claims with secret (the server's or another).
func signToken(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecurityForgedTokens(t *testing.T) {
	f := newSecFixture(t, nil)
	now := time.Now()
	base := func(sub, role string) jwt.MapClaims {
		return jwt.MapClaims{"iss": "kalamdb", "sub": sub, "role": role, "token_type": "access",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	expired := base("alice", "user")
	expired["iat"], expired["exp"] = now.Add(-3*time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
	parts := strings.Split(f.malLogin.AccessToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := strings.Replace(string(payload), `"role":"user"`, `"role":"system"`, 1)
	tampered = strings.Replace(tampered, `"sub":"mallory"`, `"sub":"alice"`, 1)
	tamperedTok := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2]
	for name, tok := range map[string]string{
		"alg none":           signToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, base("root", "system")),
		"wrong key":          signToken(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-123456"), base("root", "system")),
		"HS512 right key":    signToken(t, jwt.SigningMethodHS512, []byte(testJWTSecret), base("root", "system")),
		"expired":            signToken(t, jwt.SigningMethodHS256, []byte(testJWTSecret), expired),
		"refresh as access":  f.malLogin.RefreshToken,
		"tampered role":      tamperedTok,
		"role claim ≠ store": signToken(t, jwt.SigningMethodHS256, []byte(testJWTSecret), base("mallory", "system")),
		"unknown user":       signToken(t, jwt.SigningMethodHS256, []byte(testJWTSecret), base("ghost", "system")),
		"garbage":            "a.b.c",
	} {
		c := client.New("http://" + f.n.Addr())
		c.Token = tok
		for _, sql := range []string{`DROP NAMESPACE app CASCADE`, `DELETE FROM app.notes WHERE id > 0`, `SELECT * FROM app.vault`} {
			_, err := c.SQL(ctx(t), sql)
			// Only a validly signed token that merely expired says so;
			// every other failure is the merged INVALID_CREDENTIALS.
			want := "INVALID_CREDENTIALS"
			if name == "expired" {
				want = "TOKEN_EXPIRED"
			}
			if ae, ok := err.(*client.APIError); !ok || ae.HTTPStatus != 401 || ae.Code != want {
				t.Fatalf("%s: %s: want 401 %s, got %v", name, sql, want, err)
			}
		}
		// The WebSocket refuses the same tokens.
		w := dialRaw(t, f.n, nil)
		w.send(map[string]any{"type": "authenticate", "method": "jwt", "token": tok})
		if _, msgs := w.closeStatus(10 * time.Second); len(msgs) != 1 || msgs[0].Type != "auth_error" {
			t.Fatalf("%s: websocket accepted the token: %v", name, msgs)
		}
	}
	// An access token is not a refresh token either.
	status, _, _ := f.mallory.Do(ctx(t), "POST", "/v1/api/auth/refresh", mustJSON(t, map[string]string{"refresh_token": f.malLogin.AccessToken}), false)
	if status != 401 {
		t.Fatalf("access token refreshed: %d", status)
	}
	f.intact(t)
}

func TestSecurityLogoutAndRevocation(t *testing.T) {
	f := newSecFixture(t, nil)
	c := login(t, f.n, "mallory", "mallory-strong-pw")
	lr, err := c.Login(ctx(t), "mallory", "mallory-strong-pw")
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := c.Do(ctx(t), "POST", "/v1/api/auth/logout", nil, true)
	if status != 200 {
		t.Fatalf("logout: %d %s", status, body)
	}
	wantCode(t, c, "INVALID_CREDENTIALS", 401, `SELECT 1`)
	status, _, _ = c.Do(ctx(t), "POST", "/v1/api/auth/refresh", mustJSON(t, map[string]string{"refresh_token": lr.RefreshToken}), false)
	if status != 401 {
		t.Fatalf("refresh after logout: %d", status)
	}
	// A fresh login works again; dropping the user kills it.
	c2 := login(t, f.n, "mallory", "mallory-strong-pw")
	mustSQL(t, c2, `SELECT 1`)
	mustSQL(t, f.root, `DROP USER 'mallory'`)
	wantCode(t, c2, "INVALID_CREDENTIALS", 401, `SELECT 1`)
	if _, err := c2.Login(ctx(t), "mallory", "mallory-strong-pw"); err == nil {
		t.Fatal("dropped user logged in")
	}
}

func TestSecurityBruteForceLockout(t *testing.T) {
	f := newSecFixture(t, func(c *config.Config) { c.Auth.LockoutMaxAttempts = 3 })
	attacker := client.New("http://" + f.n.Addr())
	for i := range 3 {
		_, err := attacker.Login(ctx(t), "alice", fmt.Sprintf("guess-%d-pw", i))
		if ae, ok := err.(*client.APIError); !ok || ae.HTTPStatus != 401 || ae.Code != "INVALID_CREDENTIALS" {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// Locked: even the right password is refused, and alice's live token stops working.
	_, err := attacker.Login(ctx(t), "alice", "alice-strong-pw")
	if ae, ok := err.(*client.APIError); !ok || ae.HTTPStatus != 403 || ae.Code != "ACCOUNT_LOCKED" {
		t.Fatalf("locked login: %v", err)
	}
	wantCode(t, f.alice, "ACCOUNT_LOCKED", 403, `SELECT 1`)
	if rows := mustRows(t, f.root, `SELECT locked_until IS NOT NULL FROM system.users WHERE user_id = 'alice'`); fmt.Sprint(rows) != "[[1]]" && fmt.Sprint(rows) != "[[true]]" {
		t.Fatalf("system.users locked_until: %v", rows)
	}
	rows := mustRows(t, f.root, `SELECT count(*) FROM system.audit_log WHERE action = 'LOGIN_FAILED' AND actor_user_id = 'alice' AND ip_address = '127.0.0.1'`)
	if fmt.Sprint(rows) != "[[4]]" {
		t.Fatalf("failed logins audited: %v", rows)
	}
	// An administrator's password reset unlocks.
	mustSQL(t, f.root, `ALTER USER 'alice' SET PASSWORD 'alice-strong-pw'`)
	f.intact(t)
}

func TestSecurityRateLimits(t *testing.T) {
	f := newSecFixture(t, func(c *config.Config) {
		c.RateLimit.MaxQueriesPerSec = 2
		c.RateLimit.MaxAuthRequestsPerIPPerSec = 3
	})
	limited := func(do func() error) bool {
		for range 50 {
			err := do()
			if ae, ok := err.(*client.APIError); ok && ae.HTTPStatus == 429 && ae.Code == "RATE_LIMIT_EXCEEDED" {
				return true
			}
		}
		return false
	}
	if !limited(func() error { _, err := f.mallory.SQL(ctx(t), `DELETE FROM app.notes WHERE id = 1`); return err }) {
		t.Fatal("per-user query limit never answered 429")
	}
	c := client.New("http://" + f.n.Addr())
	if !limited(func() error { _, err := c.Login(ctx(t), "alice", "wrong-password-x"); return err }) {
		t.Fatal("per-IP auth limit never answered 429")
	}
	time.Sleep(1100 * time.Millisecond) // refill before the intact check logs in
	f.intact(t)
}

func TestSecurityConnectionsPerIP(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.RateLimit.MaxConnectionsPerIP = 1 })
	hold, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	time.Sleep(100 * time.Millisecond) // let the server accept it
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + n.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 {
		t.Fatalf("second connection: HTTP %d, want 429", resp.StatusCode)
	}
}

func TestSecurityBodies(t *testing.T) {
	f := newSecFixture(t, func(c *config.Config) { c.Security.MaxRequestBodyBytes = 4096 })
	big := `{"sql": "DELETE FROM app.notes WHERE id > 0", "pad": "` + strings.Repeat("x", 8192) + `"}`
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"oversize", big, 413, "REQUEST_TOO_LARGE"},
		{"truncated", `{"sql": "DELETE FROM app.notes WHERE id > 0"`, 400, "INVALID_INPUT"},
		{"two objects", `{"sql": "SELECT 1"}{"sql": "DELETE FROM app.notes WHERE id > 0"}`, 400, "INVALID_INPUT"},
		{"wrong type", `{"sql": ["DELETE FROM app.notes WHERE id > 0"]}`, 400, "INVALID_INPUT"},
		{"not json", "DELETE FROM app.notes WHERE id > 0", 400, "INVALID_INPUT"},
		{"nul bytes", `{"sql": "DELETE\u0000 FROM app.notes WHERE id > 0"}`, 400, ""},
		{"params object", `{"sql": "DELETE FROM app.notes WHERE id = $1", "params": [{"$gt": 0}]}`, 400, "INVALID_PARAMETER"},
	} {
		for _, c := range []*client.Client{f.alice, f.mallory} {
			status, body, err := c.Do(ctx(t), "POST", "/v1/api/sql", []byte(tc.body), true)
			if err != nil || status != tc.status || !strings.Contains(string(body), `"code":"`+tc.code) {
				t.Fatalf("%s: HTTP %d %s (%v), want %d %s", tc.name, status, body, err, tc.status, tc.code)
			}
		}
	}
	status, _, _ := f.mallory.Do(ctx(t), "POST", "/v1/api/auth/login", []byte(big), false)
	if status != 413 {
		t.Fatalf("oversize login: %d", status)
	}
	// An oversize WebSocket message closes the connection.
	w := dialWS(t, f.n, f.mallory)
	w.sendRaw([]byte(`{"type":"subscribe","pad":"` + strings.Repeat("y", 2<<20) + `"}`))
	if _, msgs := w.closeStatus(10 * time.Second); len(msgs) == 0 || msgs[len(msgs)-1].Code != "MESSAGE_TOO_LARGE" {
		t.Fatalf("oversize ws message: %v", msgs)
	}
	if got := fmt.Sprint(mustRows(t, f.mallory, `SELECT id, body FROM app.notes`)); got != "[[1 mallory-1]]" {
		t.Fatalf("mallory's rows changed: %s", got)
	}
	f.intact(t)
}

func TestSecurityAuditLog(t *testing.T) {
	f := newSecFixture(t, nil)
	mustSQL(t, f.root, `ALTER USER 'mallory' SET PASSWORD 'new-mallory-pw1'`)
	rows := mustRows(t, f.root, `SELECT actor_user_id, action, target, ip_address FROM system.audit_log WHERE action IN ('LOGIN', 'CREATE_NAMESPACE', 'CREATE_TABLE', 'CREATE_USER', 'ALTER_USER') ORDER BY audit_id`)
	got := fmt.Sprint(rows)
	for _, want := range []string{"[root LOGIN <nil> 127.0.0.1]", "[root CREATE_NAMESPACE app", "[root CREATE_TABLE app.notes", "[root CREATE_USER alice", "[root ALTER_USER mallory 127.0.0.1]", "[alice LOGIN <nil> 127.0.0.1]"} {
		if !strings.Contains(got, want) {
			t.Fatalf("audit log lacks %q: %s", want, got)
		}
	}
	all := fmt.Sprint(mustRows(t, f.root, `SELECT details FROM system.audit_log`))
	for _, pw := range []string{"alice-strong-pw", "new-mallory-pw1", "mallory-strong-pw"} {
		if strings.Contains(all, pw) {
			t.Fatalf("audit log holds a password: %s", all)
		}
	}
	wantCode(t, f.alice, "PERMISSION_DENIED", 403, `SELECT * FROM system.audit_log`)
	// Durable: the log survives a restart.
	dir := t.TempDir()
	n1 := startNode(t, dir)
	mustSQL(t, login(t, n1, "root", rootPW), `CREATE USER 'u1' WITH PASSWORD 'u1-strong-pw'; ALTER USER 'u1' SET EMAIL 'u1@example.com'`)
	n1.Close()
	n2 := startNode(t, dir)
	defer n2.Close()
	root := login(t, n2, "root", rootPW)
	if rows := mustRows(t, root, `SELECT count(*) FROM system.audit_log WHERE action = 'ALTER_USER'`); fmt.Sprint(rows) != "[[1]]" {
		t.Fatalf("audit after restart: %v", rows)
	}
}

func TestSecuritySetupAndExposure(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Auth.RootPassword = "" })
	c := client.New("http://" + n.Addr())
	status, body, _ := c.Do(ctx(t), "GET", "/v1/api/auth/status", nil, false)
	if status != 200 || !strings.Contains(string(body), `"needs_setup":true`) {
		t.Fatalf("status: %d %s", status, body)
	}
	status, _, _ = c.Do(ctx(t), "POST", "/v1/api/auth/setup", mustJSON(t, map[string]string{"root_password": "password"}), false)
	if status != 400 {
		t.Fatalf("setup with a common password: %d", status)
	}
	status, body, _ = c.Do(ctx(t), "POST", "/v1/api/auth/setup", mustJSON(t, map[string]string{"root_password": "fresh-root-pw-1", "user": "admin1", "password": "admin1-strong-pw"}), false)
	if status != 200 {
		t.Fatalf("setup: %d %s", status, body)
	}
	status, _, _ = c.Do(ctx(t), "POST", "/v1/api/auth/setup", mustJSON(t, map[string]string{"root_password": "takeover-pw-12"}), false)
	if status != 409 {
		t.Fatalf("second setup: %d", status)
	}
	if _, err := c.Login(ctx(t), "root", ""); err == nil {
		t.Fatal("root logged in without a password after setup")
	}
	login(t, n, "root", "fresh-root-pw-1")
	if rows := mustRows(t, login(t, n, "admin1", "admin1-strong-pw"), `SELECT role FROM system.users WHERE user_id = 'admin1'`); fmt.Sprint(rows) != "[[dba]]" {
		t.Fatalf("setup user: %v", rows)
	}
	// A non-loopback address with a well-known secret is refused before binding.
	for _, secret := range []string{"CHANGE_ME_IN_PRODUCTION-padding-to-32-bytes", strings.Repeat("ab", 20)} {
		cfg := testConfig(t.TempDir())
		cfg.Server.Host, cfg.Auth.JWTSecret = "192.0.2.10", secret
		if _, err := Start(cfg, quietLog()); err == nil || !strings.Contains(err.Error(), "jwt_secret") {
			t.Fatalf("non-loopback with weak secret %q: %v", secret, err)
		}
	}
	if err := checkExposure(config.Config{Server: config.ServerConfig{Host: "10.1.2.3"}, Auth: config.AuthConfig{JWTSecret: testJWTSecret}}); err != nil {
		t.Fatalf("strong secret refused: %v", err)
	}
	if err := checkExposure(config.Config{Server: config.ServerConfig{Host: "10.1.2.3"}}); err != nil {
		t.Fatalf("generated secret refused: %v", err)
	}
}

func TestSecurityCORS(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.Security.CORS.AllowedOrigins = []string{"https://app.example.com"}
	})
	do := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, "http://"+n.Addr()+"/v1/api/sql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := do("https://app.example.com"); r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed preflight: %d %v", r.StatusCode, r.Header)
	}
	if r := do("https://evil.example.com"); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", r.StatusCode, r.Header)
	}
}
