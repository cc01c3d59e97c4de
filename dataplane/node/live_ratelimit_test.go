package node

import (
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestLiveSharedMessageLimits: the per-user WebSocket message limit spans
// all of a user's connections and leaves other users alone; the per-IP
// limit spans every connection from one client address.
func TestLiveSharedMessageLimits(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.RateLimit.MaxWSMessagesPerUserPerSec = 5 // burst 10
	})
	_, alice, bob := setupChat(t, n)
	w1, w2 := dialWS(t, n, alice), dialWS(t, n, alice)
	// 2 x 8 pings (answered only by an error when refused): within each
	// connection's own limit, over alice's.
	for i := 0; i < 8; i++ {
		w1.send(map[string]any{"type": "ping"})
		w2.send(map[string]any{"type": "ping"})
	}
	limited := 0
	for _, w := range []*wsClient{w1, w2} {
		for {
			m, err := w.recvErr(500 * time.Millisecond)
			if err != nil {
				break
			}
			if m.Type == "error" {
				if m.Code != "RATE_LIMIT_EXCEEDED" || m.SubscriptionID != "rate_limit" || !strings.Contains(m.Message, "per user") {
					t.Fatalf("unexpected error %s", m.raw)
				}
				limited++
			}
		}
	}
	if limited == 0 {
		t.Fatal("16 messages in a burst from one user's two connections were all accepted with a per-user limit of 5/s")
	}
	// bob shares the client address but not alice's budget.
	w3 := dialWS(t, n, bob)
	for i := 0; i < 5; i++ {
		w3.send(map[string]any{"type": "ping"})
	}
	w3.expectNothing(500 * time.Millisecond) // pings are not answered; an error would be

	ip := startNodeWith(t, func(c *config.Config) {
		c.RateLimit.MaxWSMessagesPerIPPerSec = 5
	})
	_, carol, dave := setupChat(t, ip)
	w4, w5 := dialWS(t, ip, carol), dialWS(t, ip, dave)
	for i := 0; i < 8; i++ {
		w4.send(map[string]any{"type": "ping"})
		w5.send(map[string]any{"type": "ping"})
	}
	limited = 0
	for _, w := range []*wsClient{w4, w5} {
		for {
			m, err := w.recvErr(500 * time.Millisecond)
			if err != nil {
				break
			}
			if m.Type == "error" && m.Code == "RATE_LIMIT_EXCEEDED" && strings.Contains(m.Message, "client address") {
				limited++
			}
		}
	}
	if limited == 0 {
		t.Fatal("16 messages from one address were all accepted with a per-IP limit of 5/s")
	}
}
