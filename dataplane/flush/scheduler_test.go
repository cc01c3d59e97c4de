package flush

import (
	"testing"
	"time"

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
