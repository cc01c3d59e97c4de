package pgwire

import (
	"hash/fnv"
	"sort"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// catTable is one pg_catalog table: its SQLite declaration (declared types
// choose the wire types: BOOLEAN, OID, NAME, INT2, INT4, INT8, CHAR, TEXT)
// and its rows for a session.
type catTable struct {
	cols string
	rows func(v *catView) [][]any
}

// Fixed OIDs of the emulated catalog (PostgreSQL's where they exist).
const (
	oidNamespacePgCatalog = 11
	oidNamespaceInfo      = 13
	oidDatabase           = 16384
	oidOwner              = 10
	firstTableOID         = 100000
	firstIndexOID         = 500000000
)

// catView is the part of the catalog one session may see.
type catView struct {
	namespaces []string
	tables     []*catalog.Table
	current    string
	user       string
	settings   [][2]string
}

func namespaceOID(name string) int64 {
	switch name {
	case "pg_catalog":
		return oidNamespacePgCatalog
	case "information_schema":
		return oidNamespaceInfo
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return 20000 + int64(h.Sum32()%50000)
}

func tableOID(t *catalog.Table) int64 { return firstTableOID + int64(t.ID) }
func indexOID(t *catalog.Table) int64 { return firstIndexOID + int64(t.ID) }

// visibleTables applies the SHARED access levels to table metadata, as
// reading the table would (sql.canRead).
func visibleTables(cat *catalog.Cache, role auth.Role) []*catalog.Table {
	var out []*catalog.Table
	for _, t := range cat.Tables("") {
		if t.Type == catalog.TableShared {
			switch t.AccessLevel {
			case catalog.AccessPublic:
			case catalog.AccessDBA:
				if !role.IsAdmin() {
					continue
				}
			default:
				if role == auth.RoleUser {
					continue
				}
			}
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// pgTypes are the rows of pg_type: the types KalamDB columns and results use.
var pgTypes = []struct {
	oid      uint32
	name     string
	len      int64
	category string
}{
	{oidBool, "bool", 1, "B"}, {oidBytea, "bytea", -1, "U"}, {oidChar, "char", 1, "Z"}, {oidName, "name", 64, "S"},
	{oidInt8, "int8", 8, "N"}, {oidInt2, "int2", 2, "N"}, {oidInt4, "int4", 4, "N"}, {oidText, "text", -1, "S"},
	{oidOID, "oid", 4, "N"}, {oidJSON, "json", -1, "U"}, {oidFloat4, "float4", 4, "N"}, {oidFloat8, "float8", 8, "N"},
	{oidUnknown, "unknown", -2, "X"}, {oidVarchar, "varchar", -1, "S"}, {oidDate, "date", 4, "D"}, {oidTime, "time", 8, "D"},
	{oidTimestamp, "timestamp", 8, "D"}, {oidTimestamptz, "timestamptz", 8, "D"}, {oidNumeric, "numeric", -1, "N"},
	{oidUUID, "uuid", 16, "U"}, {oidJSONB, "jsonb", -1, "U"},
}

func attTypmod(t datatype.Type) int64 {
	if t.Kind == datatype.Decimal {
		return int64((t.Precision<<16)|t.Scale) + 4
	}
	return -1
}

func tableComment(t *catalog.Table) any {
	if t.Comment == "" {
		return nil
	}
	return t.Comment
}

func pkColumns(t *catalog.Table) (names []string, nums []string) {
	for i, col := range t.Columns {
		if col.PrimaryKey {
			names = append(names, col.Name)
			nums = append(nums, itoa(i+1))
		}
	}
	return names, nums
}

// catTables is the emulated pg_catalog.
var catTables = map[string]catTable{
	"pg_namespace": {"oid OID, nspname NAME, nspowner OID, nspacl TEXT", func(v *catView) [][]any {
		rows := [][]any{{int64(oidNamespacePgCatalog), "pg_catalog", int64(oidOwner), nil}, {int64(oidNamespaceInfo), "information_schema", int64(oidOwner), nil}}
		for _, ns := range v.namespaces {
			rows = append(rows, []any{namespaceOID(ns), ns, int64(oidOwner), nil})
		}
		return rows
	}},
	// kalam_search_path is the array current_schemas() returns: pg_catalog
	// (implicit: current_schemas(false) leaves it out), then the session's
	// namespace.
	"kalam_search_path": {"pos INT4, nspname NAME, implicit BOOLEAN", func(v *catView) [][]any {
		rows := [][]any{{int64(1), "pg_catalog", int64(1)}}
		if v.current != "" {
			rows = append(rows, []any{int64(2), v.current, int64(0)})
		}
		return rows
	}},
	"pg_class": {`oid OID, relname NAME, relnamespace OID, reltype OID, reloftype OID, relowner OID, relam OID, relfilenode OID,
		reltablespace OID, relpages INT4, reltuples FLOAT4, relallvisible INT4, reltoastrelid OID, relhasindex BOOLEAN,
		relisshared BOOLEAN, relpersistence CHAR, relkind CHAR, relnatts INT2, relchecks INT2, relhasrules BOOLEAN,
		relhastriggers BOOLEAN, relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN,
		relispopulated BOOLEAN, relreplident CHAR, relispartition BOOLEAN, relrewrite OID, relacl TEXT, reloptions TEXT,
		relpartbound TEXT, kalam_visible BOOLEAN`, func(v *catView) [][]any {
		var rows [][]any
		for _, t := range v.tables {
			vis := b2i(t.Namespace == v.current)
			rows = append(rows, []any{tableOID(t), t.Name, namespaceOID(t.Namespace), int64(0), int64(0), int64(oidOwner), int64(2), tableOID(t),
				int64(0), int64(0), float64(-1), int64(0), int64(0), int64(1), int64(0), "p", "r", int64(len(t.Columns)), int64(0), int64(0),
				int64(0), int64(0), int64(0), int64(0), int64(1), "d", int64(0), int64(0), nil, nil, nil, vis})
			rows = append(rows, []any{indexOID(t), t.Name + "_pkey", namespaceOID(t.Namespace), int64(0), int64(0), int64(oidOwner), int64(403), indexOID(t),
				int64(0), int64(0), float64(-1), int64(0), int64(0), int64(0), int64(0), "p", "i", int64(1), int64(0), int64(0),
				int64(0), int64(0), int64(0), int64(0), int64(1), "n", int64(0), int64(0), nil, nil, nil, vis})
		}
		return rows
	}},
	"pg_attribute": {`attrelid OID, attname NAME, atttypid OID, attstattarget INT4, attlen INT2, attnum INT2, attndims INT4,
		attcacheoff INT4, atttypmod INT4, attbyval BOOLEAN, attalign CHAR, attstorage CHAR, attcompression CHAR, attnotnull BOOLEAN,
		atthasdef BOOLEAN, atthasmissing BOOLEAN, attidentity CHAR, attgenerated CHAR, attisdropped BOOLEAN, attislocal BOOLEAN,
		attinhcount INT4, attcollation OID, attacl TEXT, attoptions TEXT, attfdwoptions TEXT`, func(v *catView) [][]any {
		var rows [][]any
		for _, t := range v.tables {
			for i, col := range t.Columns {
				ct := typeForKind(col.Type)
				coll := int64(0)
				if ct.oid == oidText {
					coll = 100
				}
				rows = append(rows, []any{tableOID(t), col.Name, int64(ct.oid), int64(-1), int64(ct.size), int64(i + 1), int64(0),
					int64(-1), attTypmod(col.Type), b2i(ct.size > 0 && ct.size <= 8), "i", "p", "", b2i(!col.Nullable || col.PrimaryKey),
					b2i(col.Default != nil && !col.Default.Null), int64(0), "", "", int64(0), int64(1), int64(0), coll, nil, nil, nil})
			}
			names, _ := pkColumns(t)
			for i, name := range names {
				var typ uint32 = oidText
				for _, col := range t.Columns {
					if col.Name == name {
						typ = typeForKind(col.Type).oid
					}
				}
				rows = append(rows, []any{indexOID(t), name, int64(typ), int64(-1), int64(-1), int64(i + 1), int64(0),
					int64(-1), int64(-1), int64(0), "i", "p", "", int64(0), int64(0), int64(0), "", "", int64(0), int64(1), int64(0), int64(0), nil, nil, nil})
			}
		}
		return rows
	}},
	"pg_attrdef": {"oid OID, adrelid OID, adnum INT2, adbin TEXT", func(v *catView) [][]any {
		var rows [][]any
		for _, t := range v.tables {
			for i, col := range t.Columns {
				if col.Default != nil && !col.Default.Null {
					rows = append(rows, []any{tableOID(t)*1000 + int64(i+1), tableOID(t), int64(i + 1), col.Default.String()})
				}
			}
		}
		return rows
	}},
	"pg_index": {`indexrelid OID, indrelid OID, indnatts INT2, indnkeyatts INT2, indisunique BOOLEAN, indnullsnotdistinct BOOLEAN,
		indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN,
		indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN, indkey TEXT, indcollation TEXT,
		indclass TEXT, indoption TEXT, indexprs TEXT, indpred TEXT, kalam_def TEXT`, func(v *catView) [][]any {
		var rows [][]any
		for _, t := range v.tables {
			names, nums := pkColumns(t)
			def := "CREATE UNIQUE INDEX " + t.Name + "_pkey ON " + t.Namespace + "." + t.Name + " USING btree (" + strings.Join(names, ", ") + ")"
			rows = append(rows, []any{indexOID(t), tableOID(t), int64(len(names)), int64(len(names)), int64(1), int64(0), int64(1), int64(0), int64(1), int64(0), int64(1),
				int64(0), int64(1), int64(1), int64(0), strings.Join(nums, " "), "0", "0", "0", nil, nil, def})
		}
		return rows
	}},
	"pg_constraint": {`oid OID, conname NAME, connamespace OID, contype CHAR, condeferrable BOOLEAN, condeferred BOOLEAN,
		convalidated BOOLEAN, conrelid OID, contypid OID, conindid OID, conparentid OID, confrelid OID, confupdtype CHAR,
		confdeltype CHAR, confmatchtype CHAR, conislocal BOOLEAN, coninhcount INT4, connoinherit BOOLEAN, conkey TEXT,
		confkey TEXT, conbin TEXT, kalam_def TEXT`, func(v *catView) [][]any {
		var rows [][]any
		for _, t := range v.tables {
			names, nums := pkColumns(t)
			rows = append(rows, []any{indexOID(t), t.Name + "_pkey", namespaceOID(t.Namespace), "p", int64(0), int64(0), int64(1), tableOID(t),
				int64(0), indexOID(t), int64(0), int64(0), " ", " ", " ", int64(1), int64(0), int64(1), "{" + strings.Join(nums, ",") + "}", nil, nil,
				"PRIMARY KEY (" + strings.Join(names, ", ") + ")"})
		}
		return rows
	}},
	"pg_type": {`oid OID, typname NAME, typnamespace OID, typowner OID, typlen INT2, typbyval BOOLEAN, typtype CHAR,
		typcategory CHAR, typispreferred BOOLEAN, typisdefined BOOLEAN, typdelim CHAR, typrelid OID, typsubscript OID,
		typelem OID, typarray OID, typinput TEXT, typoutput TEXT, typreceive TEXT, typsend TEXT, typnotnull BOOLEAN,
		typbasetype OID, typtypmod INT4, typndims INT4, typcollation OID, typdefault TEXT, typacl TEXT`, func(*catView) [][]any {
		var rows [][]any
		for _, t := range pgTypes {
			coll := int64(0)
			if t.category == "S" {
				coll = 100
			}
			rows = append(rows, []any{int64(t.oid), t.name, int64(oidNamespacePgCatalog), int64(oidOwner), t.len, b2i(t.len > 0 && t.len <= 8), "b",
				t.category, int64(0), int64(1), ",", int64(0), int64(0), int64(0), int64(0), t.name + "in", t.name + "out", t.name + "recv", t.name + "send",
				int64(0), int64(0), int64(-1), int64(0), coll, nil, nil})
		}
		return rows
	}},
	"pg_database": {`oid OID, datname NAME, datdba OID, encoding INT4, datlocprovider CHAR, datistemplate BOOLEAN,
		datallowconn BOOLEAN, datconnlimit INT4, datfrozenxid INT8, datminmxid INT8, dattablespace OID, datcollate TEXT,
		datctype TEXT, daticulocale TEXT, datcollversion TEXT, datacl TEXT`, func(*catView) [][]any {
		return [][]any{{int64(oidDatabase), "kalamdb", int64(oidOwner), int64(6), "c", int64(0), int64(1), int64(-1), int64(0), int64(0), int64(1663), "C", "C", nil, nil, nil}}
	}},
	"pg_roles": {`oid OID, rolname NAME, rolsuper BOOLEAN, rolinherit BOOLEAN, rolcreaterole BOOLEAN, rolcreatedb BOOLEAN,
		rolcanlogin BOOLEAN, rolreplication BOOLEAN, rolconnlimit INT4, rolpassword TEXT, rolvaliduntil TEXT,
		rolbypassrls BOOLEAN, rolconfig TEXT`, func(v *catView) [][]any {
		return [][]any{{int64(oidOwner), "kalamdb", int64(1), int64(1), int64(1), int64(1), int64(0), int64(0), int64(-1), "********", nil, int64(0), nil},
			{int64(oidOwner + 1), v.user, int64(0), int64(1), int64(0), int64(0), int64(1), int64(0), int64(-1), "********", nil, int64(0), nil}}
	}},
	"pg_settings": {`name TEXT, setting TEXT, unit TEXT, category TEXT, short_desc TEXT, extra_desc TEXT, context TEXT,
		vartype TEXT, source TEXT, min_val TEXT, max_val TEXT, enumvals TEXT, boot_val TEXT, reset_val TEXT,
		sourcefile TEXT, sourceline INT4, pending_restart BOOLEAN`, func(v *catView) [][]any {
		var rows [][]any
		for _, s := range v.settings {
			rows = append(rows, []any{s[0], s[1], nil, "Client Connection Defaults", "", nil, "user", "string", "session", nil, nil, nil, s[1], s[1], nil, nil, int64(0)})
		}
		return rows
	}},
	"pg_am": {"oid OID, amname NAME, amhandler TEXT, amtype CHAR", func(*catView) [][]any {
		return [][]any{{int64(2), "heap", "heap_tableam_handler", "t"}, {int64(403), "btree", "bthandler", "i"}}
	}},
	"pg_description": {"objoid OID, classoid OID, objsubid INT4, description TEXT", func(v *catView) [][]any {
		var rows [][]any
		for _, t := range v.tables {
			if c := tableComment(t); c != nil {
				rows = append(rows, []any{tableOID(t), int64(1259), int64(0), c})
			}
			for i, col := range t.Columns {
				if col.Comment != "" {
					rows = append(rows, []any{tableOID(t), int64(1259), int64(i + 1), col.Comment})
				}
			}
		}
		return rows
	}},
	"pg_collation":  {"oid OID, collname NAME, collnamespace OID, collprovider CHAR, collencoding INT4", func(*catView) [][]any { return [][]any{{int64(100), "default", int64(11), "d", int64(-1)}} }},
	"pg_tablespace": {"oid OID, spcname NAME, spcowner OID, spcacl TEXT, spcoptions TEXT", func(*catView) [][]any { return [][]any{{int64(1663), "pg_default", int64(oidOwner), nil, nil}} }},
	// KalamDB has none of these objects: the tables exist, empty, so the
	// queries tools run against them succeed.
	"pg_policy":                {"oid OID, polname NAME, polrelid OID, polcmd CHAR, polpermissive BOOLEAN, polroles TEXT, polqual TEXT, polwithcheck TEXT", nil},
	"pg_statistic_ext":         {"oid OID, stxrelid OID, stxname NAME, stxnamespace OID, stxowner OID, stxstattarget INT4, stxkeys TEXT, stxkind TEXT, stxexprs TEXT", nil},
	"pg_publication":           {"oid OID, pubname NAME, pubowner OID, puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN", nil},
	"pg_publication_namespace": {"oid OID, pnpubid OID, pnnspid OID", nil},
	"pg_publication_rel":       {"oid OID, prpubid OID, prrelid OID, prqual TEXT, prattrs TEXT", nil},
	"pg_inherits":              {"inhrelid OID, inhparent OID, inhseqno INT4, inhdetachpending BOOLEAN", nil},
	"pg_trigger":               {"oid OID, tgrelid OID, tgparentid OID, tgname NAME, tgfoid OID, tgtype INT2, tgenabled CHAR, tgisinternal BOOLEAN, tgconstrrelid OID, tgconstrindid OID, tgconstraint OID, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN, tgnargs INT2, tgattr TEXT, tgargs TEXT, tgqual TEXT, tgoldtable NAME, tgnewtable NAME", nil},
	"pg_rewrite":               {"oid OID, rulename NAME, ev_class OID, ev_type CHAR, ev_enabled CHAR, is_instead BOOLEAN, ev_qual TEXT, ev_action TEXT", nil},
	"pg_proc":                  {"oid OID, proname NAME, pronamespace OID, proowner OID, prolang OID, prokind CHAR, prorettype OID, proargtypes TEXT, proretset BOOLEAN, prosrc TEXT", nil},
	"pg_enum":                  {"oid OID, enumtypid OID, enumsortorder FLOAT4, enumlabel NAME", nil},
	"pg_range":                 {"rngtypid OID, rngsubtype OID, rngmultitypid OID", nil},
	"pg_extension":             {"oid OID, extname NAME, extowner OID, extnamespace OID, extrelocatable BOOLEAN, extversion TEXT", nil},
	"pg_foreign_table":         {"ftrelid OID, ftserver OID, ftoptions TEXT", nil},
	"pg_partitioned_table":     {"partrelid OID, partstrat CHAR, partnatts INT2, partdefid OID, partattrs TEXT", nil},
	"pg_sequence":              {"seqrelid OID, seqtypid OID, seqstart INT8, seqincrement INT8, seqmax INT8, seqmin INT8, seqcache INT8, seqcycle BOOLEAN", nil},
	"pg_event_trigger":         {"oid OID, evtname NAME, evtevent NAME, evtowner OID, evtfoid OID, evtenabled CHAR, evttags TEXT", nil},
	"pg_user":                  {"usename NAME, usesysid OID, usecreatedb BOOLEAN, usesuper BOOLEAN, userepl BOOLEAN, usebypassrls BOOLEAN, passwd TEXT, valuntil TEXT, useconfig TEXT", nil},
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{digits[i%10]}, b...)
		i /= 10
	}
	return string(b)
}
