package config

import "github.com/robfig/cron/v3"

// UserManagementConfig controls the purge of dropped users
// ([user_management], reference §2.6).
type UserManagementConfig struct {
	// DeletionGracePeriodDays is how long a dropped user's rows and name
	// are kept before the user_cleanup job purges them.
	DeletionGracePeriodDays int `toml:"deletion_grace_period_days"`
	// DeletionGracePeriodSeconds, when positive, replaces the days value
	// (short grace periods for tests and demos).
	DeletionGracePeriodSeconds int `toml:"deletion_grace_period_seconds"`
	// CleanupIntervalSeconds is how often the server looks for users whose
	// grace period ended, unless CleanupJobSchedule is set.
	CleanupIntervalSeconds int `toml:"cleanup_interval_seconds"`
	// CleanupJobSchedule, when set, is the reference's cron expression for
	// the cleanup (5 fields, UTC, e.g. "0 2 * * *"; descriptors such as
	// "@daily" too); it replaces CleanupIntervalSeconds.
	CleanupJobSchedule string `toml:"cleanup_job_schedule"`
}

// ParseCleanupSchedule parses a cleanup_job_schedule value: a 5-field cron
// expression (minute hour day-of-month month day-of-week) or a descriptor,
// evaluated in UTC.
func ParseCleanupSchedule(s string) (cron.Schedule, error) {
	return cron.ParseStandard(s)
}

func defaultUserManagement() UserManagementConfig {
	return UserManagementConfig{DeletionGracePeriodDays: 30, CleanupIntervalSeconds: 3600}
}

func (u UserManagementConfig) validate(p *problems) {
	nonNegative(p, "user_management.deletion_grace_period_days", u.DeletionGracePeriodDays)
	nonNegative(p, "user_management.deletion_grace_period_seconds", u.DeletionGracePeriodSeconds)
	positive(p, "user_management.cleanup_interval_seconds", u.CleanupIntervalSeconds)
	if u.CleanupJobSchedule != "" {
		if _, err := ParseCleanupSchedule(u.CleanupJobSchedule); err != nil {
			p.add("user_management.cleanup_job_schedule", "%q is not a cron expression (minute hour day-of-month month day-of-week, or @daily etc.): %v", u.CleanupJobSchedule, err)
		}
	}
}
