package auth

import (
	"sync"
	"time"
)

// LockoutPolicy configures account lockout after repeated failed logins.
type LockoutPolicy struct {
	// MaxAttempts failures within Window lock the account; zero or less
	// disables lockout.
	MaxAttempts int
	// Window is the period over which failures are counted.
	Window time.Duration
	// Duration is how long a locked account stays locked.
	Duration time.Duration
}

// maxLockoutEntries bounds the tracker's memory: failures for unknown user
// names are tracked too (so probing cannot tell them apart), and an
// attacker could otherwise grow the map without bound.
const maxLockoutEntries = 100_000

// Lockout counts failed logins per user name and locks names that fail too
// often. It is in memory and per node; the SQL engine persists the locks of
// existing users (catalog.User.LockedUntil) and restores them with Restore
// at start, so only failure counts and locks of unknown names are lost on
// a restart (the per-IP auth rate limit still bounds guessing).
type Lockout struct {
	policy LockoutPolicy
	mu     sync.Mutex
	m      map[string]*lockState
}

type lockState struct {
	failures    int
	windowStart time.Time
	lockedUntil time.Time
}

// NewLockout returns a tracker applying policy.
func NewLockout(policy LockoutPolicy) *Lockout {
	return &Lockout{policy: policy, m: map[string]*lockState{}}
}

// LockedUntil returns when user's lock ends and whether it is locked at now.
func (l *Lockout) LockedUntil(user string, now time.Time) (time.Time, bool) {
	if l == nil || l.policy.MaxAttempts <= 0 {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.m[user]
	if !ok || !now.Before(st.lockedUntil) {
		return time.Time{}, false
	}
	return st.lockedUntil, true
}

// Fail records a failed login for user at now and reports whether this
// failure locked the account.
func (l *Lockout) Fail(user string, now time.Time) bool {
	if l == nil || l.policy.MaxAttempts <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.m[user]
	if !ok {
		if len(l.m) >= maxLockoutEntries {
			l.sweep(now)
		}
		st = &lockState{windowStart: now}
		l.m[user] = st
	}
	if now.Sub(st.windowStart) > l.policy.Window {
		st.failures, st.windowStart = 0, now
	}
	st.failures++
	if st.failures >= l.policy.MaxAttempts && !now.Before(st.lockedUntil) {
		st.lockedUntil = now.Add(l.policy.Duration)
		st.failures, st.windowStart = 0, now
		return true
	}
	return false
}

// Success clears user's failure count after a successful login.
func (l *Lockout) Success(user string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, user)
}

// Unlock clears user's lock (an administrator reset the password).
func (l *Lockout) Unlock(user string) { l.Success(user) }

// FailedAttempts returns user's failures in the current window (system.users).
func (l *Lockout) FailedAttempts(user string) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.m[user]; ok {
		return st.failures
	}
	return 0
}

// sweep drops entries that are neither locked nor within their window; if
// that frees nothing (a flood of distinct names), it drops everything not
// locked. Caller holds l.mu.
func (l *Lockout) sweep(now time.Time) {
	for k, st := range l.m {
		if !now.Before(st.lockedUntil) && now.Sub(st.windowStart) > l.policy.Window {
			delete(l.m, k)
		}
	}
	if len(l.m) < maxLockoutEntries {
		return
	}
	for k, st := range l.m {
		if !now.Before(st.lockedUntil) {
			delete(l.m, k)
		}
	}
}

// Restore re-installs a lock that ends at until (a persisted lock, after a
// restart). A lock already past is ignored.
func (l *Lockout) Restore(user string, until, now time.Time) {
	if l == nil || l.policy.MaxAttempts <= 0 || !now.Before(until) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[user] = &lockState{windowStart: now, lockedUntil: until}
}
