package config

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
	// grace period ended (the reference's cron schedule is not supported).
	CleanupIntervalSeconds int `toml:"cleanup_interval_seconds"`
}

func defaultUserManagement() UserManagementConfig {
	return UserManagementConfig{DeletionGracePeriodDays: 30, CleanupIntervalSeconds: 3600}
}

func (u UserManagementConfig) validate(p *problems) {
	nonNegative(p, "user_management.deletion_grace_period_days", u.DeletionGracePeriodDays)
	nonNegative(p, "user_management.deletion_grace_period_seconds", u.DeletionGracePeriodSeconds)
	positive(p, "user_management.cleanup_interval_seconds", u.CleanupIntervalSeconds)
}
