package engine

// Purge of a dropped user (the user_cleanup job, after the grace period).
//
// Invariants:
//   - UserPurge deletes the user's scope of each listed per-user table in
//     the user's data group as range deletes in one batch, together with
//     the scopes' cold manifest pointers; the scope's history horizon is
//     raised to the group's last _seq in the same batch, so no live-query
//     resume can be served from a purged scope.
//   - CatPurgeUser deletes the catalog record only of a user that is
//     dropped (deleted_at set): a live account, or a name re-created in
//     between, is never purged. The proposer purges the rows first, so a
//     crash in between leaves the dropped record and the job reruns.

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// CatPurgeUser forgets a dropped user's catalog record (CatalogWrite.User
// names it) once its rows are purged, so the name can be reused.
const CatPurgeUser CatalogOp = 72

// UserPurge deletes one user's rows of per-user tables in one data group.
type UserPurge struct {
	UserID string   `json:"user_id"`
	Tables []uint32 `json:"tables"`
}

func (a *applier) applyPurgeUser(p *UserPurge) (Result, error) {
	if p.UserID == "" || strings.IndexByte(p.UserID, 0) >= 0 {
		return Result{}, applyErr(ErrInvalid, "user purge without a valid user id")
	}
	if keys.UserGroup(p.UserID) != a.group {
		return Result{}, applyErr(ErrInvalid, "user purge of %q sent to group %d", p.UserID, a.group)
	}
	var horizon [8]byte
	binary.BigEndian.PutUint64(horizon[:], a.lastSeq)
	for _, t := range p.Tables {
		scope := keys.ScopePrefix(a.group, t, p.UserID, true)
		if err := a.b.DeleteRange(scope, keys.PrefixEnd(scope), nil); err != nil {
			return Result{}, err
		}
		if err := a.b.Delete(keys.ColdPointer(a.group, t, p.UserID, true), nil); err != nil {
			return Result{}, err
		}
		if err := a.b.Set(keys.HistoryHorizon(a.group, t, p.UserID, true), horizon[:], nil); err != nil {
			return Result{}, err
		}
		if a.overlay != nil {
			for k := range a.overlay {
				if bytes.HasPrefix([]byte(k), scope) {
					delete(a.overlay, k)
				}
			}
			a.dropped = append(a.dropped, scope)
		}
	}
	return Result{}, nil
}

func (a *applier) purgeUser(cw *CatalogWrite) (Result, error) {
	if cw.User == nil {
		return Result{}, applyErr(ErrInvalid, "user purge without a user")
	}
	var u catalog.User
	ok, err := a.getJSON(catalog.RecUser, cw.User.UserID, &u)
	if err != nil {
		return Result{}, err
	}
	if !ok || u.DeletedAt == 0 {
		if cw.IfExists {
			return Result{Skipped: true}, nil
		}
		return Result{}, applyErr(ErrNotFound, "user '%s' is not a dropped user", cw.User.UserID)
	}
	return Result{}, a.b.Delete(keys.Catalog(catalog.RecUser, cw.User.UserID), nil)
}
