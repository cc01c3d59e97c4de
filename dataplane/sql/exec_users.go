package sql

import (
	"context"
	"errors"
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// RootUser is the bootstrap administrator.
const RootUser = "root"

func (e *Engine) hashPassword(pw string) (string, error) {
	if err := e.opts.PasswordPolicy.Check(pw); err != nil {
		return "", badRequest(CodeInvalidInput, "%v", err)
	}
	h, err := auth.HashPassword(pw, e.opts.BcryptCost)
	if err != nil {
		return "", badRequest(CodeInvalidInput, "%v", err)
	}
	return h, nil
}

func (e *Engine) execCreateUser(ctx context.Context, sess *Session, s *parse.CreateUser) (*Result, error) {
	if err := requireAdmin(sess, "CREATE USER"); err != nil {
		return nil, err
	}
	if err := parse.ValidateUserName(s.Name); err != nil {
		return nil, err
	}
	role, err := auth.ParseRole(s.Role)
	if err != nil {
		return nil, badRequest(CodeInvalidInput, "%v", err)
	}
	if role == auth.RoleSystem && sess.Role != auth.RoleSystem {
		return nil, denied("permission denied: only the system role can create system users")
	}
	h, err := e.hashPassword(s.Password)
	if err != nil {
		return nil, err
	}
	scram, err := auth.NewScramVerifier(s.Password)
	if err != nil {
		return nil, err
	}
	now := e.nowMs()
	u := &catalog.User{UserID: s.Name, PasswordHash: h, ScramSHA256: scram, Role: string(role), Email: s.Email, AuthType: "password", CreatedAt: now, UpdatedAt: now}
	res, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatCreateUser, User: u, IfNotExists: s.IfNotExists})
	if err != nil {
		return nil, err
	}
	if res.Skipped {
		return &Result{Message: fmt.Sprintf("User '%s' already exists", s.Name)}, nil
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("User '%s' created", s.Name)}, nil
}

func (e *Engine) execAlterUser(ctx context.Context, sess *Session, s *parse.AlterUser) (*Result, error) {
	if s.Name != sess.UserID && !sess.Role.IsAdmin() {
		return nil, denied("permission denied: you may only alter your own user")
	}
	cur, ok := e.cat.User(s.Name)
	if !ok {
		return nil, notFound("user '%s' not found", s.Name)
	}
	if cur.DeletedAt != 0 {
		return nil, notFound("user '%s' was dropped and is awaiting purge; it cannot be altered", s.Name)
	}
	if auth.Role(cur.Role) == auth.RoleSystem && sess.Role != auth.RoleSystem && s.Name != sess.UserID {
		return nil, denied("permission denied: only the system role can alter a system user")
	}
	u := *cur
	if s.Password != nil {
		h, err := e.hashPassword(*s.Password)
		if err != nil {
			return nil, err
		}
		if u.ScramSHA256, err = auth.NewScramVerifier(*s.Password); err != nil {
			return nil, err
		}
		u.PasswordHash = h
		u.TokensValidAfter = e.nowMs()
		if sess.Role.IsAdmin() {
			// An administrator's reset is how a locked account is recovered;
			// the persisted lock is cleared in the same write.
			u.LockedUntil, u.FailedLoginAttempts = 0, 0
			defer e.lockout.Unlock(s.Name)
		}
	}
	if s.Role != nil {
		if !sess.Role.IsAdmin() {
			return nil, denied("permission denied: changing a role requires the dba or system role")
		}
		r, err := auth.ParseRole(*s.Role)
		if err != nil {
			return nil, badRequest(CodeInvalidInput, "%v", err)
		}
		if (r == auth.RoleSystem || auth.Role(u.Role) == auth.RoleSystem) && sess.Role != auth.RoleSystem {
			return nil, denied("permission denied: only the system role can grant or revoke the system role")
		}
		if u.Role != string(r) {
			u.TokensValidAfter = e.nowMs()
		}
		u.Role = string(r)
	}
	if s.Email != nil {
		u.Email = *s.Email
	}
	u.UpdatedAt = e.nowMs()
	if _, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatUpdateUser, User: &u}); err != nil {
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("User '%s' updated", s.Name)}, nil
}

