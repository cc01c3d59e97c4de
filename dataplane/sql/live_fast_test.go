package sql

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// TestLiveFastAgreesWithSQLite is the differential test behind
// live_fast.go: generated conditions (fast shapes, and near misses that
// must stay on SQLite) over generated rows (NULLs, extreme integers,
// byte-order edge strings, columns missing from rows stored before an
// ALTER TABLE ADD COLUMN ... DEFAULT) give the same answer with and
// without the native evaluation.
func TestLiveFastAgreesWithSQLite(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE USER TABLE app.t (id BIGINT PRIMARY KEY, a INT, b BIGINT, sm SMALLINT, s TEXT, u TEXT, f DOUBLE, fl BOOLEAN, ts TIMESTAMP, dt DATE)`)
	exec(t, e, rootSess, `ALTER TABLE app.t ADD COLUMN d INT DEFAULT 5`)
	tbl, _ := e.cat.Table("app", "t")
	col := func(name string) uint32 { return tbl.Columns[tbl.ColumnIndex(name)].ID }

	rng := rand.New(rand.NewPCG(7, 11))
	ints := []any{nil, int64(-6), int64(-5), int64(0), int64(3), int64(7), int64(8), int64(math.MaxInt64), int64(math.MinInt64)}
	strs := []any{nil, "", "a", "abc", "abd", "ab", "b", "A", "é", "5", "3"}
	var rows [][]byte
	for i := range 60 {
		cols := []rowcodec.Column{{ID: col("id"), Value: int64(i)}}
		for _, c := range []struct {
			name string
			vals []any
		}{{"a", ints}, {"b", ints}, {"sm", ints}, {"s", strs}, {"u", strs}, {"d", ints}} {
			v := c.vals[rng.IntN(len(c.vals))]
			if v == nil && rng.IntN(2) == 0 {
				continue // absent rather than an explicit NULL
			}
			cols = append(cols, rowcodec.Column{ID: col(c.name), Value: v})
		}
		cols = append(cols, rowcodec.Column{ID: col("f"), Value: []float64{2.5, -1, 0, 3}[rng.IntN(4)]})
		if v := []any{nil, true, false}[rng.IntN(3)]; v != nil {
			cols = append(cols, rowcodec.Column{ID: col("fl"), Value: v})
		}
		if v := []any{nil, int64(1420070400000000), int64(1420070400000001), int64(946684799000000), int64(-86400000000)}[rng.IntN(5)]; v != nil {
			cols = append(cols, rowcodec.Column{ID: col("ts"), Value: v})
		}
		if v := []any{nil, int64(16436), int64(18262), int64(-1), int64(0)}[rng.IntN(5)]; v != nil {
			cols = append(cols, rowcodec.Column{ID: col("dt"), Value: v})
		}
		// Rows stored before the ALTER have no d: they read its default.
		ver := tbl.SchemaVersion
		if i%3 == 0 {
			ver--
			kept := cols[:0]
			for _, c := range cols {
				if c.ID != col("d") {
					kept = append(kept, c)
				}
			}
			cols = kept
		}
		row, err := rowcodec.Encode(uint64(100+i), false, ver, cols)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}

	intCols := []string{"a", "b", "sm", "d", "id"}
	textCols := []string{"s", "u"}
	ops := []string{"=", "==", "<>", "!=", "<", "<=", ">", ">="}
	intLits := []string{"-5", "- 5", "0", "3", "7", "9223372036854775807", "-9223372036854775808", "007"}
	strLits := []string{"''", "'a'", "'abc'", "'ab'", "'b'", "'A'", "'é'", "'5'"}
	term := func() string {
		switch rng.IntN(12) {
		case 0:
			return textCols[rng.IntN(2)] + " IS NULL"
		case 1:
			return intCols[rng.IntN(len(intCols))] + " IS NOT NULL"
		case 2: // mixed classes: SQLite applies affinity, must not be fast
			return fmt.Sprintf("%s %s %s", intCols[rng.IntN(len(intCols))], ops[rng.IntN(len(ops))], strLits[rng.IntN(len(strLits))])
		case 3:
			return fmt.Sprintf("%s %s %s", textCols[rng.IntN(2)], ops[rng.IntN(len(ops))], intLits[rng.IntN(len(intLits))])
		case 4: // literal on the left
			return fmt.Sprintf("%s %s %s", intLits[rng.IntN(len(intLits))], ops[rng.IntN(len(ops))], intCols[rng.IntN(len(intCols))])
		case 5: // untyped parts (functions, column pairs, _seq, COLLATE, hex) and floats
			return []string{"a = 3.0", "abs(a) = 3", "a = b", "s < u", "_seq > 120", "f > 2", "s = 'a' COLLATE NOCASE", "(a = 3)", "a = 1e1", "a = 0x7", "a > 2.5", "f <= -1"}[rng.IntN(12)]
		case 6:
			return []string{"fl", "NOT fl", "fl = 'yes'", "fl = 'f'", "fl <> true", "fl IS TRUE", "fl IS NOT FALSE", "fl IS UNKNOWN", "fl IS DISTINCT FROM 'no'"}[rng.IntN(9)]
		case 7:
			return []string{"ts < '2015-01-01'", "ts = '2015-01-01 00:00:00.000001'", "ts >= DATE '2015-01-01'", "ts BETWEEN '1999-12-31' AND '2015-01-01'",
				"dt = '2015-01-01'", "dt < TIMESTAMP '2015-01-01 00:00:01'", "dt IN ('2020-01-01', NULL)", "dt NOT IN ('1969-12-31')", "ts IS NOT DISTINCT FROM NULL"}[rng.IntN(9)]
		case 8:
			c := []string{"a", "b", "sm", "d"}[rng.IntN(4)]
			return []string{c + " BETWEEN -5 AND 7", c + " NOT BETWEEN 0 AND 3", c + " BETWEEN SYMMETRIC 7 AND 0", c + " IN (3, 7, NULL)", c + " NOT IN (0, 8)", c + " IS DISTINCT FROM 3",
				"s LIKE 'ab%'", "s NOT LIKE '_'", "u ILIKE 'A%'", "s ILIKE 'É'", "u LIKE 'a!%' ESCAPE '!'", "s IN ('a', 'b')",
				"(" + c + " = 3 OR s = 'a')", "NOT (" + c + " > 0 AND u IS NULL)"}[rng.IntN(14)]
		case 9:
			return fmt.Sprintf("%s %s %s", textCols[rng.IntN(2)], ops[rng.IntN(len(ops))], strLits[rng.IntN(len(strLits))])
		default:
			return fmt.Sprintf("%s %s %s", intCols[rng.IntN(len(intCols))], ops[rng.IntN(len(ops))], intLits[rng.IntN(len(intLits))])
		}
	}

	m, err := e.NewLiveMatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	fastPlans, decidedFast := 0, 0
	defer func() { liveFastEnabled = true }()
	for range 500 {
		parts := make([]string, 1+rng.IntN(3))
		for i := range parts {
			parts[i] = term()
		}
		where := strings.Join(parts, " AND ")
		if rng.IntN(5) == 0 {
			where = strings.Join(parts, " OR ")
		}
		p, err := e.PlanLive(context.Background(), rootSess, "SELECT * FROM app.t WHERE "+where)
		if err != nil {
			t.Fatalf("plan %q: %v", where, err)
		}
		if p.cond != nil {
			fastPlans++
		}
		for _, row := range rows {
			liveFastEnabled = false
			want, werr := m.Match(ctx, p, row, 1)
			liveFastEnabled = true
			got, gerr := m.Match(ctx, p, row, 1)
			if got != want || (gerr == nil) != (werr == nil) {
				t.Fatalf("WHERE %s: native %v (%v), SQLite %v (%v) on row %x", where, got, gerr, want, werr, row)
			}
			if p.cond != nil {
				n := len(p.Table.Columns)
				offs := make([]int32, n)
				h, _ := rowcodec.Index(row, p.posByID, offs)
				if _, decided := p.condMatch(make([]any, n), row, offs, h.SchemaVersion); decided {
					decidedFast++
				}
			}
		}
	}
	// The comparison means something only if both paths were exercised.
	if fastPlans < 150 || decidedFast < 5000 {
		t.Fatalf("only %d fast plans and %d natively decided rows: the generator no longer exercises the fast path", fastPlans, decidedFast)
	}
	t.Logf("%d of 500 conditions fast, %d rows decided natively", fastPlans, decidedFast)
}

// TestLiveFastShapes pins which conditions get the native form.
func TestLiveFastShapes(t *testing.T) {
	for _, c := range []struct {
		where string
		fast  bool
	}{
		{"n > 1", true},
		{"thread_id = 't42' AND n >= -3 AND role <> 'tool'", true},
		{"3 < n", true},
		{"role IS NULL AND n IS NOT NULL", true},
		{`"thread_id" = 't42'`, true},
		{"n = 3.0", true},
		{"n > 1 OR n < 0", true},
		{"(n > 1)", true},
		{"NOT n > 1", true},
		{"n BETWEEN 1 AND 3", true},
		{"thread_id LIKE 't%'", true},
		{"thread_id ILIKE 'T%' AND n NOT IN (1, 2)", true},
		{"n IN (1, 2)", true},
		{"n = 99999999999999999999", true},
		{"n = '3'", false},
		{"thread_id = 42", false},
		{"thread_id = 't42' COLLATE NOCASE", false},
		{"_seq > 5", false},
		{"n = n", false},
		{"thread_id = \"t42\"", false},
		{"abs(n) = 3", false},
		{"", false},
	} {
		_, p, _ := liveFixture(t, c.where)
		if got := p.cond != nil && !expr.HasOpaque(p.cond); got != c.fast {
			t.Errorf("%q: fast %v, want %v", c.where, got, c.fast)
		}
	}
}
