package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func requireAdmin(sess *Session, what string) error {
	if !sess.Role.IsAdmin() {
		return denied("permission denied: %s requires the dba or system role", what)
	}
	return nil
}

// proposeCatalog applies a catalog change. The first one of an audited
// statement carries the statement's audit record (audit.go), so both
// commit atomically.
func (e *Engine) proposeCatalog(ctx context.Context, cw *engine.CatalogWrite) (engine.Result, error) {
	done := e.attachAudit(ctx, cw)
	res, err := e.exec.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: e.nowMs(), Catalog: cw})
	done(err)
	return res, err
}

func (e *Engine) execCreateNamespace(ctx context.Context, sess *Session, s *parse.CreateNamespace) (*Result, error) {
	if err := requireAdmin(sess, "CREATE NAMESPACE"); err != nil {
		return nil, err
	}
	if err := parse.ValidateNamespaceName(s.Name); err != nil {
		return nil, err
	}
	res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatCreateNamespace, IfNotExists: s.IfNotExists,
		Namespace: &catalog.Namespace{Name: s.Name, CreatedAt: e.nowMs()}})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("Namespace '%s' already exists", s.Name)}, nil
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Namespace '%s' created", s.Name)}, nil
}

func (e *Engine) execDropNamespace(ctx context.Context, sess *Session, s *parse.DropNamespace) (*Result, error) {
	if err := requireAdmin(sess, "DROP NAMESPACE"); err != nil {
		return nil, err
	}
	res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatDropNamespace, IfExists: s.IfExists, Cascade: s.Cascade,
		Namespace: &catalog.Namespace{Name: s.Name}})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("Namespace '%s' does not exist", s.Name)}, nil
	}
	if err := e.dropTableData(ctx, res.Dropped); err != nil {
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Namespace '%s' dropped", s.Name)}, nil
}

// dropTableData deletes the data of dropped tables — hot rows, manifest
// pointers and (with a cold tier) every segment and manifest object — as
// one drop_cleanup job per table (system.jobs), then forgets them. Table
// ids are never reused, so the rows are already unreachable; this
// reclaims the space. With a cold tier the jobs run in the background
// (flush/dropqueue.go): DROP returns once they are queued. The
// pending-cleanup record written with the drop makes CleanupDropped
// finish a job after a crash in between.
func (e *Engine) dropTableData(ctx context.Context, tables []*catalog.Table) error {
	for _, t := range tables {
		var err error
		if e.cold != nil && t.Name != "" {
			_, err = e.cold.QueueDropCleanup(ctx, t, "drop")
		} else {
			err = e.purgeTable(ctx, t, "drop")
		}
		if err != nil {
			return fmt.Errorf("while deleting data of %s: %w", t.QualifiedName(), err)
		}
	}
	return nil
}

// awaitDropCleanup waits for the background cleanup of a dropped table
// named ns.name: a new table of that name would share its storage
// directories, which the cleanup empties. A cleanup that failed leaves its
// pending record: the name stays unavailable until a restart finishes it.
func (e *Engine) awaitDropCleanup(ctx context.Context, ns, name string) error {
	same := func(t *catalog.Table) bool { return t.Namespace == ns && t.Name == name }
	if e.cold != nil {
		if err := e.cold.WaitDropCleanups(ctx, same); err != nil {
			return fmt.Errorf("while waiting for the cleanup of dropped table %s.%s: %w", ns, name, err)
		}
	}
	pending, err := e.pendingDrops()
	if err != nil {
		return err
	}
	for _, t := range pending {
		if same(t) {
			return badRequest(CodeExecution, "the data of dropped table %s.%s is still being deleted (see system.jobs); retry later", ns, name)
		}
	}
	return nil
}

// pendingDrops lists the dropped tables whose cleanup has not finished.
func (e *Engine) pendingDrops() ([]*catalog.Table, error) { return flush.PendingDrops(e.db) }

func (e *Engine) purgeTable(ctx context.Context, t *catalog.Table, trigger string) error {
	if e.cold != nil && t.Name != "" {
		_, err := e.cold.CleanupDropped(ctx, t, trigger)
		return err
	}
	return flush.PurgeHot(ctx, e.exec, t.ID, e.nowMs)
}

// CleanupDropped finishes the cleanup of tables dropped before a crash
// interrupted it. It runs at startup.
func (e *Engine) CleanupDropped(ctx context.Context) error {
	pending, err := e.pendingDrops()
	if err != nil {
		return err
	}
	for _, t := range pending {
		if err := e.purgeTable(ctx, t, "restart"); err != nil {
			return fmt.Errorf("while cleaning up dropped table %d: %w", t.ID, err)
		}
	}
	return nil
}

