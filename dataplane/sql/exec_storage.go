package sql

// Executors of the cold-tier statements (CREATE/ALTER/DROP STORAGE, SHOW
// STORAGES, STORAGE CHECK/FLUSH/COMPACT) and the system.storages and
// system.jobs views.

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// SetColdTier connects the cold tier (flush manager). Without it every
// table is hot-only and storage statements fail.
func (e *Engine) SetColdTier(m *flush.Manager) { e.cold = m }

func (e *Engine) needCold() error {
	if e.cold == nil {
		return badRequest(CodeInvalidSQL, "the cold tier is not enabled on this server")
	}
	return nil
}

func init() {
	systemViews["storages"] = &systemView{
		columns: []viewColumn{col("storage_id", datatype.Text), col("storage_name", datatype.Text), col("description", datatype.Text),
			col("storage_type", datatype.Text), col("base_directory", datatype.Text), col("bucket", datatype.Text), col("region", datatype.Text),
			col("shared_tables_template", datatype.Text), col("user_tables_template", datatype.Text), col("config", datatype.JSON),
			col("has_credentials", datatype.Boolean), col("created_at", datatype.Timestamp), col("updated_at", datatype.Timestamp)},
		rows: func(cs *connState) ([][]any, error) {
			list, err := flush.Storages(cs.snap)
			if err != nil {
				return nil, err
			}
			out := make([][]any, 0, len(list))
			for _, s := range list {
				out = append(out, cs.eng.storageRow(s))
			}
			return out, nil
		},
	}
	systemViews["jobs"] = &systemView{
		columns: []viewColumn{col("job_id", datatype.Text), col("job_type", datatype.Text), col("status", datatype.Text),
			col("namespace_id", datatype.Text), col("table_name", datatype.Text), col("trigger", datatype.Text),
			col("created_at", datatype.Timestamp), col("started_at", datatype.Timestamp), col("finished_at", datatype.Timestamp),
			col("duration_ms", datatype.BigInt), col("attempts", datatype.Int), col("rows_affected", datatype.BigInt),
			col("bytes_written", datatype.BigInt), col("segments_written", datatype.BigInt), col("error_message", datatype.Text),
			col("message", datatype.Text)},
		rows: func(cs *connState) ([][]any, error) {
			jobs, err := flush.Jobs(cs.snap)
			if err != nil {
				return nil, err
			}
			out := make([][]any, 0, len(jobs))
			for _, j := range jobs {
				var started, finished, dur any
				if j.StartedAt != 0 {
					started = j.StartedAt * 1000
				}
				if j.FinishedAt != 0 {
					finished = j.FinishedAt * 1000
					if j.StartedAt != 0 {
						dur = j.FinishedAt - j.StartedAt
					}
				}
				out = append(out, []any{j.ID, j.Type, j.Status, nullIfEmpty(j.Namespace), nullIfEmpty(j.Table), nullIfEmpty(j.Trigger),
					j.CreatedAt * 1000, started, finished, dur, int64(j.Attempts), j.Rows, j.Bytes, j.Segments, nullIfEmpty(j.Error),
					withNode(jobMessage(j), j.Node)})
			}
			return out, nil
		},
	}
}

// storageRow is a storage's system.storages row. A filesystem storage
// shows the directory it writes under (the built-in 'local' storage's is
// the server's, as the original shows it), not an empty BASE_DIRECTORY.
func (e *Engine) storageRow(s *catalog.Storage) []any {
	base := s.BaseDirectory
	if s.Type == "filesystem" && e.cold != nil {
		base = e.cold.FilesystemBase(s)
	}
	return []any{s.ID, nullIfEmpty(s.Name), nullIfEmpty(s.Description), s.Type, nullIfEmpty(base), nullIfEmpty(s.Bucket),
		nullIfEmpty(s.Region), s.SharedTemplate, s.UserTemplate, nullIfEmpty(s.Config), s.Credentials != "", s.CreatedAt * 1000, s.UpdatedAt * 1000}
}

