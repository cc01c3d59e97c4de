package hot

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Disk space and fatal storage errors.
//
// Invariants:
//   - Below Options.MinFreeBytes of free space on the data volume, the
//     store refuses new writes (CheckFree answers ErrDiskFull) while reads
//     go on; the reserve is what Pebble's own writes (WAL, memtable
//     flushes, compactions) may still use, so its fatal path is not
//     reached. Writes resume by themselves once space is back.
//   - A fatal storage error (Pebble's Logger.Fatalf: a WAL write or sync
//     that failed, e.g. no space left with the reserve disabled) never
//     panics inside a request and never leaves a wedged process: it is
//     logged with the free space and the process exits (OnFatal, by
//     default os.Exit(ExitFatalStorage)). Kubernetes restarts the pod,
//     which recovers as after a crash: Pebble replays its WAL, and every
//     acknowledged write is there (it was synced before it was
//     acknowledged).

// ErrDiskFull is returned by CheckFree while the data volume has less
// free space than the configured reserve.
var ErrDiskFull = errors.New("the data volume is full")

// ExitFatalStorage is the exit code of a process stopped by a fatal
// storage error (EX_SOFTWARE).
const ExitFatalStorage = 70

// freeRefresh is how old a free-space sample may be before a write
// samples again (one statfs call; a write path runs far more often).
const freeRefresh = 50 * time.Millisecond

// space tracks free space on the data volume and storage errors.
type space struct {
	fs      vfs.FS
	dir     string
	reserve uint64
	log     *slog.Logger
	onFatal func(msg string)

	avail    atomic.Uint64
	total    atomic.Uint64
	sampled  atomic.Int64 // unix ns of the last sample
	full     atomic.Bool
	errors   atomic.Int64 // storage errors (background, commit, fatal)
	refused  atomic.Int64 // writes refused for lack of space
	statFail atomic.Int64
}

// sample reads the free space now (at most every freeRefresh unless
// force) and logs transitions across the reserve.
func (s *space) sample(force bool) {
	now := time.Now().UnixNano()
	if !force && now-s.sampled.Load() < int64(freeRefresh) {
		return
	}
	s.sampled.Store(now)
	u, err := s.fs.GetDiskUsage(s.dir)
	if err != nil {
		// Unknown free space must not stop writes; the fatal path still
		// guards a volume that really is full.
		s.statFail.Add(1)
		return
	}
	s.avail.Store(u.AvailBytes)
	s.total.Store(u.TotalBytes)
	full := s.reserve > 0 && u.AvailBytes < s.reserve
	if was := s.full.Swap(full); was != full {
		if full {
			s.log.Error("data volume below its free-space reserve: refusing writes (DISK_FULL) until space is freed",
				"data_dir", s.dir, "free_bytes", u.AvailBytes, "reserve_bytes", s.reserve, "total_bytes", u.TotalBytes)
		} else {
			s.log.Warn("data volume has free space again: accepting writes", "data_dir", s.dir, "free_bytes", u.AvailBytes, "reserve_bytes", s.reserve)
		}
	}
}

// CheckFree returns an error wrapping ErrDiskFull (with the free-space
// figure) when the data volume is below its reserve.
func (s *Store) CheckFree() error {
	sp := s.space
	sp.sample(false)
	if !sp.full.Load() {
		return nil
	}
	sp.refused.Add(1)
	return fmt.Errorf("%w: %d bytes free on the data volume, below the %d-byte reserve (storage.min_free_mb); free space or grow the volume, writes resume by themselves",
		ErrDiskFull, sp.avail.Load(), sp.reserve)
}

// CheckFreeQuiet is CheckFree without counting a refused write (for
// /readyz).
func (s *Store) CheckFreeQuiet() error {
	s.space.sample(false)
	if s.space.full.Load() {
		return ErrDiskFull
	}
	return nil
}

// SpaceStats are the disk-space and storage-error figures (metrics).
type SpaceStats struct {
	FreeBytes, TotalBytes, ReserveBytes uint64
	// Errors counts storage errors: failed background jobs (flush,
	// compaction), failed commits and fatal errors.
	Errors int64
	// Refused counts writes refused with DISK_FULL.
	Refused int64
}

// SpaceStats samples the free space and returns the counters.
func (s *Store) SpaceStats() SpaceStats {
	sp := s.space
	sp.sample(true)
	return SpaceStats{FreeBytes: sp.avail.Load(), TotalBytes: sp.total.Load(), ReserveBytes: sp.reserve,
		Errors: sp.errors.Load(), Refused: sp.refused.Load()}
}

// CountError records a storage error seen above Pebble (a failed commit).
func (s *Store) CountError() { s.space.errors.Add(1) }

// fatal is Pebble's Logger.Fatalf: log the cause with the free space,
// then stop (onFatal). Pebble expects Fatalf not to return.
func (s *space) fatal(format string, args ...any) {
	s.errors.Add(1)
	msg := fmt.Sprintf(format, args...)
	var free any = "unknown"
	if u, err := s.fs.GetDiskUsage(s.dir); err == nil {
		free = u.AvailBytes
	}
	s.log.Error("fatal storage error: the process exits so that it restarts and recovers from its WAL",
		"err", msg, "data_dir", s.dir, "free_bytes", free, "exit_code", ExitFatalStorage)
	s.onFatal(msg)
}

// exitFatal is the default OnFatal.
func exitFatal(string) { os.Exit(ExitFatalStorage) }

// pebbleLogger routes Pebble's log to slog, at reduced verbosity (Pebble
// is chatty at info), and its fatal errors to space.fatal.
type pebbleLogger struct{ sp *space }

func (l pebbleLogger) Infof(string, ...any) {}
func (l pebbleLogger) Errorf(format string, args ...any) {
	l.sp.log.Warn("pebble: " + fmt.Sprintf(format, args...))
}
func (l pebbleLogger) Fatalf(format string, args ...any) { l.sp.fatal(format, args...) }

// listener counts Pebble's background errors (a flush or compaction that
// failed, e.g. for lack of space; Pebble retries them).
func (l pebbleLogger) listener() *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			l.sp.errors.Add(1)
			l.sp.log.Warn("pebble background error", "err", err)
		},
	}
}

// Fatal logs a fatal storage error found above Pebble (a commit round
// that panicked) and stops like Pebble's own fatal errors.
func (s *Store) Fatal(msg string) { s.space.fatal("%s", msg) }
