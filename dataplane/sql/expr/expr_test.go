package expr

import (
	"encoding/json"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

type testSchema []struct {
	name string
	kind datatype.Kind
}

func (s testSchema) ColumnIndex(name string) int {
	for i, c := range s {
		if c.name == name {
			return i
		}
	}
	return -1
}

func (s testSchema) ColumnType(pos int) datatype.Type { return datatype.Type{Kind: s[pos].kind} }

var schema = testSchema{{"id", datatype.BigInt}, {"n", datatype.Int}, {"s", datatype.Text},
	{"flag", datatype.Boolean}, {"ts", datatype.Timestamp}, {"d", datatype.Date},
	{"f", datatype.Double}, {"dec", datatype.Decimal}}

func compile(t *testing.T, cond string, params ...any) *Node {
	t.Helper()
	toks, err := parse.Lex(cond)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Compile(toks, schema, params)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return n
}

const day = int64(86400000000)

// row: id=1, n=7, s='café', flag=true, ts=2020-01-01 00:00:00, d=2020-01-01,
// f=2.5, dec=NULL.
var row = []any{int64(1), int64(7), "café", int64(1), 18262 * day, int64(18262), 2.5, nil}

func TestEval(t *testing.T) {
	for _, c := range []struct {
		cond string
		want Truth
	}{
		{"n = 7", True}, {"7 = n", True}, {"n <> 7", False}, {"n != 7", False}, {"3 < n", True},
		{"n > 6.5", True}, {"n = 7.0", True}, {"n < 7.000001", True},
		{"n = NULL", Unknown}, {"n IS NULL", False}, {"dec IS NULL", True}, {"n IS NOT NULL", True},
		{"n IS DISTINCT FROM NULL", True}, {"n IS NOT DISTINCT FROM 7", True}, {"NULL IS DISTINCT FROM n", True},
		{"n BETWEEN 1 AND 7", True}, {"n BETWEEN 8 AND 1", False}, {"n BETWEEN SYMMETRIC 8 AND 1", True},
		{"n NOT BETWEEN 1 AND 7", False}, {"n BETWEEN NULL AND 1", False}, {"n BETWEEN 1 AND NULL", Unknown},
		{"n IN (1, 7)", True}, {"n IN (1, NULL)", Unknown}, {"n NOT IN (1, NULL)", Unknown}, {"n NOT IN (1, 2)", True},
		{"s = 'café'", True}, {"s > 'cafz'", True}, {"s LIKE 'caf%'", True}, {"s LIKE 'CAF%'", False},
		{"s ILIKE 'CAFÉ'", True}, {"s NOT ILIKE 'CAF_'", False}, {`s LIKE 'caf\_'`, False}, {"s LIKE 'caf!é' ESCAPE '!'", True},
		{"flag", True}, {"NOT flag", False}, {"flag = 'yes'", True}, {"flag = 't'", True}, {"flag = false", False},
		{"flag IS TRUE", True}, {"flag IS NOT TRUE", False}, {"flag IS FALSE", False}, {"flag IS UNKNOWN", False},
		{"ts = '2020-01-01'", True}, {"ts < '2015-01-01'", False}, {"ts >= DATE '2020-01-01'", True},
		{"ts = TIMESTAMP '2020-01-01 00:00:00'", True}, {"ts > '2019-12-31 23:59:59.999999'::timestamp", True},
		{"d = '2020-01-01'", True}, {"d = TIMESTAMP '2020-01-01 00:00:00'", True}, {"d < TIMESTAMP '2020-01-01 00:00:01'", True},
		{"f > 2", True}, {"f = 2.5", True}, {"f < -1", False},
		{"n = 7 AND s = 'x'", False}, {"n = 7 OR s = 'x'", True}, {"(n = 1 OR n = 7) AND NOT (s = 'x')", True},
		{"n = 1 AND abs(n) = 7", False}, {"n = 7 OR abs(n) = 7", True}, {"n = 7 AND abs(n) = 7", Undecided},
		{"n + 1 = 8", Undecided}, {"dec = 1", Undecided}, {"s = 5", Undecided}, {"n = '7'", Undecided},
		{"n BETWEEN 1 AND 2 AND abs(n) BETWEEN 1 AND 2", False}, {"n = 7 OR CASE WHEN n = 1 AND s = 'x' THEN true END", True},
		// SQLite runs an untyped operand first (it may raise an error).
		{"CASE WHEN n = 1 AND s = 'x' THEN true END OR n = 7", Undecided}, {"abs(n) = 1 AND n = 1", Undecided},
		{"TRUE", True}, {"NULL", Unknown}, {"NOT NULL", Unknown}, {"s = 'a' COLLATE nocase", Undecided},
		{"zz = 1", Undecided}, {"t.n = 7", Undecided}, {"n = 7)", Undecided},
	} {
		n := compile(t, c.cond)
		if got := Eval(n, row); got != c.want {
			t.Errorf("%s: got %d, want %d", c.cond, got, c.want)
		}
	}
}

func TestParams(t *testing.T) {
	n := compile(t, "id = $1 AND flag = $2 AND ts < $3", json.Number("1"), "on", "2021-01-01")
	if got := Eval(n, row); got != True {
		t.Fatalf("got %d", got)
	}
	if n := compile(t, "id = $2", int64(1)); n.Kind != Opaque {
		t.Fatalf("out-of-range parameter typed: %+v", n)
	}
}

func TestCoercionErrors(t *testing.T) {
	for _, cond := range []string{"flag = 'maybe'", "ts < 'yesterday-ish'", "d IN ('2020-13-01')"} {
		toks, _ := parse.Lex(cond)
		if _, err := Compile(toks, schema, nil); err == nil {
			t.Errorf("%s: no error", cond)
		} else if e, ok := err.(*parse.Error); !ok || e.Code == "" {
			t.Errorf("%s: untyped error %v", cond, err)
		}
	}
}

func TestConjunctsAndColumns(t *testing.T) {
	n := compile(t, "n = 7 AND (s = 'a' AND flag) AND (id = 1 OR id = 2)")
	cs := Conjuncts(n)
	if len(cs) != 4 || cs[0].Kind != Cmp || cs[3].Kind != Or {
		t.Fatalf("conjuncts %+v", cs)
	}
	if got := Columns(n, nil); len(got) != 4 {
		t.Fatalf("columns %v", got)
	}
	if HasOpaque(n) || !HasOpaque(compile(t, "n = 1 OR lower(s) = 'x'")) {
		t.Fatal("HasOpaque")
	}
}

func TestCompareExact(t *testing.T) {
	// 2^53+1 is not a double: the integer must not be rounded.
	if c, _ := Compare(int64(9007199254740993), float64(9007199254740992)); c != 1 {
		t.Fatalf("got %d", c)
	}
	if _, ok := Compare("a", int64(1)); ok {
		t.Fatal("mixed classes compared")
	}
	if c, _ := Compare(int64(-9223372036854775808), -9223372036854775808.0); c != 0 {
		t.Fatalf("got %d", c)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"n = 7 AND s LIKE 'a%'", "NOT (flag OR n BETWEEN 1 AND 2)", "(((", "n IN (", "a AND AND b)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		toks, err := parse.Lex(cond)
		if err != nil {
			return
		}
		n, err := Compile(toks, schema, []any{"x"})
		if err != nil {
			return
		}
		Eval(n, row)
	})
}
