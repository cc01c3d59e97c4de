package node

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

const rootPW = "root-password-for-tests"

func testConfig(dir string) config.Config {
	cfg := config.Default()
	cfg.Server.Port = 0
	cfg.Storage.DataPath = dir
	cfg.Storage.BlockCacheSizeMB = 8
	cfg.Storage.MemtableSizeMB = 8
	cfg.Auth.RootPassword = rootPW
	cfg.Auth.BcryptCost = 4
	// Tests log many users in quickly from one address.
	cfg.RateLimit.MaxAuthRequestsPerIPPerSec = 0
	cfg.RateLimit.MaxQueriesPerSec = 0
	return cfg
}

// startNode starts an in-process server in dir.
func startNode(t *testing.T, dir string) *Node {
	t.Helper()
	return startNodeCfg(t, testConfig(dir))
}

// startNodeCfg starts an in-process server with cfg; the caller closes it.
func startNodeCfg(t *testing.T, cfg config.Config) *Node {
	t.Helper()
	n, err := Start(cfg, quietLog())
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return n
}

func login(t *testing.T, n *Node, user, pw string) *client.Client {
	t.Helper()
	c := client.New("http://" + n.Addr())
	if _, err := c.Login(ctx(t), user, pw); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// mustSQL runs statements that must succeed.
func mustSQL(t *testing.T, c *client.Client, sql string, params ...any) *client.Response {
	t.Helper()
	res, err := c.SQL(ctx(t), sql, params...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// mustRows runs a query that must succeed and returns its rows.
func mustRows(t *testing.T, c *client.Client, sql string, params ...any) [][]any {
	t.Helper()
	res := mustSQL(t, c, sql, params...)
	return res.Results[len(res.Results)-1].Rows
}

// wantCode runs sql and checks that it fails with the given code and status.
func wantCode(t *testing.T, c *client.Client, code string, status int, sql string, params ...any) {
	t.Helper()
	_, err := c.SQL(ctx(t), sql, params...)
	ae, ok := err.(*client.APIError)
	if !ok {
		t.Fatalf("%s: want error %s, got %v", sql, code, err)
	}
	if ae.Code != code || ae.HTTPStatus != status {
		t.Fatalf("%s: want %s/%d, got %s/%d: %s", sql, code, status, ae.Code, ae.HTTPStatus, ae.Message)
	}
}

// multiInsert builds one multi-row INSERT: head (ending in VALUES)
// followed by row(i) for every i in [from, to), comma separated.
func multiInsert(head string, from, to int, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(head)
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		b.WriteString(row(i))
	}
	return b.String()
}

// waitDropCleanups waits for the background cleanups of dropped tables.
func waitDropCleanups(t *testing.T, n *Node) {
	t.Helper()
	if err := n.cold.WaitDropCleanups(ctx(t), nil); err != nil {
		t.Fatal(err)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
