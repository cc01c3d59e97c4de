package pgdiff

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// The Go evaluator (package expr: the point lookup, aggregate pushdown and
// live filters use it) against the oracles: over the item rows, a
// condition it decides must select exactly PostgreSQL's rows (recorded
// answers of the corpus) and SQLite-through-our-rewrite's rows (FuzzWhere
// and TestWhereRandom, through the server).

// itemSchema resolves the item tables' columns with our types.
type itemSchema []datatype.Type

func (itemSchema) ColumnIndex(name string) int {
	for i, c := range ItemColumns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func (s itemSchema) ColumnType(pos int) datatype.Type { return s[pos] }

func newItemSchema(t testing.TB) itemSchema {
	var s itemSchema
	for _, c := range ItemColumns {
		typ, err := datatype.Parse(c.Ours)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, typ)
	}
	return s
}

// itemValues converts the fixture's literal rows to the values the SQL
// engine hands SQLite (booleans 1/0, timestamps in microseconds, dates in
// days, DECIMAL as a double).
func itemValues(t testing.TB, s itemSchema) [][]any {
	var out [][]any
	for _, r := range ItemRows() {
		vals := make([]any, len(r))
		for i, lit := range r {
			if lit == "NULL" {
				continue
			}
			text := lit
			if strings.HasPrefix(lit, "'") {
				text = strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
			}
			var v any
			var err error
			switch s[i].Kind {
			case datatype.Int, datatype.BigInt:
				v, err = strconv.ParseInt(text, 10, 64)
			case datatype.Double, datatype.Decimal:
				v, err = strconv.ParseFloat(text, 64)
			case datatype.Boolean:
				v = map[string]int64{"TRUE": 1, "FALSE": 0}[text]
			case datatype.Timestamp:
				v, err = parse.ParseTimestampMicros(text)
			case datatype.Date:
				v, err = parse.ParseDateDays(text)
			default:
				v = text
			}
			if err != nil {
				t.Fatalf("fixture value %s: %v", lit, err)
			}
			vals[i] = v
		}
		out = append(out, vals)
	}
	return out
}

// evalIDs runs cond over the item rows with the Go evaluator: the ids it
// selects, or decided=false when some part is untyped or a row is
// undecided. err is a coercion error (PostgreSQL rejects the statement).
func evalIDs(s itemSchema, rows [][]any, cond string) (ids []string, decided bool, err error) {
	toks, err := parse.Lex(cond)
	if err != nil {
		return nil, false, nil
	}
	n, err := expr.Compile(toks, s, nil)
	if err != nil || expr.HasOpaque(n) {
		return nil, false, err
	}
	for _, r := range rows {
		match, ok := expr.Match(n, r)
		if !ok {
			return nil, false, nil
		}
		if match {
			ids = append(ids, fmt.Sprint(r[0]))
		}
	}
	return ids, true, nil
}

var (
	idQuery    = regexp.MustCompile(`^SELECT id FROM pd\.(sh_hot|sh_cold|sh_mix|us_hot|us_cold|us_mix|st_items) WHERE (.+?)( ORDER BY id)?$`)
	countQuery = regexp.MustCompile(`^SELECT count\(\*\) FROM pd\.(sh_hot|sh_cold|sh_mix|us_hot|us_cold|us_mix|st_items) WHERE (.+)$`)
)

// TestEvaluatorMatchesRecorded evaluates the WHERE clause of every corpus
// query of the forms `SELECT id FROM <item table> WHERE c [ORDER BY id]`
// and `SELECT count(*) FROM <item table> WHERE c` with the Go evaluator
// and requires PostgreSQL's recorded rows (or its error) wherever the
// evaluator decides. Allow-listed queries are skipped: SQLite's answer
// there is a reviewed difference, and the live paths keep SQLite's.
func TestEvaluatorMatchesRecorded(t *testing.T) {
	corpus := loadCorpus(t)
	want, err := ReadExpected(".")
	if err != nil {
		t.Fatal(err)
	}
	allow, err := LoadAllowlist("allowlist.txt")
	if err != nil {
		t.Fatal(err)
	}
	s := newItemSchema(t)
	rows := itemValues(t, s)
	seen, decided := 0, 0
	for _, q := range corpus {
		key := q.Key()
		m, isCount := idQuery.FindStringSubmatch(key), false
		if m == nil {
			if m = countQuery.FindStringSubmatch(key); m == nil {
				continue
			}
			isCount = true
		}
		if _, listed := allow[key]; listed {
			continue
		}
		pg, ok := want[key]
		if !ok {
			t.Fatalf("%s: no recorded answer", key)
		}
		seen++
		ids, ok, err := evalIDs(s, rows, m[2])
		switch {
		case err != nil:
			if pg.Err == "" {
				t.Errorf("%s: evaluator error %v, PostgreSQL answers", key, err)
			}
			decided++
			continue
		case !ok:
			continue
		case pg.Err != "":
			t.Errorf("%s: evaluator answers %v, PostgreSQL errs %s", key, ids, pg.Err)
			continue
		}
		decided++
		got := ids
		if isCount {
			got = []string{strconv.Itoa(len(ids))}
		}
		var exp []string
		for _, r := range pg.Rows {
			exp = append(exp, *r[0])
		}
		if m[3] == "" && !isCount {
			slices.Sort(got)
			slices.Sort(exp)
		}
		if !slices.Equal(got, exp) {
			t.Errorf("%s: evaluator %v, PostgreSQL %v", key, got, exp)
		}
	}
	if decided < 150 {
		t.Fatalf("only %d of %d WHERE queries decided by the evaluator: the comparison no longer means much", decided, seen)
	}
	t.Logf("%d of %d single-table WHERE queries of the corpus decided by the Go evaluator", decided, seen)
}

// TestRandomConditionsDecided keeps TestWhereRandom's evaluator check
// meaningful: a good share of its generated conditions must be decided by
// the Go evaluator (the rest holds arithmetic, DECIMAL or untyped pairs).
func TestRandomConditionsDecided(t *testing.T) {
	s := newItemSchema(t)
	rows := itemValues(t, s)
	r := rand.New(rand.NewPCG(16, 16))
	decided := 0
	for i := 0; i < 400; i++ {
		b := make([]byte, 24)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		g := &exprGen{b: b}
		if _, ok, err := evalIDs(s, rows, g.expr(0)); ok || err != nil {
			decided++
		}
	}
	if decided < 100 {
		t.Fatalf("only %d of 400 generated conditions decided", decided)
	}
	t.Logf("%d of 400 generated conditions decided by the Go evaluator", decided)
}
