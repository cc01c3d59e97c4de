package hot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cleanMarker is the file a graceful shutdown leaves in the data dir.
const cleanMarker = "CLEAN_SHUTDOWN"

// CloseClean flushes the memtables to sstables (so the next start has no
// WAL to replay), closes Pebble, then records the clean shutdown with the
// crash-safe write sequence. A failure at any step leaves no marker, and
// the next start is treated as unclean.
func (s *Store) CloseClean() error {
	ferr := s.DB.Flush()
	if err := s.Close(); err != nil {
		return fmt.Errorf("while closing the hot tier: %w", err)
	}
	if ferr != nil {
		return fmt.Errorf("while flushing memtables at shutdown: %w", ferr)
	}
	stamp := strconv.FormatInt(time.Now().UnixMilli(), 10) + "\n"
	return WriteFileAtomic(filepath.Join(s.dir, cleanMarker), []byte(stamp), 0o640)
}

// consumeCleanMarker reports whether the previous shutdown was clean and
// removes the marker, so a crash of this process is detected next time.
func consumeCleanMarker(dir string) (bool, error) {
	path := filepath.Join(dir, cleanMarker)
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("while removing %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return true, fmt.Errorf("while syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return true, fmt.Errorf("while syncing %s: %w", dir, err)
	}
	return true, nil
}