func (e *Engine) execDropUser(ctx context.Context, sess *Session, s *parse.DropUser) (*Result, error) {
	if err := requireAdmin(sess, "DROP USER"); err != nil {
		return nil, err
	}
	if s.Name == RootUser || s.Name == sess.UserID {
		return nil, badRequest(CodeInvalidInput, "user '%s' cannot be dropped", s.Name)
	}
	cur, ok := e.cat.User(s.Name)
	if !ok || cur.DeletedAt != 0 {
		if s.IfExists {
			return &Result{Message: fmt.Sprintf("User '%s' does not exist", s.Name)}, nil
		}
		return nil, notFound("user '%s' not found", s.Name)
	}
	u := *cur
	u.DeletedAt = e.nowMs()
	u.UpdatedAt, u.TokensValidAfter = u.DeletedAt, u.DeletedAt
	if _, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatUpdateUser, User: &u}); err != nil {
		return nil, err
	}
	return &Result{RowCount: 1, Message: fmt.Sprintf("User '%s' dropped", s.Name)}, nil
}

// EnsureRoot creates the root user on first start and, when password is
// non-empty, makes it root's password. With no password root can only log
// in from localhost (enforced by Authenticate's caller).
func (e *Engine) EnsureRoot(ctx context.Context, password string) error {
	err := e.ensureRoot(ctx, password)
	if errors.Is(err, engine.ErrAlreadyExists) {
		// Replicas starting together race to create root; the winner's
		// record is applied here by now, so check it again.
		err = e.ensureRoot(ctx, password)
	}
	return err
}

func (e *Engine) ensureRoot(ctx context.Context, password string) error {
	cur, ok := e.cat.User(RootUser)
	if ok && (password == "" || auth.CheckPassword(cur.PasswordHash, password)) {
		return nil
	}
	var h, scram string
	if password != "" {
		var err error
		if h, err = auth.HashPassword(password, e.opts.BcryptCost); err != nil {
			return fmt.Errorf("while hashing the root password: %w", err)
		}
		if scram, err = auth.NewScramVerifier(password); err != nil {
			return err
		}
	}
	now := e.nowMs()
	u := &catalog.User{UserID: RootUser, PasswordHash: h, ScramSHA256: scram, Role: string(auth.RoleSystem), AuthType: "internal", CreatedAt: now, UpdatedAt: now}
	op := engine.CatCreateUser
	if ok {
		// KALAMDB_ROOT_PASSWORD is the source of truth for root's password
		// (like a Kubernetes Secret): a different stored one is replaced and
		// tokens issued under it are revoked.
		u = new(catalog.User)
		*u = *cur
		u.PasswordHash, u.ScramSHA256, u.UpdatedAt, u.TokensValidAfter = h, scram, now, now
		u.Role, u.DeletedAt = string(auth.RoleSystem), 0
		op = engine.CatUpdateUser
	}
	if _, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: op, User: u}); err != nil {
		return fmt.Errorf("while bootstrapping the root user: %w", err)
	}
	return nil
}

// ErrBadCredentials is returned by Authenticate for any login failure; the
// message never says which part was wrong.
var ErrBadCredentials = errors.New("invalid username or password")

// ErrAccountLocked is returned by Authenticate while a name is locked
// after repeated failed logins (even for the right password).
var ErrAccountLocked = errors.New("account is temporarily locked after repeated failed logins")

// ErrRemoteRoot is returned by Authenticate for a password-less root login
// from a non-loopback peer (REMOTE_ACCESS_DENIED). It does not count
// towards the lockout: it is not a guess.
var ErrRemoteRoot = errors.New("root has no password yet and can log in only from localhost")