func (e *Engine) execStorage(ctx context.Context, sess *Session, st parse.Statement) (*Result, error) {
	if err := e.needCold(); err != nil {
		return nil, err
	}
	switch s := st.(type) {
	case *parse.CreateStorage:
		return e.execCreateStorage(ctx, sess, s)
	case *parse.AlterStorage:
		return e.execAlterStorage(ctx, sess, s)
	case *parse.DropStorage:
		if err := requireAdmin(sess, "DROP STORAGE"); err != nil {
			return nil, err
		}
		if err := e.checkConfigStorage(s.ID, "DROP STORAGE"); err != nil {
			return nil, err
		}
		// Background cleanups of dropped tables still need the storage
		// to delete their objects.
		if err := e.cold.WaitDropCleanups(ctx, func(t *catalog.Table) bool { return t.StorageID == s.ID }); err != nil {
			return nil, fmt.Errorf("while waiting for dropped tables' cleanups: %w", err)
		}
		res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatDropStorage, IfExists: s.IfExists, Storage: &catalog.Storage{ID: s.ID}})
		if err != nil {
			return nil, err
		}
		if res.Skipped {
			return &Result{Message: fmt.Sprintf("Storage '%s' does not exist", s.ID)}, nil
		}
		return &Result{RowCount: 1, Message: fmt.Sprintf("Storage '%s' dropped", s.ID)}, nil
	case *parse.ShowStorages:
		// Every role may list storages, as in the original (its smoke
		// test smoke_show_storages_user_access): a row holds no secret
		// (credentials show only as has_credentials).
		list, err := flush.Storages(e.db)
		if err != nil {
			return nil, err
		}
		res := &Result{}
		for i, c := range systemViews["storages"].columns {
			res.Schema = append(res.Schema, Field{c.name, c.typ.String(), i})
		}
		for _, s := range list {
			res.Rows = append(res.Rows, e.storageRow(s))
		}
		res.RowCount = len(res.Rows)
		return res, nil
	case *parse.StorageCheck:
		return e.execStorageCheck(ctx, sess, s)
	case *parse.StorageJob:
		return e.execStorageJob(ctx, sess, s)
	}
	return nil, badRequest(CodeInvalidSQL, "unsupported storage statement")
}

func (e *Engine) execCreateStorage(ctx context.Context, sess *Session, s *parse.CreateStorage) (*Result, error) {
	if err := requireAdmin(sess, "CREATE STORAGE"); err != nil {
		return nil, err
	}
	now := e.nowMs()
	rec := &catalog.Storage{ID: s.ID, Type: s.Type, CreatedAt: now, UpdatedAt: now}
	if err := setStorageOptions(rec, s.Options, true); err != nil {
		return nil, err
	}
	if err := splitS3URL(rec); err != nil {
		return nil, err
	}
	if rec.Type == "s3" && rec.Bucket == "" {
		return nil, badRequest(CodeInvalidInput, "s3 storages need BUCKET (or BASE_DIRECTORY 's3://bucket/prefix')")
	}
	if err := e.cold.ValidateStorage(rec); err != nil {
		return nil, badRequest(CodeInvalidInput, "storage '%s': %v", s.ID, err)
	}
	// The built-in 'local' storage is registered at every start-up; a
	// table on it is what is refused (checkTableStorage).
	if s.ID != "local" {
		if err := e.refuseNodeLocal("storage", s.ID, s.ID, rec.Type); err != nil {
			return nil, err
		}
	}
	res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatCreateStorage, IfNotExists: s.IfNotExists, Storage: rec})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("Storage '%s' already exists", s.ID)}, nil
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Storage '%s' created", s.ID)}, nil
}

// setStorageOptions copies statement options into rec. Options that would
// move existing data (type, base directory, bucket, region) can only be
// set at creation.
func setStorageOptions(rec *catalog.Storage, opts map[string]string, create bool) error {
	for k, v := range opts {
		switch k {
		case "NAME":
			rec.Name = v
		case "DESCRIPTION":
			rec.Description = v
		case "SHARED_TABLES_TEMPLATE":
			rec.SharedTemplate = v
		case "USER_TABLES_TEMPLATE":
			rec.UserTemplate = v
		case "CREDENTIALS":
			rec.Credentials = v
		case "CONFIG":
			rec.Config = v
		case "BASE_DIRECTORY", "BUCKET", "REGION":
			if !create {
				return badRequest(CodeInvalidInput, "%s cannot be changed: existing segments would become unreachable; create a new storage instead", k)
			}
			switch k {
			case "BASE_DIRECTORY":
				rec.BaseDirectory = v
			case "BUCKET":
				rec.Bucket = v
			default:
				rec.Region = v
			}
		default:
			return badRequest(CodeInvalidInput, "unknown storage option %s", k)
		}
	}
	return nil
}

func (e *Engine) execAlterStorage(ctx context.Context, sess *Session, s *parse.AlterStorage) (*Result, error) {
	if err := requireAdmin(sess, "ALTER STORAGE"); err != nil {
		return nil, err
	}
	if err := e.checkConfigStorage(s.ID, "ALTER STORAGE"); err != nil {
		return nil, err
	}
	_, cur, err := e.cold.Store(s.ID)
	if err != nil {
		return nil, notFound("storage '%s' not found", s.ID)
	}
	rec := *cur
	if err := setStorageOptions(&rec, s.Set, false); err != nil {
		return nil, err
	}
	rec.UpdatedAt = max(e.nowMs(), cur.UpdatedAt+1)
	if err := e.cold.ValidateStorage(&rec); err != nil {
		return nil, badRequest(CodeInvalidInput, "storage '%s': %v", s.ID, err)
	}
	if _, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatAlterStorage, Storage: &rec}); err != nil {
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Storage '%s' altered", s.ID)}, nil
}

