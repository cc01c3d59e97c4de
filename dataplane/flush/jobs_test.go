package flush

import (
	"context"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

// acceptAll is an Executor that accepts every proposal (job records).
type acceptAll struct{}

func (acceptAll) Propose(context.Context, *engine.Command) (engine.Result, error) {
	return engine.Result{}, nil
}
func (acceptAll) AddObserver(engine.Observer) {}

// TestSubmitCoalescing: a queued job absorbs later submissions (it has not
// taken its snapshot, so it covers their rows); while a job runs, automatic
// triggers are dropped but a manual STORAGE FLUSH queues a follow-up, so the
// rows written before it are flushed when its job completes.
func TestSubmitCoalescing(t *testing.T) {
	m := &Manager{exec: acceptAll{}, now: time.Now, active: map[activeKey]int{}, queued: map[activeKey]string{},
		queue: make(chan *task, 16)}
	tbl := &catalog.Table{ID: 7, Namespace: "ns", Name: "t", Type: catalog.TableShared}
	ctx := context.Background()
	key := activeKey{tbl.ID, JobFlush}
	auto, err := m.Submit(ctx, JobFlush, "rows", tbl, false)
	if err != nil || auto == "" {
		t.Fatalf("first submit: %q, %v", auto, err)
	}
	if id, _ := m.Submit(ctx, JobFlush, TriggerManual, tbl, false); id != auto {
		t.Fatalf("manual flush while a job is queued: %q, want the queued %q", id, auto)
	}
	if id, _ := m.Submit(ctx, JobFlush, "rows", tbl, false); id != auto {
		t.Fatalf("automatic flush while a job is queued: %q, want %q", id, auto)
	}
	m.started(key, auto) // the worker takes the job
	if id, _ := m.Submit(ctx, JobFlush, "rows", tbl, false); id != "" {
		t.Fatalf("automatic flush while one runs: %q, want none", id)
	}
	manual, _ := m.Submit(ctx, JobFlush, TriggerManual, tbl, false)
	if manual == "" || manual == auto {
		t.Fatalf("manual flush while one runs: %q, want a follow-up job", manual)
	}
	if id, _ := m.Submit(ctx, JobFlush, TriggerManual, tbl, false); id != manual {
		t.Fatalf("second manual flush: %q, want the queued %q", id, manual)
	}
	if len(m.queue) != 2 {
		t.Fatalf("%d jobs queued, want 2", len(m.queue))
	}
	m.clearActive(key, auto)
	if m.active[key] != 1 || m.queued[key] != manual {
		t.Fatalf("after the first job: active %d, queued %q", m.active[key], m.queued[key])
	}
	m.started(key, manual)
	m.clearActive(key, manual)
	if len(m.active) != 0 || len(m.queued) != 0 {
		t.Fatalf("after both jobs: active %v, queued %v", m.active, m.queued)
	}
	if id, _ := m.Submit(ctx, JobCompact, TriggerManual, tbl, false); id == "" {
		t.Fatal("a compaction is not held back by flushes")
	}
}
