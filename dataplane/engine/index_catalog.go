package engine

import (
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// applyIndexCatalog handles CREATE INDEX / DROP INDEX / index state in the
// meta group. Index changes keep the table's schema version: rows are not
// affected and cached vtab declarations stay valid.
func (a *applier) applyIndexCatalog(cmd *Command) (Result, error) {
	cw := cmd.Catalog
	if cw.Table == nil || cw.Index == nil {
		return Result{}, applyErr(ErrInvalid, "index command without table or index")
	}
	var t catalog.Table
	name := cw.Table.QualifiedName()
	ok, err := a.getJSON(catalog.RecTable, name, &t)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, applyErr(ErrNotFound, "table '%s' not found", name)
	}
	if cw.Table.ID != 0 && cw.Table.ID != t.ID {
		return Result{}, &Error{Kind: ErrConflict, Row: -1, Msg: fmt.Sprintf("table '%s' was recreated concurrently", name)}
	}
	switch cw.Op {
	case CatCreateIndex:
		tables, err := a.tablesIn(t.Namespace)
		if err != nil {
			return Result{}, err
		}
		for _, other := range tables {
			if other.IndexNamed(cw.Index.Name) != nil {
				if cw.IfNotExists {
					return Result{Skipped: true, Table: &t}, nil
				}
				return Result{}, applyErr(ErrAlreadyExists, "index '%s' already exists in namespace '%s'", cw.Index.Name, t.Namespace)
			}
		}
		col := t.ColumnByID(cw.Index.ColumnID)
		if col == nil {
			return Result{}, &Error{Kind: ErrConflict, Row: -1, Msg: fmt.Sprintf("column id %d of '%s' no longer exists", cw.Index.ColumnID, name)}
		}
		for _, ix := range t.Indexes {
			if ix.ColumnID == cw.Index.ColumnID {
				return Result{}, applyErr(ErrAlreadyExists, "column '%s' already has index '%s'", col.Name, ix.Name)
			}
		}
		ix := *cw.Index
		if t.NextIndexID == 0 {
			t.NextIndexID = 1
		}
		ix.ID, ix.State, ix.CreatedAt = t.NextIndexID, catalog.IndexBuilding, cmd.TimeMs
		t.NextIndexID++
		t.Indexes = append(append([]catalog.Index(nil), t.Indexes...), ix)
	case CatDropIndex:
		at := -1
		for i, ix := range t.Indexes {
			if ix.Name == cw.Index.Name {
				at = i
			}
		}
		if at < 0 {
			if cw.IfExists {
				return Result{Skipped: true, Table: &t}, nil
			}
			return Result{}, applyErr(ErrNotFound, "index '%s' not found", cw.Index.Name)
		}
		t.Indexes = append(append([]catalog.Index(nil), t.Indexes[:at]...), t.Indexes[at+1:]...)
	case CatSetIndexState:
		found := false
		for i := range t.Indexes {
			if t.Indexes[i].ID == cw.Index.ID {
				t.Indexes[i].State, found = cw.Index.State, true
			}
		}
		if !found {
			return Result{}, &Error{Kind: ErrConflict, Row: -1, Msg: fmt.Sprintf("index %d of '%s' was dropped concurrently", cw.Index.ID, name)}
		}
	}
	return a.putTable(&t)
}

// validateAlterIndexes refuses an ALTER that drops an indexed column or
// changes its type (entries encode the stored values). RENAME keeps the
// index: it refers to the column by id.
func validateAlterIndexes(cur, t *catalog.Table) error {
	for _, ix := range t.Indexes {
		c := t.ColumnByID(ix.ColumnID)
		if c == nil {
			return applyErr(ErrInvalid, "cannot drop a column used by index '%s'; DROP INDEX first", ix.Name)
		}
		if old := cur.ColumnByID(ix.ColumnID); old != nil && old.Type.Kind != c.Type.Kind {
			return applyErr(ErrInvalid, "cannot change the type of a column used by index '%s'; DROP INDEX first", ix.Name)
		}
	}
	return nil
}
