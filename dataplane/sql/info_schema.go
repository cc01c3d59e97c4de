package sql

import (
	"sort"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// information_schema.schemata, .tables and .columns: the SQL-standard
// catalog views the original project enables (DataFusion's column sets,
// which are the leading columns of PostgreSQL's). Unlike system.*, every
// role may read them, but a row appears only for what the reader may read:
// USER and STREAM tables (each user sees only their own rows of them),
// SHARED tables its role passes the access level of, and the system.*
// views for dba and system roles. Hidden columns (the row identity of a
// table created without a primary key) are left out, as SELECT * does.

// InfoSchemaNamespace is the schema name of the views below.
const InfoSchemaNamespace = "information_schema"

// infoSchemaCatalog is table_catalog/catalog_name in every row.
const infoSchemaCatalog = "kalam"

// infoSchemaViews are the information_schema views by table name (filled
// by init: their rows list the views themselves).
var infoSchemaViews = map[string]*systemView{}

func init() {
	infoSchemaViews["schemata"] = &systemView{
		columns: []viewColumn{col("catalog_name", datatype.Text), col("schema_name", datatype.Text), col("schema_owner", datatype.Text),
			col("default_character_set_catalog", datatype.Text), col("default_character_set_schema", datatype.Text),
			col("default_character_set_name", datatype.Text), col("sql_path", datatype.Text)},
		rows: infoSchemata,
	}
	infoSchemaViews["tables"] = &systemView{
		columns: []viewColumn{col("table_catalog", datatype.Text), col("table_schema", datatype.Text), col("table_name", datatype.Text),
			col("table_type", datatype.Text)},
		rows: infoTables,
	}
	infoSchemaViews["columns"] = &systemView{
		columns: []viewColumn{col("table_catalog", datatype.Text), col("table_schema", datatype.Text), col("table_name", datatype.Text),
			col("column_name", datatype.Text), col("ordinal_position", datatype.Int), col("column_default", datatype.Text),
			col("is_nullable", datatype.Text), col("data_type", datatype.Text), col("character_maximum_length", datatype.Int),
			col("character_octet_length", datatype.Int), col("numeric_precision", datatype.Int),
			col("numeric_precision_radix", datatype.Int), col("numeric_scale", datatype.Int),
			col("datetime_precision", datatype.Int), col("interval_type", datatype.Text)},
		rows: infoColumns,
	}
}

// lookupView returns the view a kalam_system vtab serves: "name" is a
// system.* view, "information_schema.name" an information_schema one.
func lookupView(name string) (*systemView, bool) {
	if rest, ok := strings.CutPrefix(name, InfoSchemaNamespace+"."); ok {
		v, ok := infoSchemaViews[rest]
		return v, ok
	}
	v, ok := systemViews[name]
	return v, ok
}

// resolveInfoSchema resolves information_schema.name for the resolver.
func (r *resolver) resolveInfoSchema(name string) (string, bool) {
	if _, ok := infoSchemaViews[name]; !ok {
		return "", false
	}
	vt := InfoSchemaNamespace + "." + name
	r.views[vt] = vt
	return vt, true
}

// adminViews reports whether the statement reads a view only dba and
// system roles may read (any system.* view).
func (r *resolver) adminViews() bool {
	for vt := range r.views {
		if !strings.HasPrefix(vt, InfoSchemaNamespace+".") {
			return true
		}
	}
	return false
}

// infoRelation is one table or view information_schema describes.
type infoRelation struct {
	schema, name, typ string
	cols              []infoColumn
}

type infoColumn struct {
	name     string
	typ      datatype.Type
	nullable bool
	def      any
}

// infoRelations lists what the connection's session may see, sorted by
// schema and name.
func infoRelations(cs *connState) []infoRelation {
	var out []infoRelation
	admin := cs.sess != nil && cs.sess.Role.IsAdmin()
	for _, t := range cs.eng.cat.Tables("") {
		if cs.sess == nil || canRead(cs.sess.Role, t) != nil {
			continue
		}
		rel := infoRelation{schema: t.Namespace, name: t.Name, typ: "BASE TABLE"}
		for _, c := range t.Columns {
			if c.Hidden {
				continue
			}
			rel.cols = append(rel.cols, infoColumn{name: c.Name, typ: c.Type, nullable: c.Nullable, def: nullIfEmpty(c.Default.String())})
		}
		out = append(out, rel)
	}
	views := func(schema string, m map[string]*systemView) {
		for name, v := range m {
			rel := infoRelation{schema: schema, name: name, typ: "VIEW"}
			for _, c := range v.columns {
				rel.cols = append(rel.cols, infoColumn{name: c.name, typ: c.typ, nullable: true})
			}
			out = append(out, rel)
		}
	}
	if admin {
		views("system", systemViews)
	}
	views(InfoSchemaNamespace, infoSchemaViews)
	sort.Slice(out, func(i, j int) bool {
		if out[i].schema != out[j].schema {
			return out[i].schema < out[j].schema
		}
		return out[i].name < out[j].name
	})
	return out
}

func infoSchemata(cs *connState) ([][]any, error) {
	names := []string{InfoSchemaNamespace}
	if cs.sess != nil && cs.sess.Role.IsAdmin() {
		names = append(names, "system")
	}
	for _, n := range cs.eng.cat.Namespaces() {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	out := make([][]any, 0, len(names))
	for _, n := range names {
		out = append(out, []any{infoSchemaCatalog, n, nil, nil, nil, nil, nil})
	}
	return out, nil
}

func infoTables(cs *connState) ([][]any, error) {
	rels := infoRelations(cs)
	out := make([][]any, 0, len(rels))
	for _, r := range rels {
		out = append(out, []any{infoSchemaCatalog, r.schema, r.name, r.typ})
	}
	return out, nil
}

func infoColumns(cs *connState) ([][]any, error) {
	var out [][]any
	for _, r := range infoRelations(cs) {
		for i, c := range r.cols {
			nullable := "NO"
			if c.nullable {
				nullable = "YES"
			}
			prec, radix, scale, dtPrec := numericInfo(c.typ)
			out = append(out, []any{infoSchemaCatalog, r.schema, r.name, c.name, int64(i + 1), c.def, nullable, c.typ.String(),
				nil, nil, prec, radix, scale, dtPrec, nil})
		}
	}
	return out, nil
}

// numericInfo returns numeric_precision, numeric_precision_radix,
// numeric_scale and datetime_precision as PostgreSQL reports them.
func numericInfo(t datatype.Type) (prec, radix, scale, dtPrec any) {
	switch t.Kind {
	case datatype.SmallInt:
		return int64(16), int64(2), int64(0), nil
	case datatype.Int:
		return int64(32), int64(2), int64(0), nil
	case datatype.BigInt:
		return int64(64), int64(2), int64(0), nil
	case datatype.Float:
		return int64(24), int64(2), nil, nil
	case datatype.Double:
		return int64(53), int64(2), nil, nil
	case datatype.Decimal:
		return int64(t.Precision), int64(10), int64(t.Scale), nil
	case datatype.Timestamp, datatype.DateTime, datatype.Time:
		return nil, nil, nil, int64(6)
	case datatype.Date:
		return nil, nil, nil, int64(0)
	}
	return nil, nil, nil, nil
}

func init() {
	// system.live_queries is the spec-era name of system.live (the original
	// project's scripts and WebSocket tests read it).
	systemViews["live_queries"] = liveView
}
