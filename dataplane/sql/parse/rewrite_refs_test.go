package parse

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

// twoRounds is the reference Rewrite replaced: an untyped round that only
// collects the tables, then the typed round built from them.
func twoRounds(t *testing.T, in string, r Resolver, opt RewriteOptions) (string, []int, error) {
	t.Helper()
	if i := strings.IndexByte(in, 0); i >= 0 {
		return "", nil, errSQL(i, "NUL byte in statement")
	}
	toks, err := Lex(in)
	if err != nil {
		return "", nil, err
	}
	if toks, err = trimTerminator(toks); err != nil {
		return "", nil, err
	}
	if err := checkNesting(toks); err != nil {
		return "", nil, err
	}
	if toks, err = rewriteTableAliasColumns(toks, r); err != nil {
		return "", nil, err
	}
	if toks, err = rewriteLateral(toks); err != nil {
		return "", nil, err
	}
	w0, err := rewritePasses(toks, r, opt, nil, true)
	if err != nil {
		return "", nil, err
	}
	w, sel, exact, err := typedRound(toks, r, opt, r.(ColumnTypeResolver), flatRefs(w0.refs))
	if err != nil {
		return "", nil, err
	}
	kr, _ := r.(KeyResolver)
	if err := checkGrouping(sel, kr); err != nil {
		return "", nil, err
	}
	return joinPieces(w.out), exact, nil
}

// typedRoundSeeds are statements whose table references the pre-scan
// must read as the rewriter does (or fall back).
var typedRoundSeeds = []string{
	"SELECT id, price + 1, sum(big) FROM users GROUP BY id, price",
	"SELECT u.id, m.body FROM users u JOIN messages m ON m.id = u.id WHERE u.ts < '2015-01-01'",
	"SELECT u.id FROM users AS u, messages m WHERE u.id = m.id AND u.score + 0.5 > 1",
	"SELECT id FROM users WHERE id IN (SELECT id FROM messages WHERE body = 'x')",
	"WITH users AS (SELECT 1 AS id) SELECT id + 1 FROM users",
	"WITH q AS (SELECT id, price FROM users) SELECT price * 2 FROM q",
	"SELECT x.id FROM (SELECT id FROM users) x, messages WHERE x.id = messages.id",
	"SELECT id FROM users offset 1",
	"SELECT id FROM users window",
	"SELECT avg(id), max(ts) FROM app.users",
	`SELECT "U".id + 1 FROM users "U"`,
	"SELECT ts IS DISTINCT FROM '2015-01-01' FROM users",
	"SELECT a.id FROM users a LEFT JOIN messages b USING (id) ORDER BY 1",
	"SELECT 1 FROM users a JOIN users b ON a.id = b.id, messages WHERE messages.id + a.big > 1",
	"SELECT x.id, l.m FROM users x, LATERAL (SELECT max(y.price) AS m FROM users y WHERE y.id = x.id) l",
	"SELECT id FROM users u(i, t) WHERE i > 1",
	"SELECT price FROM users UNION ALL SELECT id FROM messages",
	"SELECT (SELECT max(price) FROM users) + 1, id FROM messages",
	"SELECT extract(year FROM ts), substring(name FROM 2) FROM users",
	"SELECT id FROM nope",
	"SELECT id FROM users WHERE",
}

// sameAsTwoRounds fails t unless Rewrite with typed columns and twins
// answers in (SQL, twins, error) exactly as the two rounds it replaced.
func sameAsTwoRounds(t *testing.T, in string) {
	t.Helper()
	opt := testOpt
	opt.ExactTwins = true
	want, wantEx, wantErr := twoRounds(t, in, pgScaledResolver{}, opt)
	got, err := Rewrite(in, pgScaledResolver{}, opt)
	switch {
	case wantErr != nil:
		if err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("%q: err = %v, want %v", in, err, wantErr)
		}
	case err != nil:
		t.Fatalf("%q: %v", in, err)
	case got.SQL != want || !reflect.DeepEqual(got.Exact, wantEx):
		t.Fatalf("%q\n got: %s %v\nwant: %s %v", in, got.SQL, got.Exact, want, wantEx)
	}
}

