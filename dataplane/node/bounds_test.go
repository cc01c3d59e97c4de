package node

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// Byte bounds on the paths besides the WebSocket queues (issue 22,
// docs/configuration.md).

// TestResultBytesBound: a SELECT whose rows would hold more than
// limits.max_result_bytes fails with RESULT_TOO_LARGE (nothing is
// returned, nothing cut silently); the same rows paged fit.
func TestResultBytesBound(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Limits.MaxResultBytes = 64 << 10 })
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE b; CREATE SHARED TABLE b.docs (id BIGINT PRIMARY KEY, body TEXT)")
	body := strings.Repeat("z", 10<<10)
	for i := range 10 {
		mustSQL(t, root, "INSERT INTO b.docs (id, body) VALUES ($1, $2)", i, body)
	}
	wantCode(t, root, "RESULT_TOO_LARGE", 400, "SELECT * FROM b.docs")
	// Narrow columns and pages both fit.
	if rows := mustRows(t, root, "SELECT id FROM b.docs"); len(rows) != 10 {
		t.Fatalf("SELECT id: %d rows", len(rows))
	}
	got := 0
	for last := -1; ; {
		rows := mustRows(t, root, fmt.Sprintf("SELECT id, body FROM b.docs WHERE id > %d ORDER BY id LIMIT 5", last))
		if len(rows) == 0 {
			break
		}
		got += len(rows)
		fmt.Sscan(fmt.Sprint(rows[len(rows)-1][0]), &last)
	}
	if got != 10 {
		t.Fatalf("paged: %d rows", got)
	}
}
