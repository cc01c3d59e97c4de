package controllers

import (
	"testing"
	"time"
)

func TestDueSlot(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name, schedule, last, now string
		wantDue                   string // "" = nothing due
		wantNext                  string
	}{
		{"not yet", "0 3 * * *", "2026-01-01T00:00:00Z", "2026-01-01T02:59:59Z", "", "2026-01-01T03:00:00Z"},
		{"exactly due", "0 3 * * *", "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z", "2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z"},
		{"missed slots run once, the latest", "0 3 * * *", "2026-01-01T00:00:00Z", "2026-01-05T12:00:00Z", "2026-01-05T03:00:00Z", "2026-01-06T03:00:00Z"},
		{"seconds field", "*/30 * * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:00:45Z", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z"},
		{"descriptor", "@hourly", "2026-01-01T00:10:00Z", "2026-01-01T01:00:00Z", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"},
		{"bounded scan", "@every 1s", "2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "", "2026-01-01T00:00:01Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSchedule(tc.schedule)
			if err != nil {
				t.Fatal(err)
			}
			due, ok, next := dueSlot(s, at(tc.last), at(tc.now))
			if tc.wantDue == "" && tc.name != "bounded scan" && ok {
				t.Fatalf("due %s, want nothing", due)
			}
			if tc.wantDue != "" && (!ok || !due.Equal(at(tc.wantDue))) {
				t.Fatalf("due %s (%v), want %s", due, ok, tc.wantDue)
			}
			if tc.name == "bounded scan" && ok && due.After(at(tc.now)) {
				t.Fatalf("due in the future: %s", due)
			}
			if !next.Equal(at(tc.wantNext)) {
				t.Fatalf("next %s, want %s", next, tc.wantNext)
			}
		})
	}
	if _, err := parseSchedule("61 * * * *"); err == nil {
		t.Fatal("invalid schedule accepted")
	}
}

func TestChildName(t *testing.T) {
	slot := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	if got := childName("nightly", slot); got != "nightly-20260304040607" {
		t.Fatalf("child name %s", got)
	}
}
