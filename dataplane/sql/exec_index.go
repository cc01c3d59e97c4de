package sql

// CREATE INDEX / DROP INDEX and the index build job.
//
// Protocol (engine/index.go holds the apply side):
//  1. The meta group records the index as building (CatCreateIndex).
//  2. Every data group installs the table's index set; from then on every
//     write of the table in that group maintains the index in its batch.
//  3. A build job (system.jobs, type index_build) reads the table's rows
//     in a snapshot taken after step 2 and proposes their keys in chunks;
//     apply writes the entry for each row's *current* value, so rows
//     changed meanwhile are right whichever command lands first.
//  4. Every data group marks the index ready, then the meta group does.
//     Readers use an index only when their snapshot's data-group record
//     says ready, so a half-built index is never read.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// indexBackfillChunk is how many row keys one backfill command carries.
const indexBackfillChunk = 1000

// JobIndexBuild is the system.jobs type of an index build.
const JobIndexBuild = "index_build"

func (e *Engine) execCreateIndex(ctx context.Context, sess *Session, s *parse.CreateIndex) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	if t.Type == catalog.TableSystem || t.Type == catalog.TableStream {
		// STREAM rows expire by TTL and are read by time, not by value.
		return nil, badRequest(CodeInvalidSQL, "%s tables cannot be indexed", t.Type)
	}
	if !canCreate(sess.Role, t.Type) {
		return nil, denied("permission denied: role %s cannot create indexes on %s tables", sess.Role, t.Type)
	}
	ci := t.ColumnIndex(s.Column)
	if ci < 0 {
		return nil, notFound("column '%s' not found in table '%s'", s.Column, t.QualifiedName())
	}
	col := t.Columns[ci]
	if col.PrimaryKey {
		return nil, badRequest(CodeInvalidInput, "column '%s' is the primary key, which is already indexed", col.Name)
	}
	if !indexable(col.Type) {
		return nil, badRequest(CodeInvalidInput, "columns of type %s cannot be indexed", col.Type.String())
	}
	e.indexMu.Lock()
	defer e.indexMu.Unlock()
	res, err := e.proposeIndexCatalog(ctx, &engine.CatalogWrite{Op: engine.CatCreateIndex, IfNotExists: s.IfNotExists,
		Table: &catalog.Table{ID: t.ID, Namespace: t.Namespace, Name: t.Name},
		Index: &catalog.Index{Name: s.Name, ColumnID: col.ID}})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("Index '%s' already exists", s.Name)}, nil
	}
	ix := res.Table.IndexNamed(s.Name)
	if ix == nil {
		return nil, fmt.Errorf("index %s missing after create", s.Name)
	}
	n, err := e.buildIndex(ctx, res.Table, *ix, "create")
	if err != nil {
		// Leave nothing half-built behind: the index was never usable.
		_, _ = e.dropIndexLocked(context.WithoutCancel(ctx), res.Table, s.Name, true)
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Index '%s' created on %s(%s), %d rows indexed", s.Name, t.QualifiedName(), col.Name, n)}, nil
}

// proposeIndexCatalog commits an index catalog change and mirrors it into
// the cache (the executor installs table definitions only for table DDL).
func (e *Engine) proposeIndexCatalog(ctx context.Context, cw *engine.CatalogWrite) (engine.Result, error) {
	res, err := e.proposeCatalog(ctx, cw)
	if err == nil && res.Table != nil && !res.Skipped {
		e.cat.SetTableIndexes(res.Table)
	}
	return res, err
}

// indexable reports whether values of type t can be index keys.
func indexable(t datatype.Type) bool {
	switch t.Kind {
	case datatype.Text, datatype.UUID, datatype.Boolean:
		return true
	}
	return t.IsInteger()
}

// indexSetOf is the data-group view of t's indexes.
func indexSetOf(t *catalog.Table, readyID uint32) *engine.IndexSetRecord {
	set := &engine.IndexSetRecord{PerUser: t.Type.PerUser(), Indexes: []engine.IndexSpec{}}
	for _, ix := range t.Indexes {
		set.Indexes = append(set.Indexes, engine.IndexSpec{ID: ix.ID, ColumnID: ix.ColumnID,
			Ready: ix.State == catalog.IndexReady || ix.ID == readyID})
	}
	return set
}

