package flush

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Job types.
const (
	JobFlush          = "flush"
	JobCompact        = "compact"
	JobStreamEviction = "stream_eviction"
)

var jobPrefix = map[string]string{JobFlush: "FL", JobCompact: "CO", JobStreamEviction: "SE"}

// ErrQueueFull is returned when too many jobs are queued.
var ErrQueueFull = errors.New("job queue is full")

type task struct {
	job   *catalog.Job
	table *catalog.Table
	// part names the Raft group of a part of parent (parts.go).
	part   string
	parent *catalog.Job
}

// Stats summarise the work of one job.
type Stats struct {
	Rows, Bytes, Segments int64
}

func (m *Manager) newJob(typ, trigger string, t *catalog.Table) *catalog.Job {
	m.mu.Lock()
	m.jobSeq++
	seq := m.jobSeq
	m.mu.Unlock()
	now := m.nowMs()
	j := &catalog.Job{ID: fmt.Sprintf("%s-%011x%04x", jobPrefix[typ], now, seq&0xffff), Type: typ,
		Status: catalog.JobQueued, CreatedAt: now, Trigger: trigger, Node: m.self()}
	if t != nil {
		j.Namespace, j.Table = t.Namespace, t.Name
	}
	return j
}

// putJob persists a job record through the meta group.
func (m *Manager) putJob(ctx context.Context, j *catalog.Job) error {
	if j.Status == catalog.JobQueued || j.Status == catalog.JobRunning {
		m.mine.Store(j.ID, struct{}{})
	} else {
		m.mine.Delete(j.ID)
	}
	cp := *j
	_, err := m.exec.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: m.nowMs(),
		Catalog: &engine.CatalogWrite{Op: engine.CatPutJob, Job: &cp}})
	return err
}

// Submit queues a flush or compaction job for table t and returns its id.
// On a replicated node an automatic job covers the scopes of the groups
// this node leads, and a manual one (STORAGE FLUSH/COMPACT) is split into
// parts run by each group's leader (parts.go).
// A table with a job of the same type already queued gets no second one:
// that job has not taken its snapshot yet, so it covers every row written
// before this call, and its id is returned. A job already running is
// answered with "" (it picks up the rows) for automatic triggers; a manual
// one (STORAGE FLUSH/COMPACT, which promises the rows written before it)
// queues a follow-up. force always queues a new job.
func (m *Manager) Submit(ctx context.Context, typ, trigger string, t *catalog.Table, force bool) (string, error) {
	if t.Type == catalog.TableStream || t.Type == catalog.TableSystem {
		return "", fmt.Errorf("%s tables are never flushed or compacted", t.Type)
	}
	if m.opts.Cluster != nil && trigger == TriggerManual {
		return m.submitParts(ctx, typ, trigger, t)
	}
	key := activeKey{t.ID, typ}
	j := m.newJob(typ, trigger, t)
	m.mu.Lock()
	if !force {
		if id := m.queued[key]; id != "" {
			m.mu.Unlock()
			return id, nil
		}
		if m.active[key] > 0 && trigger != TriggerManual {
			m.mu.Unlock()
			return "", nil
		}
	}
	m.active[key]++
	m.queued[key] = j.ID
	m.mu.Unlock()
	if err := m.putJob(ctx, j); err != nil {
		m.clearActive(key, j.ID)
		return "", err
	}
	select {
	case m.queue <- &task{job: j, table: t}:
		return j.ID, nil
	default:
		m.clearActive(key, j.ID)
		j.Status, j.Error, j.FinishedAt = catalog.JobFailed, ErrQueueFull.Error(), m.nowMs()
		_ = m.putJob(ctx, j)
		return "", ErrQueueFull
	}
}

// TriggerManual is the trigger of STORAGE FLUSH/COMPACT statements.
const TriggerManual = "manual"

// started notes that job id left the queue.
func (m *Manager) started(k activeKey, id string) {
	m.mu.Lock()
	if m.queued[k] == id {
		delete(m.queued, k)
	}
	m.mu.Unlock()
}

