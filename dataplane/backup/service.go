package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// Job types and id prefixes in system.jobs.
const (
	JobBackup  = "backup"
	JobRestore = "restore"
	JobVerify  = "verify"
)

var jobPrefix = map[string]string{JobBackup: "BK", JobRestore: "RS", JobVerify: "VF"}

// Options wire a Service to the running server.
type Options struct {
	// Snapshot pins a consistent point-in-time view of the hot tier; the
	// service closes it.
	Snapshot func() pebble.Reader
	// Stores resolves storage ids for s3:// targets and cold segments.
	Stores Stores
	// Server is where restores write and job records go.
	Server  Server
	Version string
	Logger  *slog.Logger
	// ProgressInterval throttles job-record progress updates.
	ProgressInterval time.Duration
	// Owner names this server in target leases (default: host name plus
	// a random suffix).
	Owner string
	// LeaseTTL is the lifetime of a target lease (default DefaultLeaseTTL).
	LeaseTTL time.Duration
	// Barrier, when set, is called before the snapshot is pinned and
	// returns once every write acknowledged anywhere before the call is
	// applied locally — in a replicated cluster, a ReadIndex on every Raft
	// group (docs/high-availability.md, "Backups in a cluster"), so the
	// backup of any replica holds every write acknowledged before it
	// started, across all groups. nil: a single node (its snapshot already
	// holds every acknowledged write).
	Barrier func(ctx context.Context) error
	// PauseJanitor, when set, stops the cold tier's orphan deletion for
	// the duration of a backup (resume is called when it ends).
	PauseJanitor func() (resume func())
	// ChunkBytes bounds one backup row chunk (backup.chunk_bytes; 0 =
	// DefaultChunkBytes).
	ChunkBytes int
	// RestoreBatchBytes bounds the rows a restore buffers per command
	// (backup.restore_batch_bytes; 0 = DefaultRestoreBatchBytes).
	RestoreBatchBytes int
}

// Service runs backups, restores and verifications as jobs recorded in
// system.jobs. Operations that write a target or the server run one at a
// time (queued jobs wait), so a deletion never races a backup of this
// server.
type Service struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// op is a one-slot semaphore: one target/server-writing operation at
	// a time; waiting honours the caller's context.
	op     chan struct{}
	mu     sync.Mutex
	seq    uint32
	closed bool
	// test tuning (SetTestHooks)
	hooks     Hooks
	batchRows int
	stats     *RestoreStats
}

// SetTestHooks installs test hooks and a restore batch size (tests only;
// call before starting operations).
func (s *Service) SetTestHooks(h Hooks, batchRows int, stats *RestoreStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks, s.batchRows, s.stats = h, batchRows, stats
}

func (s *Service) tuning() (Hooks, int, *RestoreStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hooks, s.batchRows, s.stats
}

// lease takes the target's lease for op.
func (s *Service) lease(ctx context.Context, st objstore.Store, op string) (*Lease, error) {
	return AcquireLease(ctx, st, s.o.Owner, op, s.o.LeaseTTL)
}

// NewService returns a service; Close stops its jobs.
func NewService(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 500 * time.Millisecond
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		var rnd [4]byte
		_, _ = rand.Read(rnd[:])
		o.Owner = host + "-" + hex.EncodeToString(rnd[:])
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{o: o, ctx: ctx, cancel: cancel, op: make(chan struct{}, 1)}
}

// acquire takes the operation slot; release gives it back.
func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.op <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a running backup operation: %w", ctx.Err())
	}
}

func (s *Service) release() { <-s.op }

// Close cancels running jobs and waits for them.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Started identifies an asynchronous operation.
type Started struct {
	BackupID string
	JobID    string
	Target   string
}

func (s *Service) nextSeq() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

// OpenTarget parses and opens a target.
func (s *Service) OpenTarget(target string) (Target, objstore.Store, error) {
	t, err := ParseTarget(target)
	if err != nil {
		return Target{}, nil, err
	}
	st, err := t.Open(s.o.Stores)
	return t, st, err
}

func (s *Service) putJob(ctx context.Context, j *catalog.Job) error {
	cp := *j
	_, err := proposeMeta(ctx, s.o.Server, &engine.CatalogWrite{Op: engine.CatPutJob, Job: &cp})
	return err
}

