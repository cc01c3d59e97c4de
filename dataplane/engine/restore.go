package engine

// This file holds the catalog operation a backup restore uses to recreate
// a table with its full schema history (package backup).
//
// Invariants:
//   - A restored table gets a fresh table id from the same counter as
//     CREATE TABLE (ids are never reused), but keeps its column ids, its
//     schema version and every earlier schema version, so restored rows
//     (which carry column ids and the schema version they were written
//     under) decode exactly as they did on the source.

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// CatRestoreTable creates a table from a backup: CatalogWrite.Table is the
// latest definition and CatalogWrite.History every schema version (oldest
// first, the latest included). The value is fixed (not part of the iota
// list) so that other catalog operations can be added without renumbering.
const CatRestoreTable CatalogOp = 64

func (a *applier) applyRestoreTable(cw *CatalogWrite) (Result, error) {
	if cw.Table == nil {
		return Result{}, applyErr(ErrInvalid, "restore table without a definition")
	}
	t := *cw.Table
	existing, err := a.existingTable(&t)
	if err != nil {
		return Result{}, err
	}
	if existing != nil {
		return Result{}, applyErr(ErrAlreadyExists, "table '%s' already exists", t.QualifiedName())
	}
	if t.ID, err = a.allocTableID(); err != nil {
		return Result{}, err
	}
	if t.SchemaVersion == 0 {
		t.SchemaVersion = 1
	}
	// Index entries are not part of a backup: restored indexes are
	// rebuilt (sql ResumeIndexBuilds) before queries may use them.
	t.Indexes = append([]catalog.Index(nil), t.Indexes...)
	for i := range t.Indexes {
		t.Indexes[i].State = catalog.IndexBuilding
	}
	for _, h := range cw.History {
		if h == nil || h.SchemaVersion == 0 || h.SchemaVersion >= t.SchemaVersion {
			continue
		}
		v := *h
		v.ID, v.Namespace, v.Name = t.ID, t.Namespace, t.Name
		if err := a.putJSON(catalog.RecSchema, catalog.SchemaKey(t.ID, v.SchemaVersion), &v); err != nil {
			return Result{}, err
		}
	}
	return a.putTable(&t)
}
