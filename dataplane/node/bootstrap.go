package node

// Bootstrapping a data directory from a backup (kalamdb server
// --restore-from TARGET [--restore-backup-id ID]), made crash-safe by a
// marker file, so that a bootstrap is either complete or retried: never
// silently skipped.
//
// Invariants:
//   - <data>/BOOTSTRAP_RESTORE (the marker) exists exactly while a
//     bootstrap restore of this data directory is incomplete. It is written
//     with the crash-safe sequence (hot.WriteFileAtomic: tmp, fsync,
//     rename, directory fsync) BEFORE the hot tier is first opened, so no
//     state of the directory that "holds data" lacks it while the restore
//     is unfinished. It is removed (remove, directory fsync) only after
//     the restore has fully completed (namespace marks cleared, indexes
//     rebuilt) AND its writes are synced to Pebble's WAL, whatever
//     storage.sync_writes says.
//   - A start that finds the marker does not serve before a bootstrap
//     restore has completed: after the startup rollback of the namespaces
//     an interrupted restore left marked (backup.Service.RecoverInterrupted)
//     it restores again, from the --restore-from / --restore-backup-id
//     given, else from the target and id recorded in the marker. The retry
//     overwrites the backup's namespaces that exist with tables (the
//     previous attempt may have completed them before crashing ahead of the
//     marker's removal). A failed attempt, first or retried, aborts startup
//     and leaves the marker: the next start retries.
//   - No marker and a data directory that already holds data (a Pebble
//     MANIFEST in <data>/hot): no restore, whatever the flags say
//     (restarting a bootstrapped server is safe). The overwrite is never
//     used outside a retry.
//   - The marker is the only bootstrap state, and it lives in the data
//     directory: the data plane knows nothing of who passes --restore-from
//     (the operator keeps it in the pod's command for the pod's lifetime).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cockroachdb/pebble/v2/vfs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// BootstrapMarkerFile is the name, in the data directory, of the file that
// records an incomplete --restore-from bootstrap.
const BootstrapMarkerFile = "BOOTSTRAP_RESTORE"

// StartOption tunes Start.
type StartOption func(*startOptions)

type startOptions struct {
	restoreFrom, restoreID string
	// bootstrapHooks, when set, gives the backup test hooks of the
	// bootstrap restore (tests only; it gets the node being started).
	bootstrapHooks func(*Node) backup.Hooks
	// fs and onFatal replace the hot tier's filesystem and fatal-error
	// action (disk-full tests; diskspace.go).
	fs      vfs.FS
	onFatal func(string)
}

// WithFS makes the hot tier use fs instead of the OS filesystem (tests:
// a size-limited hot.QuotaFS).
func WithFS(fs vfs.FS) StartOption { return func(o *startOptions) { o.fs = fs } }

// WithOnFatal replaces what a fatal storage error does after it is logged
// (default: exit with hot.ExitFatalStorage). fn must not return.
func WithOnFatal(fn func(msg string)) StartOption { return func(o *startOptions) { o.onFatal = fn } }

// WithRestoreFrom makes Start bootstrap an EMPTY data directory from the
// backup in target (id "" = newest completed), verified, before serving.
// A data directory that already holds data starts normally, unless an
// earlier bootstrap of it did not complete: that one is retried (from
// target and id) before serving.
func WithRestoreFrom(target, backupID string) StartOption {
	return func(o *startOptions) { o.restoreFrom, o.restoreID = target, backupID }
}

// dataDirFresh reports whether dir holds no hot-tier data yet: no Pebble
// manifest exists (Pebble writes one on first open).
func dataDirFresh(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "hot", "MANIFEST-*"))
	return len(m) == 0
}

// bootstrapMarker is the content of the marker file (JSON).
type bootstrapMarker struct {
	// Target and BackupID are those of the latest attempt ("" id = the
	// newest completed backup of the target).
	Target   string `json:"target"`
	BackupID string `json:"backup_id,omitempty"`
	// StartedAt is when the first attempt started (RFC 3339, UTC).
	StartedAt string `json:"started_at"`
	// Attempts counts the starts that tried this bootstrap.
	Attempts int `json:"attempts"`
}

// bootstrapPlan is the bootstrap restore one start runs.
type bootstrapPlan struct {
	target, backupID string
	// retry: the marker was found, so an earlier attempt did not complete
	// and the restore overwrites the backup's namespaces.
	retry bool
	// marker is the marker file's path.
	marker string
}

func markerPath(dataDir string) string { return filepath.Join(dataDir, BootstrapMarkerFile) }

