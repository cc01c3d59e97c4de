package engine

// This file holds the audit-log append (system.audit_log).
//
// Invariants:
//   - An audit record is keyed by a _seq stamped by the meta group's apply
//     path, so ids are unique, increase in apply order and encode the time.
//   - Retention is applied in the same batch as the append, from the
//     command's own time and retention, so replay is deterministic.
//   - A catalog change carrying an Audit record (any op but
//     CatAppendAudit) appends it in the same batch, only when the change
//     applied: the change and its record commit or fail together.

import (
	"encoding/json"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func (a *applier) appendAudit(cmd *Command) (Result, error) {
	cw := cmd.Catalog
	if cw.Audit == nil {
		return Result{}, applyErr(ErrInvalid, "audit append without a record")
	}
	rec := *cw.Audit
	rec.AuditID = a.nextSeq(cmd.TimeMs)
	rec.TimeMs = cmd.TimeMs
	data, err := json.Marshal(&rec)
	if err != nil {
		return Result{}, err
	}
	if err := a.b.Set(keys.Catalog(catalog.RecAudit, catalog.AuditKey(rec.AuditID)), data, nil); err != nil {
		return Result{}, err
	}
	if cw.AuditRetentionMs > 0 {
		cutoff := cmd.TimeMs - cw.AuditRetentionMs
		if cutoff > SeqEpochMs {
			// Every id below cutoff's smallest Snowflake is older.
			end := uint64(cutoff-SeqEpochMs) << 22
			if err := a.b.DeleteRange(keys.CatalogPrefix(catalog.RecAudit), keys.Catalog(catalog.RecAudit, catalog.AuditKey(end)), nil); err != nil {
				return Result{}, err
			}
		}
	}
	return Result{}, nil
}

// applyCatalogAudited applies a catalog change and, when it carries an
// audit record and succeeded (IF [NOT] EXISTS no-ops included), appends
// the record in the same batch.
func (a *applier) applyCatalogAudited(cmd *Command) (Result, error) {
	cw := cmd.Catalog
	if cw.Audit == nil || cw.Op == CatAppendAudit {
		return a.applyCatalog(cmd)
	}
	res, err := a.applyCatalog(cmd)
	if err != nil {
		return res, err
	}
	if _, err := a.appendAudit(cmd); err != nil {
		return Result{}, err
	}
	return res, nil
}
