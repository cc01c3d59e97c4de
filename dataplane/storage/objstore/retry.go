package objstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RetryPolicy bounds every remote call: each attempt gets Timeout, and a
// failed attempt is retried up to Attempts-1 times, sleeping Backoff,
// 2*Backoff, ... (capped at MaxBackoff) in between.
type RetryPolicy struct {
	Attempts   int
	Timeout    time.Duration
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// DefaultRetryPolicy is used when a store is built without one: 4
// attempts, 60 s per attempt (the upstream request timeout), 200 ms
// initial backoff.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 4, Timeout: 60 * time.Second, Backoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent wraps err so Retry returns it at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// Retry runs fn until it succeeds, fails permanently, ctx ends or the
// attempts are used up. Each attempt runs under its own timeout.
func Retry(ctx context.Context, p RetryPolicy, op string, fn func(ctx context.Context) error) error {
	if p.Attempts <= 0 {
		p.Attempts = 1
	}
	backoff := p.Backoff
	var last error
	for attempt := 1; attempt <= p.Attempts; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if p.Timeout > 0 {
			actx, cancel = context.WithTimeout(ctx, p.Timeout)
		}
		err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		var perm *permanentError
		if errors.As(err, &perm) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidKey) {
			return unwrapPermanent(err)
		}
		if ctx.Err() != nil || attempt == p.Attempts {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (after %d attempt(s); last error: %v)", op, ctx.Err(), attempt, last)
		case <-t.C:
		}
		backoff *= 2
		if p.MaxBackoff > 0 && backoff > p.MaxBackoff {
			backoff = p.MaxBackoff
		}
	}
	return fmt.Errorf("%s failed after %d attempt(s): %w", op, p.Attempts, unwrapPermanent(last))
}

func unwrapPermanent(err error) error {
	var perm *permanentError
	if errors.As(err, &perm) {
		return perm.err
	}
	return err
}
