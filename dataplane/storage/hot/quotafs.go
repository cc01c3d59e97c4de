package hot

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// QuotaFS is a filesystem under Pebble with a byte quota: a write that
// would grow the files past it fails with ENOSPC, as on a full volume,
// and GetDiskUsage reports the quota's free space. Disk-full tests use it
// where mounting a small volume needs privileges; SetQuota "frees space".
//
// Usage is counted from the sizes of the files under the root when the
// QuotaFS is made, plus what writes add beyond a file's end, minus what
// Remove and Rename-over-a-file free. Preallocation is not counted.
type QuotaFS struct {
	vfs.FS
	quota atomic.Int64
	mu    sync.Mutex
	used  int64
}

// NewQuotaFS wraps the OS filesystem with a quota of quota bytes, counting
// the files already under root as used.
func NewQuotaFS(root string, quota int64) (*QuotaFS, error) {
	q := &QuotaFS{FS: vfs.Default}
	q.quota.Store(quota)
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				q.used += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while measuring %s: %w", root, err)
	}
	return q, nil
}

// SetQuota changes the quota (a test "frees space" by raising it).
func (q *QuotaFS) SetQuota(n int64) { q.quota.Store(n) }

// Used returns the bytes counted as used.
func (q *QuotaFS) Used() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.used
}

// grow charges n more bytes, or fails with ENOSPC.
func (q *QuotaFS) grow(name string, n int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.used+n > q.quota.Load() {
		return &os.PathError{Op: "write", Path: name, Err: syscall.ENOSPC}
	}
	q.used += n
	return nil
}

func (q *QuotaFS) free(n int64) {
	q.mu.Lock()
	q.used = max(0, q.used-n)
	q.mu.Unlock()
}

func (q *QuotaFS) size(name string) int64 {
	if info, err := q.FS.Stat(name); err == nil && !info.IsDir() {
		return info.Size()
	}
	return 0
}

func (q *QuotaFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	var size int64
	if info, serr := f.Stat(); serr == nil {
		size = info.Size()
	}
	return &quotaFile{File: f, q: q, name: name, size: size}, nil
}

// Create implements vfs.FS.
func (q *QuotaFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	q.free(q.size(name)) // truncated
	f, err := q.FS.Create(name, c)
	return q.wrap(name, f, err)
}

// OpenReadWrite implements vfs.FS.
func (q *QuotaFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := q.FS.OpenReadWrite(name, c, opts...)
	return q.wrap(name, f, err)
}

// ReuseForWrite implements vfs.FS.
func (q *QuotaFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	q.free(q.size(newname))
	f, err := q.FS.ReuseForWrite(oldname, newname, c)
	return q.wrap(newname, f, err)
}

// Remove implements vfs.FS.
func (q *QuotaFS) Remove(name string) error {
	n := q.size(name)
	if err := q.FS.Remove(name); err != nil {
		return err
	}
	q.free(n)
	return nil
}

// Rename implements vfs.FS.
func (q *QuotaFS) Rename(oldname, newname string) error {
	n := q.size(newname)
	if err := q.FS.Rename(oldname, newname); err != nil {
		return err
	}
	q.free(n)
	return nil
}

// GetDiskUsage implements vfs.FS: the quota is the volume.
func (q *QuotaFS) GetDiskUsage(string) (vfs.DiskUsage, error) {
	quota := q.quota.Load()
	used := q.Used()
	return vfs.DiskUsage{AvailBytes: uint64(max(0, quota-used)), TotalBytes: uint64(quota), UsedBytes: uint64(used)}, nil
}

// Unwrap implements vfs.FS.
func (q *QuotaFS) Unwrap() vfs.FS { return q.FS }

// quotaFile charges writes past the file's end to its QuotaFS.
type quotaFile struct {
	vfs.File
	q    *QuotaFS
	name string
	mu   sync.Mutex
	size int64 // bytes charged for this file
	pos  int64 // offset of the next Write
}

func (f *quotaFile) charge(end int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if end <= f.size {
		return nil
	}
	if err := f.q.grow(f.name, end-f.size); err != nil {
		return err
	}
	f.size = end
	return nil
}

// Write implements vfs.File.
func (f *quotaFile) Write(p []byte) (int, error) {
	if err := f.charge(f.pos + int64(len(p))); err != nil {
		return 0, err
	}
	n, err := f.File.Write(p)
	f.pos += int64(n)
	return n, err
}

// WriteAt implements vfs.File.
func (f *quotaFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.charge(off + int64(len(p))); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}
