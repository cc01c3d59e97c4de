package controllers

import (
	"slices"
	"testing"

	"k8s.io/utils/ptr"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

func planTable(cols ...kalamv1.ColumnSpec) *kalamv1.KalamTable {
	return &kalamv1.KalamTable{Spec: kalamv1.KalamTableSpec{Namespace: "ns", Name: "t", Type: kalamv1.TableShared, Columns: cols}}
}

var (
	pkCol   = kalamv1.ColumnSpec{Name: "id", Type: "BIGINT", PrimaryKey: true}
	pkInfo  = dpclient.ColumnInfo{Name: "id", DataType: "BIGINT", PrimaryKey: true}
	txtInfo = dpclient.ColumnInfo{Name: "note", DataType: "TEXT", Nullable: true}
)

func TestDiffTable(t *testing.T) {
	cases := []struct {
		name        string
		spec        *kalamv1.KalamTable
		cur         []dpclient.ColumnInfo
		curType     string
		want        []string
		destructive int
		unsupported int
	}{
		{"in sync", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "varchar(20)"}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED", nil, 0, 0},
		{"add column", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "TEXT"}, kalamv1.ColumnSpec{Name: "qty", Type: "integer", Nullable: ptr.To(false), Default: ptr.To("0")}),
			[]dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED", []string{"ALTER TABLE ns.t ADD COLUMN qty INT NOT NULL DEFAULT '0'"}, 0, 0},
		{"drop column", planTable(pkCol), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED", []string{"ALTER TABLE ns.t DROP COLUMN note"}, 1, 0},
		{"narrowing type change unsupported", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "JSON"}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED",
			nil, 0, 1},
		{"int to bigint is a safe widening", planTable(pkCol, kalamv1.ColumnSpec{Name: "qty", Type: "bigint"}), []dpclient.ColumnInfo{pkInfo, {Name: "qty", DataType: "INT", Nullable: true}}, "SHARED",
			[]string{"ALTER TABLE ns.t MODIFY COLUMN qty BIGINT"}, 0, 0},
		{"float to double is a safe widening", planTable(pkCol, kalamv1.ColumnSpec{Name: "qty", Type: "DOUBLE"}), []dpclient.ColumnInfo{pkInfo, {Name: "qty", DataType: "FLOAT", Nullable: true}}, "SHARED",
			[]string{"ALTER TABLE ns.t MODIFY COLUMN qty DOUBLE"}, 0, 0},
		{"bigint to int unsupported", planTable(pkCol, kalamv1.ColumnSpec{Name: "qty", Type: "INT"}), []dpclient.ColumnInfo{pkInfo, {Name: "qty", DataType: "BIGINT", Nullable: true}}, "SHARED",
			nil, 0, 1},
		{"set not null", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "TEXT", Nullable: ptr.To(false)}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED",
			[]string{"ALTER TABLE ns.t ALTER COLUMN note SET NOT NULL"}, 0, 0},
		{"set default function", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "TEXT", Default: ptr.To("current_user()")}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED",
			[]string{"ALTER TABLE ns.t ALTER COLUMN note SET DEFAULT CURRENT_USER()"}, 0, 0},
		{"drop default", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "TEXT"}), []dpclient.ColumnInfo{pkInfo, {Name: "note", DataType: "TEXT", Nullable: true, Default: "'x'"}}, "SHARED",
			[]string{"ALTER TABLE ns.t ALTER COLUMN note DROP DEFAULT"}, 0, 0},
		{"same quoted default", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "TEXT", Default: ptr.To("'it''s'")}), []dpclient.ColumnInfo{pkInfo, {Name: "note", DataType: "TEXT", Nullable: true, Default: "'it''s'"}}, "SHARED", nil, 0, 0},
		{"rename is drop+add", planTable(pkCol, kalamv1.ColumnSpec{Name: "body", Type: "TEXT"}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED",
			[]string{"ALTER TABLE ns.t ADD COLUMN body TEXT", "ALTER TABLE ns.t DROP COLUMN note"}, 1, 0},
		{"pk change unsupported", planTable(kalamv1.ColumnSpec{Name: "id", Type: "BIGINT"}, kalamv1.ColumnSpec{Name: "note", Type: "TEXT", PrimaryKey: true}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "SHARED", nil, 0, 2},
		{"type mismatch unsupported", planTable(pkCol, kalamv1.ColumnSpec{Name: "note", Type: "TEXT"}), []dpclient.ColumnInfo{pkInfo, txtInfo}, "USER", nil, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := diffTable(tc.spec, &dpclient.TableInfo{Type: tc.curType, Columns: tc.cur}, optionsHash(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Statements, tc.want) || len(p.Destructive) != tc.destructive || len(p.Unsupported) != tc.unsupported {
				t.Fatalf("plan %+v, want statements %q, %d destructive, %d unsupported", p, tc.want, tc.destructive, tc.unsupported)
			}
		})
	}
}

