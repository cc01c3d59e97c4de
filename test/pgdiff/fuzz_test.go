package pgdiff

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// exprGen builds a WHERE condition over the item columns from fuzz input:
// typed columns, comparison operators, literals of the column's type and
// strings next to timestamps, dates and booleans, NULLs, BETWEEN, IN,
// IS [NOT] NULL/DISTINCT FROM/TRUE/UNKNOWN, AND/OR/NOT.
type exprGen struct {
	b []byte
	i int
}

func (g *exprGen) next(n int) int {
	if g.i >= len(g.b) {
		return 0
	}
	v := int(g.b[g.i]) % n
	g.i++
	return v
}

var fuzzLits = map[string][]string{
	"n":     {"0", "7", "-1", "42", "NULL", "'7'", "2.5"},
	"big":   {"0", "9007199254740993", "-3", "NULL", "42"},
	"price": {"1.50", "0.1", "0", "-3.25", "NULL", "100"},
	"score": {"0.1", "-2.5", "1e20", "3", "NULL"},
	"flag":  {"true", "false", "'t'", "'no'", "'yes'", "NULL"},
	"ts":    {"'2015-01-01'", "'2020-02-29 12:34:56.789'", "TIMESTAMP '2020-01-01 00:00:00'", "DATE '2020-01-01'", "NULL", "'1999-12-31 23:59:59'"},
	"d":     {"'2020-01-01'", "DATE '2015-01-01'", "'1999-12-31'", "NULL", "TIMESTAMP '2020-01-01 00:00:00'"},
	"name":  {"'alpha'", "'café'", "''", "'Z'", "NULL", "'日本語'"},
	"grp":   {"'a'", "'b'", "'c'", "'z'", "NULL"},
	"id":    {"1", "15", "30", "101", "'7'"},
}

var fuzzCols = []string{"n", "big", "price", "score", "flag", "ts", "d", "name", "grp", "id"}

func (g *exprGen) lit(col string) string { l := fuzzLits[col]; return l[g.next(len(l))] }

func (g *exprGen) expr(depth int) string {
	col := fuzzCols[g.next(len(fuzzCols))]
	k := g.next(14)
	if k >= 12 {
		// Arithmetic on a typed column: the operator follows the
		// column's type (float8 + numeric is float8, int4 overflows).
		num := []string{"n", "big", "price", "score", "id"}
		c := num[g.next(len(num))]
		ops := []string{"+", "-", "*"}
		cmp := []string{"=", "<", ">", "<>"}
		rhs := []string{"0.3", "0.2", "1", "7", "2147483647", "100.5", "1e20"}
		return "(" + c + " " + ops[g.next(len(ops))] + " " + rhs[g.next(len(rhs))] + ") " + cmp[g.next(len(cmp))] + " " + rhs[g.next(len(rhs))]
	}
	if depth < 3 && k >= 9 {
		a, b := g.expr(depth+1), g.expr(depth+1)
		switch k {
		case 9:
			return "(" + a + " AND " + b + ")"
		case 10:
			return "(" + a + " OR " + b + ")"
		default:
			return "NOT (" + a + ")"
		}
	}
	switch k {
	case 0, 1, 2, 3:
		ops := []string{"=", "<>", "<", "<=", ">", ">="}
		return col + " " + ops[g.next(len(ops))] + " " + g.lit(col)
	case 4:
		return col + " BETWEEN " + g.lit(col) + " AND " + g.lit(col)
	case 5:
		return col + " IN (" + g.lit(col) + ", " + g.lit(col) + ")"
	case 6:
		return col + " IS NULL"
	case 7:
		return col + " IS NOT NULL"
	default:
		if col == "flag" {
			return []string{"flag", "flag IS TRUE", "flag IS NOT FALSE", "flag IS UNKNOWN"}[g.next(4)]
		}
		return col + " IS DISTINCT FROM " + g.lit(col)
	}
}

// The fuzz target's server (and PostgreSQL) are set up once per process
// and torn down by TestMain.
var (
	fuzzOnce   sync.Once
	fuzzOurs   *ourServer
	fuzzDir    string
	fuzzErr    error
	fuzzPG     *PG
	fuzzTables = []string{"pd.sh_hot", "pd.sh_cold", "pd.sh_mix", "pd.us_hot", "pd.us_cold", "pd.us_mix", "pd.st_items"}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fuzzOurs != nil {
		fuzzOurs.close()
	}
	if fuzzPG != nil {
		fuzzPG.Close()
	}
	if fuzzDir != "" {
		os.RemoveAll(fuzzDir)
	}
	os.Exit(code)
}

