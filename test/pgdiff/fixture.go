// Package pgdiff is the differential SQL oracle: a fixture loaded both into
// KalamDB and into PostgreSQL, a corpus of SELECT statements
// (queries/*.sql), PostgreSQL's recorded answers (expected/*.expected) and the
// reviewed list of differences we accept (allowlist.txt). See README.md.
package pgdiff

import (
	"fmt"
	"strings"
)

// Namespace is the namespace (PostgreSQL schema) holding every fixture table.
const Namespace = "pd"

// Column is one fixture column: our type and PostgreSQL's.
type Column struct {
	Name, Ours, PG string
}

// ItemColumns are the typed columns of the item tables (sh_*, us_*, st_items).
var ItemColumns = []Column{
	{"id", "INT", "integer"},
	{"grp", "TEXT", "text"},
	{"n", "INT", "integer"},
	{"big", "BIGINT", "bigint"},
	{"price", "DECIMAL(10,2)", "numeric(10,2)"},
	{"score", "DOUBLE", "double precision"},
	{"flag", "BOOLEAN", "boolean"},
	{"ts", "TIMESTAMP", "timestamp"},
	{"d", "DATE", "date"},
	{"name", "TEXT", "text"},
}

// DimColumns are the columns of pd.dim, a small SHARED lookup table keyed
// by the item tables' grp values (with a key no item has and items whose
// grp is missing from it, for outer joins).
var DimColumns = []Column{
	{"k", "TEXT", "text"},
	{"label", "TEXT", "text"},
	{"weight", "INT", "integer"},
}

// Row is one row of literal SQL text per column ("NULL" for NULL).
type Row []string

// Table kinds.
const (
	Shared = "SHARED"
	User   = "USER"
	Stream = "STREAM"
)

// Table is one fixture table and how its rows reach our storage.
type Table struct {
	Name    string // without namespace
	Kind    string // Shared, User or Stream
	Cols    []Column
	Rows    []Row  // the final content, as PostgreSQL holds it
	Storage string // "hot", "cold" (all flushed) or "mix" (flushed, then changed)
	Index   []string
}

// Lit quotes s as a SQL string literal.
func Lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

var (
	grps   = []string{"'a'", "'b'", "'c'", "NULL", "'a'", "'b'", "'a'"}
	ns     = []string{"0", "1", "-1", "7", "42", "NULL", "100", "-50", "3", "7", "1"}
	bigs   = []string{"9007199254740993", "-3", "0", "NULL", "1000000000000", "42", "-9000000000000000000", "5"}
	prices = []string{"1.50", "0.10", "0.20", "NULL", "-3.25", "100.00", "2.67", "10.50", "0.00"}
	scores = []string{"0.1", "-2.5", "NULL", "1e20", "3", "0.30000000000000004", "-0.0001", "123456.789", "2.5"}
	flags  = []string{"TRUE", "FALSE", "NULL", "TRUE", "FALSE"}
	tss    = []string{"'2015-01-01 00:00:00'", "'2020-02-29 12:34:56.789'", "NULL", "'1999-12-31 23:59:59'", "'2020-01-01 00:00:00'", "'2024-06-15 08:00:00.5'", "'2015-01-01 00:00:01'"}
	ds     = []string{"'2020-01-01'", "'2015-01-01'", "NULL", "'1999-12-31'", "'2024-02-29'", "'2020-01-02'"}
	names  = []string{"'alpha'", "'Beta'", "'café'", "'ÉCOLE'", "''", "'a_b'", "'100%'", "NULL", "'日本語'", "'zeta'", "'Alpha'", "'straße'", "'x''y'"}
)

// ItemRows are the 30 rows of every item table (alice's rows for USER
// and STREAM tables).
func ItemRows() []Row {
	var rows []Row
	for i := 1; i <= 30; i++ {
		rows = append(rows, Row{
			fmt.Sprint(i),
			grps[i%len(grps)],
			ns[i%len(ns)],
			bigs[i%len(bigs)],
			prices[i%len(prices)],
			scores[i%len(scores)],
			flags[i%len(flags)],
			tss[i%len(tss)],
			ds[i%len(ds)],
			names[i%len(names)],
		})
	}
	return rows
}

// DimRows are the rows of pd.dim.
func DimRows() []Row {
	return []Row{
		{"'a'", "'Group A'", "10"},
		{"'b'", "'Group B'", "NULL"},
		{"'d'", "'Group D'", "30"},
		{"'e'", "NULL", "5"},
	}
}

// Tables is the whole fixture. Item tables of one kind hold the same final
// rows whatever their storage, so a query over any of them answers alike.
func Tables() []Table {
	items := ItemRows()
	var ts []Table
	for _, k := range []struct{ prefix, kind string }{{"sh", Shared}, {"us", User}} {
		for _, st := range []string{"hot", "cold", "mix"} {
			ts = append(ts, Table{Name: k.prefix + "_" + st, Kind: k.kind, Cols: ItemColumns, Rows: items, Storage: st, Index: []string{"grp", "n"}})
		}
	}
	ts = append(ts,
		Table{Name: "st_items", Kind: Stream, Cols: ItemColumns, Rows: items, Storage: "hot"},
		Table{Name: "dim", Kind: Shared, Cols: DimColumns, Rows: DimRows(), Storage: "hot"},
	)
	return ts
}

