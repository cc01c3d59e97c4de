package config

import "log/slog"

// SlogLevel maps Level to a slog.Level. Unknown levels map to info; Validate
// rejects them before a server gets this far.
func (c LoggingConfig) SlogLevel() slog.Level {
	switch c.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
