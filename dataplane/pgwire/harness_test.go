package pgwire_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
)

const rootPW = "root-password-for-tests"

// startNode starts an in-process server with the PostgreSQL listener on a
// free loopback port.
func startNode(t testing.TB, mod ...func(*config.Config)) *node.Node {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Host = "127.0.0.1"
	cfg.Server.Port = 0
	cfg.Storage.DataPath = t.TempDir()
	cfg.Storage.BlockCacheSizeMB = 8
	cfg.Storage.MemtableSizeMB = 8
	cfg.Auth.RootPassword = rootPW
	cfg.Auth.BcryptCost = 4
	cfg.RateLimit.MaxAuthRequestsPerIPPerSec = 0
	cfg.PostgresWire.Enabled = true
	cfg.PostgresWire.Port = 0
	for _, m := range mod {
		m(&cfg)
	}
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func dsn(n *node.Node, user, pw string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/kalamdb?sslmode=disable", user, pw, n.PostgresAddr())
}

func tctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connect(t testing.TB, n *node.Node, user, pw string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(tctx(t), dsn(n, user, pw))
	if err != nil {
		t.Fatalf("connect %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustExec(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(tctx(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