func (e *Engine) execShowNamespaces(_ context.Context, _ *Session) (*Result, error) {
	res := &Result{Schema: []Field{{"namespace_id", "TEXT", 0}, {"name", "TEXT", 1}, {"created_at", "TIMESTAMP", 2}, {"table_count", "INT", 3}}}
	for _, n := range e.cat.Namespaces() {
		res.Rows = append(res.Rows, []any{n.Name, n.Name, n.CreatedAt * 1000, len(e.cat.Tables(n.Name))})
	}
	res.RowCount = len(res.Rows)
	return res, nil
}

// canCreate applies the reference's CREATE TABLE role matrix.
func canCreate(role auth.Role, tt catalog.TableType) bool {
	switch role {
	case auth.RoleSystem, auth.RoleDBA, auth.RoleService:
		return true
	}
	return tt == catalog.TableUser || tt == catalog.TableStream
}

func (e *Engine) execCreateTable(ctx context.Context, sess *Session, s *parse.CreateTable) (*Result, error) {
	ns := s.Table.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	if err := parse.ValidateName("table", s.Table.Name); err != nil {
		return nil, err
	}
	if _, ok := e.cat.Namespace(ns); !ok {
		return nil, notFound("namespace '%s' not found", ns)
	}
	if err := e.refuseRestoring(ns); err != nil {
		return nil, err
	}
	tt := catalog.TableType(s.TableType)
	if tt == "" {
		tt = catalog.TableShared
	}
	if !canCreate(sess.Role, tt) {
		return nil, denied("permission denied: role %s cannot create %s tables", sess.Role, tt)
	}
	if err := e.awaitDropCleanup(ctx, ns, s.Table.Name); err != nil {
		return nil, err
	}
	now := e.nowMs()
	t := &catalog.Table{Namespace: ns, Name: s.Table.Name, Type: tt, StorageID: "local", Compression: "snappy",
		CreatedAt: now, UpdatedAt: now, Options: map[string]string{}}
	for i, cd := range s.Columns {
		typ, err := datatype.Parse(cd.Type)
		if err != nil {
			return nil, badRequest(CodeInvalidInput, "column '%s': %v", cd.Name, err)
		}
		c := catalog.Column{ID: uint32(i + 1), Name: cd.Name, Type: typ, Nullable: !cd.NotNull}
		if cd.Name == s.PrimaryKey || cd.PrimaryKey {
			c.PrimaryKey, c.Nullable = true, false
			if !typ.CanBePrimaryKey() {
				return nil, badRequest(CodeInvalidInput, "column '%s' of type %s cannot be a primary key", cd.Name, typ)
			}
		}
		if cd.Default != nil {
			d, err := buildDefault(c, cd.Default)
			if err != nil {
				return nil, err
			}
			if err := e.refuseNodeCounter(t.QualifiedName(), &c, d); err != nil {
				return nil, err
			}
			c.Default = d
		}
		t.Columns = append(t.Columns, c)
	}
	t.NextColumnID = uint32(len(t.Columns) + 1)
	t.PrimaryKey = s.PrimaryKey
	if t.PrimaryKey != "" && t.ColumnIndex(t.PrimaryKey) < 0 {
		return nil, notFound("primary key column '%s' is not a column of the table", t.PrimaryKey)
	}
	if t.PrimaryKey == "" && tt != catalog.TableStream {
		addRowIdentity(t)
	}
	if err := applyTableOptions(t, s.Options); err != nil {
		return nil, err
	}
	if err := e.checkTableStorage(t); err != nil {
		return nil, err
	}
	res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatCreateTable, Table: t, IfNotExists: s.IfNotExists})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("Table '%s' already exists", t.QualifiedName())}, nil
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("%s table '%s' created", tt, t.QualifiedName())}, nil
}

