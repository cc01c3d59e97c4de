package config

// ColdConfig controls the cold tier: flush to Parquet, compaction, stream
// TTL eviction, orphan cleanup and remote storage calls ([cold]).
type ColdConfig struct {
	// StoragePath is the base directory of the built-in 'local' storage;
	// empty means <storage.data_path>/storage.
	StoragePath string `toml:"storage_path"`
	// SchedulerTickMS is how often flush policies are checked; the
	// interval part of a policy is accurate to about this much.
	SchedulerTickMS int `toml:"scheduler_tick_ms"`
	// RemoteRequestTimeoutSeconds bounds one object-storage call attempt.
	RemoteRequestTimeoutSeconds int `toml:"remote_request_timeout_seconds"`
	// RemoteConnectTimeoutSeconds bounds TCP+TLS connection setup.
	RemoteConnectTimeoutSeconds int `toml:"remote_connect_timeout_seconds"`
	// RemoteMaxAttempts is how many times one object-storage call is tried.
	RemoteMaxAttempts int `toml:"remote_max_attempts"`
	// RemoteRetryBackoffMS is the first backoff between call attempts
	// (doubling, capped at 5 s).
	RemoteRetryBackoffMS int `toml:"remote_retry_backoff_ms"`
	// JobMaxAttempts is how many times a flush/compaction job retries a
	// failing scope before it fails in system.jobs.
	JobMaxAttempts int `toml:"job_max_attempts"`
	// JobRetryBackoffMS is the first backoff between job attempts (doubling).
	JobRetryBackoffMS int `toml:"job_retry_backoff_ms"`
	// CompactionSegmentThreshold compacts a scope automatically once it
	// holds more segments than this (0 disables automatic compaction).
	CompactionSegmentThreshold int `toml:"compaction_segment_threshold"`
	// MaxRowsPerSegment caps the rows of one flush or compaction output
	// segment (bounds flush memory).
	MaxRowsPerSegment int `toml:"max_rows_per_segment"`
	// MaxSegmentMB caps the row bytes one flush or compaction output
	// segment is built from, in MiB (bounds flush memory when rows are
	// large; the rest goes to the next segment).
	MaxSegmentMB int `toml:"max_segment_mb"`
	// StreamEvictionIntervalSeconds is how often expired STREAM rows are
	// deleted (they are hidden from reads as soon as they expire).
	StreamEvictionIntervalSeconds int `toml:"stream_eviction_interval_seconds"`
	// JanitorIntervalSeconds is how often orphan objects are looked for.
	JanitorIntervalSeconds int `toml:"janitor_interval_seconds"`
	// OrphanGraceSeconds keeps unreferenced objects this long (readers of
	// older snapshots may still use superseded segments).
	OrphanGraceSeconds int `toml:"orphan_grace_seconds"`
	// JobRetention is how many finished job records system.jobs keeps.
	JobRetention int `toml:"job_retention"`
	// SegmentCacheMB bounds decoded Parquet segments cached in memory.
	SegmentCacheMB int `toml:"segment_cache_mb"`
}

func defaultCold() ColdConfig {
	return ColdConfig{
		StoragePath: "", SchedulerTickMS: 250,
		RemoteRequestTimeoutSeconds: 60, RemoteConnectTimeoutSeconds: 10, RemoteMaxAttempts: 4, RemoteRetryBackoffMS: 200,
		JobMaxAttempts: 3, JobRetryBackoffMS: 1000, CompactionSegmentThreshold: 16, MaxRowsPerSegment: 1000000,
		MaxSegmentMB:                  256,
		StreamEvictionIntervalSeconds: 10, JanitorIntervalSeconds: 600, OrphanGraceSeconds: 3600,
		JobRetention: 1000, SegmentCacheMB: 256,
	}
}

func (c ColdConfig) validate(p *problems) {
	inRange(p, "cold.scheduler_tick_ms", c.SchedulerTickMS, 10, 60000)
	inRange(p, "cold.remote_request_timeout_seconds", c.RemoteRequestTimeoutSeconds, 1, 3600)
	inRange(p, "cold.remote_connect_timeout_seconds", c.RemoteConnectTimeoutSeconds, 1, 600)
	inRange(p, "cold.remote_max_attempts", c.RemoteMaxAttempts, 1, 100)
	inRange(p, "cold.remote_retry_backoff_ms", c.RemoteRetryBackoffMS, 1, 60000)
	inRange(p, "cold.job_max_attempts", c.JobMaxAttempts, 1, 100)
	inRange(p, "cold.job_retry_backoff_ms", c.JobRetryBackoffMS, 1, 600000)
	inRange(p, "cold.compaction_segment_threshold", c.CompactionSegmentThreshold, 0, 100000)
	inRange(p, "cold.max_rows_per_segment", c.MaxRowsPerSegment, 1000, 100000000)
	inRange(p, "cold.max_segment_mb", c.MaxSegmentMB, 1, 1<<20)
	inRange(p, "cold.stream_eviction_interval_seconds", c.StreamEvictionIntervalSeconds, 1, 86400)
	inRange(p, "cold.janitor_interval_seconds", c.JanitorIntervalSeconds, 1, 604800)
	inRange(p, "cold.orphan_grace_seconds", c.OrphanGraceSeconds, 0, 30*86400)
	inRange(p, "cold.job_retention", c.JobRetention, 1, 10000000)
	inRange(p, "cold.segment_cache_mb", c.SegmentCacheMB, 0, 1<<20)
}
