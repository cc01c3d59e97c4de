package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// Restore batching: rows per command and, unless the request names a
// bound (backup.restore_batch_bytes), encoded bytes per command.
const (
	restoreBatchRows = 1000
	// DefaultRestoreBatchBytes bounds the rows (keys and encoded rows) a
	// restore buffers into one command.
	DefaultRestoreBatchBytes = 4 << 20
)

// Server is the running server a restore writes into. Every write goes
// through Propose (the engine's single apply path); the other methods read
// its current catalog.
type Server interface {
	engine.Proposer
	// NamespaceTables reports whether ns exists and how many tables it has.
	NamespaceTables(ns string) (exists bool, tables int)
	HasUser(id string) bool
	HasStorage(id string) bool
	// DropNamespace drops ns with all its tables and their data
	// (RESTORE ... WITH OVERWRITE, rollback).
	DropNamespace(ctx context.Context, ns string) error
	// Namespaces lists the current namespace records (read only), for
	// the rollback of interrupted restores (rollback.go).
	Namespaces() []*catalog.Namespace
	// Job reads a job record; ok is false when there is none.
	Job(id string) (j *catalog.Job, ok bool, err error)
}

// RestoreRequest is one restore (or verify) to run.
type RestoreRequest struct {
	// ID is the backup to restore; "" picks the newest completed one.
	ID string
	// Namespace restores only that namespace ("" = everything).
	Namespace string
	// Overwrite drops existing namespaces that have tables instead of
	// refusing.
	Overwrite bool
	Target    objstore.Store
	Progress  func(Progress)
	// JobID marks the namespaces being restored (Namespace.Restoring).
	JobID string
	// BatchRows and BatchBytes bound one proposed command (0 = 1000 rows,
	// DefaultRestoreBatchBytes): with the streaming merge, the rows
	// buffered by a restore. A single row larger than BatchBytes goes in a
	// command of its own.
	BatchRows, BatchBytes int
	// Stats, when set, receives the restore's memory accounting.
	Stats *RestoreStats
	// Hooks are test hooks (nil in production).
	Hooks Hooks
}

// Hooks let tests act between the steps of a restore.
type Hooks struct {
	// AfterVerify runs after the verify pass, before the first write.
	AfterVerify func(m *Manifest)
	// AfterSnapshot runs after a backup pinned its snapshot (Service).
	AfterSnapshot func()
	// AfterTable runs after each table's rows are proposed.
	AfterTable func(qualifiedName string)
}

// RestoreStats is the memory accounting of one restore.
type RestoreStats struct {
	// MaxBufferedRows is the most rows held at once (the pending batch:
	// the merge itself buffers no rows).
	MaxBufferedRows int
	// MaxBufferedBytes is the most row bytes (keys and encoded rows) held
	// at once in the pending batch.
	MaxBufferedBytes int
	// MaxOpenSegments is the most Parquet segments held at once (one
	// cluster of key-overlapping segments of a scope).
	MaxOpenSegments int
}

// ErrNoBackup reports a target without a completed backup.
var ErrNoBackup = errors.New("no completed backup")

// LoadManifest reads backup id's manifest ("" = the newest completed).
func LoadManifest(ctx context.Context, st objstore.Store, id string) (*Manifest, error) {
	if id == "" {
		ids, err := completedIDs(ctx, st)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%w in %s", ErrNoBackup, st)
		}
		id = ids[len(ids)-1]
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	key := ManifestKey(id)
	data, err := st.Get(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		if _, serr := st.Get(ctx, startedKey(id)); serr == nil {
			return nil, &ObjectError{Key: key, Err: fmt.Errorf("backup %s is not complete (no manifest)", id)}
		}
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("backup %s not found", id)}
	}
	if err != nil {
		return nil, &ObjectError{Key: key, Err: err}
	}
	m, err := DecodeManifest(key, data)
	if err != nil {
		return nil, err
	}
	if m.BackupID != id {
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("manifest names backup %q", m.BackupID)}
	}
	return m, nil
}

