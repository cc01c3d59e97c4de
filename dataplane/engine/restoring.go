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
//     the next start). It rewrites CatalogWrite.Namespaces likewise, and
//     in the same batch records the restore's job (the mark's id) as
//     completed if it is still queued or running, with the command's time
//     (deterministic: it reads only the meta group's state).

import (
	"slices"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

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

func (a *applier) applyClearRestoring(cmd *Command) (Result, error) {
	cw := cmd.Catalog
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
	jobs := make([]string, 0, 1)
	for _, want := range cw.Namespaces {
		if !slices.Contains(jobs, want.Restoring) {
			jobs = append(jobs, want.Restoring)
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
	// The restore's data is complete once its marks are cleared: its job
	// record says so in the same batch, so a crash before the job runner
	// records the outcome cannot leave a restored namespace under a job
	// that startup then fails as interrupted. The runner's own record
	// (with its statistics) replaces this one when it gets there.
	for _, id := range jobs {
		var j catalog.Job
		ok, err := a.getJSON(catalog.RecJob, id, &j)
		if err != nil {
			return Result{}, err
		}
		if !ok || (j.Status != catalog.JobQueued && j.Status != catalog.JobRunning) {
			continue // a --restore-from bootstrap has no job record
		}
		j.Status, j.FinishedAt = catalog.JobCompleted, cmd.TimeMs
		if err := a.putJSON(catalog.RecJob, j.ID, &j); err != nil {
			return Result{}, err
		}
	}
	return Result{}, nil
}
