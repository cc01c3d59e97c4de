package backup

// Rollback of a restore's namespace writes, shared by a restore that fails
// (Restore) and by the startup recovery of a restore a crash interrupted
// (Service.RecoverInterrupted).
//
// Invariants:
//   - Every change goes through the engine's command path: a namespace is
//     dropped by Server.DropNamespace (DROP NAMESPACE … CASCADE, so its
//     tables' hot rows and cold objects are deleted by drop_cleanup jobs,
//     whose pending records make them crash-safe) and recreated by a
//     CatCreateNamespace command.
//   - A namespace is only rolled back while it carries a restore's mark,
//     and the mark says how: RestoreCreated (the restore created it) →
//     dropped; otherwise (it existed, empty, before the restore marked
//     it) → dropped and recreated from its stored record, empty and
//     unmarked. Recreating after a drop is not atomic: a crash in between
//     leaves that empty namespace gone (bootstrap recreates "default").
//   - The Service runs a restore only while holding its operation slot
//     (and the server runs restores only through the Service), so while
//     recovery holds the slot no restore of this process is running and
//     every mark it finds is stale.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// proposeMeta proposes one catalog change to the meta group.
func proposeMeta(ctx context.Context, p engine.Proposer, cw *engine.CatalogWrite) (engine.Result, error) {
	return p.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: time.Now().UnixMilli(), Catalog: cw})
}

// rollbackNamespaces rolls back the namespaces a restore marked (records
// as stored, with their marks): created ones are dropped with their
// tables, ones that existed are emptied and unmarked. It goes on after a
// failed step and returns what it did ("namespaces 'app' dropped,
// namespaces 'default' emptied") and an error naming every failed step.
func rollbackNamespaces(ctx context.Context, srv Server, marked []*catalog.Namespace) (string, error) {
	var dropped, emptied, failed []string
	for _, n := range marked {
		if err := srv.DropNamespace(ctx, n.Name); err != nil {
			failed = append(failed, fmt.Sprintf("dropping '%s': %v", n.Name, err))
			continue
		}
		if n.RestoreCreated {
			dropped = append(dropped, n.Name)
			continue
		}
		cp := *n
		cp.Restoring, cp.RestoreCreated = "", false
		if _, err := proposeMeta(ctx, srv, &engine.CatalogWrite{Op: engine.CatCreateNamespace, IfNotExists: true, Namespace: &cp}); err != nil {
			failed = append(failed, fmt.Sprintf("recreating '%s' empty: %v", n.Name, err))
			continue
		}
		emptied = append(emptied, n.Name)
	}
	var done []string
	if len(dropped) > 0 {
		done = append(done, "namespaces "+quotedNames(dropped)+" dropped")
	}
	if len(emptied) > 0 {
		done = append(done, "namespaces "+quotedNames(emptied)+" emptied")
	}
	summary := strings.Join(done, ", ")
	if summary == "" {
		summary = "no namespace was written"
	}
	if len(failed) > 0 {
		return summary, errors.New(strings.Join(failed, "; "))
	}
	return summary, nil
}

// RecoverInterrupted rolls back, exactly as a failed restore would, every
// restore whose namespaces are still marked restoring although it is not
// running in this process: at startup, every restore the previous process
// was running when it stopped. Call it after the engine and the cold tier
// are up (the cold tier's start fails the jobs the previous process left
// running) and before serving. Each rolled-back restore's job record, when
// there is one (a --restore-from bootstrap restore has none), gets
// "restore rolled back at startup: …" appended to its error; the rollback
// is also logged at warn level. A namespace whose rollback fails keeps its mark (writes stay
// refused) and is retried at the next start: that is logged and recorded
// in the job, not returned, so the server still serves everything else.
// The error is only that of waiting for the operation slot.
func (s *Service) RecoverInterrupted(ctx context.Context) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	var jobs []string
	byJob := map[string][]*catalog.Namespace{}
	for _, n := range s.o.Server.Namespaces() {
		if n.Restoring == "" {
			continue
		}
		if byJob[n.Restoring] == nil {
			jobs = append(jobs, n.Restoring)
		}
		byJob[n.Restoring] = append(byJob[n.Restoring], n)
	}
	for _, id := range jobs {
		done, err := rollbackNamespaces(ctx, s.o.Server, byJob[id])
		note := "restore rolled back at startup: " + done
		if err != nil {
			note = fmt.Sprintf("rollback at startup incomplete: %v; rolled back: %s; the namespaces still marked restoring are rolled back at the next start or can be dropped by hand", err, done)
			s.o.Logger.Error("rollback of an interrupted restore incomplete", "job_id", id, "rolled_back", done, "err", err)
		} else {
			s.o.Logger.Warn("rolled back a restore interrupted by a server restart", "job_id", id, "rolled_back", done)
		}
		if err := s.noteInterrupted(ctx, id, note); err != nil {
			s.o.Logger.Error("while recording the rollback of an interrupted restore", "job_id", id, "err", err)
		}
	}
	return nil
}

// noteInterrupted appends note to the error of restore job id. The job is
// already failed ("interrupted by a server restart"): the server fails
// every job a previous process left queued or running when its cold tier
// starts, before RecoverInterrupted runs.
func (s *Service) noteInterrupted(ctx context.Context, id, note string) error {
	j, ok, err := s.o.Server.Job(id)
	if err != nil {
		return fmt.Errorf("while reading job %s: %w", id, err)
	}
	if !ok {
		return nil
	}
	if j.Error != "" {
		j.Error += "; "
	}
	j.Error += note
	if err := s.putJob(ctx, j); err != nil {
		return fmt.Errorf("while updating job %s: %w", id, err)
	}
	return nil
}

// quoted lists namespace names as 'a', 'b'.
func quoted(ns []*catalog.Namespace) string {
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Name
	}
	return quotedNames(names)
}

func quotedNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
}
