package sql

// Executors of ALTER TABLE, DESCRIBE TABLE ... HISTORY and SHOW STATS FOR
// TABLE (schema evolution, contract C3).
//
// An ALTER derives the new definition from the cached one and proposes it
// as engine.CatAlterTable with the version it started from; the apply path
// re-validates and accepts it only if the table is still at that version
// (a concurrent ALTER makes it fail with a conflict, and we re-derive).
// No data is rewritten: rows are keyed by column id, and readers project
// every stored row onto the current definition (catalog.Projection).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Error codes of refused schema changes.
const (
	// CodeIncompatibleType refuses MODIFY COLUMN to a type that does not
	// widen the current one.
	CodeIncompatibleType = "INCOMPATIBLE_TYPE_CHANGE"
	// CodeProtectedColumn refuses dropping or retyping the primary key or
	// a system column (_seq, _deleted, ...).
	CodeProtectedColumn = "PROTECTED_COLUMN"
)

// maxAlterRetries bounds how often an ALTER re-derives its definition
// after losing a race with another ALTER of the same table.
const maxAlterRetries = 8

func (e *Engine) execAlterTable(ctx context.Context, sess *Session, s *parse.AlterTable) (*Result, error) {
	if err := requireAdmin(sess, "ALTER TABLE"); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		t, err := e.resolveTable(sess, s.Table)
		if err != nil {
			return nil, err
		}
		if err := e.refuseRestoring(t.Namespace); err != nil {
			return nil, err
		}
		fence, err := e.fenceForAlter(ctx, t, s)
		if err != nil {
			return nil, err
		}
		nt := cloneTable(t)
		changed, err := e.alterDefinition(ctx, t, nt, s)
		if err == nil && changed {
			err = fence.checkLease()
		}
		if err != nil || !changed {
			fence.release(false)
		}
		if err != nil {
			return nil, err
		}
		if !changed {
			return &Result{Message: fmt.Sprintf("Table '%s' unchanged (%s had no effect; schema version %d)", t.QualifiedName(), s.Action, t.SchemaVersion)}, nil
		}
		res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatAlterTable, Table: nt, ExpectVersion: t.SchemaVersion})
		fence.release(err == nil)
		if errors.Is(err, engine.ErrConflict) && attempt < maxAlterRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Result{RowCount: 1, Message: fmt.Sprintf("Table '%s' altered: %s (schema version %d)", t.QualifiedName(), s.Action, res.Table.SchemaVersion)}, nil
	}
}

// cloneTable copies t deeply enough to edit columns and options.
func cloneTable(t *catalog.Table) *catalog.Table {
	nt := *t
	nt.Columns = append([]catalog.Column(nil), t.Columns...)
	nt.Options = make(map[string]string, len(t.Options))
	for k, v := range t.Options {
		nt.Options[k] = v
	}
	return &nt
}

// protected refuses changes to system columns.
func protectedName(name string) error {
	if strings.HasPrefix(name, "_") {
		if err := parse.ValidateColumnName(name); err != nil {
			return badRequest(CodeProtectedColumn, "system column '%s' cannot be altered", name)
		}
	}
	return nil
}

// column returns the position of an existing column of t.
func alterColumn(t *catalog.Table, name string) (int, error) {
	if err := protectedName(name); err != nil {
		return -1, err
	}
	i := t.ColumnIndex(name)
	if i < 0 {
		return -1, notFound("column '%s' not found in table %s", name, t.QualifiedName())
	}
	return i, nil
}

