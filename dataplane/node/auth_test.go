package node

import (
	"context"
	"encoding/json"
	"testing"
)

func TestTokenLifecycle(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE USER 'dba1' WITH PASSWORD 'dba1-password' ROLE dba; CREATE USER 'carl' WITH PASSWORD 'carl-password' ROLE user`)
	dba := login(t, n, "dba1", "dba1-password")
	// A dba cannot take over root.
	wantCode(t, dba, "PERMISSION_DENIED", 403, `ALTER USER 'root' SET PASSWORD 'taken-over-1'`)
	wantCode(t, dba, "PERMISSION_DENIED", 403, `ALTER USER 'carl' SET ROLE system`)

	carl := login(t, n, "carl", "carl-password")
	// Refresh: a refresh token buys a new pair; an access token is not a refresh token.
	lr, err := carl.Login(ctx(t), "carl", "carl-password")
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := carl.Do(ctx(t), "POST", "/v1/api/auth/refresh", mustJSON(t, map[string]string{"refresh_token": lr.RefreshToken}), false)
	if status != 200 {
		t.Fatalf("refresh: %d %s", status, body)
	}
	status, _, _ = carl.Do(ctx(t), "POST", "/v1/api/auth/refresh", mustJSON(t, map[string]string{"refresh_token": lr.AccessToken}), false)
	if status != 401 {
		t.Fatalf("access token accepted as refresh token: %d", status)
	}
	// A role change revokes existing tokens.
	mustSQL(t, root, `ALTER USER 'carl' SET ROLE service`)
	if _, err := carl.SQL(context.Background(), `SELECT 1`); err == nil {
		t.Fatal("token survived a role change")
	}
	// A dropped user's name cannot be reused (its rows are retained).
	mustSQL(t, root, `DROP USER 'carl'`)
	wantCode(t, root, "ALREADY_EXISTS", 400, `CREATE USER 'carl' WITH PASSWORD 'carl-password' ROLE user`)
	status, _, _ = carl.Do(ctx(t), "POST", "/v1/api/auth/refresh", mustJSON(t, map[string]string{"refresh_token": lr.RefreshToken}), false)
	if status != 401 {
		t.Fatalf("dropped user refreshed a token: %d", status)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRootWithoutPasswordOnlyFromLocalhost(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Auth.RootPassword = ""
	n := startNodeCfg(t, cfg)
	defer n.Close()
	c := login(t, n, "root", "") // the test client connects over loopback
	mustSQL(t, c, `CREATE NAMESPACE ok`)
	if _, err := c.Login(ctx(t), "root", "guess"); err == nil {
		t.Fatal("root without a password accepted a non-empty password")
	}
}
