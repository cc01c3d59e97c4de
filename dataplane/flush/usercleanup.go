package flush

// Purge of dropped users (the user_cleanup job).
//
// DROP USER is a soft delete: the record keeps deleted_at and the user's
// rows stay (unreadable: nobody can act as a dropped user) for the grace
// period, and the name cannot be reused. Afterwards a user_cleanup job,
// recorded in system.jobs, deletes the user's cold objects, then the hot
// rows of every USER/STREAM table scope (engine.UserPurge, one command in
// the user's data group), then the catalog record (engine.CatPurgeUser).
//
// Invariants:
//   - Steps run in that order and each is idempotent, so a job interrupted
//     anywhere (crash, storage error) leaves the dropped record in place
//     and the next scheduled run redoes it from the start.
//   - Each scope is purged under its scope lock, so no flush or compaction
//     of the scope commits in between.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// JobUserCleanup is the job type of dropped-user purges.
const JobUserCleanup = "user_cleanup"

func init() { jobPrefix[JobUserCleanup] = "UC" }

// Defaults of the user cleanup schedule (reference: [user_management]).
const (
	DefaultUserDeletionGrace   = 30 * 24 * time.Hour
	DefaultUserCleanupInterval = time.Hour
)

// PurgeDroppedUsers runs one user_cleanup job per user dropped at least
// grace ago. It returns the first error after trying every user.
func (m *Manager) PurgeDroppedUsers(ctx context.Context, grace time.Duration) error {
	cutoff := m.nowMs() - grace.Milliseconds()
	var first error
	for _, u := range m.cat.Users() {
		if u.DeletedAt == 0 || u.DeletedAt > cutoff {
			continue
		}
		if _, err := m.PurgeUser(ctx, u.UserID, "scheduled"); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// PurgeUser deletes every trace of the dropped user as a user_cleanup job
// and returns the job (completed or failed).
func (m *Manager) PurgeUser(ctx context.Context, userID, trigger string) (*catalog.Job, error) {
	u, ok := m.cat.User(userID)
	if !ok || u.DeletedAt == 0 {
		return nil, fmt.Errorf("user %q is not a dropped user", userID)
	}
	j := m.newJob(JobUserCleanup, trigger, nil)
	j.Scope, j.Status, j.StartedAt = userID, catalog.JobRunning, m.nowMs()
	if err := m.putJob(ctx, j); err != nil {
		return nil, err
	}
	var tables []*catalog.Table
	for _, ns := range m.cat.Namespaces() {
		for _, t := range m.cat.Tables(ns.Name) {
			if t.Type.PerUser() {
				tables = append(tables, t)
			}
		}
	}
	objs, size, err := m.purgeUserScopes(ctx, userID, tables)
	if err == nil {
		_, err = m.exec.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: m.nowMs(),
			Catalog: &engine.CatalogWrite{Op: engine.CatPurgeUser, User: &catalog.User{UserID: userID}, IfExists: true}})
	}
	j.Rows, j.Bytes, j.FinishedAt = objs, size, m.nowMs()
	if err != nil {
		j.Status, j.Error = catalog.JobFailed, err.Error()
	} else {
		j.Status = catalog.JobCompleted
		j.Message = fmt.Sprintf("purged user %s: %d table scope(s), %d cold object(s), %d byte(s)", userID, len(tables), objs, size)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if perr := m.putJob(wctx, j); perr != nil && !errors.Is(perr, engine.ErrClosed) {
		m.log.Error("job record", "job", j.ID, "err", perr)
	}
	if err != nil {
		return j, fmt.Errorf("while purging dropped user %s: %w", userID, err)
	}
	return j, nil
}

// purgeUserScopes deletes the user's cold objects and then its hot rows
// of tables, holding every scope lock across both steps.
func (m *Manager) purgeUserScopes(ctx context.Context, userID string, tables []*catalog.Table) (objs, size int64, err error) {
	ids := make([]uint32, 0, len(tables))
	for _, t := range tables {
		l := m.scopeLock(scopeID{t.ID, userID})
		l.Lock()
		defer l.Unlock()
		ids = append(ids, t.ID)
		if t.Type == catalog.TableStream {
			continue // STREAM rows are never flushed
		}
		n, b, err := m.deleteUserColdObjects(ctx, t, userID)
		objs, size = objs+n, size+b
		if err != nil {
			return objs, size, err
		}
	}
	if len(ids) == 0 {
		return objs, size, nil
	}
	_, err = m.exec.Propose(ctx, &engine.Command{Group: keys.UserGroup(userID), TimeMs: m.nowMs(),
		PurgeUser: &engine.UserPurge{UserID: userID, Tables: ids}})
	return objs, size, err
}

// deleteUserColdObjects removes the objects of the user's scope directory
// of t (in the storage its pointer names, else the table's).
func (m *Manager) deleteUserColdObjects(ctx context.Context, t *catalog.Table, userID string) (objs, size int64, err error) {
	sid, flushed, err := m.scopeStorageID(t, userID)
	if err != nil || sid == "" {
		return 0, 0, err
	}
	st, rec, err := m.Store(sid)
	if err != nil {
		if !flushed {
			return 0, 0, nil // never flushed, and its storage is gone
		}
		return 0, 0, err
	}
	dir, err := scopeDir(rec, t, userID)
	if err != nil {
		return 0, 0, err
	}
	return deletePrefix(ctx, st, dir+"/")
}