// start records a queued job and runs fn in an owned goroutine.
func (s *Service) start(ctx context.Context, typ, namespace, msg string, fn func(ctx context.Context, j *catalog.Job, progress func(Progress)) error) (string, error) {
	now := time.Now().UnixMilli()
	j := &catalog.Job{ID: fmt.Sprintf("%s-%011x%04x", jobPrefix[typ], now, s.nextSeq()&0xffff), Type: typ,
		Status: catalog.JobQueued, Namespace: namespace, CreatedAt: now, Trigger: "manual", Message: msg}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", fmt.Errorf("backup service is shut down")
	}
	s.wg.Add(1)
	s.mu.Unlock()
	if err := s.putJob(ctx, j); err != nil {
		s.wg.Done()
		return "", err
	}
	go func() {
		defer s.wg.Done()
		ctx := s.ctx
		if err := s.acquire(ctx); err != nil {
			j.Status, j.Error, j.FinishedAt = catalog.JobFailed, err.Error(), time.Now().UnixMilli()
			_ = s.putJob(context.WithoutCancel(ctx), j)
			return
		}
		defer s.release()
		j.Status, j.StartedAt, j.Attempts = catalog.JobRunning, time.Now().UnixMilli(), 1
		_ = s.putJob(ctx, j)
		var last time.Time
		progress := func(p Progress) {
			j.Segments, j.Rows = p.Files, p.Rows
			j.Bytes = p.BytesUploaded
			if typ != JobBackup {
				j.Bytes = p.BytesRead
			} else {
				j.Message = fmt.Sprintf("%s (uploaded %d bytes, reused %d bytes)", msg, p.BytesUploaded, p.BytesReused)
			}
			if time.Since(last) >= s.o.ProgressInterval {
				last = time.Now()
				_ = s.putJob(ctx, j)
			}
		}
		err := fn(ctx, j, progress)
		j.FinishedAt = time.Now().UnixMilli()
		if err != nil {
			j.Status, j.Error = catalog.JobFailed, err.Error()
			s.o.Logger.Error("backup job failed", "job_id", j.ID, "type", typ, "err", err)
		} else {
			j.Status = catalog.JobCompleted
			s.o.Logger.Info("backup job completed", "job_id", j.ID, "type", typ, "message", j.Message)
		}
		if perr := s.putJob(context.WithoutCancel(ctx), j); perr != nil {
			s.o.Logger.Error("while recording job", "job_id", j.ID, "err", perr)
		}
	}()
	return j.ID, nil
}

// StartBackup starts an asynchronous backup of the database (namespace
// "") or of one namespace.
func (s *Service) StartBackup(ctx context.Context, namespace, target string) (Started, error) {
	t, st, err := s.OpenTarget(target)
	if err != nil {
		return Started{}, err
	}
	if namespace != "" {
		if exists, _ := s.o.Server.NamespaceTables(namespace); !exists {
			return Started{}, fmt.Errorf("namespace '%s' not found", namespace)
		}
	}
	id := NewID(time.Now(), s.nextSeq())
	jobID, err := s.start(ctx, JobBackup, namespace, fmt.Sprintf("backup %s to %s", id, t), func(ctx context.Context, j *catalog.Job, progress func(Progress)) error {
		m, err := s.Backup(ctx, BackupRequest{ID: id, Namespace: namespace, Target: st, Progress: progress})
		if err != nil {
			return err
		}
		j.Bytes, j.Segments, j.Rows = m.BytesUploaded, int64(len(m.Objects)), m.Rows
		j.Message = fmt.Sprintf("backup %s to %s (%d objects, %d bytes, uploaded %d bytes, reused %d bytes)", id, t, len(m.Objects), m.SizeBytes, m.BytesUploaded, m.BytesReused)
		return nil
	})
	return Started{BackupID: id, JobID: jobID, Target: t.String()}, err
}

// Backup takes a backup synchronously from a fresh snapshot, holding the
// target's lease and pausing the cold tier's orphan janitor (so segments
// the snapshot names cannot be deleted under it) until it ends.
func (s *Service) Backup(ctx context.Context, req BackupRequest) (*Manifest, error) {
	l, err := s.lease(ctx, req.Target, "backup "+req.ID)
	if err != nil {
		return nil, err
	}
	defer l.Release(context.WithoutCancel(ctx))
	if s.o.PauseJanitor != nil {
		resume := s.o.PauseJanitor()
		defer resume()
	}
	started := time.Now()
	if s.o.Barrier != nil {
		if err := s.o.Barrier(ctx); err != nil {
			return nil, fmt.Errorf("while waiting until this replica has applied every write acknowledged before the backup: %w", err)
		}
		req.ClusterBarrier = true
	}
	snap := s.o.Snapshot()
	defer snap.Close()
	if h, _, _ := s.tuning(); h.AfterSnapshot != nil {
		h.AfterSnapshot()
	}
	if req.ChunkBytes <= 0 {
		req.ChunkBytes = s.o.ChunkBytes
	}
	m, err := Backup(ctx, snap, s.o.Stores, s.o.Version, started, req)
	if err == nil {
		if lerr := l.Lost(); lerr != nil {
			// The manifest is written; say the lease lapsed (another
			// server's deletion may have raced this backup).
			s.o.Logger.Warn("target lease renewal failed during backup", "backup_id", req.ID, "err", lerr)
		}
	}
	return m, err
}

