package node

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// TestUntilQuorum: a start-up step is retried while it fails with the
// retryable NO_QUORUM (as the SQL layer or the engine reports it), not on
// any other error, and not past the wait.
func TestUntilQuorum(t *testing.T) {
	ctx := context.Background()
	noQuorum := fmt.Errorf("while creating the default namespace: %w",
		&kalamsql.Error{Code: kalamsql.CodeNoQuorum, Message: "write on shard meta did not commit"})
	calls := 0
	err := untilQuorum(ctx, time.Minute, func(context.Context) error {
		calls++
		switch calls {
		case 1:
			return noQuorum
		case 2:
			return &engine.Error{Kind: engine.ErrNoQuorum, Msg: "no quorum", Row: -1}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want success on the 3rd", err, calls)
	}

	other := errors.New("disk full")
	calls = 0
	if err := untilQuorum(ctx, time.Minute, func(context.Context) error { calls++; return other }); !errors.Is(err, other) || calls != 1 {
		t.Fatalf("other error: %v after %d calls, want it at once", err, calls)
	}

	calls = 0
	start := time.Now()
	if err := untilQuorum(ctx, 200*time.Millisecond, func(context.Context) error { calls++; return noQuorum }); !errors.Is(err, noQuorum) {
		t.Fatalf("past the wait: %v", err)
	}
	if time.Since(start) > 5*time.Second || calls < 2 {
		t.Fatalf("gave up after %s and %d calls", time.Since(start), calls)
	}
}
