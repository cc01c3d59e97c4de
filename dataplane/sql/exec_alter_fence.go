package sql

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// An ALTER that checks existing data (SET NOT NULL; ADD COLUMN NOT NULL)
// first fences the table's writes in every data group, so that no write
// planned under the old definition can land between its check and its
// commit (engine/fence.go explains the protocol and why it is
// deterministic).
const (
	// alterFenceLease bounds how long a fence blocks writes if the ALTER
	// never lowers it (crash).
	alterFenceLease = 2 * time.Minute
	// alterFenceMargin is the least lease left when the ALTER commits: a
	// write stamped after the lease would no longer be fenced.
	alterFenceMargin = 15 * time.Second
)

// alterFence is a held write fence; the zero value holds none.
type alterFence struct {
	e       *Engine
	ctx     context.Context
	t       *catalog.Table
	untilMs int64
}

// alterChecksData reports whether s reads the table's rows to validate.
// ADD COLUMN ... NOT NULL with a non-NULL literal DEFAULT does not: every
// existing row, and every write planned before the column existed, reads
// the literal (exec_alter.go alterAdd), like a nullable ADD COLUMN.
func alterChecksData(s *parse.AlterTable) bool {
	if s.Action == parse.AlterAddColumn {
		d := s.Column.Default
		literal := d != nil && d.Func == "" && d.Literal != nil && d.Literal.Kind != parse.LitNull
		return s.Column.NotNull && !literal
	}
	return s.Action == parse.AlterSetNotNull || (s.Action == parse.AlterModifyColumn && s.Column.NotNull)
}

// fenceForAlter fences writes to t planned under its current version when
// s checks data; release must be called whatever happens next.
func (e *Engine) fenceForAlter(ctx context.Context, t *catalog.Table, s *parse.AlterTable) (*alterFence, error) {
	if !alterChecksData(s) {
		return &alterFence{}, nil
	}
	// One fencing ALTER at a time: a concurrent one lowering the fence
	// after its own failed check would reopen the race for this one.
	e.alterMu.Lock()
	f := &alterFence{e: e, ctx: context.WithoutCancel(ctx), t: t, untilMs: e.now().Add(alterFenceLease).UnixMilli()}
	if err := e.setFence(ctx, t, t.SchemaVersion+1, f.untilMs); err != nil {
		f.release(false)
		return nil, err
	}
	return f, nil
}

// checkLease refuses to commit when the fence may lapse before the commit.
func (f *alterFence) checkLease() error {
	if f.e == nil || f.e.now().UnixMilli() < f.untilMs-alterFenceMargin.Milliseconds() {
		return nil
	}
	return errf(CodeTimeout, http.StatusBadRequest, "ALTER TABLE %s: checking the data took longer than the write fence allows; retry", f.t.QualifiedName())
}

// release lowers the fence unless the new version committed (then the
// fence is exactly right and lapses on its own), and lets the next
// fencing ALTER in.
func (f *alterFence) release(committed bool) {
	if f.e == nil {
		return
	}
	defer f.e.alterMu.Unlock()
	if !committed {
		// Best effort: if this fails the fence still lapses at untilMs.
		_ = f.e.setFence(f.ctx, f.t, f.t.SchemaVersion, 0)
	}
	f.e = nil
}

// setFence proposes the fence to every data group at once (each group
// applies and fsyncs its own copy, and concurrent commits share WAL
// syncs); it returns only after every proposal finished, so on success
// every write applied before the fence in any group is durable and every
// later one is fenced.
func (e *Engine) setFence(ctx context.Context, t *catalog.Table, minVersion uint32, untilMs int64) error {
	groups := keys.AllDataGroups()
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		cmd := &engine.Command{Group: g, TimeMs: e.nowMs(), Fence: &engine.SchemaFence{Table: t.ID, MinVersion: minVersion, UntilMs: untilMs}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.exec.Propose(ctx, cmd); err != nil {
				errs[i] = fmt.Errorf("while fencing writes to %s in group %d: %w", t.QualifiedName(), g, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