func TestDiffTableOptions(t *testing.T) {
	kt := planTable(pkCol)
	kt.Spec.Options = &kalamv1.TableOptions{AccessLevel: "PUBLIC", FlushPolicy: "rows:10"}
	cur := &dpclient.TableInfo{Type: "SHARED", Columns: []dpclient.ColumnInfo{pkInfo}, AccessLevel: "PUBLIC"}
	want := "ALTER TABLE ns.t SET TBLPROPERTIES (ACCESS_LEVEL = 'PUBLIC', FLUSH_POLICY = 'rows:10')"
	p, _ := diffTable(kt, cur, "")
	if !slices.Equal(p.Statements, []string{want}) {
		t.Fatalf("changed options: %q", p.Statements)
	}
	p, _ = diffTable(kt, cur, optionsHash(kt.Spec.Options))
	if !p.Empty() {
		t.Fatalf("applied options re-planned: %q", p.Statements)
	}
	cur.AccessLevel = "PRIVATE" // changed out of band
	p, _ = diffTable(kt, cur, optionsHash(kt.Spec.Options))
	if !slices.Equal(p.Statements, []string{want}) {
		t.Fatalf("access level drift: %q", p.Statements)
	}
	kt.Spec.Options.Storage = "objstore"
	cur.StorageID, cur.AccessLevel = "local", "PUBLIC"
	if p, _ = diffTable(kt, cur, optionsHash(kt.Spec.Options)); len(p.Unsupported) != 1 {
		t.Fatalf("storage change: %+v", p)
	}
}

// TestDiffTableObservedOptions: with a data plane that reports its options,
// exactly the options that differ from the spec are set, whatever
// status.appliedOptionsHash says, so out-of-band changes are reverted.
func TestDiffTableObservedOptions(t *testing.T) {
	spec := &kalamv1.TableOptions{AccessLevel: "PUBLIC", FlushPolicy: "interval:60, ROWS:500", Compression: "zstd"}
	same := dpclient.TableOptions{FlushPolicy: "rows:500,interval:60", Compression: "zstd"}
	for _, tc := range []struct {
		name   string
		access string
		cur    dpclient.TableOptions
		want   string
	}{
		{"in sync (spelled differently)", "PUBLIC", same, ""},
		{"flush policy changed out of band", "PUBLIC", dpclient.TableOptions{FlushPolicy: "rows:7", Compression: "zstd"}, "FLUSH_POLICY = 'interval:60, ROWS:500'"},
		{"flush policy removed out of band", "PUBLIC", dpclient.TableOptions{Compression: "zstd"}, "FLUSH_POLICY = 'interval:60, ROWS:500'"},
		{"compression and access level changed", "private", dpclient.TableOptions{FlushPolicy: same.FlushPolicy, Compression: "snappy"}, "ACCESS_LEVEL = 'PUBLIC', COMPRESSION = 'zstd'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kt := planTable(pkCol)
			kt.Spec.Options = spec
			cur := &dpclient.TableInfo{Type: "SHARED", Columns: []dpclient.ColumnInfo{pkInfo}, AccessLevel: tc.access, Options: &tc.cur}
			var want []string
			if tc.want != "" {
				want = []string{"ALTER TABLE ns.t SET TBLPROPERTIES (" + tc.want + ")"}
			}
			for _, applied := range []string{"", optionsHash(spec)} {
				p, err := diffTable(kt, cur, applied)
				if err != nil || !slices.Equal(p.Statements, want) {
					t.Fatalf("applied hash %q: got %q (%v), want %q", applied, p.Statements, err, want)
				}
			}
		})
	}
	// STREAM TTL.
	kt := planTable(pkCol)
	kt.Spec.Type = kalamv1.TableStream
	kt.Spec.Options = &kalamv1.TableOptions{TTLSeconds: ptr.To[int64](30)}
	cur := &dpclient.TableInfo{Type: "STREAM", Columns: []dpclient.ColumnInfo{pkInfo}, Options: &dpclient.TableOptions{TTLSeconds: 90, Compression: "snappy"}}
	if p, _ := diffTable(kt, cur, optionsHash(kt.Spec.Options)); !slices.Equal(p.Statements, []string{"ALTER TABLE ns.t SET TBLPROPERTIES (TTL_SECONDS = 30)"}) {
		t.Fatalf("ttl drift: %q", p.Statements)
	}
	cur.Options.TTLSeconds = 30
	if p, _ := diffTable(kt, cur, ""); !p.Empty() {
		t.Fatalf("ttl in sync: %q", p.Statements)
	}
}