func (e *Engine) execStorageCheck(ctx context.Context, sess *Session, s *parse.StorageCheck) (*Result, error) {
	if err := requireAdmin(sess, "STORAGE CHECK"); err != nil {
		return nil, err
	}
	r, err := e.cold.CheckStorage(ctx, s.ID)
	if err != nil {
		return nil, notFound("%v", err)
	}
	status, msg := "healthy", any(nil)
	if r.Err != nil {
		status, msg = "unhealthy", r.Err.Error()
	}
	var total, used any
	if s.Extended {
		total, used = e.storageCapacity(s.ID)
	}
	return &Result{
		Schema: []Field{{"storage_id", "TEXT", 0}, {"status", "TEXT", 1}, {"readable", "BOOLEAN", 2}, {"writable", "BOOLEAN", 3},
			{"listable", "BOOLEAN", 4}, {"deletable", "BOOLEAN", 5}, {"latency_ms", "BIGINT", 6}, {"total_bytes", "BIGINT", 7},
			{"used_bytes", "BIGINT", 8}, {"error", "TEXT", 9}, {"tested_at", "TIMESTAMP", 10}},
		Rows:     [][]any{{s.ID, status, r.Readable, r.Writable, r.Listable, r.Deletable, r.Latency.Milliseconds(), total, used, msg, e.nowMs() * 1000}},
		RowCount: 1,
	}, nil
}

// canRunJobs: STORAGE FLUSH/COMPACT are for system, dba and service.
func canRunJobs(role auth.Role) bool {
	return role == auth.RoleSystem || role == auth.RoleDBA || role == auth.RoleService
}

func (e *Engine) execStorageJob(ctx context.Context, sess *Session, s *parse.StorageJob) (*Result, error) {
	if !canRunJobs(sess.Role) {
		return nil, denied("permission denied: STORAGE %s requires the system, dba or service role", s.Verb)
	}
	typ := flush.JobFlush
	if s.Verb == "compact" {
		typ = flush.JobCompact
	}
	var tables []*catalog.Table
	if s.All {
		if s.Namespace != "" {
			if _, ok := e.cat.Namespace(s.Namespace); !ok {
				return nil, notFound("namespace '%s' not found", s.Namespace)
			}
		}
		for _, t := range e.cat.Tables(s.Namespace) {
			if t.Type == catalog.TableUser || t.Type == catalog.TableShared {
				tables = append(tables, t)
			}
		}
	} else {
		t, err := e.resolveTable(sess, s.Table)
		if err != nil {
			return nil, err
		}
		if t.Type != catalog.TableUser && t.Type != catalog.TableShared {
			return nil, badRequest(CodeInvalidSQL, "STORAGE %s is not supported for %s tables (they are never flushed)", s.Verb, t.Type)
		}
		tables = append(tables, t)
	}
	res := &Result{Schema: []Field{{"job_id", "TEXT", 0}, {"namespace_id", "TEXT", 1}, {"table_name", "TEXT", 2}, {"status", "TEXT", 3}}}
	for _, t := range tables {
		id, err := e.cold.Submit(ctx, typ, flush.TriggerManual, t, false)
		if errors.Is(err, flush.ErrQueueFull) {
			return nil, badRequest(CodeExecution, "%v", err)
		}
		if err != nil {
			return nil, err
		}
		status := catalog.JobQueued
		if id == "" {
			status = "already_running"
		}
		res.Rows = append(res.Rows, []any{nullIfEmpty(id), t.Namespace, t.Name, status})
	}
	res.RowCount = len(res.Rows)
	res.Message = storageJobMessage(s, tables, res.Rows)
	return res, nil
}

// checkTableStorage verifies CREATE TABLE's STORAGE_ID names a storage,
// and in a replicated cluster that it is not node-local (STREAM tables
// are never flushed, so any storage will do).
func (e *Engine) checkTableStorage(t *catalog.Table) error {
	if t.Type == catalog.TableStream {
		return nil
	}
	if t.StorageID == "local" {
		return e.refuseNodeLocal("table", t.QualifiedName(), "local", "filesystem")
	}
	if e.cold == nil {
		return notFound("storage '%s' not found", t.StorageID)
	}
	_, rec, err := e.cold.Store(t.StorageID)
	if err != nil {
		return notFound("storage '%s' not found", t.StorageID)
	}
	return e.refuseNodeLocal("table", t.QualifiedName(), rec.ID, rec.Type)
}

// refuseNodeLocal refuses a table or storage (kind, name) on a storage of
// type typ when node-local storage is refused (Options.RefuseNodeLocalStorage).
func (e *Engine) refuseNodeLocal(kind, name, storageID, typ string) error {
	if !e.opts.RefuseNodeLocalStorage || typ != "filesystem" {
		return nil
	}
	return badRequest(CodeNodeLocalStorage, "%s '%s': storage '%s' is node-local (filesystem), and this is a replicated cluster: "+
		"files flushed there would exist on one replica only. Use an object storage (WITH (STORAGE_ID = '<s3 storage>'), "+
		"or STORAGE <id>), or set cluster.allow_node_local_storage", kind, name, storageID)
}
