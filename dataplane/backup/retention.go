package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// orphanGrace protects unreferenced objects younger than this from
// garbage collection: they may belong to a backup still being written.
const orphanGrace = time.Hour

// Info describes one backup in a target (SHOW BACKUPS).
type Info struct {
	ID            string
	Scope         string
	Status        string
	StartedAt     int64
	FinishedAt    int64
	SizeBytes     int64
	Files         int64
	BytesUploaded int64
	BytesReused   int64
	SeqHighWater  uint64
	ServerVersion string
	Error         string
}

// List describes every backup in a target, oldest first. Status is
// completed only when the manifest exists (and decodes).
func List(ctx context.Context, st objstore.Store) ([]Info, error) {
	objs, err := st.List(ctx, backupsDir+"/")
	if err != nil {
		return nil, fmt.Errorf("while listing backups in %s: %w", st, err)
	}
	files := map[string]map[string]bool{}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, backupsDir+"/")
		id, name, ok := strings.Cut(rel, "/")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		if files[id] == nil {
			files[id] = map[string]bool{}
		}
		files[id][name] = true
	}
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Info, 0, len(ids))
	for _, id := range ids {
		if ValidateID(id) != nil {
			continue
		}
		info := Info{ID: id, Status: StatusIncomplete}
		if files[id][manifestName] {
			m, err := LoadManifest(ctx, st, id)
			if err != nil {
				info.Status, info.Error = StatusFailed, err.Error()
			} else {
				info = Info{ID: id, Scope: m.Scope, Status: StatusCompleted, StartedAt: m.StartedAt, FinishedAt: m.FinishedAt,
					SizeBytes: m.SizeBytes, Files: int64(len(m.Objects)), BytesUploaded: m.BytesUploaded, BytesReused: m.BytesReused,
					SeqHighWater: m.SeqHighWater, ServerVersion: m.ServerVersion}
			}
			out = append(out, info)
			continue
		}
		var started struct {
			Scope         string `json:"scope"`
			StartedAt     int64  `json:"started_at"`
			ServerVersion string `json:"server_version"`
		}
		if data, err := st.Get(ctx, startedKey(id)); err == nil {
			_ = json.Unmarshal(data, &started)
		}
		info.Scope, info.StartedAt, info.ServerVersion = started.Scope, started.StartedAt, started.ServerVersion
		if files[id][failedName] {
			var failed struct {
				Error    string `json:"error"`
				FailedAt int64  `json:"failed_at"`
			}
			if data, err := st.Get(ctx, failedKey(id)); err == nil {
				_ = json.Unmarshal(data, &failed)
			}
			info.Status, info.Error, info.FinishedAt = StatusFailed, failed.Error, failed.FailedAt
		}
		out = append(out, info)
	}
	return out, nil
}

// ErrNotFound reports an unknown backup id.
var ErrNotFound = errors.New("backup not found")

// Delete removes one backup and every object no remaining backup
// references.
func Delete(ctx context.Context, st objstore.Store, id string) error {
	_, err := deleteBackups(ctx, st, []string{id}, time.Now())
	return err
}

// Prune deletes completed backups beyond the newest keepLast; with maxAge
// > 0 only those among them older than maxAge. The newest keepLast are
// always kept, and objects they (or any other kept backup) reference are
// never deleted. It returns the deleted ids.
func Prune(ctx context.Context, st objstore.Store, keepLast int, maxAge time.Duration, now time.Time) ([]string, error) {
	if keepLast < 0 {
		return nil, fmt.Errorf("KEEP LAST must be >= 0")
	}
	list, err := List(ctx, st)
	if err != nil {
		return nil, err
	}
	var done []Info
	for _, b := range list {
		if b.Status == StatusCompleted {
			done = append(done, b)
		}
	}
	// Newest first.
	sort.Slice(done, func(i, j int) bool { return done[i].ID > done[j].ID })
	var doomed []string
	for i, b := range done {
		if i < keepLast {
			continue
		}
		if maxAge > 0 && now.Sub(time.UnixMilli(b.StartedAt)) <= maxAge {
			continue
		}
		doomed = append(doomed, b.ID)
	}
	if len(doomed) == 0 {
		return nil, nil
	}
	return deleteBackups(ctx, st, doomed, now)
}

func deleteBackups(ctx context.Context, st objstore.Store, ids []string, now time.Time) ([]string, error) {
	mine := map[string]bool{}
	for _, id := range ids {
		if err := ValidateID(id); err != nil {
			return nil, err
		}
		files, err := st.List(ctx, path.Join(backupsDir, id)+"/")
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, id, st)
		}
		if m, err := LoadManifest(ctx, st, id); err == nil {
			for _, o := range m.Objects {
				mine[o.Key] = true
			}
		}
		// The manifest goes first: from here on the backup is incomplete
		// and nothing restores it.
		if err := st.Delete(ctx, ManifestKey(id)); err != nil {
			return nil, fmt.Errorf("while deleting %s: %w", ManifestKey(id), err)
		}
		for _, f := range files {
			if err := st.Delete(ctx, f.Key); err != nil {
				return nil, fmt.Errorf("while deleting %s: %w", f.Key, err)
			}
		}
	}
	return ids, collect(ctx, st, mine, now)
}

// collect deletes objects that no completed backup references: those the
// deleted backups referenced, and any other unreferenced object older
// than orphanGrace (left by failed backups).
func collect(ctx context.Context, st objstore.Store, freed map[string]bool, now time.Time) error {
	ids, err := completedIDs(ctx, st)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, id := range ids {
		m, err := LoadManifest(ctx, st, id)
		if err != nil {
			// An unreadable manifest may still reference anything: keep all.
			return fmt.Errorf("not collecting objects: %w", err)
		}
		for _, o := range m.Objects {
			kept[o.Key] = true
		}
	}
	objs, err := st.List(ctx, objectsDir+"/")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if kept[o.Key] {
			continue
		}
		if !freed[o.Key] && now.Sub(o.ModTime) < orphanGrace {
			continue
		}
		if err := st.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("while deleting %s: %w", o.Key, err)
		}
	}
	return nil
}
