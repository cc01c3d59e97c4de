package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
)

// BenchmarkLiveDispatchEq10k: one SHARED table with 10,000 subscriptions
// `WHERE room = 'r<i>'` (distinct values); each op inserts one row for a
// random room and waits until its one subscriber has the change queued.
// "indexed" uses the equality index; "unindexed" writes the same
// conditions in parentheses, which the index does not key, so every
// condition is evaluated per change (the dispatch before the index).
// BENCH_NOSYNC=1 takes the WAL fsync out of the insert cost.
func BenchmarkLiveDispatchEq10k(b *testing.B) {
	for _, mode := range []struct{ name, format string }{
		{"indexed", "SELECT * FROM lb.msgs WHERE room = 'r%d'"},
		{"unindexed", "SELECT * FROM lb.msgs WHERE (room = 'r%d')"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			const subs = 10000
			cfg := testConfig(b.TempDir())
			cfg.WebSocket.MaxSubscriptionsPerConnection = subs
			cfg.WebSocket.MaxSubscriptionsPerUser = subs
			cfg.WebSocket.QueueSize = 4 * subs
			if os.Getenv("BENCH_NOSYNC") != "" {
				cfg.Storage.SyncWrites = false
			}
			n, err := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer n.Close()
			ctx := context.Background()
			root := client.New("http://" + n.Addr())
			if _, err := root.Login(ctx, "root", rootPW); err != nil {
				b.Fatal(err)
			}
			if _, err := root.SQL(ctx, "CREATE NAMESPACE lb; CREATE SHARED TABLE lb.msgs (id BIGINT PRIMARY KEY, room TEXT, body TEXT)"); err != nil {
				b.Fatal(err)
			}
			out := live.NewOutbox(4*subs, 4*subs)
			conn, err := n.Live().Open(auth.Claims{Subject: "root", Role: auth.RoleSystem}, out)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			var frames [][]byte
			var arena []byte
			drain := func() (changes int) {
				frames, arena, _, _, _ = out.Take(frames[:0], arena)
				for _, f := range frames {
					if bytes.HasPrefix(f, []byte(`{"type":"change"`)) {
						changes++
					}
				}
				return changes
			}
			for i := range subs {
				conn.Subscribe(ctx, fmt.Sprintf("s%d", i), fmt.Sprintf(mode.format, i), live.SubscribeOptions{})
				if i%1000 == 999 {
					drain()
				}
			}
			drain()
			if got := conn.SubscriptionCount(); got != subs {
				b.Fatalf("%d subscriptions", got)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := root.SQL(ctx, "INSERT INTO lb.msgs (id, room, body) VALUES ($1, $2, 'hello')", i, fmt.Sprintf("r%d", (i*7919)%subs)); err != nil {
					b.Fatal(err)
				}
				deadline := time.After(10 * time.Second)
				for got := 0; got == 0; got = drain() {
					select {
					case <-out.Wake():
					case <-deadline:
						b.Fatal("no change delivered")
					}
				}
			}
		})
	}
}