// alterDefinition applies one action to nt (a copy of t) and reports
// whether it changed anything.
func (e *Engine) alterDefinition(ctx context.Context, t, nt *catalog.Table, s *parse.AlterTable) (bool, error) {
	switch s.Action {
	case parse.AlterAddColumn:
		return true, e.alterAdd(ctx, t, nt, &s.Column)
	case parse.AlterSetProps:
		before, _ := json.Marshal(nt)
		if err := applyTableOptions(nt, s.Props); err != nil {
			return false, err
		}
		if s.Props["COMPRESSION"] != "" {
			nt.Compression = strings.ToLower(s.Props["COMPRESSION"])
		}
		after, _ := json.Marshal(nt)
		return string(before) != string(after), nil
	}
	i, err := alterColumn(nt, s.Column.Name)
	if err != nil {
		return false, err
	}
	c := &nt.Columns[i]
	switch s.Action {
	case parse.AlterDropColumn:
		if c.PrimaryKey {
			return false, badRequest(CodeProtectedColumn, "the primary key column '%s' cannot be dropped", c.Name)
		}
		if len(nt.Columns) == 1 {
			return false, badRequest(CodeInvalidSQL, "cannot drop '%s': a table must keep at least one column", c.Name)
		}
		nt.Columns = append(nt.Columns[:i], nt.Columns[i+1:]...)
		return true, nil
	case parse.AlterModifyColumn:
		return e.alterModify(ctx, t, nt, i, &s.Column)
	case parse.AlterRenameColumn:
		if s.NewName == c.Name {
			return false, nil
		}
		if nt.ColumnIndex(s.NewName) >= 0 {
			return false, errf(CodeAlreadyExists, http.StatusBadRequest, "column '%s' already exists in table %s", s.NewName, t.QualifiedName())
		}
		if c.PrimaryKey {
			nt.PrimaryKey = s.NewName
		}
		c.Name = s.NewName
		return true, nil
	case parse.AlterSetDefault:
		d, err := buildDefault(*c, s.Default)
		if err != nil {
			return false, err
		}
		if c.Default != nil && *c.Default == *d {
			return false, nil
		}
		c.Default = d
		return true, nil
	case parse.AlterDropDefault:
		if c.Default == nil {
			return false, nil
		}
		c.Default = nil
		return true, nil
	case parse.AlterDropNotNull:
		if c.PrimaryKey {
			return false, badRequest(CodeProtectedColumn, "the primary key column '%s' must stay NOT NULL", c.Name)
		}
		if c.Nullable {
			return false, nil
		}
		c.Nullable = true
		return true, nil
	case parse.AlterSetNotNull:
		if !c.Nullable {
			return false, nil
		}
		n, err := e.countNulls(ctx, t, i)
		if err != nil {
			return false, err
		}
		if n > 0 {
			return false, badRequest(CodeConstraint, "cannot SET NOT NULL on '%s': %d existing row(s) hold NULL", c.Name, n)
		}
		c.Nullable = false
		return true, nil
	}
	return false, badRequest(CodeInvalidSQL, "unsupported ALTER TABLE action %s", s.Action)
}

// alterModify changes column i's type and, when the statement names it
// (MODIFY c type NOT NULL | NULL, as the original KalamDB accepts), its
// nullability: both are checked before either changes, and nt becomes one
// schema version, so the change is all or nothing.
func (e *Engine) alterModify(ctx context.Context, t, nt *catalog.Table, i int, cd *parse.ColumnDef) (bool, error) {
	c := &nt.Columns[i]
	to, err := datatype.Parse(cd.Type)
	if err != nil {
		return false, badRequest(CodeInvalidInput, "column '%s': %v", c.Name, err)
	}
	retype := to != c.Type
	if retype && c.PrimaryKey {
		return false, badRequest(CodeProtectedColumn, "the primary key column '%s' cannot be retyped", c.Name)
	}
	if retype && !datatype.Widens(c.Type, to) {
		return false, badRequest(CodeIncompatibleType, "cannot change column '%s' from %s to %s: only widening changes are allowed (SMALLINT->INT->BIGINT, FLOAT->DOUBLE, DECIMAL(p,s)->DECIMAL(p2>=p,s), TEXT/VARCHAR lengths)", c.Name, c.Type, to)
	}
	nullable := c.Nullable
	switch {
	case cd.NotNull && c.Nullable:
		n, err := e.countNulls(ctx, t, i)
		if err != nil {
			return false, err
		}
		if n > 0 {
			return false, badRequest(CodeConstraint, "cannot make '%s' NOT NULL: %d existing row(s) hold NULL", c.Name, n)
		}
		nullable = false
	case cd.Nullable && !c.Nullable:
		if c.PrimaryKey {
			return false, badRequest(CodeProtectedColumn, "the primary key column '%s' must stay NOT NULL", c.Name)
		}
		nullable = true
	}
	if !retype && nullable == c.Nullable {
		return false, nil
	}
	c.Type, c.Nullable = to, nullable
	return true, nil
}

