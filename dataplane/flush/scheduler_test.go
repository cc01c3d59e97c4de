package flush

import (
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Policy
		ok   bool
	}{
		{"rows:100", Policy{Rows: 100}, true},
		{"interval:30", Policy{Interval: 30 * time.Second}, true},
		{"rows:5, interval:2", Policy{Rows: 5, Interval: 2 * time.Second}, true},
		{"ROWS:5", Policy{Rows: 5}, true},
		{"", Policy{}, true},
		{"rows:0", Policy{}, false},
		{"rows", Policy{}, false},
		{"bytes:10", Policy{}, false},
		{"rows:x", Policy{}, false},
	} {
		got, err := ParsePolicy(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParsePolicy(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestExpired(t *testing.T) {
	now := engine.SeqEpochMs + int64(100_000)
	seqAt := func(ms int64) uint64 { return uint64(ms-engine.SeqEpochMs) << 22 }
	for _, tc := range []struct {
		ageMs int64
		ttl   int64
		want  bool
	}{
		{0, 10, false},
		{9_999, 10, false},
		{10_001, 10, true},
		{50_000, 0, false}, // no TTL: never expires
	} {
		seq := seqAt(now-tc.ageMs) | 0x3ff<<12 | 7
		if SeqTimeMs(seq) != now-tc.ageMs {
			t.Fatalf("SeqTimeMs mismatch")
		}
		if got := Expired(seq, tc.ttl, now); got != tc.want {
			t.Errorf("age %dms ttl %ds: expired=%v", tc.ageMs, tc.ttl, got)
		}
	}
}

// TestNextUserCleanup: the cron schedule (UTC) when configured, else the
// interval.
func TestNextUserCleanup(t *testing.T) {
	now := time.Date(2026, 12, 5, 3, 4, 5, 0, time.FixedZone("X", 5*3600))
	m := &Manager{opts: Options{UserCleanupInterval: time.Hour}}
	if got := m.nextUserCleanup(now); !got.Equal(now.Add(time.Hour)) {
		t.Fatalf("interval: %v", got)
	}
	sched, err := config.ParseCleanupSchedule("0 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	m.opts.UserCleanupNext = sched.Next
	// 03:04:05 at +05:00 is 22:04:05 UTC on Dec 4: the next 02:00 UTC is Dec 5.
	if got, want := m.nextUserCleanup(now), time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("cron: got %v, want %v", got, want)
	}
	if got, want := m.nextUserCleanup(time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)), time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("cron, at a slot: got %v, want %v", got, want)
	}
}
