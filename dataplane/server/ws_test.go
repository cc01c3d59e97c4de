package server

import (
	"encoding/json"
	"testing"
)

func TestParseSubscribeOptions(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	cases := []struct {
		in        string
		batch     int
		lastRows  int
		from      *uint64
		wantError bool
	}{
		{in: ``},
		{in: `null`},
		{in: `{}`},
		{in: `{"batch_size": 10, "last_rows": 5}`, batch: 10, lastRows: 5},
		{in: `{"from": 382711920304820224}`, from: u(382711920304820224)},
		{in: `{"from": "18446744073709551615"}`, from: u(18446744073709551615)},
		{in: `{"from_seq_id": "42"}`, from: u(42)},
		{in: `{"from": null, "from_seq_id": 7}`, from: u(7)},
		{in: `{"from": "-1"}`, wantError: true},
		{in: `{"from": "abc"}`, wantError: true},
		{in: `{"from": 1.5}`, wantError: true},
		{in: `{"batch_size": 0}`, wantError: true},
		{in: `{"batch_size": "10"}`, wantError: true},
		{in: `{"last_rows": -1}`, wantError: true},
		{in: `[]`, wantError: true},
	}
	for _, c := range cases {
		o, err := parseSubscribeOptions(json.RawMessage(c.in))
		if c.wantError {
			if err == nil {
				t.Errorf("%s: no error", c.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if o.BatchSize != c.batch || o.LastRows != c.lastRows || (o.From == nil) != (c.from == nil) || (o.From != nil && *o.From != *c.from) {
			t.Errorf("%s: got %+v", c.in, o)
		}
	}
}

func TestRateLimitBurst(t *testing.T) {
	wc := &wsConn{st: &wsState{opts: WSOptions{MaxMessagesPerSecond: 10, MaxSubsPerConn: 5}}}
	allowed := 0
	for range 100 {
		if wc.allow() {
			allowed++
		}
	}
	// Burst = rate + max subscriptions per connection + 1 (authenticate).
	if allowed != 16 {
		t.Fatalf("burst allowed %d messages, want 16", allowed)
	}
}