func buildDefault(c catalog.Column, d *parse.DefaultExpr) (*catalog.Default, error) {
	if d.Func != "" {
		switch d.Func {
		case parse.FuncNow, parse.FuncCurrentTimestamp:
			if c.Type.Kind != datatype.Timestamp && c.Type.Kind != datatype.DateTime && c.Type.Kind != datatype.BigInt {
				return nil, badRequest(CodeTypeMismatch, "DEFAULT %s() does not fit column '%s' of type %s", d.Func, c.Name, c.Type)
			}
		case parse.FuncSnowflakeID:
			if d.Serial && (c.Type.Kind == datatype.Int || c.Type.Kind == datatype.SmallInt) {
				return &catalog.Default{Func: parse.FuncAutoIncrement}, nil
			}
			if c.Type.Kind != datatype.BigInt {
				return nil, badRequest(CodeTypeMismatch, "DEFAULT SNOWFLAKE_ID() needs a BIGINT column, '%s' is %s", c.Name, c.Type)
			}
		case parse.FuncUUIDv7:
			if c.Type.Kind != datatype.UUID && c.Type.Kind != datatype.Text {
				return nil, badRequest(CodeTypeMismatch, "DEFAULT UUID_V7() needs a UUID or TEXT column, '%s' is %s", c.Name, c.Type)
			}
		case parse.FuncULID, parse.FuncCurrentUser:
			if c.Type.Kind != datatype.Text {
				return nil, badRequest(CodeTypeMismatch, "DEFAULT %s() needs a TEXT column, '%s' is %s", d.Func, c.Name, c.Type)
			}
		default:
			return nil, badRequest(CodeInvalidSQL, "unsupported DEFAULT function %s()", d.Func)
		}
		return &catalog.Default{Func: d.Func}, nil
	}
	if d.Literal == nil || d.Literal.Kind == parse.LitNull {
		return &catalog.Default{Null: true}, nil
	}
	if _, err := datatype.Coerce(c.Type, literalValue(*d.Literal)); err != nil {
		return nil, badRequest(CodeTypeMismatch, "DEFAULT of column '%s': %v", c.Name, err)
	}
	return &catalog.Default{Literal: d.Literal.Text}, nil
}

// applyTableOptions validates WITH (...) options; they are stored now and
// acted on by the cold tier, stream TTL and security features.
func applyTableOptions(t *catalog.Table, opts map[string]string) error {
	for k, v := range opts {
		switch k {
		case "TYPE":
		case "STORAGE_ID":
			if err := parse.ValidateStorageID(v); err != nil {
				return err
			}
			t.StorageID = v
		case "USE_USER_STORAGE":
			if _, err := strconv.ParseBool(v); err != nil {
				return badRequest(CodeInvalidInput, "USE_USER_STORAGE must be true or false")
			}
			if t.Type != catalog.TableUser {
				return badRequest(CodeInvalidInput, "USE_USER_STORAGE applies to USER tables only")
			}
			t.Options[k] = v
		case "FLUSH_POLICY":
			canon, err := CanonicalFlushPolicy(v)
			if err != nil {
				return err
			}
			t.FlushPolicy = canon
		case "TTL_SECONDS":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return badRequest(CodeInvalidInput, "TTL_SECONDS must be a positive integer")
			}
			if t.Type != catalog.TableStream {
				return badRequest(CodeInvalidInput, "TTL_SECONDS applies to STREAM tables only")
			}
			t.TTLSeconds = n
		case "ACCESS_LEVEL":
			lv := strings.ToUpper(v)
			switch lv {
			case catalog.AccessPublic, catalog.AccessPrivate, catalog.AccessRestricted, catalog.AccessDBA:
			default:
				return badRequest(CodeInvalidInput, "ACCESS_LEVEL must be PUBLIC, PRIVATE, RESTRICTED or DBA")
			}
			if t.Type != catalog.TableShared {
				return badRequest(CodeInvalidInput, "ACCESS_LEVEL applies to SHARED tables only")
			}
			t.AccessLevel = lv
		case "COMPRESSION":
			c := strings.ToLower(v)
			if c != "snappy" && c != "zstd" && c != "none" {
				return badRequest(CodeInvalidInput, "COMPRESSION must be snappy, zstd or none")
			}
			t.Compression = c
		case parse.OptLocation, parse.OptBufferSize:
			// Spec-002 clauses kept for display (SHOW CREATE, system.tables
			// options): storage paths come from the table's storage, and
			// STREAM rows are kept in the hot store, not a sized buffer.
			t.Options[k] = v
		case "DELETED_RETENTION_HOURS":
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return badRequest(CodeInvalidInput, "DELETED_RETENTION_HOURS must be a non-negative integer")
			}
			t.Options[k] = v
		default:
			return badRequest(CodeInvalidInput, "unknown table option %s", k)
		}
	}
	if t.Type == catalog.TableStream && t.TTLSeconds == 0 {
		return badRequest(CodeInvalidInput, "STREAM tables require TTL_SECONDS")
	}
	if t.Type == catalog.TableShared && t.AccessLevel == "" {
		t.AccessLevel = catalog.AccessPrivate
	}
	return nil
}