// StartRestore starts an asynchronous restore; id "" picks the newest
// completed backup (resolved now, so the caller learns which).
func (s *Service) StartRestore(ctx context.Context, namespace, target, id string, overwrite bool) (Started, error) {
	t, st, id, err := s.resolveBackup(ctx, target, id)
	if err != nil {
		return Started{}, err
	}
	jobID, err := s.start(ctx, JobRestore, namespace, fmt.Sprintf("restore %s from %s", id, t), func(ctx context.Context, j *catalog.Job, progress func(Progress)) error {
		h, rows, stats := s.tuning()
		_, err := Restore(ctx, s.o.Server, RestoreRequest{ID: id, Namespace: namespace, Overwrite: overwrite, Target: st, Progress: progress,
			JobID: j.ID, Hooks: h, BatchRows: rows, BatchBytes: s.o.RestoreBatchBytes, Stats: stats})
		return err
	})
	return Started{BackupID: id, JobID: jobID, Target: t.String()}, err
}

// RestoreNow restores a whole backup synchronously: the --restore-from
// bootstrap of a server before it serves. overwrite drops the backup's
// namespaces that already exist with tables instead of refusing (RESTORE
// ... WITH OVERWRITE): a retried bootstrap whose previous attempt may have
// written them.
func (s *Service) RestoreNow(ctx context.Context, target, id string, overwrite bool) (*Manifest, error) {
	return s.Restore(ctx, "", target, id, overwrite)
}

// Restore restores synchronously, under the same one-operation-at-a-time
// rule as jobs (and with the same test hooks).
func (s *Service) Restore(ctx context.Context, namespace, target, id string, overwrite bool) (*Manifest, error) {
	_, st, err := s.OpenTarget(target)
	if err != nil {
		return nil, err
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	h, rows, stats := s.tuning()
	return Restore(ctx, s.o.Server, RestoreRequest{ID: id, Namespace: namespace, Overwrite: overwrite, Target: st,
		Hooks: h, BatchRows: rows, BatchBytes: s.o.RestoreBatchBytes, Stats: stats})
}

// resolveBackup opens a target and resolves a backup id in it ("" picks
// the newest completed backup), so an asynchronous job's caller learns
// which backup the job works on.
func (s *Service) resolveBackup(ctx context.Context, target, id string) (Target, objstore.Store, string, error) {
	t, st, err := s.OpenTarget(target)
	if err != nil {
		return Target{}, nil, "", err
	}
	m, err := LoadManifest(ctx, st, id)
	if err != nil {
		return Target{}, nil, "", err
	}
	return t, st, m.BackupID, nil
}

// StartVerify starts an asynchronous verification.
func (s *Service) StartVerify(ctx context.Context, target, id string) (Started, error) {
	t, st, id, err := s.resolveBackup(ctx, target, id)
	if err != nil {
		return Started{}, err
	}
	jobID, err := s.start(ctx, JobVerify, "", fmt.Sprintf("verify %s in %s", id, t), func(ctx context.Context, j *catalog.Job, progress func(Progress)) error {
		m, _, err := Verify(ctx, RestoreRequest{ID: id, Target: st, Progress: progress})
		if err != nil {
			return err
		}
		j.Message = fmt.Sprintf("verify %s in %s (%d objects, %d bytes ok)", id, t, len(m.Objects), m.SizeBytes)
		return nil
	})
	return Started{BackupID: id, JobID: jobID, Target: t.String()}, err
}

// List describes the backups of a target.
func (s *Service) List(ctx context.Context, target string) ([]Info, error) {
	_, st, err := s.OpenTarget(target)
	if err != nil {
		return nil, err
	}
	return List(ctx, st)
}

// Delete deletes one backup of a target.
func (s *Service) Delete(ctx context.Context, target, id string) error {
	_, st, err := s.OpenTarget(target)
	if err != nil {
		return err
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	l, err := s.lease(ctx, st, "delete backup "+id)
	if err != nil {
		return err
	}
	defer l.Release(context.WithoutCancel(ctx))
	return Delete(ctx, st, id)
}

// Prune applies a keep-last / max-age policy to a target.
func (s *Service) Prune(ctx context.Context, target string, keepLast int, maxAge time.Duration) ([]string, error) {
	_, st, err := s.OpenTarget(target)
	if err != nil {
		return nil, err
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	l, err := s.lease(ctx, st, "retention")
	if err != nil {
		return nil, err
	}
	defer l.Release(context.WithoutCancel(ctx))
	return Prune(ctx, st, keepLast, maxAge, time.Now())
}