func TestCanonicalFlushPolicySpelling(t *testing.T) {
	for in, want := range map[string]string{
		"rows:10": "rows:10", " Interval : 5 ,rows:3": "rows:3,interval:5", "rows:007": "rows:7", "": "", "bogus": "bogus", "rows:1,bytes:2": "rows:1,bytes:2",
	} {
		if got := canonicalFlushPolicy(in); got != want {
			t.Errorf("canonicalFlushPolicy(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlanHashIsStable(t *testing.T) {
	a := &plan{Statements: []string{"A", "B"}}
	b := &plan{Statements: []string{"A", "B"}, Destructive: []string{"x"}}
	c := &plan{Statements: []string{"B", "A"}}
	if a.Hash() != b.Hash() || a.Hash() == c.Hash() || len(a.Hash()) != 12 {
		t.Fatalf("hashes %s %s %s", a.Hash(), b.Hash(), c.Hash())
	}
}

func TestCreateStatement(t *testing.T) {
	kt := planTable(pkCol, kalamv1.ColumnSpec{Name: "at", Type: "timestamp", Default: ptr.To("now()")}, kalamv1.ColumnSpec{Name: "n", Type: "decimal(10,2)", Nullable: ptr.To(false)})
	kt.Spec.Type = kalamv1.TableStream
	kt.Spec.Options = &kalamv1.TableOptions{TTLSeconds: ptr.To[int64](30), Compression: "zstd", Storage: "objstore"}
	got, err := createStatement(kt)
	want := "CREATE STREAM TABLE ns.t (id BIGINT PRIMARY KEY, at TIMESTAMP DEFAULT NOW(), n DECIMAL(10,2) NOT NULL) WITH (STORAGE_ID = 'objstore', TTL_SECONDS = 30, COMPRESSION = 'zstd')"
	if err != nil || got != want {
		t.Fatalf("got %q (%v)\nwant %q", got, err, want)
	}
	kt.Spec.Columns[1].Type = "NOT_A_TYPE"
	if _, err := createStatement(kt); err == nil {
		t.Fatal("unknown type accepted")
	}
}

func TestCanonicalDefault(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "null": "NULL", "now()": "NOW()", "snowflake_id( )": "SNOWFLAKE_ID()", "CURRENT_USER": "CURRENT_USER()",
		"42": "'42'", "'abc'": "'abc'", "'it''s'": "'it''s'", "true": "'true'",
	} {
		if got := canonicalDefault(&in); got != want {
			t.Errorf("canonicalDefault(%q) = %q, want %q", in, got, want)
		}
	}
}