// CanonicalFlushPolicy checks 'rows:N', 'interval:S' or both,
// comma-separated, and returns the policy in the one form the catalog
// stores and system.tables shows ("rows:N", "interval:S" or
// "rows:N,interval:S"), so a client comparing its desired policy with the
// stored one (the operator's drift check) sees no difference in spelling.
func CanonicalFlushPolicy(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", badRequest(CodeInvalidInput, "FLUSH_POLICY must not be empty")
	}
	parts := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		k, num, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := parts[k]; !ok || err != nil || dup {
			return "", badRequest(CodeInvalidInput, "invalid FLUSH_POLICY %q: want 'rows:N', 'interval:S' or 'rows:N,interval:S'", v)
		}
		parts[k] = n
		switch k {
		case "rows":
			if n < 1 || n > 999999 {
				return "", badRequest(CodeInvalidInput, "FLUSH_POLICY rows must be 1..999999")
			}
		case "interval":
			if n < 1 || n > 86399 {
				return "", badRequest(CodeInvalidInput, "FLUSH_POLICY interval must be 1..86399 seconds")
			}
		default:
			return "", badRequest(CodeInvalidInput, "invalid FLUSH_POLICY %q: want 'rows:N', 'interval:S' or 'rows:N,interval:S'", v)
		}
	}
	var out []string
	for _, k := range []string{"rows", "interval"} {
		if n, ok := parts[k]; ok {
			out = append(out, k+":"+strconv.Itoa(n))
		}
	}
	return strings.Join(out, ","), nil
}

func (e *Engine) execDropTable(ctx context.Context, sess *Session, s *parse.DropTable) (*Result, error) {
	if err := requireAdmin(sess, "DROP TABLE"); err != nil {
		return nil, err
	}
	ns := s.Table.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	if err := e.refuseRestoring(ns); err != nil {
		return nil, err
	}
	if t, ok := e.cat.Table(ns, s.Table.Name); ok && s.TableType != "" && string(t.Type) != s.TableType {
		return nil, badRequest(CodeInvalidSQL, "table '%s' is a %s table, not %s", t.QualifiedName(), t.Type, s.TableType)
	}
	res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatDropTable, IfExists: s.IfExists,
		Table: &catalog.Table{Namespace: ns, Name: s.Table.Name}})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("Table '%s.%s' does not exist", ns, s.Table.Name)}, nil
	}
	if err := e.dropTableData(ctx, res.Dropped); err != nil {
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("Table '%s.%s' dropped", ns, s.Table.Name)}, nil
}

func (e *Engine) execShowTables(_ context.Context, _ *Session, s *parse.ShowTables) (*Result, error) {
	if s.Namespace != "" {
		if _, ok := e.cat.Namespace(s.Namespace); !ok {
			return nil, notFound("namespace '%s' not found", s.Namespace)
		}
	}
	res := &Result{Schema: []Field{{"namespace_id", "TEXT", 0}, {"table_name", "TEXT", 1}, {"table_type", "TEXT", 2},
		{"storage_id", "TEXT", 3}, {"version", "INT", 4}, {"access_level", "TEXT", 5}, {"created_at", "TIMESTAMP", 6}}}
	for _, t := range e.cat.Tables(s.Namespace) {
		res.Rows = append(res.Rows, []any{t.Namespace, t.Name, string(t.Type), t.StorageID, t.SchemaVersion, nullIfEmpty(t.AccessLevel), t.CreatedAt * 1000})
	}
	res.RowCount = len(res.Rows)
	return res, nil
}

func (e *Engine) execDescribe(_ context.Context, sess *Session, s *parse.DescribeTable) (*Result, error) {
	if s.History {
		return e.execDescribeHistory(context.Background(), sess, s)
	}
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	res := &Result{Schema: []Field{{"column_name", "TEXT", 0}, {"ordinal_position", "INT", 1}, {"column_id", "INT", 2},
		{"data_type", "TEXT", 3}, {"is_nullable", "BOOLEAN", 4}, {"is_primary_key", "BOOLEAN", 5},
		{"column_default", "TEXT", 6}, {"column_comment", "TEXT", 7}, {"schema_version", "INT", 8},
		{"index_name", "TEXT", 9}}}
	for i, c := range t.Columns {
		res.Rows = append(res.Rows, []any{c.Name, i + 1, c.ID, c.Type.String(), c.Nullable, c.PrimaryKey,
			nullIfEmpty(c.Default.String()), nullIfEmpty(c.Comment), t.SchemaVersion, columnIndexNames(t, c.ID)})
	}
	res.RowCount = len(res.Rows)
	return res, nil
}