// clearActive notes that job id is done (or was never queued).
func (m *Manager) clearActive(k activeKey, id string) {
	m.mu.Lock()
	if m.queued[k] == id {
		delete(m.queued, k)
	}
	if m.active[k]--; m.active[k] <= 0 {
		delete(m.active, k)
	}
	m.mu.Unlock()
}

func (m *Manager) worker() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case t := <-m.queue:
			m.run(t)
		}
	}
}

// run executes one job and records its outcome.
func (m *Manager) run(t *task) {
	if t.part != "" {
		m.runPart(t)
		return
	}
	key := activeKey{t.table.ID, t.job.Type}
	defer m.clearActive(key, t.job.ID)
	m.started(key, t.job.ID)
	j := t.job
	if !m.startJob(j) {
		return
	}
	// Re-read the table: it may have been dropped or altered since queued.
	tbl, ok := m.cat.TableByID(t.table.ID)
	st, err := m.runTable(tbl, ok, t.table.QualifiedName(), j, scopeSel{})
	_ = m.finishJob(j, st, err)
}

// startJob records job j as running (false: it could not be recorded).
func (m *Manager) startJob(j *catalog.Job) bool {
	j.Status, j.StartedAt = catalog.JobRunning, m.nowMs()
	if err := m.putJob(m.ctx, j); err != nil {
		m.log.Error("job record", "job", j.ID, "err", err)
		return false
	}
	return true
}

// runTable runs flush or compaction job j over the scopes of table tbl
// that sel selects (ok false: the table, named name, was dropped).
func (m *Manager) runTable(tbl *catalog.Table, ok bool, name string, j *catalog.Job, sel scopeSel) (Stats, error) {
	switch {
	case !ok:
		return Stats{}, fmt.Errorf("table %s was dropped", name)
	case j.Type == JobCompact:
		return m.compactTable(m.ctx, tbl, j, sel)
	}
	return m.flushTable(m.ctx, tbl, j, sel)
}

// finishJob records job j's outcome (st, err) and tells the job observer.
func (m *Manager) finishJob(j *catalog.Job, st Stats, err error) error {
	j.Rows, j.Bytes, j.Segments = st.Rows, st.Bytes, st.Segments
	j.FinishedAt = m.nowMs()
	if err != nil {
		j.Status, j.Error = catalog.JobFailed, err.Error()
		m.log.Warn("cold-tier job failed", "job", j.ID, "type", j.Type, "table", j.Namespace+"."+j.Table, "err", err)
	} else {
		j.Status = catalog.JobCompleted
	}
	if fn := m.onJob.Load(); fn != nil {
		(*fn)(j)
	}
	// The final record must be written even when Close cancelled ctx.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.putJob(wctx, j); err != nil && !errors.Is(err, engine.ErrClosed) {
		m.log.Error("job record", "job", j.ID, "err", err)
		return err
	}
	return nil
}

// withRetry runs one scope step up to JobAttempts times with backoff.
func (m *Manager) withRetry(ctx context.Context, j *catalog.Job, fn func() error) error {
	backoff := m.opts.JobBackoff
	var err error
	for attempt := 1; attempt <= m.opts.JobAttempts; attempt++ {
		j.Attempts = attempt
		if err = fn(); err == nil {
			return nil
		}
		if errors.Is(err, engine.ErrClosed) || ctx.Err() != nil || attempt == m.opts.JobAttempts {
			break
		}
		m.log.Info("cold-tier step failed; retrying", "job", j.ID, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	return fmt.Errorf("after %d attempt(s): %w", j.Attempts, err)
}

// Jobs lists job records from r, newest first.
func Jobs(r pebble.Reader) ([]*catalog.Job, error) {
	var out []*catalog.Job
	err := scanCatalog(r, catalog.RecJob, func(k, v []byte) error {
		var j catalog.Job
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("corrupt job record %q: %w", k, err)
		}
		out = append(out, &j)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].CreatedAt != out[b].CreatedAt {
			return out[a].CreatedAt > out[b].CreatedAt
		}
		return out[a].ID > out[b].ID
	})
	return out, nil
}

