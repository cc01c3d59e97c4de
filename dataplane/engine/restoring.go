package engine

// This file holds the catalog operation that fences a namespace while a
// backup restore recreates it (package backup).
//
// Invariants:
//   - A namespace created by a restore carries Restoring (the restore job
//     id) from its creation on, so every table the restore creates in it
//     becomes visible in the catalog cache only after the mark: the SQL
//     layer, which checks the mark when it resolves a table for a write or
//     DDL, can never plan a client write into a half-restored table.
//   - CatSetNamespaceRestoring only changes the mark of an existing
//     namespace; the apply path rewrites CatalogWrite.Namespace to the
//     stored record with the new mark, so the cache installs exactly what
//     was persisted (deterministic: it reads only the meta group's state).

import "github.com/kalamdb/kalamdb-k8s/dataplane/catalog"

// CatSetNamespaceRestoring sets (Namespace.Restoring = job id) or clears
// (= "") the restore mark of an existing namespace. Fixed value, outside
// the iota list, like CatRestoreTable.
const CatSetNamespaceRestoring CatalogOp = 97

func (a *applier) applySetNamespaceRestoring(cw *CatalogWrite) (Result, error) {
	if cw.Namespace == nil {
		return Result{}, applyErr(ErrInvalid, "namespace restore mark without a namespace")
	}
	var n catalog.Namespace
	ok, err := a.getJSON(catalog.RecNamespace, cw.Namespace.Name, &n)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, applyErr(ErrNotFound, "namespace '%s' not found", cw.Namespace.Name)
	}
	n.Restoring = cw.Namespace.Restoring
	if err := a.putJSON(catalog.RecNamespace, n.Name, &n); err != nil {
		return Result{}, err
	}
	*cw.Namespace = n
	return Result{}, nil
}