// completedIDs lists backups that have a manifest, oldest first (ids sort
// by time).
func completedIDs(ctx context.Context, st objstore.Store) ([]string, error) {
	list, err := st.List(ctx, backupsDir+"/")
	if err != nil {
		return nil, fmt.Errorf("while listing backups in %s: %w", st, err)
	}
	var ids []string
	for _, o := range list {
		if path.Base(o.Key) == manifestName {
			ids = append(ids, path.Base(path.Dir(o.Key)))
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Verify re-reads every object of a backup and checks sizes, checksums
// and that the catalog, row chunks and segments decode. It writes nothing.
// Row chunks are streamed; a segment is held in memory while it decodes.
func Verify(ctx context.Context, req RestoreRequest) (*Manifest, *CatalogImage, error) {
	m, err := LoadManifest(ctx, req.Target, req.ID)
	if err != nil {
		return nil, nil, err
	}
	var prog Progress
	hot := map[string]bool{}
	segs := map[string]*cold.Segment{}
	for _, t := range m.Tables {
		for _, r := range t.Hot {
			hot[r.Key] = true
		}
		for _, cs := range t.Cold {
			for i := range cs.Segments {
				segs[cs.Segments[i].Object.Key] = &cs.Segments[i].Segment
			}
		}
	}
	var img *CatalogImage
	for _, ref := range m.Objects {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		switch {
		case hot[ref.Key] && ref.Key != m.Catalog.Key:
			cs := newChunkStream(ctx, req.Target, []ObjectRef{ref})
			for {
				ok, err := cs.Next()
				if err != nil {
					return nil, nil, err
				}
				if !ok {
					break
				}
			}
			prog.Rows += cs.rows
		default:
			data, err := getVerified(ctx, req.Target, ref)
			if err != nil {
				return nil, nil, err
			}
			switch {
			case ref.Key == m.Catalog.Key:
				img = &CatalogImage{}
				if err := json.Unmarshal(data, img); err != nil {
					return nil, nil, &ObjectError{Key: ref.Key, Err: fmt.Errorf("corrupt catalog: %w", err)}
				}
			case segs[ref.Key] != nil:
				// Parquet footer plus key, _seq and _deleted columns.
				seg := *segs[ref.Key]
				if _, err := cold.Decode(ctx, &seg, data); err != nil {
					return nil, nil, &ObjectError{Key: ref.Key, Err: err}
				}
			}
		}
		prog.Files++
		prog.BytesRead += ref.Size
		if req.Progress != nil {
			req.Progress(prog)
		}
	}
	if img == nil {
		return nil, nil, &ObjectError{Key: m.Catalog.Key, Err: errors.New("catalog object is not listed in the manifest")}
	}
	return m, img, nil
}

// Restore verifies a backup completely, then recreates its storages,
// users, namespaces and tables and proposes its rows into srv. Nothing is
// written when verification or the conflict check fails. The namespaces it
// recreates are marked restoring (writes and DDL refused) until it ends;
// when it fails after its first namespace write, it rolls them back
// (rollbackNamespaces) so the server is left without a partial namespace.
// A restore a crash interrupts is rolled back at the next start
// (Service.RecoverInterrupted).
func Restore(ctx context.Context, srv Server, req RestoreRequest) (*Manifest, error) {
	m, img, err := Verify(ctx, RestoreRequest{ID: req.ID, Target: req.Target})
	if err != nil {
		return nil, err
	}
	if req.Namespace != "" {
		if m.Scope != ScopeDatabase && m.Scope != NamespaceScope(req.Namespace) {
			return nil, fmt.Errorf("backup %s has scope %s and does not contain namespace '%s'", m.BackupID, m.Scope, req.Namespace)
		}
		if !img.hasNamespace(req.Namespace) {
			return nil, fmt.Errorf("backup %s does not contain namespace '%s'", m.BackupID, req.Namespace)
		}
		img = img.filter(req.Namespace)
	}
	// Conflicts are checked before the first write.
	var drop []string
	reused := map[string]bool{}
	for _, n := range img.Namespaces {
		exists, tables := srv.NamespaceTables(n.Name)
		if exists && tables > 0 {
			if !req.Overwrite {
				return nil, fmt.Errorf("namespace '%s' already exists with %d table(s); drop it or restore WITH OVERWRITE", n.Name, tables)
			}
			drop = append(drop, n.Name)
		} else if exists {
			reused[n.Name] = true
		}
	}
	if req.Hooks.AfterVerify != nil {
		req.Hooks.AfterVerify(m)
	}
	jobID := req.JobID
	if jobID == "" {
		jobID = "restore-" + m.BackupID
	}
	r := &restorer{srv: srv, st: req.Target, m: m, report: req.Progress, batchRows: req.BatchRows, batchBytes: req.BatchBytes, stats: req.Stats}
	if r.batchRows <= 0 {
		r.batchRows = restoreBatchRows
	}
	if r.batchBytes <= 0 {
		r.batchBytes = DefaultRestoreBatchBytes
	}
	if r.stats == nil {
		r.stats = &RestoreStats{}
	}
	meta := func(cw *engine.CatalogWrite) (engine.Result, error) { return proposeMeta(ctx, srv, cw) }
	for _, s := range img.Storages {
		if srv.HasStorage(s.ID) {
			continue
		}
		if _, err := meta(&engine.CatalogWrite{Op: engine.CatCreateStorage, IfNotExists: true, Storage: s}); err != nil {
			return nil, fmt.Errorf("while restoring storage '%s': %w", s.ID, err)
		}
	}
	for _, u := range img.Users {
		if srv.HasUser(u.UserID) {
			continue
		}
		if _, err := meta(&engine.CatalogWrite{Op: engine.CatCreateUser, IfNotExists: true, User: u}); err != nil {
			return nil, fmt.Errorf("while restoring user '%s': %w", u.UserID, err)
		}
	}
	for _, ns := range drop {
		if err := srv.DropNamespace(ctx, ns); err != nil {
			return nil, fmt.Errorf("while dropping namespace '%s' to overwrite it: %w", ns, err)
		}
	}
	// From the first namespace write on, a failure rolls back the
	// namespaces marked so far (rollback.go).
	var touched []*catalog.Namespace
	fail := func(err error) (*Manifest, error) {
		done, rerr := rollbackNamespaces(context.WithoutCancel(ctx), srv, touched)
		if rerr != nil {
			return nil, fmt.Errorf("%w (rollback incomplete: %v; rolled back: %s; drop the namespaces marked restoring by hand)", err, rerr, done)
		}
		return nil, fmt.Errorf("%w (restore rolled back: %s)", err, done)
	}
	for _, n := range img.Namespaces {
		cp := *n
		// RestoreCreated tells a rollback after a crash (which has no
		// reused map) to drop the namespace rather than empty it.
		cp.Restoring, cp.RestoreCreated = jobID, !reused[n.Name]
		op := engine.CatCreateNamespace
		if reused[n.Name] {
			op = engine.CatSetNamespaceRestoring
		}
		// No IfNotExists: a namespace created by a client between the
		// conflict check and here fails the restore instead of being
		// silently shared with it.
		if _, err := meta(&engine.CatalogWrite{Op: op, Namespace: &cp}); err != nil {
			// Not touched: a rollback must not drop a namespace the
			// restore did not mark (a client's, created meanwhile).
			return fail(fmt.Errorf("while restoring namespace '%s': %w", n.Name, err))
		}
		// cp is now the stored record (the apply path rewrites it for a
		// reused namespace): what a rollback recreates, empty.
		touched = append(touched, &cp)
	}
	entries := map[string]*TableEntry{}
	for i := range m.Tables {
		entries[m.Tables[i].QualifiedName()] = &m.Tables[i]
	}
	for _, ti := range img.Tables {
		te := entries[ti.Latest.QualifiedName()]
		if te == nil {
			return fail(fmt.Errorf("backup %s: table %s has no data entry", m.BackupID, ti.Latest.QualifiedName()))
		}
		res, err := meta(&engine.CatalogWrite{Op: engine.CatRestoreTable, Table: ti.Latest, History: ti.Versions})
		if err != nil {
			return fail(fmt.Errorf("while restoring table %s: %w", ti.Latest.QualifiedName(), err))
		}
		if err := r.table(ctx, res.Table, te); err != nil {
			return fail(fmt.Errorf("while restoring rows of %s: %w", ti.Latest.QualifiedName(), err))
		}
		if req.Hooks.AfterTable != nil {
			req.Hooks.AfterTable(ti.Latest.QualifiedName())
		}
	}
	// One command unmarks every namespace: a crash leaves all of them
	// marked (rolled back at the next start) or none.
	if len(touched) > 0 {
		unmark := make([]*catalog.Namespace, len(touched))
		for i, n := range touched {
			unmark[i] = &catalog.Namespace{Name: n.Name, Restoring: jobID}
		}
		if _, err := meta(&engine.CatalogWrite{Op: engine.CatClearRestoring, Namespaces: unmark}); err != nil {
			return fail(fmt.Errorf("while clearing the restore marks of namespaces %s: %w", quoted(touched), err))
		}
	}
	// Restored tables keep their index definitions (state building); a
	// server that can build indexes rebuilds them from the restored rows.
	if ib, ok := srv.(interface{ ResumeIndexBuilds(context.Context) error }); ok {
		if err := ib.ResumeIndexBuilds(ctx); err != nil {
			return nil, fmt.Errorf("while rebuilding indexes: %w", err)
		}
	}
	return m, nil
}

// storedValue maps a segment value to the hot-tier value of a column
// kind: text kinds are strings, BYTES are []byte.
func storedValue(k datatype.Kind, v any) any {
	switch x := v.(type) {
	case []byte:
		if k != datatype.Bytes {
			return string(x)
		}
		return bytes.Clone(x)
	case string:
		if k == datatype.Bytes {
			return []byte(x)
		}
		return strings.Clone(x)
	}
	return v
}
