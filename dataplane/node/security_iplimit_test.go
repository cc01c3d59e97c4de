package node

import (
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestSecurityRequestsPerIP: rate_limit.max_requests_per_ip_per_sec answers
// 429 RATE_LIMIT_EXCEEDED to an IP that sends too many API requests, while
// probes and /metrics stay exempt (orchestrators poll them), and a refused
// request changes nothing.
func TestSecurityRequestsPerIP(t *testing.T) {
	f := newSecFixture(t, func(c *config.Config) { c.RateLimit.MaxRequestsPerIPPerSec = 20 })
	limited := false
	for range 400 { // burst 40: far more than the fixture left

		status, body, err := f.mallory.Do(ctx(t), "POST", "/v1/api/sql", mustJSON(t, map[string]string{"sql": "DELETE FROM app.notes WHERE id = 1"}), true)
		if err != nil {
			t.Fatal(err)
		}
		if status == 429 {
			if !strings.Contains(string(body), "RATE_LIMIT_EXCEEDED") {
				t.Fatalf("429 without the code: %s", body)
			}
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("per-IP request limit never answered 429")
	}
	// The bucket is empty now; probes and scrapes still answer.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if status, _, err := f.mallory.Do(ctx(t), "GET", path, nil, false); err != nil || status != 200 {
			t.Fatalf("%s while rate limited: %d %v", path, status, err)
		}
	}
	time.Sleep(2100 * time.Millisecond) // refill before the intact check logs in
	f.intact(t)
}
