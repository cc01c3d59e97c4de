package sql

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// TestPlanLiveCatchesUp: on a replicated node a live subscription to a
// table this replica has not applied yet (created through another one) is
// planned after a ReadIndex on the meta group instead of failing with
// NOT_FOUND; a table that exists nowhere still fails, after one barrier.
// The barrier here "applies" the other replica's CREATE TABLE when called.
func TestPlanLiveCatchesUp(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	exec(t, e, rootSess, "CREATE NAMESPACE app")
	if _, err := e.PlanLive(ctx, rootSess, "SELECT * FROM app.late"); !isNotFound(err) {
		t.Fatalf("single node, missing table: %v, want NOT_FOUND", err)
	}
	var calls [][]uint16
	e.opts.ReadBarrier = func(_ context.Context, groups []uint16) error {
		calls = append(calls, groups)
		if len(calls) == 1 {
			barrier := e.opts.ReadBarrier
			e.opts.ReadBarrier = nil
			exec(t, e, rootSess, "CREATE SHARED TABLE app.late (id BIGINT PRIMARY KEY, v TEXT)")
			e.opts.ReadBarrier = barrier
		}
		return nil
	}
	p, err := e.PlanLive(ctx, rootSess, "SELECT * FROM app.late WHERE id > 1")
	if err != nil || p.Table.Name != "late" {
		t.Fatalf("subscription to a table applied by the barrier: %v", err)
	}
	if len(calls) != 1 || !slices.Equal(calls[0], []uint16{keys.GroupMeta}) {
		t.Fatalf("barrier calls %v, want one on the meta group", calls)
	}
	if _, err := e.PlanLive(ctx, rootSess, "SELECT * FROM app.never"); !isNotFound(err) || len(calls) != 2 {
		t.Fatalf("missing everywhere: %v after %d barriers, want NOT_FOUND after 2", err, len(calls))
	}
	// An existing table takes no barrier.
	if _, err := e.PlanLive(ctx, rootSess, "SELECT * FROM app.late"); err != nil || len(calls) != 2 {
		t.Fatalf("existing table: %v, %d barriers", err, len(calls))
	}
	// A failed barrier (no quorum) leaves the NOT_FOUND as it was.
	e.opts.ReadBarrier = func(context.Context, []uint16) error { return errors.New("no quorum") }
	if _, err := e.PlanLive(ctx, rootSess, "SELECT * FROM app.never"); !isNotFound(err) {
		t.Fatalf("failed barrier: %v, want NOT_FOUND", err)
	}
}

func isNotFound(err error) bool {
	var ke *Error
	return errors.As(err, &ke) && ke.Code == CodeNotFound
}
