package node

import (
	"context"
	"time"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// Start-up writes on a replicated node (the default namespace, the local
// storage, configured storages, the root user) go through Raft. While the
// cluster is electing a leader — several nodes starting at once, or a
// leader change under load — such a write can fail with the retryable
// NO_QUORUM (a timeout, or no commit within the grace after a new
// leader's election). Every start-up step is idempotent (IF NOT EXISTS,
// ensure-style), so the node retries it until startupQuorumWait passes
// instead of exiting: a starting replica waits for a quorum.

// startupQuorumWait bounds how long a start-up step is retried on
// NO_QUORUM before the node gives up (and its supervisor restarts it).
const startupQuorumWait = 60 * time.Second

// untilQuorum runs step until it succeeds, fails with anything other than
// NO_QUORUM, ctx ends or wait has passed; it returns step's last error.
func untilQuorum(ctx context.Context, wait time.Duration, step func(context.Context) error) error {
	deadline := time.Now().Add(wait)
	pause := 50 * time.Millisecond
	for {
		err := step(ctx)
		if err == nil || kalamsql.AsError(err).Code != kalamsql.CodeNoQuorum || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}
