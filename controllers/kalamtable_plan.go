package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// Pure schema planning for KalamTable: spec + observed table → statements.
// No client and no clock, so every rule is unit-tested in kalamtable_plan_test.go.

// plan is the outcome of a diff.
type plan struct {
	// Statements in the order they run; one ALTER carries one action (C3).
	Statements []string
	// Destructive describes the statements that lose data.
	Destructive []string
	// Unsupported describes changes no statement can make.
	Unsupported []string
}

// Empty reports whether the table is in sync.
func (p *plan) Empty() bool { return len(p.Statements) == 0 && len(p.Unsupported) == 0 }

// Hash identifies the plan for the approval annotation.
func (p *plan) Hash() string {
	h := sha256.New()
	for _, s := range p.Statements {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// canonicalType returns the data plane's spelling of an SQL type.
func canonicalType(s string) (string, error) {
	t, err := datatype.Parse(s)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// widens reports whether the observed type from can become the spec's type
// to in place (datatype.Widens, the data plane's own rule).
func widens(from, to string) bool {
	f, err := datatype.Parse(from)
	if err != nil {
		return false
	}
	t, err := datatype.Parse(to)
	return err == nil && datatype.Widens(f, t)
}

var funcDefaultRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)$`)

// canonicalDefault renders a spec default as the data plane renders a
// stored one (DESCRIBE's column_default): functions as NAME(), NULL, and
// every literal as a quoted string.
func canonicalDefault(d *string) string {
	if d == nil {
		return ""
	}
	s := strings.TrimSpace(*d)
	switch {
	case s == "":
		return ""
	case strings.EqualFold(s, "NULL"):
		return "NULL"
	case funcDefaultRE.MatchString(s):
		return strings.ToUpper(funcDefaultRE.FindStringSubmatch(s)[1]) + "()"
	case strings.EqualFold(s, "CURRENT_USER"):
		return "CURRENT_USER()"
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return dpclient.Quote(strings.ReplaceAll(s[1:len(s)-1], "''", "'"))
	}
	return dpclient.Quote(s)
}

func nullable(c kalamv1.ColumnSpec) bool {
	if c.PrimaryKey {
		return false
	}
	return c.Nullable == nil || *c.Nullable
}

// columnDef is "name TYPE [NOT NULL] [PRIMARY KEY] [DEFAULT v]".
func columnDef(c kalamv1.ColumnSpec, typ string) string {
	var b strings.Builder
	b.WriteString(c.Name + " " + typ)
	if c.PrimaryKey {
		b.WriteString(" PRIMARY KEY")
	} else if !nullable(c) {
		b.WriteString(" NOT NULL")
	}
	if d := canonicalDefault(c.Default); d != "" {
		b.WriteString(" DEFAULT " + d)
	}
	return b.String()
}

// createStatement builds CREATE <TYPE> TABLE ns.t (...) WITH (...).
func createStatement(t *kalamv1.KalamTable) (string, error) {
	cols := make([]string, 0, len(t.Spec.Columns))
	for _, c := range t.Spec.Columns {
		typ, err := canonicalType(c.Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", c.Name, err)
		}
		cols = append(cols, columnDef(c, typ))
	}
	stmt := fmt.Sprintf("CREATE %s TABLE %s (%s)", t.Spec.Type, t.QualifiedName(), strings.Join(cols, ", "))
	var with []string
	if o := t.Spec.Options; o != nil {
		if o.Storage != "" {
			with = append(with, "STORAGE_ID = "+dpclient.Quote(o.Storage))
		}
		with = append(with, tableProperties(o)...)
	}
	if len(with) > 0 {
		stmt += " WITH (" + strings.Join(with, ", ") + ")"
	}
	return stmt, nil
}

// tableProperties are the options SET TBLPROPERTIES can change (C3).
func tableProperties(o *kalamv1.TableOptions) []string {
	var p []string
	for _, prop := range properties(o) {
		p = append(p, prop.sql)
	}
	return p
}

// property is one option of the spec as a SET TBLPROPERTIES item, and
// whether the observed table already has it.
type property struct {
	sql string
	// has reports whether the observed table matches it (cur.Options is
	// set: only called for data planes that report their options).
	has func(cur *dpclient.TableInfo) bool
}

// properties lists the spec's settable options in a fixed order.
func properties(o *kalamv1.TableOptions) []property {
	if o == nil {
		return nil
	}
	var p []property
	if o.AccessLevel != "" {
		p = append(p, property{"ACCESS_LEVEL = " + dpclient.Quote(o.AccessLevel), func(cur *dpclient.TableInfo) bool {
			return strings.EqualFold(o.AccessLevel, cur.AccessLevel)
		}})
	}
	if o.FlushPolicy != "" {
		p = append(p, property{"FLUSH_POLICY = " + dpclient.Quote(o.FlushPolicy), func(cur *dpclient.TableInfo) bool {
			return canonicalFlushPolicy(o.FlushPolicy) == canonicalFlushPolicy(cur.Options.FlushPolicy)
		}})
	}
	if o.TTLSeconds != nil {
		p = append(p, property{"TTL_SECONDS = " + strconv.FormatInt(*o.TTLSeconds, 10), func(cur *dpclient.TableInfo) bool {
			return *o.TTLSeconds == cur.Options.TTLSeconds
		}})
	}
	if o.Compression != "" {
		p = append(p, property{"COMPRESSION = " + dpclient.Quote(o.Compression), func(cur *dpclient.TableInfo) bool {
			return strings.EqualFold(o.Compression, cur.Options.Compression)
		}})
	}
	return p
}

// canonicalFlushPolicy spells a flush policy the way the data plane stores
// it ("rows:N,interval:S", parts in that order, lower case, no spaces), so
// a spec written differently is not taken for drift. Anything unparsable
// is returned trimmed: it then differs and the data plane reports the error.
func canonicalFlushPolicy(v string) string {
	parts := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		k, n, ok := strings.Cut(part, ":")
		k, n = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(n)
		num, err := strconv.Atoi(n)
		if !ok || err != nil {
			return strings.TrimSpace(v)
		}
		parts[k] = strconv.Itoa(num)
	}
	var out []string
	for _, k := range []string{"rows", "interval"} {
		if n, ok := parts[k]; ok {
			out = append(out, k+":"+n)
		}
	}
	if len(out) != len(parts) {
		return strings.TrimSpace(v)
	}
	return strings.Join(out, ",")
}

// optionChanges returns the SET TBLPROPERTIES items that bring the table
// to the spec's options. With a data plane that reports its options
// (cur.Options), exactly the differing ones, so an option changed out of
// band is seen and reverted. With an older one, which does not show the
// flush policy, TTL or compression, every option is re-applied when the
// spec's options changed since they were last applied (appliedOptions,
// status.appliedOptionsHash) or the access level differs.
func optionChanges(o *kalamv1.TableOptions, cur *dpclient.TableInfo, appliedOptions string) []string {
	reapply := false
	if cur.Options == nil {
		accessDrift := o != nil && o.AccessLevel != "" && cur.AccessLevel != "" && !strings.EqualFold(o.AccessLevel, cur.AccessLevel)
		reapply = optionsHash(o) != appliedOptions || accessDrift
	}
	var out []string
	for _, prop := range properties(o) {
		if reapply || (cur.Options != nil && !prop.has(cur)) {
			out = append(out, prop.sql)
		}
	}
	return out
}

// optionsHash identifies the spec's table properties (status.appliedOptionsHash;
// see optionChanges for where it still decides).
func optionsHash(o *kalamv1.TableOptions) string {
	b, _ := json.Marshal(tableProperties(o))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// diffTable plans the statements that turn the observed table into the
// spec. Columns are matched by name: a renamed column is a drop plus an add
// (destructive), because nothing in the spec says it was renamed.
// appliedOptions is status.appliedOptionsHash.
func diffTable(t *kalamv1.KalamTable, cur *dpclient.TableInfo, appliedOptions string) (*plan, error) {
	p := &plan{}
	q := t.QualifiedName()
	if !strings.EqualFold(cur.Type, string(t.Spec.Type)) {
		p.Unsupported = append(p.Unsupported, fmt.Sprintf("table type is %s, spec says %s: drop and recreate the table", cur.Type, t.Spec.Type))
	}
	have := map[string]dpclient.ColumnInfo{}
	for _, c := range cur.Columns {
		have[c.Name] = c
	}
	want := map[string]bool{}
	for _, c := range t.Spec.Columns {
		want[c.Name] = true
		typ, err := canonicalType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		h, ok := have[c.Name]
		if !ok {
			if c.PrimaryKey {
				p.Unsupported = append(p.Unsupported, "column "+c.Name+" would become the primary key of an existing table")
				continue
			}
			p.Statements = append(p.Statements, "ALTER TABLE "+q+" ADD COLUMN "+columnDef(c, typ))
			continue
		}
		if h.PrimaryKey != c.PrimaryKey {
			p.Unsupported = append(p.Unsupported, "primary key change on column "+c.Name)
			continue
		}
		if !strings.EqualFold(h.DataType, typ) {
			// A widening (INT -> BIGINT, FLOAT -> DOUBLE, a longer VARCHAR)
			// rewrites no row and loses nothing; anything else the data
			// plane refuses, so no plan could apply it.
			if !widens(h.DataType, c.Type) {
				p.Unsupported = append(p.Unsupported, fmt.Sprintf("column %s changes type %s -> %s, which is not a widening (only SMALLINT->INT->BIGINT, FLOAT->DOUBLE, DECIMAL(p,s)->DECIMAL(p2>=p,s) and longer TEXT/VARCHAR can change in place)", c.Name, h.DataType, typ))
				continue
			}
			p.Statements = append(p.Statements, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s %s", q, c.Name, typ))
		}
		if !c.PrimaryKey && h.Nullable != nullable(c) {
			action := "DROP NOT NULL"
			if !nullable(c) {
				action = "SET NOT NULL"
			}
			p.Statements = append(p.Statements, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s %s", q, c.Name, action))
		}
		if d := canonicalDefault(c.Default); d != h.Default {
			if d == "" {
				p.Statements = append(p.Statements, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", q, c.Name))
			} else {
				p.Statements = append(p.Statements, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", q, c.Name, d))
			}
		}
	}
	for _, c := range cur.Columns {
		if want[c.Name] {
			continue
		}
		if c.PrimaryKey {
			p.Unsupported = append(p.Unsupported, "primary key column "+c.Name+" cannot be dropped")
			continue
		}
		p.Statements = append(p.Statements, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", q, c.Name))
		p.Destructive = append(p.Destructive, "column "+c.Name+" is dropped with its data")
	}
	o := t.Spec.Options
	if props := optionChanges(o, cur, appliedOptions); len(props) > 0 {
		p.Statements = append(p.Statements, fmt.Sprintf("ALTER TABLE %s SET TBLPROPERTIES (%s)", q, strings.Join(props, ", ")))
	}
	if o != nil && o.Storage != "" && cur.StorageID != "" && o.Storage != cur.StorageID {
		p.Unsupported = append(p.Unsupported, fmt.Sprintf("storage is %s, spec says %s: a table's storage cannot change", cur.StorageID, o.Storage))
	}
	return p, nil
}
