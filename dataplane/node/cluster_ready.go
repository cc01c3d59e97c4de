package node

import (
	"context"
	"time"
)

// caughtUpTimeout bounds the readiness check of a clustered node, well
// under the probe's 5 s timeout (the operator's pods use timeoutSeconds 5).
const caughtUpTimeout = 2 * time.Second

// registerCaughtUp makes /readyz of a clustered node require that it has
// applied every group's log up to its leader's commit index
// (replication.Host.CaughtUp): a restarted pod enters its Service, and
// the operator moves on to the next pod of a rolling update, only once it
// is current. A single node has no such check.
func (n *Node) registerCaughtUp() {
	if n.repl == nil {
		return
	}
	n.srv.SetReadyCheck(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), caughtUpTimeout)
		defer cancel()
		return n.repl.CaughtUp(ctx)
	})
}