// alterAdd adds a column. Existing rows read its literal DEFAULT
// (PostgreSQL semantics) or NULL; NOT NULL without a literal default is
// only possible on a table without rows.
func (e *Engine) alterAdd(ctx context.Context, t, nt *catalog.Table, cd *parse.ColumnDef) error {
	if err := protectedName(cd.Name); err != nil {
		return err
	}
	if nt.ColumnIndex(cd.Name) >= 0 {
		return errf(CodeAlreadyExists, http.StatusBadRequest, "column '%s' already exists in table %s", cd.Name, t.QualifiedName())
	}
	typ, err := datatype.Parse(cd.Type)
	if err != nil {
		return badRequest(CodeInvalidInput, "column '%s': %v", cd.Name, err)
	}
	c := catalog.Column{ID: nt.NextColumnID, Name: cd.Name, Type: typ, Nullable: !cd.NotNull, AddedIn: t.SchemaVersion + 1}
	if cd.Default != nil {
		if c.Default, err = buildDefault(c, cd.Default); err != nil {
			return err
		}
		if err := e.refuseNodeCounter(t.QualifiedName(), &c, c.Default); err != nil {
			return err
		}
		if c.Default.Func == "" && !c.Default.Null {
			c.Missing = &catalog.Default{Literal: c.Default.Literal}
		}
	}
	if !c.Nullable && c.Missing == nil {
		rows, err := e.countRows(ctx, t)
		if err != nil {
			return err
		}
		if rows > 0 {
			return badRequest(CodeConstraint, "cannot add NOT NULL column '%s' without a literal DEFAULT: the table has %d row(s)", cd.Name, rows)
		}
	}
	nt.NextColumnID++
	nt.Columns = append(nt.Columns, c)
	return nil
}

// countRows counts the live rows of t in both tiers (every scope).
func (e *Engine) countRows(ctx context.Context, t *catalog.Table) (int64, error) {
	if e.cold != nil {
		st, err := e.cold.Stats(ctx, t)
		return st.HotRows + st.ColdRows, err
	}
	st, err := flush.HotStats(e.db, nil, t)
	return st.HotRows, err
}

// countNulls counts the live rows of t whose column at pos reads NULL.
func (e *Engine) countNulls(ctx context.Context, t *catalog.Table, pos int) (int64, error) {
	if e.cold != nil {
		return e.cold.Nulls(ctx, t, pos)
	}
	return flush.HotNulls(e.db, t, pos)
}

// execDescribeHistory lists every schema version of a table, oldest first,
// with its columns and the change that produced it.
func (e *Engine) execDescribeHistory(_ context.Context, sess *Session, s *parse.DescribeTable) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	p := keys.Catalog(catalog.RecSchema, fmt.Sprintf("%08x:", t.ID))
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	res := &Result{Schema: []Field{{"schema_version", "INT", 0}, {"changed_at", "TIMESTAMP", 1}, {"change", "TEXT", 2},
		{"column_count", "INT", 3}, {"columns", "JSON", 4}, {"is_latest", "BOOLEAN", 5}}}
	var prev *catalog.Table
	for it.First(); it.Valid(); it.Next() {
		var v catalog.Table
		if err := json.Unmarshal(it.Value(), &v); err != nil {
			return nil, fmt.Errorf("while reading schema history of %s: %w", t.QualifiedName(), err)
		}
		cols := make([]map[string]any, 0, len(v.Columns))
		for _, c := range v.Columns {
			cols = append(cols, map[string]any{"column_id": c.ID, "name": c.Name, "data_type": c.Type.String(),
				"is_nullable": c.Nullable, "is_primary_key": c.PrimaryKey, "default": nullIfEmpty(c.Default.String())})
		}
		colJSON, _ := json.Marshal(cols)
		at := v.UpdatedAt
		if prev == nil {
			at = v.CreatedAt
		}
		res.Rows = append(res.Rows, []any{v.SchemaVersion, at * 1000, describeChange(prev, &v), len(v.Columns), string(colJSON), v.SchemaVersion == t.SchemaVersion})
		prev = &v
	}
	res.RowCount = len(res.Rows)
	return res, it.Error()
}