// FuzzOneTypedRound: for any input, the one typed round answers as the
// two rounds did.
func FuzzOneTypedRound(f *testing.F) {
	for _, s := range append(typedRoundSeeds, fuzzSeeds...) {
		f.Add(s)
	}
	f.Fuzz(sameAsTwoRounds)
}

// TestOneTypedRoundMatchesTwoRounds: the single typed round (tables from
// the pre-scan, checked against the rewriter's) rewrites every shape of
// table reference exactly as the two rounds did, including those the
// pre-scan reads differently (then Rewrite falls back).
func TestOneTypedRoundMatchesTwoRounds(t *testing.T) {
	for _, in := range typedRoundSeeds {
		t.Run("", func(t *testing.T) { sameAsTwoRounds(t, in) })
	}
}

// TestPrescanRefs: the pre-scan reads table references with their aliases
// as the rewriter does, skips CTE names and unknown tables, and does not
// take select-list names after a comma for tables.
func TestPrescanRefs(t *testing.T) {
	for in, want := range map[string][]string{
		"SELECT id FROM users": {"users t_app_users"},
		"SELECT u.id FROM app.users AS u JOIN messages m ON true":                            {"u t_app_users", "m t_app_messages"},
		"SELECT users, messages FROM users x, messages":                                      {"x t_app_users", "messages t_app_messages"},
		"WITH users AS (SELECT 1) SELECT * FROM users, chat.users c":                         {"c t_chat_users"},
		"SELECT a FROM nope, (SELECT 1 FROM users) s WHERE a IN (SELECT b, c FROM messages)": {"users t_app_users", "messages t_app_messages"},
		"SELECT 1 FROM users a JOIN users b ON a.id = b.id, messages":                        {"a t_app_users", "b t_app_users", "messages t_app_messages"},
		"SELECT x IS DISTINCT FROM users FROM users offset 2":                                {"users t_app_users"},
	} {
		toks, err := Lex(in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range prescanRefs(toks, fakeResolver{}, indexGroups(toks, false)) {
			got = append(got, r.alias+" "+r.vtab)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

// TestAggregateResult: the rule the aggregate pushdown types its answers
// by is the rewriter's (Rewritten.Columns and the exact twins).
func TestAggregateResult(t *testing.T) {
	for _, c := range []struct {
		name, arg, column string
		numeric           bool
	}{
		{"sum", "int8", "", true}, {"sum", "int4", "", false}, {"avg", "int4", "", true},
		{"avg", "boolean", "", false}, {"max", "timestamp", "timestamp", false}, {"min", "date", "date", false},
		{"min", "boolean", "boolean", false}, {"max", "int8", "", false}, {"count", "timestamp", "", false},
		{"sum", "numeric", "", true}, {"", "int8", "", false},
	} {
		column, numeric := AggregateResult(c.name, c.arg)
		if column != c.column || numeric != c.numeric {
			t.Errorf("AggregateResult(%q, %q) = %q, %v; want %q, %v", c.name, c.arg, column, numeric, c.column, c.numeric)
		}
	}
	// The same rule as the rewritten statement's: twins and result types.
	opt := testOpt
	opt.ExactTwins = true
	got, err := Rewrite("SELECT sum(big), sum(id), avg(id), avg(ok), max(ts), min(d), max(ok) FROM users", pgScaledResolver{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"", "", "", "", "timestamp", "date", "boolean"}; !reflect.DeepEqual(got.Columns, want) {
		t.Errorf("Columns = %q, want %q", got.Columns, want)
	}
	for i, numeric := range []bool{true, false, true, false, false, false, false} {
		if has := got.Exact != nil && got.Exact[i] >= 0; has != numeric {
			t.Errorf("item %d: twin %v, want %v (Exact %v)", i, has, numeric, got.Exact)
		}
	}
}