// FuzzWhere is a differential fuzz target: a random condition over the
// typed columns must select the same rows from every item table (hot,
// flushed and merged; SHARED, USER and STREAM; scan, key, index and
// aggregate pushdown paths), count(*) must agree with the rows, an error
// must be an error on every path, the Go evaluator of package expr must
// select the same rows wherever it decides, and, when PGDIFF_PG names a PostgreSQL
// (make pgdiff), the rows must be PostgreSQL's unless the allow-list's
// known causes apply. The seeds run in make test, bounded fuzzing in
// make fuzz-short.
func FuzzWhere(f *testing.F) {
	for _, s := range []string{"", "\x00\x01\x02", "\x05\x07\x03\x00", "\x06\x04\x09", "\x0a\x09\x05\x00\x01\x02\x0b\x03\x04", "\x07\x02\x01\x01", "\x04\x00\x02\x01\x03", "\x05\x01\x04\x02"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkWhere)
}

// TestWhereRandom runs the FuzzWhere check on 400 conditions from a fixed
// pseudo-random stream (PGDIFF_SEED picks another): bounded differential
// fuzzing in make test, without the coverage-instrumented build that
// `go test -fuzz` needs (make fuzz runs FuzzWhere itself).
func TestWhereRandom(t *testing.T) {
	seed := uint64(16)
	if s := os.Getenv("PGDIFF_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	r := rand.New(rand.NewPCG(seed, seed))
	for i := 0; i < 400; i++ {
		b := make([]byte, 24)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		checkWhere(t, b)
		if t.Failed() {
			return
		}
	}
}

// checkWhere runs one generated condition on every path (see FuzzWhere).
func checkWhere(t *testing.T, b []byte) {
	t.Helper()
	{
		fuzzOnce.Do(func() {
			if fuzzDir, fuzzErr = os.MkdirTemp("", "pgdiff-fuzz"); fuzzErr != nil {
				return
			}
			fuzzOurs, fuzzErr = startOurs(fuzzDir)
			if fuzzErr == nil && os.Getenv("PGDIFF_PG") != "" {
				fuzzPG, fuzzErr = loadPG(os.Getenv("PGDIFF_PG"))
			}
		})
		if fuzzErr != nil {
			t.Fatal(fuzzErr)
		}
		g := &exprGen{b: b}
		cond := g.expr(0)
		var ref Answer
		for i, tbl := range fuzzTables {
			rows := fuzzOurs.answer(fmt.Sprintf("SELECT id FROM %s WHERE %s ORDER BY id", tbl, cond))
			count := fuzzOurs.answer(fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", tbl, cond))
			if (rows.Err == "") != (count.Err == "") {
				t.Fatalf("%s over %s: rows %q, count %q", cond, tbl, rows.Err, count.Err)
			}
			if rows.Err == "" && *count.Rows[0][0] != fmt.Sprint(len(rows.Rows)) {
				t.Fatalf("%s over %s: %d rows, count(*) %s", cond, tbl, len(rows.Rows), *count.Rows[0][0])
			}
			if i == 0 {
				ref = rows
				continue
			}
			if (ref.Err == "") != (rows.Err == "") || !slices.Equal(rowStrings(ref.Rows), rowStrings(rows.Rows)) {
				t.Fatalf("%s: %s answers %q %v, %s answers %q %v", cond, fuzzTables[0], ref.Err, rowStrings(ref.Rows), tbl, rows.Err, rowStrings(rows.Rows))
			}
		}
		// The Go evaluator (package expr), wherever it decides, selects
		// SQLite-through-our-rewrite's rows or rejects the literal too.
		sch := newItemSchema(t)
		ids, decided, err := evalIDs(sch, itemValues(t, sch), cond)
		switch {
		case err != nil && ref.Err == "":
			t.Fatalf("%s: evaluator error %v, the server answers", cond, err)
		case decided && ref.Err != "":
			t.Fatalf("%s: evaluator answers %v, the server errs %s", cond, ids, ref.Err)
		case decided:
			var got []string
			for _, r := range ref.Rows {
				got = append(got, *r[0])
			}
			if !slices.Equal(ids, got) {
				t.Fatalf("%s: evaluator %v, the server %v", cond, ids, got)
			}
		}
		if fuzzPG != nil {
			q := Query{SQL: fmt.Sprintf("SELECT id FROM pd.sh_hot WHERE %s ORDER BY id", cond)}
			pg, err := fuzzPG.Query(q.SQL, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if kind, detail := Compare(q, pg, ref); kind != "" {
				t.Fatalf("%s: %s: %s", q.SQL, kind, detail)
			}
		}
	}
}