// QualifiedName is ns.table.
func (t Table) QualifiedName() string { return Namespace + "." + t.Name }

// PGSetup is the PostgreSQL script creating and filling the fixture.
func PGSetup() []string {
	out := []string{"DROP SCHEMA IF EXISTS " + Namespace + " CASCADE", "CREATE SCHEMA " + Namespace}
	for _, t := range Tables() {
		out = append(out, fmt.Sprintf("CREATE TABLE %s (%s)", t.QualifiedName(), t.columnDefs(func(c Column) string { return c.PG })))
		for _, c := range t.Index {
			out = append(out, fmt.Sprintf("CREATE INDEX %s_%s ON %s (%s)", t.Name, c, t.QualifiedName(), c))
		}
		out = append(out, insert(t, t.Rows))
	}
	return out
}

// columnDefs is the column list of CREATE TABLE, typed by typ; the first
// column is the primary key.
func (t Table) columnDefs(typ func(Column) string) string {
	var cols []string
	for i, c := range t.Cols {
		def := c.Name + " " + typ(c)
		if i == 0 {
			def += " PRIMARY KEY"
		}
		cols = append(cols, def)
	}
	return strings.Join(cols, ", ")
}

func insert(t Table, rows []Row) string {
	var names []string
	for _, c := range t.Cols {
		names = append(names, c.Name)
	}
	var vals []string
	for _, r := range rows {
		vals = append(vals, "("+strings.Join(r, ", ")+")")
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", t.QualifiedName(), strings.Join(names, ", "), strings.Join(vals, ", "))
}

// Step is one statement of our fixture script: run as Who ("root",
// "alice" or "bob"), or, with Flush set, a STORAGE FLUSH of that table to
// wait for.
type Step struct {
	Who   string
	SQL   string
	Flush string
}

// Users are the fixture's users; queries run as Querier.
const (
	Querier = "alice"
	Other   = "bob"
)

// OurSetup is the script that loads the fixture into KalamDB. Cold tables
// are flushed entirely; mix tables are flushed with stale versions and
// rows that are then updated, deleted and joined by hot inserts, so reads
// merge both tiers. Bob writes rows alice must never see.
func OurSetup(password func(user string) string) []Step {
	steps := []Step{{Who: "root", SQL: "CREATE NAMESPACE " + Namespace}}
	for _, u := range []string{Querier, Other} {
		steps = append(steps, Step{Who: "root", SQL: fmt.Sprintf("CREATE USER %s WITH PASSWORD %s", u, Lit(password(u)))})
	}
	for _, t := range Tables() {
		with := ""
		switch t.Kind {
		case Shared:
			with = " WITH (ACCESS_LEVEL = 'PUBLIC')"
		case Stream:
			with = " WITH (TTL_SECONDS = 3153600000)"
		}
		steps = append(steps, Step{Who: "root", SQL: fmt.Sprintf("CREATE %s TABLE %s (%s)%s", t.Kind, t.QualifiedName(), t.columnDefs(func(c Column) string { return c.Ours }), with)})
		for _, c := range t.Index {
			steps = append(steps, Step{Who: "root", SQL: fmt.Sprintf("CREATE INDEX %s_%s ON %s (%s)", t.Name, c, t.QualifiedName(), c)})
		}
		owner := "root"
		if t.Kind != Shared {
			owner = Querier
			// Bob's rows share alice's keys and differ in every column.
			var bob []Row
			for _, r := range t.Rows[:8] {
				b := append(Row(nil), r...)
				for j := 1; j < len(b); j++ {
					b[j] = "NULL"
				}
				b[1] = "'a'"
				b[2] = "999"
				bob = append(bob, b)
			}
			steps = append(steps, Step{Who: Other, SQL: insert(t, bob)})
		}
		switch t.Storage {
		case "hot":
			steps = append(steps, Step{Who: owner, SQL: insert(t, t.Rows)})
		case "cold":
			steps = append(steps, Step{Who: owner, SQL: insert(t, t.Rows)}, Step{Flush: t.QualifiedName()})
		case "mix":
			// Rows 1-20 go cold, rows 1-5 with stale values; three extra
			// rows go cold and are deleted hot; rows 21-30 stay hot.
			first := make([]Row, 0, 23)
			for i, r := range t.Rows[:20] {
				r = append(Row(nil), r...)
				if i < 5 {
					r[2], r[9], r[1] = "-777", Lit("stale"), "'c'"
				}
				first = append(first, r)
			}
			for id := 101; id <= 103; id++ {
				r := append(Row(nil), t.Rows[0]...)
				r[0] = fmt.Sprint(id)
				first = append(first, r)
			}
			steps = append(steps, Step{Who: owner, SQL: insert(t, first)}, Step{Flush: t.QualifiedName()})
			for _, r := range t.Rows[:5] {
				var sets []string
				for j := 1; j < len(t.Cols); j++ {
					sets = append(sets, t.Cols[j].Name+" = "+r[j])
				}
				steps = append(steps, Step{Who: owner, SQL: fmt.Sprintf("UPDATE %s SET %s WHERE id = %s", t.QualifiedName(), strings.Join(sets, ", "), r[0])})
			}
			steps = append(steps,
				Step{Who: owner, SQL: fmt.Sprintf("DELETE FROM %s WHERE id > 100", t.QualifiedName())},
				Step{Who: owner, SQL: insert(t, t.Rows[20:])})
		}
	}
	return steps
}