// describeChange names what turned prev into cur.
func describeChange(prev, cur *catalog.Table) string {
	if prev == nil {
		return "CREATE TABLE"
	}
	old := map[uint32]catalog.Column{}
	for _, c := range prev.Columns {
		old[c.ID] = c
	}
	var out []string
	seen := map[uint32]bool{}
	for _, c := range cur.Columns {
		seen[c.ID] = true
		o, ok := old[c.ID]
		switch {
		case !ok:
			out = append(out, "ADD COLUMN "+c.Name+" "+c.Type.String())
		case o.Name != c.Name:
			out = append(out, "RENAME COLUMN "+o.Name+" TO "+c.Name)
		case o.Type != c.Type:
			out = append(out, "MODIFY COLUMN "+c.Name+" "+c.Type.String())
		case o.Nullable != c.Nullable && c.Nullable:
			out = append(out, "ALTER COLUMN "+c.Name+" DROP NOT NULL")
		case o.Nullable != c.Nullable:
			out = append(out, "ALTER COLUMN "+c.Name+" SET NOT NULL")
		case o.Default.String() != c.Default.String() && c.Default == nil:
			out = append(out, "ALTER COLUMN "+c.Name+" DROP DEFAULT")
		case o.Default.String() != c.Default.String():
			out = append(out, "ALTER COLUMN "+c.Name+" SET DEFAULT "+c.Default.String())
		}
	}
	for _, c := range prev.Columns {
		if !seen[c.ID] {
			out = append(out, "DROP COLUMN "+c.Name)
		}
	}
	if len(out) == 0 {
		return "SET TBLPROPERTIES"
	}
	return strings.Join(out, ", ")
}

// execShowStats reports a table's storage numbers.
func (e *Engine) execShowStats(ctx context.Context, sess *Session, s *parse.ShowStats) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	var st flush.TableStats
	if e.cold != nil {
		st, err = e.cold.Stats(ctx, t)
	} else {
		st, err = flush.HotStats(e.db, e.db, t)
	}
	if err != nil {
		return nil, err
	}
	res := &Result{Schema: []Field{{"namespace_id", "TEXT", 0}, {"table_name", "TEXT", 1}, {"table_type", "TEXT", 2},
		{"schema_version", "INT", 3}, {"column_count", "INT", 4}, {"hot_rows", "BIGINT", 5}, {"hot_tombstones", "BIGINT", 6},
		{"hot_bytes", "BIGINT", 7}, {"cold_rows", "BIGINT", 8}, {"cold_tombstones", "BIGINT", 9}, {"cold_segments", "BIGINT", 10},
		{"cold_bytes", "BIGINT", 11}, {"cold_scopes", "BIGINT", 12}, {"total_rows", "BIGINT", 13}}}
	res.Rows = [][]any{{t.Namespace, t.Name, string(t.Type), t.SchemaVersion, len(t.Columns), st.HotRows, st.HotTombstones,
		int64(st.HotBytes), st.ColdRows, st.ColdTombstones, st.ColdSegments, st.ColdBytes, st.ColdScopes, st.HotRows + st.ColdRows}}
	res.RowCount = 1
	return res, nil
}
