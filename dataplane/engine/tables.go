package engine

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// Catalog steps shared by CREATE TABLE, restore (restore.go) and ALTER
// (schema.go).

// existingTable checks that t's namespace exists and returns the table
// already holding t's name, or nil.
func (a *applier) existingTable(t *catalog.Table) (*catalog.Table, error) {
	var n catalog.Namespace
	ok, err := a.getJSON(catalog.RecNamespace, t.Namespace, &n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, applyErr(ErrNotFound, "namespace '%s' not found", t.Namespace)
	}
	var existing catalog.Table
	ok, err = a.getJSON(catalog.RecTable, t.QualifiedName(), &existing)
	if err != nil || !ok {
		return nil, err
	}
	return &existing, nil
}

// allocTableID takes the next table id (ids are never reused).
func (a *applier) allocTableID() (uint32, error) {
	var next uint32
	if _, err := a.getJSON(catalog.RecCounter, "next_table_id", &next); err != nil {
		return 0, err
	}
	if next == 0 {
		next = 1
	}
	return next, a.putJSON(catalog.RecCounter, "next_table_id", next+1)
}

// putTable writes t as its table's current definition and as the record
// of its schema version.
func (a *applier) putTable(t *catalog.Table) (Result, error) {
	if err := a.putJSON(catalog.RecTable, t.QualifiedName(), t); err != nil {
		return Result{}, err
	}
	return Result{Table: t}, a.putJSON(catalog.RecSchema, catalog.SchemaKey(t.ID, t.SchemaVersion), t)
}
