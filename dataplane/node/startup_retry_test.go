package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

func TestRetryNoQuorum(t *testing.T) {
	noQuorum := fmt.Errorf("while creating the default namespace: %w",
		&kalamsql.Error{Code: kalamsql.CodeNoQuorum, Status: http.StatusServiceUnavailable, Message: "leader changed"})
	calls := 0
	err := retryNoQuorum(context.Background(), time.Minute, func() error {
		if calls++; calls < 3 {
			return noQuorum
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retried NO_QUORUM: err %v after %d calls, want success on the 3rd", err, calls)
	}
	other := errors.New("disk on fire")
	calls = 0
	if err := retryNoQuorum(context.Background(), time.Minute, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("other error: %v after %d calls, want it at once", err, calls)
	}
	calls = 0
	if err := retryNoQuorum(context.Background(), 0, func() error { calls++; return noQuorum }); err != noQuorum || calls != 1 {
		t.Fatalf("past the wait: %v after %d calls, want the NO_QUORUM back", err, calls)
	}
}