// proposeIndexSet installs set (and drops the entries of dropIDs) in every
// data group.
func (e *Engine) proposeIndexSet(ctx context.Context, t *catalog.Table, set *engine.IndexSetRecord, dropIDs []uint32) error {
	for _, g := range keys.AllDataGroups() {
		cmd := &engine.Command{Group: g, TimeMs: e.nowMs(), Index: &engine.IndexCommand{Table: t.ID, Set: set, DropIDs: dropIDs}}
		if _, err := e.exec.Propose(ctx, cmd); err != nil {
			return fmt.Errorf("while installing the indexes of %s in group %d: %w", t.QualifiedName(), g, err)
		}
	}
	return nil
}

// buildIndex runs the build job of index ix of t (state building) and
// marks it ready. The caller holds indexMu.
func (e *Engine) buildIndex(ctx context.Context, t *catalog.Table, ix catalog.Index, trigger string) (int64, error) {
	now := e.nowMs()
	job := &catalog.Job{ID: fmt.Sprintf("IX-%011x%04x", now, ix.ID&0xffff), Type: JobIndexBuild, Status: catalog.JobRunning,
		Namespace: t.Namespace, Table: t.Name, CreatedAt: now, StartedAt: now, Trigger: trigger, Message: "index " + ix.Name}
	putJob := func() {
		cp := *job
		_, _ = e.exec.Propose(context.WithoutCancel(ctx), &engine.Command{Group: keys.GroupMeta, TimeMs: e.nowMs(),
			Catalog: &engine.CatalogWrite{Op: engine.CatPutJob, Job: &cp}})
	}
	putJob()
	n, err := e.backfillIndex(ctx, t, ix)
	job.Rows, job.FinishedAt = n, e.nowMs()
	if err != nil {
		job.Status, job.Error = catalog.JobFailed, err.Error()
		putJob()
		return n, err
	}
	job.Status = catalog.JobCompleted
	putJob()
	return n, nil
}

func (e *Engine) backfillIndex(ctx context.Context, t *catalog.Table, ix catalog.Index) (int64, error) {
	if err := e.proposeIndexSet(ctx, t, indexSetOf(t, 0), nil); err != nil {
		return 0, err
	}
	// Every group applied the set: writes from now on maintain the index,
	// so the snapshot's rows are all that can lack entries.
	snap := e.db.NewSnapshot()
	defer snap.Close()
	var total int64
	for _, g := range keys.AllDataGroups() {
		prefix := keys.TablePrefix(g, t.ID)
		it, err := snap.NewIter(nil)
		if err != nil {
			return total, err
		}
		var batch [][]byte
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, err := e.exec.Propose(ctx, &engine.Command{Group: g, TimeMs: e.nowMs(),
				Index: &engine.IndexCommand{Table: t.ID, BackfillID: ix.ID, Keys: batch}})
			total += int64(len(batch))
			batch = nil
			if err != nil {
				return fmt.Errorf("while building index %s in group %d: %w", ix.Name, g, err)
			}
			return nil
		}
		upper := keys.PrefixEnd(prefix)
		for ok := it.SeekGE(prefix); ok && string(it.Key()) < string(upper); ok = it.Next() {
			if h, err := rowcodec.ReadHeader(it.Value()); err != nil || h.Deleted {
				continue
			}
			batch = append(batch, append([]byte(nil), it.Key()...))
			if len(batch) >= indexBackfillChunk {
				if err := flush(); err != nil {
					it.Close()
					return total, err
				}
			}
		}
		err = errors.Join(it.Error(), flush())
		it.Close()
		if err != nil {
			return total, err
		}
	}
	if err := e.proposeIndexSet(ctx, t, indexSetOf(t, ix.ID), nil); err != nil {
		return total, err
	}
	_, err := e.proposeIndexCatalog(ctx, &engine.CatalogWrite{Op: engine.CatSetIndexState,
		Table: &catalog.Table{ID: t.ID, Namespace: t.Namespace, Name: t.Name},
		Index: &catalog.Index{ID: ix.ID, State: catalog.IndexReady}})
	return total, err
}

