package engine

// This file holds the catalog operations that fence a namespace while a
// backup restore recreates it (package backup).
//
// Invariants:
//   - A namespace created by a restore carries Restoring (the restore job
//     id) from its creation on, so every table the restore creates in it
//     becomes visible in the catalog cache only after the mark: the SQL
//     layer, which checks the mark when it resolves a table for a write or
//     DDL, can never plan a client write into a half-restored table.
//   - RestoreCreated is true only on a namespace a restore created with
//     its mark (CatCreateNamespace); every op here resets it, since a
//     namespace they mark already existed and one they unmark is no
//     longer being restored. A startup rollback relies on it to tell a
//     namespace to drop from one to empty (package backup, rollback.go).
//   - CatSetNamespaceRestoring only changes the mark of an existing
//     namespace; the apply path rewrites CatalogWrite.Namespace to the
//     stored record with the new mark, so the cache installs exactly what
//     was persisted (deterministic: it reads only the meta group's state).
//   - CatClearRestoring unmarks every namespace of a restore in ONE batch,
//     or none of them: a crash can never leave a restore with some
//     namespaces finished and others still marked (and so rolled back at
//     the next start). It rewrites CatalogWrite.Namespaces likewise.

import "github.com/kalamdb/kalamdb-k8s/dataplane/catalog"

// CatSetNamespaceRestoring sets (Namespace.Restoring = job id) or clears
// (= "") the restore mark of an existing namespace. Fixed value, outside
// the iota list, like CatRestoreTable.
const CatSetNamespaceRestoring CatalogOp = 97

// CatClearRestoring clears the restore mark of every namespace in
// CatalogWrite.Namespaces (by Name), each of which must exist and carry the
// mark given in its Restoring; otherwise nothing is cleared. Fixed value.
const CatClearRestoring CatalogOp = 98

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
	n.Restoring, n.RestoreCreated = cw.Namespace.Restoring, false
	if err := a.putJSON(catalog.RecNamespace, n.Name, &n); err != nil {
		return Result{}, err
	}
	*cw.Namespace = n
	return Result{}, nil
}

func (a *applier) applyClearRestoring(cw *CatalogWrite) (Result, error) {
	if len(cw.Namespaces) == 0 {
		return Result{}, applyErr(ErrInvalid, "clearing restore marks without namespaces")
	}
	// Validate all before the first write: the command applies completely
	// or not at all.
	stored := make([]catalog.Namespace, len(cw.Namespaces))
	for i, want := range cw.Namespaces {
		if want == nil || want.Restoring == "" {
			return Result{}, applyErr(ErrInvalid, "clearing a restore mark without a namespace and job id")
		}
		ok, err := a.getJSON(catalog.RecNamespace, want.Name, &stored[i])
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Result{}, applyErr(ErrNotFound, "namespace '%s' not found", want.Name)
		}
		if stored[i].Restoring != want.Restoring {
			return Result{}, applyErr(ErrInvalid, "namespace '%s' is not marked by restore %s", want.Name, want.Restoring)
		}
	}
	for i := range stored {
		n := &stored[i]
		n.Restoring, n.RestoreCreated = "", false
		if err := a.putJSON(catalog.RecNamespace, n.Name, n); err != nil {
			return Result{}, err
		}
		*cw.Namespaces[i] = *n
	}
	return Result{}, nil
}
