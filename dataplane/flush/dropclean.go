package flush

// Cleanup of dropped tables (DROP TABLE, DROP NAMESPACE ... CASCADE).
//
// Invariants:
//   - The catalog drop writes a pending-cleanup record (catalog.RecDropped,
//     holding the table definition) in the same batch that removes the
//     table, so the cleanup is durable before DROP returns and is resumed
//     at startup after a crash.
//   - Cold objects are deleted before the hot rows and manifest pointers:
//     the pointers name the per-user scopes whose directories hold them.
//     Every step is idempotent, so a cleanup interrupted anywhere is
//     simply run again.
//   - The pending record is forgotten (engine.CatPurgeDropped) only after
//     every step succeeded.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// JobDropCleanup is the job type of dropped-table cleanups.
const JobDropCleanup = "drop_cleanup"

func init() { jobPrefix[JobDropCleanup] = "DC" }

// CleanupDropped deletes every trace of the dropped table t from storage —
// hot rows, manifest pointers, segment and manifest objects — as a job
// recorded in system.jobs, and returns the job (completed or failed).
func (m *Manager) CleanupDropped(ctx context.Context, t *catalog.Table, trigger string) (*catalog.Job, error) {
	return m.runDropCleanup(ctx, t, m.newJob(JobDropCleanup, trigger, t))
}

// runDropCleanup runs the drop_cleanup job j of table t.
func (m *Manager) runDropCleanup(ctx context.Context, t *catalog.Table, j *catalog.Job) (*catalog.Job, error) {
	j.Status, j.StartedAt = catalog.JobRunning, m.nowMs()
	if err := m.putJob(ctx, j); err != nil {
		return nil, err
	}
	objs, bytes, err := m.deleteColdObjects(ctx, t)
	if err == nil {
		err = PurgeHot(ctx, m.exec, t.ID, m.nowMs)
	}
	j.Rows, j.Bytes, j.FinishedAt = objs, bytes, m.nowMs()
	if err != nil {
		j.Status, j.Error = catalog.JobFailed, err.Error()
	} else {
		j.Status = catalog.JobCompleted
		j.Message = fmt.Sprintf("deleted %d cold object(s), %d byte(s), and the hot rows", objs, bytes)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if perr := m.putJob(wctx, j); perr != nil && !errors.Is(perr, engine.ErrClosed) {
		m.log.Error("job record", "job", j.ID, "err", perr)
	}
	if err != nil {
		return j, fmt.Errorf("while cleaning up dropped table %s: %w", t.QualifiedName(), err)
	}
	return j, nil
}

// PurgeHot deletes a dropped table's hot rows and manifest pointers from
// every data group, then forgets its pending-cleanup record.
func PurgeHot(ctx context.Context, p engine.Proposer, id uint32, now func() int64) error {
	for _, g := range keys.AllDataGroups() {
		cmd := &engine.Command{Group: g, TimeMs: now(), Rows: []engine.RowWrite{{Op: engine.OpDropTableData, Table: id}}}
		if _, err := p.Propose(ctx, cmd); err != nil {
			return err
		}
	}
	_, err := p.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: now(),
		Catalog: &engine.CatalogWrite{Op: engine.CatPurgeDropped, TableID: id}})
	return err
}

// deleteColdObjects removes the objects under every scope directory of t:
// the directories named by its manifest pointers, and for per-user tables
// the table-level prefix of the path template (which also catches
// segments of flushes that never committed).
func (m *Manager) deleteColdObjects(ctx context.Context, t *catalog.Table) (objs, size int64, err error) {
	users, err := m.coldScopes(t)
	if err != nil {
		return 0, 0, err
	}
	type dir struct{ storage, prefix string }
	var dirs []dir
	seen := map[dir]bool{}
	add := func(d dir) {
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	for _, u := range users {
		sid, _, err := m.scopeStorageID(t, u)
		if err != nil {
			return 0, 0, err
		}
		_, rec, err := m.Store(sid)
		if err != nil {
			return 0, 0, err
		}
		d, err := scopeDir(rec, t, u)
		if err != nil {
			return 0, 0, err
		}
		add(dir{sid, d + "/"})
	}
	if t.StorageID != "" {
		if _, rec, err := m.Store(t.StorageID); err == nil {
			if p := tablePrefix(rec, t); p != "" {
				add(dir{t.StorageID, p})
			}
		} else if len(users) > 0 {
			return 0, 0, err
		}
	}
	for _, d := range dirs {
		st, _, err := m.Store(d.storage)
		if err != nil {
			return objs, size, err
		}
		n, sz, err := deletePrefix(ctx, st, d.prefix)
		objs, size = objs+n, size+sz
		if err != nil {
			return objs, size, err
		}
	}
	m.coldTables.Delete(t.ID)
	return objs, size, nil
}

// scopeStorageID returns the storage holding the objects of t's scope of
// user: the one its cold pointer names (a table's storage may have been
// changed after the scope flushed), else the table's. flushed reports
// whether the scope has a committed manifest.
func (m *Manager) scopeStorageID(t *catalog.Table, user string) (sid string, flushed bool, err error) {
	_, key := pointerKey(t, user)
	ptr, err := engine.ReadColdPointer(m.db, key)
	if err != nil {
		return "", false, err
	}
	sid = ptr.StorageID
	if sid == "" {
		sid = t.StorageID
	}
	return sid, ptr.Manifest != "", nil
}

// deletePrefix deletes every object under prefix in st and returns how many
// objects and bytes it removed; an object already gone counts as removed, so
// a cleanup interrupted half way can simply run again.
func deletePrefix(ctx context.Context, st objstore.Store, prefix string) (objs, size int64, err error) {
	list, err := st.List(ctx, prefix)
	if err != nil {
		return 0, 0, fmt.Errorf("while listing %s: %w", prefix, err)
	}
	for _, o := range list {
		if err := st.Delete(ctx, o.Key); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			return objs, size, fmt.Errorf("while deleting %s: %w", o.Key, err)
		}
		objs++
		size += o.Size
	}
	return objs, size, nil
}

// tablePrefix is the directory holding all of t's scopes when the path
// template puts every placeholder but {userId} before it (the default
// "{namespace}/{tableName}/{userId}"), else "" (SHARED tables: their
// single scope directory is named by the pointer or the template).
func tablePrefix(rec *catalog.Storage, t *catalog.Table) string {
	tmpl := rec.UserTemplate
	if !t.Type.PerUser() {
		d, err := scopeDir(rec, t, "")
		if err != nil {
			return ""
		}
		return d + "/"
	}
	if tmpl == "" {
		tmpl = "{namespace}/{tableName}/{userId}"
	}
	i := strings.Index(tmpl, "{userId}")
	if i <= 0 || !strings.HasSuffix(tmpl[:i], "/") || !strings.Contains(tmpl[:i], "{tableName}") {
		return ""
	}
	return strings.NewReplacer("{namespace}", t.Namespace, "{tableName}", t.Name).Replace(tmpl[:i])
}
