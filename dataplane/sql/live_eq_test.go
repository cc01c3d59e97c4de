package sql

import (
	"context"
	"testing"
)

// TestLiveEqIndex: which conditions are indexed by a `column = literal`
// term, and that a row's EqKey equals the literal's key exactly when the
// row can match (checked against the SQLite matcher).
func TestLiveEqIndex(t *testing.T) {
	for _, c := range []struct {
		where   string
		indexed bool
		matches bool // the fixture row (thread_id 't42', role 'user', n 3)
	}{
		{"thread_id = 't42'", true, true},
		{"thread_id = 't43'", true, false},
		{"'t42' = thread_id", true, true},
		{"role = 'user' AND n > 1", true, true},
		{"n > 1 AND thread_id == 't9'", true, false},
		{"n = 3", true, true},
		{"n = -3", true, false},
		{"n = 3.0", false, true},
		{"thread_id = 't42' OR n = 9", false, true},
		{"(thread_id = 't42')", true, true},
		{"thread_id = 't42' AND abs(n) = 3", true, true},
		{"(n = 3 OR n = 4) AND (thread_id = 't42')", true, true},
		{"NOT thread_id = 't42'", false, false},
		{"thread_id = 42", false, false},
		{"n = '3'", false, true},
		{"thread_id = 't42' COLLATE NOCASE", false, true},
		{"n BETWEEN 1 AND 5 AND role = 'user'", true, true},
		{"thread_id = 't' || '42'", false, true},
		{"", false, true},
	} {
		e, p, row := liveFixture(t, c.where)
		id, key, ok := p.EqIndex()
		if ok != c.indexed {
			t.Errorf("%q: indexed %v, want %v", c.where, ok, c.indexed)
		}
		m, err := e.NewLiveMatcher()
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Match(context.Background(), p, row, 42)
		m.Close()
		if err != nil || got != c.matches {
			t.Errorf("%q: match %v %v, want %v", c.where, got, err, c.matches)
		}
		if ok {
			var enc RowEncoder
			rk, rok := p.EqKey(&enc, row, id)
			if !rok || (rk == key) != c.matches {
				t.Errorf("%q: row key %q (%v) vs literal key %q, match %v", c.where, rk, rok, key, c.matches)
			}
		}
	}
}
