package sql

import (
	"context"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// LoginUser returns the account a wire-protocol login names, for
// challenge-response authentication (SCRAM) where the server never sees
// the password. It refuses locked accounts (ErrAccountLocked) and unknown
// or dropped users (ErrBadCredentials); the caller reports the exchange's
// outcome with LoginOutcome so lockout counts it like an HTTP login.
func (e *Engine) LoginUser(user string) (*catalog.User, error) {
	if _, locked := e.lockout.LockedUntil(user, e.now()); locked {
		return nil, ErrAccountLocked
	}
	u, ok := e.cat.User(user)
	if !ok || u.DeletedAt != 0 {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// LoginOutcome records the result of a login that LoginUser started: a
// failure counts towards the lockout (persisting the lock when it starts),
// a success resets the count, as Authenticate does for passwords.
func (e *Engine) LoginOutcome(ctx context.Context, user string, ok bool) error {
	if !ok {
		if e.lockout.Fail(user, e.now()) {
			return e.persistLock(ctx, user)
		}
		return nil
	}
	e.lockout.Success(user)
	if u, found := e.cat.User(user); found && u.LockedUntil != 0 {
		return e.persistLock(ctx, user)
	}
	return nil
}
