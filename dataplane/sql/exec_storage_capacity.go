package sql

import (
	"github.com/cockroachdb/pebble/v2/vfs"
)

// storageCapacity is what STORAGE CHECK ... EXTENDED reports as
// total_bytes and used_bytes: the volume under a filesystem storage's
// directory, as the original reports it. Object storage has no capacity
// (NULL, NULL), nor has a directory whose volume cannot be read.
func (e *Engine) storageCapacity(id string) (total, used any) {
	_, st, err := e.cold.Store(id)
	if err != nil || st.Type != "filesystem" {
		return nil, nil
	}
	u, err := vfs.Default.GetDiskUsage(e.cold.FilesystemBase(st))
	if err != nil {
		return nil, nil
	}
	return int64(u.TotalBytes), int64(u.UsedBytes)
}
