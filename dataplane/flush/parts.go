package flush

// The cold tier on a replicated node (Options.Cluster).
//
// Invariants:
//   - A scope is flushed and compacted only by the leader of the Raft
//     group that replicates its engine group (shared tables: the shared
//     group's leader; a user's rows: that user's group's leader), and its
//     commit is that group's command (the pointer compare-and-set), so a
//     deposed leader's commit fails and leaves only orphans. Parquet is
//     written to the shared cold storage and never copied between nodes.
//   - Objects written on a replicated node carry a fresh tag in their
//     names (cold.TaggedSegmentKey): two nodes flushing a scope at once
//     (a leader and its successor) never overwrite each other's objects.
//   - Automatic work (flush policies, automatic compaction, stream
//     eviction, the shutdown flush) is a job of each node over the groups
//     it leads at the moment it reaches each scope; the pending-row counts
//     are kept on every replica from the apply path, so a new leader sees
//     the backlog and its own policy check takes over.
//   - A STORAGE FLUSH/COMPACT is one parent job (the id the statement
//     answers) listing its parts: the Raft groups holding the table's
//     scopes. Each group's current leader runs the part for its group and
//     records it as its own job (parent id + "." + group); a part whose
//     node lost the leadership mid-way stays unfinished and the new leader
//     runs it again (every step is idempotent: the CAS makes a second
//     flush of the same rows fail or find them gone). The parent is
//     finished by the node whose part record is the last to commit in the
//     meta log: it reads the other parts after its own write applied.
//   - Catalog-wide work stays with the meta group's leader: user cleanup,
//     the janitor, dropped-table cleanups (resumed from their durable
//     pending records, so a new meta leader takes over an unfinished one)
//     and the recovery of job records left by a previous leader.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// errLeadershipLost ends a part whose node no longer leads its group: the
// part record stays unfinished for the new leader to take over.
var errLeadershipLost = errors.New("this node no longer leads the group")

// dropRetryDelay is how long a failed dropped-table cleanup waits before
// the meta leader tries it again.
const dropRetryDelay = 30 * time.Second

// scopeSel selects the scopes a job touches.
type scopeSel struct {
	// shard, when set, limits the job to the scopes of that Raft group.
	shard string
	// strict makes a selected scope of a group this node does not lead
	// end the job with errLeadershipLost; otherwise such scopes are
	// skipped (they are their leader's work).
	strict bool
}

// skipScope reports whether a job with sel leaves a scope of engine
// group g alone.
func (m *Manager) skipScope(sel scopeSel, g uint16) (bool, error) {
	if sel.shard != "" && m.shardName(g) != sel.shard {
		return true, nil
	}
	if m.leadsGroup(g) {
		return false, nil
	}
	if sel.strict {
		return true, errLeadershipLost
	}
	return true, nil
}

func (m *Manager) shardName(g uint16) string {
	if m.opts.Cluster == nil {
		return ""
	}
	return m.opts.Cluster.ShardName(g)
}

// self names this node in job records ("" on a single node).
func (m *Manager) self() string {
	if m.opts.Cluster == nil {
		return ""
	}
	return m.opts.Cluster.Self
}

// writeTag is a fresh object-name tag on a replicated node, "" otherwise.
func (m *Manager) writeTag() string {
	if m.opts.Cluster == nil {
		return ""
	}
	return fmt.Sprintf("%016x", rand.Uint64())
}

// scopeGroup is the engine group holding a scope.
func scopeGroup(id scopeID) uint16 {
	if id.user == "" {
		return keys.GroupShared
	}
	return keys.UserGroup(id.user)
}

// pendingByTable sums the pending hot rows per table: in total, and in
// the scopes of the groups this node leads.
func (m *Manager) pendingByTable() (total, mine map[uint32]int64) {
	m.mu.Lock()
	snap := make(map[scopeID]int64, len(m.pending))
	for id, n := range m.pending {
		snap[id] = n
	}
	m.mu.Unlock()
	total, mine = map[uint32]int64{}, map[uint32]int64{}
	leads := map[uint16]bool{}
	for _, g := range keys.AllDataGroups() {
		leads[g] = m.leadsGroup(g)
	}
	for id, n := range snap {
		total[id.table] += n
		if leads[scopeGroup(id)] {
			mine[id.table] += n
		}
	}
	return total, mine
}

