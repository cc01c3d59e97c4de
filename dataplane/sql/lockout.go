package sql

// Durable account lockout.
//
// Invariants:
//   - Only lock transitions are written (a lock starting, a stale lock
//     cleared by a successful login or an administrator's password reset),
//     never individual failed attempts: a login flood cannot turn into a
//     write flood, and the per-IP auth limiter stays in memory.
//   - A persisted lock is in the user's catalog record (meta group), so it
//     is replicated and replayed with the catalog; at start the engine
//     re-installs every lock that has not ended yet.
//   - Locks of names that are not users are never persisted (there is no
//     record to hold them, and persisting them would let anyone write).

import (
	"context"
	"fmt"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

// AuditAccountLocked is the audit action of a lock caused by failed logins.
const AuditAccountLocked = "ACCOUNT_LOCKED"

// restoreLocks re-installs the persisted locks that are still running.
func (e *Engine) restoreLocks() {
	now := e.now()
	for _, u := range e.cat.Users() {
		if u.LockedUntil > now.UnixMilli() && u.DeletedAt == 0 {
			e.lockout.Restore(u.UserID, time.UnixMilli(u.LockedUntil), now)
		}
	}
}

// persistLock writes user's current in-memory lock state (a new lock, or
// none) into its catalog record; unknown and dropped names are skipped.
// A new lock carries its ACCOUNT_LOCKED audit record in the same command.
func (e *Engine) persistLock(ctx context.Context, user string) error {
	cur, ok := e.cat.User(user)
	if !ok || cur.DeletedAt != 0 {
		return nil
	}
	u := *cur
	u.LockedUntil, u.FailedLoginAttempts = 0, 0
	cw := &engine.CatalogWrite{Op: engine.CatUpdateUser, User: &u, IfExists: true}
	if until, locked := e.lockout.LockedUntil(user, e.now()); locked {
		u.LockedUntil, u.FailedLoginAttempts = until.UnixMilli(), e.opts.Lockout.MaxAttempts
		if e.opts.AuditEnabled {
			rec := e.prepareAudit(ctx, catalog.AuditRecord{Actor: user, Action: AuditAccountLocked, Target: user,
				Details: fmt.Sprintf("locked until %s after %d failed logins", until.UTC().Format(time.RFC3339), u.FailedLoginAttempts)})
			cw.Audit, cw.AuditRetentionMs = &rec, e.opts.AuditRetention.Milliseconds()
		}
	}
	if _, err := e.proposeCatalog(context.WithoutCancel(ctx), cw); err != nil {
		return fmt.Errorf("while persisting the lockout of %s: %w", user, err)
	}
	return nil
}
