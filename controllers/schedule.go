package controllers

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Pure schedule arithmetic for KalamScheduledBackup (tested with fixed
// clocks in schedule_test.go).

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseSchedule parses a 5- or 6-field cron expression or a descriptor.
func parseSchedule(s string) (cron.Schedule, error) {
	sched, err := cronParser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid schedule %q: %w", s, err)
	}
	return sched, nil
}

// maxSlotScan bounds the walk over missed slots (a @every 1s schedule
// after a week-long outage must not spin).
const maxSlotScan = 100000

// dueSlot returns the most recent slot in (last, now], if any, and the
// first slot after now. Missed older slots are not run retroactively: like
// a CronJob, only the latest one counts.
func dueSlot(sched cron.Schedule, last, now time.Time) (due time.Time, ok bool, next time.Time) {
	t := sched.Next(last)
	for i := 0; i < maxSlotScan && !t.After(now); i++ {
		due, ok = t, true
		t = sched.Next(t)
	}
	if !t.After(now) {
		// The scan was cut short: restart the walk from now.
		t = sched.Next(now)
	}
	return due, ok, t
}

// childName is the deterministic name of the backup for one slot, so that
// a retried create is idempotent: <schedule>-<yyyymmddhhmmss> (UTC).
func childName(schedule string, slot time.Time) string {
	return schedule + "-" + slot.UTC().Format("20060102150405")
}