// groupOfShard returns an engine group replicated by the Raft group
// named name (ok false: no such group).
func (m *Manager) groupOfShard(name string) (uint16, bool) {
	for _, g := range keys.AllDataGroups() {
		if m.shardName(g) == name {
			return g, true
		}
	}
	return 0, false
}

// shardsOf lists the Raft groups holding t's scopes.
func (m *Manager) shardsOf(t *catalog.Table) []string {
	if !t.Type.PerUser() {
		return []string{m.shardName(keys.GroupShared)}
	}
	var out []string
	seen := map[string]bool{}
	for _, g := range keys.AllDataGroups() {
		if g == keys.GroupShared {
			continue
		}
		if n := m.shardName(g); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// PartID is the job id of the part of job parent run for Raft group shard.
func PartID(parent, shard string) string { return parent + "." + shard }

func finished(j *catalog.Job) bool {
	return j.Status == catalog.JobCompleted || j.Status == catalog.JobFailed
}

// submitParts records a STORAGE FLUSH/COMPACT of t on a replicated node
// as a parent job with one part per Raft group holding t's scopes; the
// groups' leaders pick their parts up (dispatchParts).
func (m *Manager) submitParts(ctx context.Context, typ, trigger string, t *catalog.Table) (string, error) {
	j := m.newJob(typ, trigger, t)
	j.Parts = m.shardsOf(t)
	j.Message = "run by the leader of each group: " + strings.Join(j.Parts, ", ")
	if err := m.putJob(ctx, j); err != nil {
		return "", err
	}
	// This process does not run the parent: recovery must not fail it
	// (it is finished by its parts).
	m.mine.Delete(j.ID)
	return j.ID, nil
}

// noteJob keeps the set of unfinished parent jobs (apply path: cheap).
func (m *Manager) noteJob(j *catalog.Job) {
	if len(j.Parts) == 0 || m.opts.Cluster == nil {
		return
	}
	cp := *j
	m.mu.Lock()
	defer m.mu.Unlock()
	if finished(&cp) {
		delete(m.parents, cp.ID)
	} else {
		m.parents[cp.ID] = &cp
	}
}

// loadParents reads the unfinished parent jobs at start-up.
func (m *Manager) loadParents() error {
	if m.opts.Cluster == nil {
		return nil
	}
	jobs, err := Jobs(m.db)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		m.noteJob(j)
	}
	return nil
}

// dispatchParts queues the parts of unfinished parent jobs that belong
// to a group this node leads and that are neither finished nor running
// here: new parts, and parts a previous leader left unfinished.
func (m *Manager) dispatchParts() {
	m.mu.Lock()
	parents := make([]*catalog.Job, 0, len(m.parents))
	for _, j := range m.parents {
		parents = append(parents, j)
	}
	m.mu.Unlock()
	for _, pj := range parents {
		for _, shard := range pj.Parts {
			g, ok := m.groupOfShard(shard)
			if !ok || !m.leadsGroup(g) {
				continue
			}
			id := PartID(pj.ID, shard)
			if rec, err := m.JobStatus(id); err == nil && finished(rec) {
				continue
			}
			m.mu.Lock()
			running := m.partRunning[id]
			if !running {
				m.partRunning[id] = true
			}
			m.mu.Unlock()
			if running {
				continue
			}
			part := &catalog.Job{ID: id, Type: pj.Type, Status: catalog.JobQueued, CreatedAt: m.nowMs(), Trigger: pj.Trigger,
				Namespace: pj.Namespace, Table: pj.Table, Parent: pj.ID, Node: m.self(),
				Message: "group " + shard}
			select {
			case m.queue <- &task{job: part, part: shard, parent: pj}:
			default: // queue full: the next tick tries again
				m.mu.Lock()
				delete(m.partRunning, id)
				m.mu.Unlock()
			}
		}
	}
}

// runPart runs one part of a parent job on this group's leader.
func (m *Manager) runPart(t *task) {
	j := t.job
	defer func() {
		m.mu.Lock()
		delete(m.partRunning, j.ID)
		m.mu.Unlock()
	}()
	if !m.startJob(j) {
		return
	}
	tbl, ok := m.cat.Table(j.Namespace, j.Table)
	st, err := m.runTable(tbl, ok, j.Namespace+"."+j.Table, j, scopeSel{shard: t.part, strict: true})
	if errors.Is(err, errLeadershipLost) || m.ctx.Err() != nil {
		// Unfinished on purpose: the group's new leader (or this node
		// after a restart) runs the part again.
		m.mine.Delete(j.ID)
		m.log.Info("cold-tier job part left to the group's new leader", "job", j.ID, "err", err)
		return
	}
	if m.finishJob(j, st, err) != nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.finishParent(wctx, t.parent); err != nil {
		m.log.Warn("job record", "job", t.parent.ID, "err", err)
	}
}

// finishParent writes the parent job's outcome once every part has
// finished. Called after this node's part record applied locally, it
// sees every part record committed before it; the node whose part is
// the last one in the log therefore always finds them all finished (an
// earlier one may too: both write the same outcome).
func (m *Manager) finishParent(ctx context.Context, parent *catalog.Job) error {
	out := *parent
	out.Status, out.Error = catalog.JobCompleted, ""
	var errs []string
	var nodes []string
	for _, shard := range parent.Parts {
		p, err := m.JobStatus(PartID(parent.ID, shard))
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !finished(p) {
			return nil
		}
		if out.StartedAt == 0 || (p.StartedAt != 0 && p.StartedAt < out.StartedAt) {
			out.StartedAt = p.StartedAt
		}
		out.Rows += p.Rows
		out.Bytes += p.Bytes
		out.Segments += p.Segments
		out.Attempts = max(out.Attempts, p.Attempts)
		nodes = append(nodes, shard+"@"+p.Node)
		if p.Status == catalog.JobFailed {
			out.Status = catalog.JobFailed
			errs = append(errs, fmt.Sprintf("group %s: %s", shard, p.Error))
		}
	}
	out.Error = strings.Join(errs, "; ")
	out.FinishedAt = m.nowMs()
	out.Message = "run by each group's leader: " + strings.Join(nodes, ", ")
	return m.putJob(ctx, &out)
}

// resumeDrops runs, on the meta leader of a replicated node, the cleanup
// of every dropped table whose pending record is still there and whose
// cleanup does not run here: drops through other nodes, and cleanups a
// previous meta leader left unfinished. A failed cleanup is tried again
// after dropRetryDelay.
func (m *Manager) resumeDrops(ctx context.Context) error {
	pending, err := PendingDrops(m.db)
	if err != nil {
		return err
	}
	now := m.now()
	for _, t := range pending {
		m.dropMu.Lock()
		_, running := m.dropping[t.ID]
		retry, tried := m.dropRetry[t.ID]
		skip := running || (tried && now.Before(retry))
		if !skip {
			m.dropRetry[t.ID] = now.Add(dropRetryDelay)
		}
		m.dropMu.Unlock()
		if skip {
			continue
		}
		if t.Name == "" {
			// A record from before the definition was kept: only its hot
			// rows can be found.
			if err := PurgeHot(ctx, m.exec, t.ID, m.nowMs); err != nil {
				return err
			}
			continue
		}
		if _, err := m.startDropCleanup(ctx, t, "takeover"); err != nil {
			return err
		}
	}
	return nil
}

// PendingDrops lists the dropped tables whose cleanup has not finished
// (catalog.RecDropped records). Records from before the definition was
// kept hold only the table id (Name "").
func PendingDrops(r pebble.Reader) ([]*catalog.Table, error) {
	var pending []*catalog.Table
	err := scanCatalog(r, catalog.RecDropped, func(k, v []byte) error {
		if len(k) != 4 {
			return nil
		}
		t := &catalog.Table{}
		if len(v) > 0 && json.Unmarshal(v, t) != nil {
			t = &catalog.Table{}
		}
		t.ID = binary.BigEndian.Uint32(k)
		pending = append(pending, t)
		return nil
	})
	return pending, err
}

// waitPendingDrops waits (bounded) until no pending-cleanup record of a
// table for which match is true remains: on a replicated node the meta
// leader runs the cleanup, possibly on another node.
func (m *Manager) waitPendingDrops(ctx context.Context, match func(t *catalog.Table) bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending, err := PendingDrops(m.db)
		if err != nil {
			return err
		}
		found := false
		for _, t := range pending {
			if match == nil || match(t) {
				found = true
				break
			}
		}
		if !found || time.Now().After(deadline) {
			return nil // the caller reports a record still pending
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
