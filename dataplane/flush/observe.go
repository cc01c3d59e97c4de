package flush

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// SetJobObserver registers fn to be told about every flush or compaction
// job the worker finishes (completed or failed), with its final counters.
// It may be called while the manager runs; fn runs on the worker
// goroutine and must be cheap.
func (m *Manager) SetJobObserver(fn func(j *catalog.Job)) { m.onJob.Store(&fn) }

// FlushPending flushes, through the job queue, every table that has a
// flush policy and hot rows written since its last flush, and waits for
// the jobs until ctx ends. Graceful shutdown calls it before Close so
// tables whose policy moves data to the cold tier do not carry their
// unflushed tail across a restart. Hot rows are durable either way: a
// flush cut short by ctx leaves them hot (the commit protocol makes a
// partial flush invisible). It returns the number of tables flushed. On a
// replicated node it flushes the scopes of the groups this node leads.
func (m *Manager) FlushPending(ctx context.Context) (int, error) {
	_, mine := m.pendingByTable()
	var ids []string
	for _, t := range m.cat.Tables("") {
		if mine[t.ID] <= 0 || t.FlushPolicy == "" || t.Type == catalog.TableStream || t.Type == catalog.TableSystem {
			continue
		}
		id, err := m.Submit(ctx, JobFlush, "shutdown", t, false)
		if err != nil {
			return 0, fmt.Errorf("while queueing the shutdown flush of %s: %w", t.QualifiedName(), err)
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	var errs []error
	for _, id := range ids {
		j, err := m.WaitJob(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if j.Status == catalog.JobFailed {
			errs = append(errs, fmt.Errorf("job %s: %s", id, j.Error))
		}
	}
	return len(ids), errors.Join(errs...)
}
