package defaults

import (
	"testing"
	"time"
)

func TestPositive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, def time.Duration
		want    time.Duration
	}{
		{"zero", 0, time.Second, time.Second},
		{"negative", -1, time.Second, time.Second},
		{"set", 5, time.Second, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.in
			Positive(&v, tc.def)
			if v != tc.want {
				t.Fatalf("got %v want %v", v, tc.want)
			}
		})
	}
}

func TestPtr(t *testing.T) {
	d, other := new(int), new(int)
	var p *int
	Ptr(&p, d)
	if p != d {
		t.Fatal("nil not filled")
	}
	p = other
	Ptr(&p, d)
	if p != other {
		t.Fatal("set pointer overwritten")
	}
}