// scanCatalog calls fn with every catalog record of type rec in r (the
// key without the type prefix, the value), stopping at its first error.
func scanCatalog(r pebble.Reader, rec byte, fn func(k, v []byte) error) error {
	p := keys.CatalogPrefix(rec)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key()[len(p):], it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// recoverJobs fails jobs a previous process (or, on a replicated node, a
// previous leader) left queued or running: their effects are either
// committed or orphaned, never half-applied, and the scheduler
// re-triggers flushes by policy. Jobs this process queued are left alone.
// On a replicated node a job is recovered by the node that owns it: its
// own node after a restart, or the meta leader for the catalog-wide jobs
// (drop and user cleanups, records without a node); parts of a split job
// are never failed — a group's leader runs them again (parts.go).
func (m *Manager) recoverJobs(ctx context.Context) error {
	jobs, err := Jobs(m.db)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if _, own := m.mine.Load(j.ID); own || !m.interrupted(j) {
			continue
		}
		j.Status, j.Error, j.FinishedAt = catalog.JobFailed, "interrupted by a server restart or a change of leader", m.nowMs()
		if err := m.putJob(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// interrupted reports whether recoverJobs on this node fails the
// unfinished job j (not one this process runs).
func (m *Manager) interrupted(j *catalog.Job) bool {
	if j.Status != catalog.JobQueued && j.Status != catalog.JobRunning {
		return false
	}
	if m.opts.Cluster == nil {
		return true
	}
	switch {
	case j.Parent != "" || len(j.Parts) > 0:
		return false
	case j.Node == m.self():
		return true
	}
	metaWork := j.Node == "" || j.Type == JobDropCleanup || j.Type == JobUserCleanup
	return metaWork && m.leads()
}

// trimJobs deletes finished job records beyond JobRetention.
func (m *Manager) trimJobs(ctx context.Context) error {
	jobs, err := Jobs(m.db)
	if err != nil {
		return err
	}
	kept := 0
	for _, j := range jobs {
		if j.Status != catalog.JobCompleted && j.Status != catalog.JobFailed {
			continue
		}
		kept++
		if kept <= m.opts.JobRetention {
			continue
		}
		if _, err := m.exec.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: m.nowMs(),
			Catalog: &engine.CatalogWrite{Op: engine.CatDeleteJob, Job: &catalog.Job{ID: j.ID}}}); err != nil {
			return err
		}
	}
	return nil
}

// JobStatus returns one job record (tests, clients polling a job).
func (m *Manager) JobStatus(id string) (*catalog.Job, error) {
	v, closer, err := m.db.Get(keys.Catalog(catalog.RecJob, id))
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	var j catalog.Job
	return &j, json.Unmarshal(v, &j)
}

// WaitJob polls a job until it finishes or ctx ends.
func (m *Manager) WaitJob(ctx context.Context, id string) (*catalog.Job, error) {
	for {
		j, err := m.JobStatus(id)
		if err == nil && (j.Status == catalog.JobCompleted || j.Status == catalog.JobFailed) {
			return j, nil
		}
		if err != nil && !errors.Is(err, pebble.ErrNotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("job %s: %w", id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func jobErrorf(scope string, err error) error {
	if scope == "" {
		return err
	}
	return fmt.Errorf("scope %s: %w", strings.TrimSpace(scope), err)
}

// FlushNow flushes every scope of t synchronously, outside the job queue
// (benchmarks, tools). It takes the same scope locks as jobs.
func (m *Manager) FlushNow(ctx context.Context, t *catalog.Table) (Stats, error) {
	return m.flushTable(ctx, t, m.newJob(JobFlush, "direct", t), scopeSel{})
}

// CompactNow compacts every scope of t synchronously.
func (m *Manager) CompactNow(ctx context.Context, t *catalog.Table) (Stats, error) {
	return m.compactTable(ctx, t, m.newJob(JobCompact, "direct", t), scopeSel{})
}
