package sql

// Executors of the backup statements (contract C2): BACKUP, RESTORE,
// BACKUP VERIFY, SHOW BACKUPS, DELETE BACKUP(S). The work itself is done
// by package backup behind the BackupService interface; this file only
// checks roles, maps errors and shapes results.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/backup"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// BackupService is the backup subsystem as SQL sees it (*backup.Service).
type BackupService interface {
	StartBackup(ctx context.Context, namespace, target string) (backup.Started, error)
	StartRestore(ctx context.Context, namespace, target, id string, overwrite bool) (backup.Started, error)
	StartVerify(ctx context.Context, target, id string) (backup.Started, error)
	List(ctx context.Context, target string) ([]backup.Info, error)
	Delete(ctx context.Context, target, id string) error
	Prune(ctx context.Context, target string, keepLast int, maxAge time.Duration) ([]string, error)
}

// SetBackup connects the backup service. Without it backup statements fail.
func (e *Engine) SetBackup(b BackupService) { e.backup = b }

// backupErr maps a backup error to an API error.
func backupErr(err error) error {
	var oe *backup.ObjectError
	switch {
	case errors.Is(err, backup.ErrNotFound), errors.Is(err, backup.ErrNoBackup):
		return notFound("%s", err.Error())
	case errors.As(err, &oe):
		return badRequest(CodeInvalidInput, "%s", err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "not found") {
		return notFound("%s", msg)
	}
	return badRequest(CodeInvalidInput, "%s", msg)
}

func (e *Engine) execBackup(ctx context.Context, sess *Session, st parse.Statement) (*Result, error) {
	if err := requireAdmin(sess, "backup and restore"); err != nil {
		return nil, err
	}
	if e.backup == nil {
		return nil, badRequest(CodeInvalidSQL, "backups are not enabled on this server")
	}
	switch s := st.(type) {
	case *parse.Backup:
		started, err := e.backup.StartBackup(ctx, s.Namespace, s.Target)
		if err != nil {
			return nil, backupErr(err)
		}
		res := oneRow([]string{"backup_id", "job_id", "target", "status"}, started.BackupID, started.JobID, started.Target, "queued")
		res.Message = fmt.Sprintf("%s backup started to '%s'. Job ID: %s", backupScope(s.Namespace), s.Target, started.JobID)
		return res, nil
	case *parse.Restore:
		started, err := e.backup.StartRestore(ctx, s.Namespace, s.Target, s.BackupID, s.Overwrite)
		if err != nil {
			return nil, backupErr(err)
		}
		res := oneRow([]string{"backup_id", "job_id", "status"}, started.BackupID, started.JobID, "queued")
		res.Message = fmt.Sprintf("%s restore started from '%s'. Job ID: %s", backupScope(s.Namespace), s.Target, started.JobID)
		return res, nil
	case *parse.VerifyBackup:
		started, err := e.backup.StartVerify(ctx, s.Target, s.BackupID)
		if err != nil {
			return nil, backupErr(err)
		}
		return oneRow([]string{"backup_id", "job_id", "status"}, started.BackupID, started.JobID, "queued"), nil
	case *parse.ShowBackups:
		return e.showBackups(ctx, s)
	case *parse.DeleteBackup:
		if err := e.backup.Delete(ctx, s.Target, s.BackupID); err != nil {
			return nil, backupErr(err)
		}
		res := oneRow([]string{"backup_id"}, s.BackupID)
		res.Message = "Backup '" + s.BackupID + "' deleted"
		return res, nil
	case *parse.PruneBackups:
		ids, err := e.backup.Prune(ctx, s.Target, s.KeepLast, s.MaxAge)
		if err != nil {
			return nil, backupErr(err)
		}
		res := &Result{Schema: []Field{{"backup_id", "TEXT", 0}}}
		for _, id := range ids {
			res.Rows = append(res.Rows, []any{id})
		}
		res.RowCount = len(res.Rows)
		return res, nil
	}
	return nil, badRequest(CodeInvalidSQL, "unsupported backup statement")
}

// oneRow builds a one-row TEXT result.
func oneRow(cols []string, vals ...any) *Result {
	res := &Result{RowCount: 1, Rows: [][]any{vals}}
	for i, c := range cols {
		res.Schema = append(res.Schema, Field{c, "TEXT", i})
	}
	return res
}

var showBackupsColumns = []Field{
	{"backup_id", "TEXT", 0}, {"scope", "TEXT", 1}, {"status", "TEXT", 2}, {"started_at", "TIMESTAMP", 3},
	{"finished_at", "TIMESTAMP", 4}, {"size_bytes", "BIGINT", 5}, {"files", "BIGINT", 6}, {"bytes_uploaded", "BIGINT", 7},
	{"bytes_reused", "BIGINT", 8}, {"seq_high_water", "BIGINT", 9}, {"server_version", "TEXT", 10}, {"target", "TEXT", 11},
	{"error_message", "TEXT", 12},
}

// showBackups lists one target, or (without IN) every target this
// server's retained backup jobs wrote to.
func (e *Engine) showBackups(ctx context.Context, s *parse.ShowBackups) (*Result, error) {
	targets := []string{s.Target}
	if s.Target == "" {
		jobs, err := flush.Jobs(e.db)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		targets = targets[:0]
		for _, j := range jobs {
			// Message: "backup <id> to <target> (...)".
			f := strings.Fields(j.Message)
			if j.Type != backup.JobBackup || len(f) < 4 || f[0] != "backup" || f[2] != "to" || seen[f[3]] {
				continue
			}
			seen[f[3]] = true
			targets = append(targets, f[3])
		}
		sort.Strings(targets)
	}
	res := &Result{Schema: showBackupsColumns}
	for _, t := range targets {
		list, err := e.backup.List(ctx, t)
		if err != nil {
			if s.Target == "" {
				continue // a target of an old job may be gone
			}
			return nil, backupErr(err)
		}
		for _, b := range list {
			ts := func(ms int64) any {
				if ms == 0 {
					return nil
				}
				return ms * 1000
			}
			res.Rows = append(res.Rows, []any{b.ID, nullIfEmpty(b.Scope), b.Status, ts(b.StartedAt), ts(b.FinishedAt), b.SizeBytes,
				b.Files, b.BytesUploaded, b.BytesReused, int64(b.SeqHighWater), nullIfEmpty(b.ServerVersion), t, nullIfEmpty(b.Error)})
		}
	}
	res.RowCount = len(res.Rows)
	return res, nil
}

// backupScope names what a BACKUP or RESTORE covers in its message, which
// follows the original's ("Database backup started to '<path>'. Job ID:
// <id>"): its clients parse the job id after "Job ID: ".
func backupScope(ns string) string {
	if ns == "" {
		return "Database"
	}
	return "Namespace '" + ns + "'"
}
