package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
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

// TestRetentionVictims: keepLast newest are kept; with maxAge, older ones
// younger than maxAge are kept too; the rest go, oldest first.
func TestRetentionVictims(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	mk := func(name string, age time.Duration) kalamv1.KalamBackup {
		at := metav1.NewTime(now.Add(-age))
		return kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: kalamv1.KalamBackupStatus{StoppedAt: &at, BackupID: name}}
	}
	completed := []kalamv1.KalamBackup{mk("a", 72*time.Hour), mk("b", 48*time.Hour), mk("c", 24*time.Hour), mk("d", time.Hour)}
	names := func(bs []kalamv1.KalamBackup) string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Name)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		keep   int32
		maxAge string
		want   string
	}{
		{1, "", "a,b,c"},
		{2, "", "a,b"},
		{4, "", ""},
		{9, "", ""},
		{1, "36h", "a,b"},
		{1, "100h", ""},
	} {
		got, err := retentionVictims(completed, &kalamv1.BackupRetention{KeepLast: tc.keep, MaxAge: tc.maxAge}, now)
		if err != nil || names(got) != tc.want {
			t.Errorf("keepLast %d maxAge %q: %q %v, want %q", tc.keep, tc.maxAge, names(got), err, tc.want)
		}
	}
	if _, err := retentionVictims(completed, &kalamv1.BackupRetention{KeepLast: 1, MaxAge: "soon"}, now); err == nil {
		t.Error("a bad maxAge was accepted")
	}
}
