// Package hot opens the hot tier: one Pebble database holding the catalog
// and every table row (layout in package keys).
//
// Invariants:
//   - The WAL is always on; durability of acknowledged writes comes from
//     committing with Sync (see package engine), never from disabling it.
//   - The data directory carries a node id (file NODE_ID) written once with
//     the crash-safe tmp+fsync+rename sequence, so a node keeps its identity
//     across restarts. Only a cluster node replaces it (ReplaceNodeID), by
//     its replica-derived id.
//   - A graceful shutdown (CloseClean) flushes the memtables, closes
//     Pebble (releasing its LOCK) and only then writes the CLEAN_SHUTDOWN
//     marker; Open consumes the marker. A start without it (crash,
//     SIGKILL) is reported as unclean: Pebble then replays its WAL, which
//     is correct but slower.
package hot

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure the hot tier.
type Options struct {
	// Dir is the data directory; Pebble lives in Dir/hot.
	Dir string
	// CacheBytes is the block cache size.
	CacheBytes int64
	// MemtableBytes is the memtable size.
	MemtableBytes uint64
	// NodeID is used when the data directory has none yet (0 means 1).
	NodeID int
	// ReplaceNodeID makes a stored node id different from NodeID (non-zero)
	// be replaced by it instead of refused: a clustered node's id is its
	// replica id (config.Config.SnowflakeNodeID), and replicas of a cluster
	// created before that rule all stored 1. Replacing is safe because a
	// snowflake id also carries its millisecond: the old id is no longer
	// used by this node, and the new one is used by no other member.
	ReplaceNodeID bool
	// MinFreeBytes is the free-space reserve of the data volume (0: no
	// reserve); see diskspace.go.
	MinFreeBytes uint64
	// FS is the filesystem Pebble uses (nil: the OS). Tests put a
	// size-limited one here (QuotaFS) to fill the volume.
	FS vfs.FS
	// Logger receives Pebble's errors and the disk-space transitions (nil:
	// slog.Default()).
	Logger *slog.Logger
	// OnFatal is called after a fatal storage error was logged; it must
	// not return (nil: exit with ExitFatalStorage).
	OnFatal func(msg string)
}

// DefaultOptions returns defaults sized for a small pod: 64 MiB block cache
// and 64 MiB memtables.
func DefaultOptions(dir string) Options {
	return Options{Dir: dir, CacheBytes: 64 << 20, MemtableBytes: 64 << 20}
}

// Store is an open hot tier.
type Store struct {
	DB     *pebble.DB
	NodeID int
	// CleanStart reports that the previous process shut down cleanly
	// (CloseClean ran to completion), so nothing was left in the WAL, or
	// that the data directory was new.
	CleanStart bool
	cache      *pebble.Cache
	dir        string
	space      *space
}

// Open opens (creating if needed) the hot tier in opts.Dir.
func Open(opts Options) (*Store, error) {
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("while creating data dir %s: %w", opts.Dir, err)
	}
	nodeID, err := loadOrCreateNodeID(opts.Dir, opts.NodeID, opts.ReplaceNodeID, opts.Logger)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(filepath.Join(opts.Dir, "hot"))
	fresh := errors.Is(statErr, os.ErrNotExist)
	sp := &space{fs: opts.FS, dir: opts.Dir, reserve: opts.MinFreeBytes, log: opts.Logger, onFatal: opts.OnFatal}
	if sp.fs == nil {
		sp.fs = vfs.Default
	}
	if sp.log == nil {
		sp.log = slog.Default()
	}
	if sp.onFatal == nil {
		sp.onFatal = exitFatal
	}
	sp.sample(true)
	pl := pebbleLogger{sp: sp}
	cache := pebble.NewCache(opts.CacheBytes)
	popts := &pebble.Options{
		Cache:                 cache,
		MemTableSize:          opts.MemtableBytes,
		FormatMajorVersion:    pebble.FormatNewest,
		L0CompactionThreshold: 4,
		Logger:                pl,
		EventListener:         pl.listener(),
		FS:                    sp.fs,
	}
	popts.EnsureDefaults()
	db, err := pebble.Open(filepath.Join(opts.Dir, "hot"), popts)
	if err != nil {
		cache.Unref()
		return nil, fmt.Errorf("while opening hot tier in %s: %w", opts.Dir, err)
	}
	clean, err := consumeCleanMarker(opts.Dir)
	if err != nil {
		_ = db.Close()
		cache.Unref()
		return nil, err
	}
	return &Store{DB: db, NodeID: nodeID, cache: cache, dir: opts.Dir, CleanStart: clean || fresh, space: sp}, nil
}

// Close flushes nothing extra (the WAL is durable) and releases the store.
func (s *Store) Close() error {
	err := s.DB.Close()
	s.cache.Unref()
	return err
}

func loadOrCreateNodeID(dir string, want int, replace bool, log *slog.Logger) (int, error) {
	path := filepath.Join(dir, "NODE_ID")
	data, err := os.ReadFile(path)
	if err == nil {
		id, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || id < 1 || id > 1023 {
			return 0, fmt.Errorf("corrupt node id file %s: %q", path, data)
		}
		if want != 0 && want != id {
			if !replace {
				return 0, fmt.Errorf("configured node id %d differs from %d stored in %s", want, id, path)
			}
			if err := WriteFileAtomic(path, []byte(strconv.Itoa(want)+"\n"), 0o640); err != nil {
				return 0, err
			}
			if log == nil {
				log = slog.Default()
			}
			log.Warn("replaced the stored snowflake node id by this cluster node's own", "stored", id, "node_id", want, "file", path)
			return want, nil
		}
		return id, nil
	}
	if !os.IsNotExist(err) {
		return 0, fmt.Errorf("while reading %s: %w", path, err)
	}
	if want == 0 {
		want = 1
	}
	if err := WriteFileAtomic(path, []byte(strconv.Itoa(want)+"\n"), 0o640); err != nil {
		return 0, err
	}
	return want, nil
}

// WriteFileAtomic writes data to path crash-safely: write path.tmp, fsync
// it, rename over path, fsync the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("while creating %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("while writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("while syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("while renaming %s: %w", tmp, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
