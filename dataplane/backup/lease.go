package backup

// Target lease: backups, deletions and retention of DIFFERENT servers on
// one target exclude each other through backups/.lock.
//
// Invariants:
//   - The lease object holds {owner, op, expires_at}. It is taken with a
//     conditional put (create if absent, or replace the exact version read
//     when it expired or is ours): of two servers racing for it, one wins.
//     A store without conditional puts gets a read-then-write lease with a
//     race window between the read and the write (documented).
//   - The holder renews it every TTL/3 while it works; a holder that dies
//     stops renewing and its lease expires after TTL, so a crashed server
//     never blocks a target for longer than TTL.
//   - Release deletes the object only if it is still ours.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// DefaultLeaseTTL is how long a lease lives without renewal.
const DefaultLeaseTTL = 2 * time.Minute

// ErrTargetLocked reports a target whose lease another server holds.
var ErrTargetLocked = errors.New("backup target is locked by another server")

var leaseKey = path.Join(backupsDir, ".lock")

type leaseRecord struct {
	Owner     string `json:"owner"`
	Op        string `json:"op"`
	ExpiresAt int64  `json:"expires_at"`
}

// Lease is a held target lease; Release it when done.
type Lease struct {
	st    objstore.Store
	owner string
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	etag  string
	err   error
}

// AcquireLease takes the target's lease for owner (op describes the work
// for the error another server sees) and renews it every ttl/3 until
// Release. It fails with ErrTargetLocked when another owner holds a live
// lease.
func AcquireLease(ctx context.Context, st objstore.Store, owner, op string, ttl time.Duration) (*Lease, error) {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	l := &Lease{st: st, owner: owner, stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.put(ctx, op, ttl); err != nil {
		return nil, err
	}
	go l.renew(op, ttl)
	return l, nil
}

// put writes the lease record when the target is free, expired or ours.
func (l *Lease) put(ctx context.Context, op string, ttl time.Duration) error {
	rec, _ := json.Marshal(leaseRecord{Owner: l.owner, Op: op, ExpiresAt: time.Now().Add(ttl).UnixMilli()})
	cond, ok := l.st.(objstore.Conditional)
	if ok {
		etag, err := cond.PutIf(ctx, leaseKey, rec, "")
		if errors.Is(err, objstore.ErrConditionalUnsupported) {
			ok = false
		} else if err == nil {
			l.setETag(etag)
			return nil
		} else if !errors.Is(err, objstore.ErrPreconditionFailed) {
			return fmt.Errorf("while taking the lease %s: %w", leaseKey, err)
		}
	}
	if ok {
		data, etag, err := cond.GetETag(ctx, leaseKey)
		if errors.Is(err, objstore.ErrNotFound) {
			return fmt.Errorf("%w: lease %s changed while taking it; retry", ErrTargetLocked, leaseKey)
		}
		if err != nil {
			return fmt.Errorf("while reading the lease %s: %w", leaseKey, err)
		}
		if err := l.free(data); err != nil {
			return err
		}
		etag, err = cond.PutIf(ctx, leaseKey, rec, etag)
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			return fmt.Errorf("%w: lease %s taken concurrently; retry", ErrTargetLocked, leaseKey)
		}
		if err != nil {
			return fmt.Errorf("while taking the lease %s: %w", leaseKey, err)
		}
		l.setETag(etag)
		return nil
	}
	// Best effort: read, then write (another server may write in between).
	data, err := l.st.Get(ctx, leaseKey)
	if err == nil {
		if err := l.free(data); err != nil {
			return err
		}
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return fmt.Errorf("while reading the lease %s: %w", leaseKey, err)
	}
	return l.st.Put(ctx, leaseKey, rec)
}

// free checks that a lease record is expired or ours.
func (l *Lease) free(data []byte) error {
	var cur leaseRecord
	if json.Unmarshal(data, &cur) != nil {
		return nil // unreadable: treat as free (we overwrite it)
	}
	if cur.Owner == l.owner || time.Now().UnixMilli() > cur.ExpiresAt {
		return nil
	}
	return fmt.Errorf("%w: %s holds it for %s until %s", ErrTargetLocked, cur.Owner, cur.Op,
		time.UnixMilli(cur.ExpiresAt).UTC().Format(time.RFC3339))
}

func (l *Lease) setETag(e string) {
	l.mu.Lock()
	l.etag = e
	l.mu.Unlock()
}

// renew keeps the lease alive until Release (owned goroutine: stopped and
// awaited by Release).
func (l *Lease) renew(op string, ttl time.Duration) {
	defer close(l.done)
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
			err := l.put(ctx, op, ttl)
			cancel()
			if err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
			}
		}
	}
}

// Lost reports a renewal failure (the lease may have expired and been
// taken by another server).
func (l *Lease) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Release stops renewing and deletes the lease if it is still ours.
func (l *Lease) Release(ctx context.Context) {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		data, err := l.st.Get(ctx, leaseKey)
		if err != nil {
			return
		}
		var cur leaseRecord
		if json.Unmarshal(data, &cur) == nil && cur.Owner == l.owner {
			_ = l.st.Delete(ctx, leaseKey)
		}
	})
}
