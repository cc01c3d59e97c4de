package auth

import (
	"testing"
	"time"
)

func TestLockout(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		failures   []time.Duration // offsets from t0
		checkAt    time.Duration
		wantLocked bool
	}{
		{"below threshold", []time.Duration{0, time.Second}, 2 * time.Second, false},
		{"at threshold", []time.Duration{0, time.Second, 2 * time.Second}, 3 * time.Second, true},
		{"lock expires", []time.Duration{0, time.Second, 2 * time.Second}, 2*time.Second + 10*time.Minute, false},
		{"failures outside the window do not add up", []time.Duration{0, time.Second, 2 * time.Minute}, 2*time.Minute + time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLockout(LockoutPolicy{MaxAttempts: 3, Window: time.Minute, Duration: 10 * time.Minute})
			for _, f := range tc.failures {
				l.Fail("alice", t0.Add(f))
			}
			if _, got := l.LockedUntil("alice", t0.Add(tc.checkAt)); got != tc.wantLocked {
				t.Fatalf("locked = %v, want %v", got, tc.wantLocked)
			}
			if _, other := l.LockedUntil("bob", t0.Add(tc.checkAt)); other {
				t.Fatal("another user is locked")
			}
		})
	}
}

func TestLockoutDisabledAndSuccess(t *testing.T) {
	now := time.Now()
	off := NewLockout(LockoutPolicy{})
	for range 100 {
		off.Fail("a", now)
	}
	if _, locked := off.LockedUntil("a", now); locked {
		t.Fatal("disabled lockout locked")
	}
	l := NewLockout(LockoutPolicy{MaxAttempts: 2, Window: time.Minute, Duration: time.Minute})
	l.Fail("a", now)
	l.Success("a")
	l.Fail("a", now)
	if _, locked := l.LockedUntil("a", now); locked {
		t.Fatal("success did not reset the failure count")
	}
}
