package engine

// This file holds ALTER TABLE in the apply path. The proposer (the SQL
// layer) derives the new definition from the cached one; apply accepts it
// only if the table is still at the schema version the proposer started
// from (compare-and-set), and only if the new definition keeps the
// invariants every reader relies on:
//   - the table id, name, type and primary-key column id never change;
//   - column ids are unique, names are unique, and a column id that is not
//     in the current definition is new (>= the current NextColumnID), so a
//     dropped column id is never reused and old rows never decode into a
//     different column;
//   - the schema version grows by exactly one per effective change, and
//     every version is kept under catalog.RecSchema.
// Concurrent DDL on one table therefore serialises: the loser fails with
// ErrConflict and the SQL layer re-derives from the new definition.

import (
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// Schema-evolution catalog operations. They use explicit values, away
// from the iota block in command.go, so parallel additions there cannot
// shift them.
const (
	// CatAlterTable replaces a table definition (CatalogWrite.Table, based
	// on CatalogWrite.ExpectVersion) with a new schema version.
	CatAlterTable CatalogOp = 40
)

func (a *applier) applyAlterTable(cmd *Command) (Result, error) {
	cw := cmd.Catalog
	if cw.Table == nil {
		return Result{}, applyErr(ErrInvalid, "ALTER TABLE without a definition")
	}
	name := cw.Table.QualifiedName()
	var cur catalog.Table
	ok, err := a.getJSON(catalog.RecTable, name, &cur)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, applyErr(ErrNotFound, "table '%s' not found", name)
	}
	if cur.ID != cw.Table.ID || cur.SchemaVersion != cw.ExpectVersion {
		return Result{}, &Error{Kind: ErrConflict, Row: -1,
			Msg: fmt.Sprintf("table '%s' changed concurrently (schema version %d, ALTER was based on %d)", name, cur.SchemaVersion, cw.ExpectVersion)}
	}
	t := *cw.Table
	// Indexes are owned by the index operations (index_catalog.go): an
	// ALTER derived from an older cached definition must not undo them.
	t.Indexes, t.NextIndexID = cur.Indexes, cur.NextIndexID
	if err := validateAlter(&cur, &t); err != nil {
		return Result{}, err
	}
	if err := validateAlterIndexes(&cur, &t); err != nil {
		return Result{}, err
	}
	t.SchemaVersion = cur.SchemaVersion + 1
	t.CreatedAt, t.UpdatedAt = cur.CreatedAt, cmd.TimeMs
	return a.putTable(&t)
}

// validateAlter checks the invariants of the file comment.
func validateAlter(cur, t *catalog.Table) error {
	if t.Type != cur.Type || t.Namespace != cur.Namespace || t.Name != cur.Name {
		return applyErr(ErrInvalid, "ALTER TABLE cannot change the table's name or type")
	}
	if len(t.Columns) == 0 {
		return applyErr(ErrInvalid, "a table must keep at least one column")
	}
	if t.NextColumnID < cur.NextColumnID {
		return applyErr(ErrInvalid, "column ids must not be reused")
	}
	old := make(map[uint32]*catalog.Column, len(cur.Columns))
	for i := range cur.Columns {
		old[cur.Columns[i].ID] = &cur.Columns[i]
	}
	ids := make(map[uint32]bool, len(t.Columns))
	names := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		if ids[c.ID] || names[c.Name] {
			return applyErr(ErrInvalid, "duplicate column '%s'", c.Name)
		}
		ids[c.ID], names[c.Name] = true, true
		if c.ID >= t.NextColumnID {
			return applyErr(ErrInvalid, "column '%s' has id %d beyond the table's next id %d", c.Name, c.ID, t.NextColumnID)
		}
		if _, existed := old[c.ID]; !existed && c.ID < cur.NextColumnID {
			return applyErr(ErrInvalid, "column id %d of '%s' belonged to a dropped column", c.ID, c.Name)
		}
	}
	if pk := cur.PKIndex(); pk >= 0 {
		want := cur.Columns[pk]
		i := t.PKIndex()
		if i < 0 || t.Columns[i].ID != want.ID || !t.Columns[i].PrimaryKey || t.Columns[i].Type.Kind != want.Type.Kind {
			return applyErr(ErrInvalid, "the primary key column '%s' cannot be dropped or retyped", want.Name)
		}
	}
	return nil
}