// findIndex returns the table of namespace ns holding index name.
func (e *Engine) findIndex(ns, name string) *catalog.Table {
	for _, t := range e.cat.Tables(ns) {
		if t.IndexNamed(name) != nil {
			return t
		}
	}
	return nil
}

func (e *Engine) execDropIndex(ctx context.Context, sess *Session, s *parse.DropIndex) (*Result, error) {
	ns := s.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	e.indexMu.Lock()
	defer e.indexMu.Unlock()
	t := e.findIndex(ns, s.Name)
	if t == nil {
		if s.IfExists {
			return &Result{Message: fmt.Sprintf("Index '%s.%s' does not exist", ns, s.Name)}, nil
		}
		return nil, notFound("index '%s.%s' not found", ns, s.Name)
	}
	if !canCreate(sess.Role, t.Type) {
		return nil, denied("permission denied: role %s cannot drop indexes on %s tables", sess.Role, t.Type)
	}
	if _, err := e.dropIndexLocked(ctx, t, s.Name, s.IfExists); err != nil {
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Index '%s.%s' dropped", ns, s.Name)}, nil
}

// dropIndexLocked removes index name of t from the catalog, then from
// every data group (readers stop planning it first). Caller holds indexMu.
func (e *Engine) dropIndexLocked(ctx context.Context, t *catalog.Table, name string, ifExists bool) (bool, error) {
	ix := t.IndexNamed(name)
	if ix == nil {
		return false, nil
	}
	id := ix.ID
	res, err := e.proposeIndexCatalog(ctx, &engine.CatalogWrite{Op: engine.CatDropIndex, IfExists: ifExists,
		Table: &catalog.Table{ID: t.ID, Namespace: t.Namespace, Name: t.Name}, Index: &catalog.Index{Name: name}})
	if err != nil || res.Skipped {
		return false, err
	}
	return true, e.proposeIndexSet(ctx, res.Table, indexSetOf(res.Table, 0), []uint32{id})
}

// ResumeIndexBuilds builds every index left in state building: by a crash
// during CREATE INDEX, or by a restore (restored tables keep their index
// definitions, but not their entries). Call at startup and after a restore.
func (e *Engine) ResumeIndexBuilds(ctx context.Context) error {
	e.indexMu.Lock()
	defer e.indexMu.Unlock()
	var errs []error
	for _, t := range e.cat.Tables("") {
		for _, ix := range t.Indexes {
			if ix.State == catalog.IndexReady {
				continue
			}
			cur, ok := e.cat.Table(t.Namespace, t.Name)
			if !ok {
				break
			}
			if _, err := e.buildIndex(ctx, cur, ix, "resume"); err != nil {
				errs = append(errs, fmt.Errorf("index %s.%s: %w", t.Namespace, ix.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func init() {
	systemViews["indexes"] = &systemView{
		columns: []viewColumn{col("namespace_id", datatype.Text), col("index_name", datatype.Text), col("table_name", datatype.Text),
			col("column_name", datatype.Text), col("index_id", datatype.Int), col("column_id", datatype.Int),
			col("state", datatype.Text), col("created_at", datatype.Timestamp), col("table_id", datatype.BigInt)},
		rows: func(cs *connState) ([][]any, error) {
			var out [][]any
			for _, t := range cs.eng.cat.Tables("") {
				for _, ix := range t.Indexes {
					colName := ""
					if c := t.ColumnByID(ix.ColumnID); c != nil {
						colName = c.Name
					}
					out = append(out, []any{t.Namespace, ix.Name, t.Name, colName, int64(ix.ID), int64(ix.ColumnID),
						ix.State, ix.CreatedAt * 1000, int64(t.ID)})
				}
			}
			return out, nil
		},
	}
}

// columnIndexNames returns the names of the indexes on column id of t,
// comma-separated (nil: none) for DESCRIBE TABLE.
func columnIndexNames(t *catalog.Table, id uint32) any {
	var names []string
	for _, ix := range t.Indexes {
		if ix.ColumnID == id {
			names = append(names, ix.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return strings.Join(names, ",")
}
