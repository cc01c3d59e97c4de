package chaos

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestNoQuorum: a node that lost its quorum refuses writes and
// linearizable reads with a retryable NO_QUORUM (HTTP 503) within the
// proposal timeout instead of hanging, still serves explicitly stale
// reads, and accepts writes again once a quorum is back.
func TestNoQuorum(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	cl, err := c.login(c.procs[0], 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE SHARED TABLE default.q (k INT PRIMARY KEY, v INT)",
		"INSERT INTO default.q (k, v) VALUES (1, 1)",
	} {
		if _, err := cl.SQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c.kill(c.procs[1])
	c.kill(c.procs[2])

	const bound = 2*time.Second + 3*time.Second // proposal_timeout_ms + slack on a loaded machine
	for _, q := range []string{"INSERT INTO default.q (k, v) VALUES (2, 2)", "SELECT v FROM default.q WHERE k = 1"} {
		start := time.Now()
		_, err := cl.SQL(ctx, q)
		took := time.Since(start)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.HTTPStatus != http.StatusServiceUnavailable || ae.Code != "NO_QUORUM" {
			t.Fatalf("%s without quorum: %v, want 503 NO_QUORUM", q, err)
		}
		if took > bound {
			t.Fatalf("%s took %s to fail, bound %s", q, took, bound)
		}
		t.Logf("%s failed with NO_QUORUM after %s", q, took.Round(time.Millisecond))
	}
	code, body, err := cl.Do(ctx, http.MethodPost, "/v1/api/sql", []byte(`{"sql":"SELECT v FROM default.q WHERE k = 1","consistency":"stale"}`), true)
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), `"rows":[[1]]`) {
		t.Fatalf("stale read without quorum: %d %s %v", code, body, err)
	}
	code, body, _ = cl.Do(ctx, http.MethodPost, "/v1/api/sql", []byte(`{"sql":"SELECT 1","consistency":"sometimes"}`), true)
	if code != http.StatusBadRequest {
		t.Fatalf("bad consistency value: %d %s", code, body)
	}

	c.start(c.procs[1])
	c.waitReady(c.procs[1], 120*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cl.SQL(ctx, "INSERT INTO default.q (k, v) VALUES (3, 3)")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not resume with a quorum back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows, err := cl.Rows(ctx, "SELECT k FROM default.q ORDER BY k")
	if err != nil || len(rows) < 2 {
		t.Fatalf("rows after recovery: %v %v", rows, err)
	}
}
