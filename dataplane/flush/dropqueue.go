package flush

// Background drop cleanups. DROP TABLE / DROP NAMESPACE return once the
// catalog change (with its durable pending-cleanup record) is committed
// and the drop_cleanup job is queued in system.jobs; the job then runs on
// a goroutine owned by the Manager (stopped by Close; an interrupted
// cleanup is resumed at startup from the pending record).
//
// Invariant: a cleanup deletes the objects under the dropped table's
// storage directories, which are derived from its name. A table created
// under the same name while the cleanup runs would share them, so the SQL
// layer waits for the cleanup (WaitDropCleanups) before creating it, and
// refuses while a failed cleanup's record is still pending.

import (
	"context"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// dropCleanup is one running background cleanup.
type dropCleanup struct {
	t    *catalog.Table
	done chan struct{}
}

// QueueDropCleanup records a queued drop_cleanup job for the dropped
// table t and runs it in the background. It returns the queued job. On a
// replicated node that does not lead the meta group it does nothing and
// returns nil: the meta leader runs the cleanup from the table's pending
// record (resumeDrops).
func (m *Manager) QueueDropCleanup(ctx context.Context, t *catalog.Table, trigger string) (*catalog.Job, error) {
	if !m.leads() {
		return nil, nil
	}
	return m.startDropCleanup(ctx, t, trigger)
}

// startDropCleanup queues and starts the drop_cleanup job of t.
func (m *Manager) startDropCleanup(ctx context.Context, t *catalog.Table, trigger string) (*catalog.Job, error) {
	j := m.newJob(JobDropCleanup, trigger, t)
	if err := m.putJob(ctx, j); err != nil {
		return nil, err
	}
	queued := *j
	dc := &dropCleanup{t: t, done: make(chan struct{})}
	m.dropMu.Lock()
	m.dropping[t.ID] = dc
	m.dropMu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer func() {
			m.dropMu.Lock()
			delete(m.dropping, t.ID)
			m.dropMu.Unlock()
			close(dc.done)
		}()
		if _, err := m.runDropCleanup(m.ctx, t, j); err != nil {
			m.log.Error("drop cleanup", "job", j.ID, "table", t.QualifiedName(), "err", err)
		}
	}()
	return &queued, nil
}

// WaitDropCleanups waits until no background cleanup of a table for which
// match is true is running (every cleanup when match is nil). On a
// replicated node it also waits, for up to 30 s, for the pending records
// of such tables to go: the meta leader may run the cleanup elsewhere.
func (m *Manager) WaitDropCleanups(ctx context.Context, match func(t *catalog.Table) bool) error {
	if err := m.waitLocalDropCleanups(ctx, match); err != nil || m.opts.Cluster == nil {
		return err
	}
	return m.waitPendingDrops(ctx, match)
}

func (m *Manager) waitLocalDropCleanups(ctx context.Context, match func(t *catalog.Table) bool) error {
	for {
		var wait chan struct{}
		m.dropMu.Lock()
		for _, dc := range m.dropping {
			if match == nil || match(dc.t) {
				wait = dc.done
				break
			}
		}
		m.dropMu.Unlock()
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
