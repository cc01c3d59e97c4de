package node

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
)

// coldOptions maps the [cold] config section to flush options.
func coldOptions(cfg config.Config, log *slog.Logger) flush.Options {
	c := cfg.Cold
	o := flush.DefaultOptions()
	o.DataDir = cfg.Storage.DataPath
	o.LocalBase = c.StoragePath
	if o.LocalBase == "" {
		o.LocalBase = filepath.Join(cfg.Storage.DataPath, "storage")
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	o.Tick = ms(c.SchedulerTickMS)
	o.Retry = objstore.RetryPolicy{Attempts: c.RemoteMaxAttempts, Timeout: sec(c.RemoteRequestTimeoutSeconds),
		Backoff: ms(c.RemoteRetryBackoffMS), MaxBackoff: 5 * time.Second}
	o.ConnectTimeout = sec(c.RemoteConnectTimeoutSeconds)
	o.JobAttempts, o.JobBackoff = c.JobMaxAttempts, ms(c.JobRetryBackoffMS)
	o.CompactSegments = c.CompactionSegmentThreshold
	o.MaxRowsPerFlush = c.MaxRowsPerSegment
	o.MaxBytesPerFlush = int64(c.MaxSegmentMB) << 20
	o.StreamEvictionInterval = sec(c.StreamEvictionIntervalSeconds)
	o.JanitorInterval, o.OrphanGrace = sec(c.JanitorIntervalSeconds), sec(c.OrphanGraceSeconds)
	o.JobRetention = c.JobRetention
	o.SegmentCacheBytes = int64(c.SegmentCacheMB) << 20
	o.Logger = log
	um := cfg.UserManagement
	o.UserDeletionGrace = time.Duration(um.DeletionGracePeriodDays) * 24 * time.Hour
	if um.DeletionGracePeriodSeconds > 0 {
		o.UserDeletionGrace = sec(um.DeletionGracePeriodSeconds)
	}
	if o.UserDeletionGrace == 0 {
		o.UserDeletionGrace = time.Millisecond // 0 days: purge at the next run
	}
	o.UserCleanupInterval = sec(um.CleanupIntervalSeconds)
	if um.CleanupJobSchedule != "" {
		// Validated with the configuration.
		if sched, err := config.ParseCleanupSchedule(um.CleanupJobSchedule); err == nil {
			o.UserCleanupNext = sched.Next
		}
	}
	return o
}

// bootstrapStorage creates the built-in 'local' filesystem storage.
func bootstrapStorage(ctx context.Context, eng *kalamsql.Engine) error {
	_, err := eng.Execute(ctx, kalamsql.Session{UserID: kalamsql.RootUser, Role: auth.RoleSystem},
		kalamsql.Request{SQL: "CREATE STORAGE IF NOT EXISTS local TYPE 'filesystem' NAME 'Local filesystem' DESCRIPTION 'Built-in storage under the data directory'"})
	if err != nil {
		return fmt.Errorf("while creating the local storage: %w", err)
	}
	return nil
}

// Cold exposes the cold tier (tests).
func (n *Node) Cold() *flush.Manager { return n.cold }