// readBootstrapMarker reads the marker of dataDir; ok is false when there
// is none.
func readBootstrapMarker(dataDir string) (m bootstrapMarker, ok bool, err error) {
	path := markerPath(dataDir)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("while reading the bootstrap marker %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, true, fmt.Errorf("corrupt bootstrap marker %s: %w", path, err)
	}
	return m, true, nil
}

// planBootstrap decides, before the hot tier is opened, whether this start
// restores a backup, and writes or updates the marker when it does. It
// returns nil when no restore runs.
func planBootstrap(dataDir string, o startOptions, log *slog.Logger) (*bootstrapPlan, error) {
	path := markerPath(dataDir)
	m, found, err := readBootstrapMarker(dataDir)
	switch {
	case err != nil && !found:
		return nil, err
	case err != nil && o.restoreFrom == "":
		return nil, fmt.Errorf("a bootstrap restore of %s did not complete, and its target is unknown: %w; start with --restore-from to retry it", dataDir, err)
	case err != nil:
		// The atomic write never leaves a partial marker; whatever
		// garbled it, the flags say what to restore.
		log.Warn("unreadable bootstrap marker; retrying the bootstrap restore from the command line's target", "marker", path, "err", err)
		m = bootstrapMarker{}
	}
	p := &bootstrapPlan{marker: path, retry: found}
	switch {
	case found && o.restoreFrom != "":
		p.target, p.backupID = o.restoreFrom, o.restoreID
		log.Warn("a bootstrap restore did not complete; retrying it from the target given by --restore-from",
			"restore_from", p.target, "backup_id", p.backupID, "marker_target", m.Target, "marker_backup_id", m.BackupID,
			"started_at", m.StartedAt, "attempt", m.Attempts+1)
	case found:
		if m.Target == "" {
			return nil, fmt.Errorf("a bootstrap restore of %s did not complete, and marker %s names no target; start with --restore-from to retry it", dataDir, path)
		}
		p.target, p.backupID = m.Target, m.BackupID
		log.Warn("a bootstrap restore did not complete; retrying it from the target recorded in its marker",
			"restore_from", p.target, "backup_id", p.backupID, "marker", path, "started_at", m.StartedAt, "attempt", m.Attempts+1)
	case o.restoreFrom == "":
		return nil, nil
	case !dataDirFresh(dataDir):
		log.Info("data directory already holds data; not restoring", "restore_from", o.restoreFrom)
		return nil, nil
	default:
		p.target, p.backupID = o.restoreFrom, o.restoreID
	}
	if m.StartedAt == "" {
		m.StartedAt = time.Now().UTC().Format(time.RFC3339)
	}
	m.Target, m.BackupID, m.Attempts = p.target, p.backupID, m.Attempts+1
	data, _ := json.Marshal(m)
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("while creating data dir %s: %w", dataDir, err)
	}
	if err := hot.WriteFileAtomic(path, append(data, '\n'), 0o640); err != nil {
		return nil, fmt.Errorf("while writing the bootstrap marker: %w", err)
	}
	return p, nil
}

// bootstrapRestore runs the planned bootstrap restore (after the startup
// rollback of interrupted restores) and, once it has completed and is
// durable, removes the marker. Every error means the bootstrap is
// incomplete: the marker stays and the next start retries it.
func (n *Node) bootstrapRestore(ctx context.Context, p *bootstrapPlan) error {
	incomplete := func(err error) error {
		return fmt.Errorf("bootstrap restore from %s is incomplete (retried at the next start; %s kept): %w", p.target, p.marker, err)
	}
	if p.retry {
		n.log.Info("restoring the data directory from a backup again, overwriting the namespaces it holds", "restore_from", p.target, "backup_id", p.backupID)
	} else {
		n.log.Info("restoring the empty data directory from a backup", "restore_from", p.target, "backup_id", p.backupID)
	}
	m, err := n.backup.RestoreNow(ctx, p.target, p.backupID, p.retry)
	if err != nil {
		return incomplete(err)
	}
	// The restore's commands may have been committed without fsync
	// (storage.sync_writes = false): a synced WAL record makes every
	// earlier one durable before the marker goes.
	if err := n.store.DB.LogData(nil, pebble.Sync); err != nil {
		return incomplete(fmt.Errorf("while syncing the restored data: %w", err))
	}
	if err := removeSynced(p.marker); err != nil {
		return incomplete(fmt.Errorf("while removing the bootstrap marker: %w", err))
	}
	n.log.Info("restored backup", "backup_id", m.BackupID, "scope", m.Scope, "seq_high_water", m.SeqHighWater, "objects", len(m.Objects), "retried", p.retry)
	return nil
}

// removeSynced removes path and fsyncs its directory, so the removal
// survives a crash.
func removeSynced(path string) error {
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("while removing %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("while syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("while syncing %s: %w", dir, err)
	}
	return nil
}
