package node

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// wantEnded waits (bounded) for w to be closed with a policy violation
// whose last error message has code.
func wantEnded(t *testing.T, w *wsClient, code, what string) {
	t.Helper()
	st, msgs := w.closeStatus(10 * time.Second)
	if st != websocket.StatusPolicyViolation || len(msgs) == 0 || msgs[len(msgs)-1].Code != code {
		t.Fatalf("%s: want close 1008 after %s, got %v %v", what, code, st, msgs)
	}
}

// TestLiveConnectionAuthLifetime: an open WebSocket ends when its token
// expires (TOKEN_EXPIRED) and when the token stops being valid for the
// HTTP API: logout, DROP USER, a role change, an account lockout
// (AUTH_REVOKED). A token minted right after a logout (same second,
// later millisecond) keeps its connection.
func TestLiveConnectionAuthLifetime(t *testing.T) {
	secret := strings.Repeat("s", auth.SecretSize)
	n := startNodeWith(t, func(c *config.Config) {
		c.Auth.JWTSecret = secret
		c.Auth.LockoutMaxAttempts = 2
		c.Auth.LockoutWindowSeconds = 60
		c.Auth.LockoutDurationSeconds = 60
	})
	root := login(t, n, "root", rootPW)
	for _, u := range []string{"ann", "bob", "cat", "dan"} {
		mustSQL(t, root, "CREATE USER "+u+" WITH PASSWORD 'pass-"+u+"-123456' ROLE user")
	}
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)")

	// Expiry: a token that lives 2 s (minted with the node's secret) ends
	// its connection when it expires, not before.
	short, exp, err := auth.NewTokenIssuer([]byte(secret), 2*time.Second).Issue("ann", auth.Role("user"), auth.TokenTypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	expiring := dialWS(t, n, &client.Client{Token: short})
	wantEnded(t, expiring, "TOKEN_EXPIRED", "expiry")
	if late := time.Since(exp); late < 0 || late > 3*time.Second {
		t.Fatalf("expiry: closed %v after the token's exp", late)
	}

	// Logout revokes every token issued before it, at ms precision: a
	// token minted just after (usually in the same second) stays valid.
	ann := login(t, n, "ann", "pass-ann-123456")
	before := dialWS(t, n, ann)
	if st, body, err := ann.Do(ctx(t), http.MethodPost, "/v1/api/auth/logout", nil, true); err != nil || st != http.StatusOK {
		t.Fatalf("logout: %d %s %v", st, body, err)
	}
	wantEnded(t, before, "AUTH_REVOKED", "logout")
	ann = login(t, n, "ann", "pass-ann-123456")
	after := dialWS(t, n, ann)
	after.subscribeAll("n", "SELECT * FROM app.notes", nil)
	// A catalog change of ann (re-checks her connections) and a janitor
	// round (1 s) must both leave the new connection open.
	mustSQL(t, root, "ALTER USER ann SET EMAIL 'ann@example.com'")
	time.Sleep(1500 * time.Millisecond)
	mustSQL(t, ann, "INSERT INTO app.notes (id, body) VALUES (1, 'still here')")
	if m := after.expectFor("n", "change"); m.ChangeType != "insert" {
		t.Fatalf("after re-login: %s", m.raw)
	}

	// DROP USER and a role change.
	bobWS := dialWS(t, n, login(t, n, "bob", "pass-bob-123456"))
	catWS := dialWS(t, n, login(t, n, "cat", "pass-cat-123456"))
	mustSQL(t, root, "DROP USER bob")
	wantEnded(t, bobWS, "AUTH_REVOKED", "drop user")
	mustSQL(t, root, "ALTER USER cat SET ROLE service")
	wantEnded(t, catWS, "AUTH_REVOKED", "role change")

	// Lockout: failed logins lock dan (in memory, no catalog change); the
	// janitor's re-check ends his connection within a second or two.
	danWS := dialWS(t, n, login(t, n, "dan", "pass-dan-123456"))
	for range 2 {
		c := client.New("http://" + n.Addr())
		if _, err := c.Login(ctx(t), "dan", "wrong-password"); err == nil {
			t.Fatal("login with a wrong password succeeded")
		}
	}
	wantEnded(t, danWS, "AUTH_REVOKED", "lockout")
	after.expectNothing(200 * time.Millisecond)
}
