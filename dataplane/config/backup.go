package config

// BackupConfig bounds the memory of BACKUP and RESTORE ([backup]).
type BackupConfig struct {
	// ChunkBytes bounds one row chunk a backup builds in memory and
	// uploads (a single row larger than this gets a chunk of its own).
	ChunkBytes int `toml:"chunk_bytes"`
	// RestoreBatchBytes bounds the rows (keys and encoded rows) a restore
	// buffers into one proposed command (a single larger row goes alone).
	RestoreBatchBytes int `toml:"restore_batch_bytes"`
}

func defaultBackup() BackupConfig {
	return BackupConfig{ChunkBytes: 8 * mib, RestoreBatchBytes: 4 * mib}
}

func (c BackupConfig) validate(p *problems) {
	inRange(p, "backup.chunk_bytes", c.ChunkBytes, 4*kib, 1<<30)
	inRange(p, "backup.restore_batch_bytes", c.RestoreBatchBytes, 4*kib, 1<<30)
}