// Authenticate checks a login. fromLocalhost allows root without a password.
// Failures count towards the name's lockout (unknown names too, so lockout
// answers do not reveal which names exist).
//
// A lock of an existing user is persisted (lockout.go) so it survives a
// restart.
func (e *Engine) Authenticate(ctx context.Context, user, password string, fromLocalhost bool) (*catalog.User, error) {
	now := e.now()
	if _, locked := e.lockout.LockedUntil(user, now); locked {
		return nil, ErrAccountLocked
	}
	u, err := e.checkCredentials(user, password, fromLocalhost)
	if errors.Is(err, ErrRemoteRoot) {
		return nil, err
	}
	if err != nil {
		if e.lockout.Fail(user, now) {
			if perr := e.persistLock(ctx, user); perr != nil {
				return nil, perr
			}
		}
		return nil, err
	}
	e.lockout.Success(user)
	if u.LockedUntil != 0 {
		if err := e.persistLock(ctx, user); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (e *Engine) checkCredentials(user, password string, fromLocalhost bool) (*catalog.User, error) {
	u, ok := e.cat.User(user)
	if !ok || u.DeletedAt != 0 {
		// Spend comparable time so unknown users are not distinguishable.
		auth.CheckPassword("$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinval", password)
		return nil, ErrBadCredentials
	}
	if u.PasswordHash == "" {
		if u.UserID == RootUser && password == "" {
			if !fromLocalhost {
				return nil, ErrRemoteRoot
			}
			return u, nil
		}
		return nil, ErrBadCredentials
	}
	if !auth.CheckPassword(u.PasswordHash, password) {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// Locked reports whether user is locked out now; its tokens are refused
// meanwhile.
func (e *Engine) Locked(user string) bool {
	_, locked := e.lockout.LockedUntil(user, e.now())
	return locked
}

// RevokeTokens invalidates every token of user issued before now (logout).
func (e *Engine) RevokeTokens(ctx context.Context, user string) error {
	cur, ok := e.cat.User(user)
	if !ok || cur.DeletedAt != 0 {
		return nil
	}
	u := *cur
	// +1: tokens minted in the revoking millisecond are revoked too.
	u.TokensValidAfter = e.nowMs() + 1
	if _, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatUpdateUser, User: &u}); err != nil {
		return fmt.Errorf("while revoking tokens of %s: %w", user, err)
	}
	return nil
}

// NeedsSetup reports whether root has no password yet (first start).
func (e *Engine) NeedsSetup() bool {
	u, ok := e.cat.User(RootUser)
	return ok && u.PasswordHash == ""
}

// ErrAlreadySetUp is returned by Setup once root has a password.
var ErrAlreadySetUp = errors.New("the server is already set up: root has a password")

// Setup sets root's password on first start (POST /v1/api/auth/setup) and,
// when user is not empty, creates a dba account. The password policy
// applies to both passwords.
func (e *Engine) Setup(ctx context.Context, rootPassword, user, password, email string) error {
	cur, ok := e.cat.User(RootUser)
	if !ok || cur.PasswordHash != "" {
		return ErrAlreadySetUp
	}
	h, err := e.hashPassword(rootPassword)
	if err != nil {
		return err
	}
	var dh string
	if user != "" {
		if err := parse.ValidateUserName(user); err != nil {
			return AsError(err)
		}
		if user == RootUser {
			return badRequest(CodeInvalidInput, "the dba user must not be root")
		}
		if dh, err = e.hashPassword(password); err != nil {
			return err
		}
	}
	rootScram, err := auth.NewScramVerifier(rootPassword)
	if err != nil {
		return err
	}
	u := *cur
	u.PasswordHash, u.ScramSHA256, u.UpdatedAt, u.TokensValidAfter = h, rootScram, e.nowMs(), e.nowMs()
	if _, err := e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatUpdateUser, User: &u}); err != nil {
		return err
	}
	if user == "" {
		return nil
	}
	dscram, err := auth.NewScramVerifier(password)
	if err != nil {
		return err
	}
	now := e.nowMs()
	_, err = e.proposeCatalog(ctx, &engine.CatalogWrite{Op: engine.CatCreateUser, User: &catalog.User{
		UserID: user, PasswordHash: dh, ScramSHA256: dscram, Role: string(auth.RoleDBA), Email: email, AuthType: "password", CreatedAt: now, UpdatedAt: now}})
	return err
}
