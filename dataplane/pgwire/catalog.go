package pgwire

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	sqlite "modernc.org/sqlite"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// The emulated pg_catalog (docs/postgres-wire.md#catalog): statements that
// read pg_catalog tables run on a private in-memory SQLite database built
// for the statement from the catalog entries the session may see. It holds
// metadata, and the rows of the user tables the statement joins with the
// catalog, read through the engine as the session (catalog_join.go), so it
// shows nothing a SELECT of the session would not.

// isCatalogQuery reports whether a read statement names a pg_catalog table.
func isCatalogQuery(cl classified) bool {
	if !cl.returnsRows {
		return false
	}
	for i, t := range cl.toks {
		if t.Kind != parse.TokIdent {
			continue
		}
		if t.Value == "pg_catalog" && i+2 < len(cl.toks) && cl.toks[i+1].Text == "." {
			if _, ok := catTables[cl.toks[i+2].Value]; ok {
				return true
			}
		}
		if _, ok := catTables[t.Value]; ok && i > 0 {
			switch p := cl.toks[i-1]; {
			case p.Kind == parse.TokIdent && (p.Value == "from" || p.Value == "join"), p.Text == ",":
				return true
			}
		}
	}
	return false
}

var registerCatalogFuncs = sync.OnceValue(func() error {
	type fn = func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
	constant := func(v driver.Value) fn {
		return func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) { return v, nil }
	}
	first := func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) { return a[0], nil }
	var reMu sync.Mutex
	reCache := map[string]*regexp.Regexp{}
	funcs := []struct {
		name string
		n    int32
		f    fn
	}{
		{"regexp", 2, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			pat, _ := a[0].(string)
			s := fmt.Sprint(a[1])
			if a[1] == nil {
				return nil, nil
			}
			reMu.Lock()
			re, ok := reCache[pat]
			if !ok {
				var err error
				if re, err = regexp.Compile(pat); err != nil {
					reMu.Unlock()
					return nil, fmt.Errorf("invalid regular expression: %v", err)
				}
				if len(reCache) > 1000 {
					clear(reCache)
				}
				reCache[pat] = re
			}
			reMu.Unlock()
			return re.MatchString(s), nil
		}},
		{"pg_get_userbyid", 1, constant("kalamdb")},
		{"format_type", 2, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			oid, _ := a[0].(int64)
			mod, _ := a[1].(int64)
			return formatType(uint32(oid), mod), nil
		}},
		{"pg_get_expr", -1, first},
		{"pg_encoding_to_char", 1, constant("UTF8")},
		// The one database pg_database lists.
		{"current_database", 0, constant("kalamdb")},
		{"array_to_string", 2, first},
		{"array_upper", 2, constant(nil)},
		{"pg_relation_is_publishable", 1, constant(int64(0))},
		{"pg_get_statisticsobjdef_columns", 1, constant(nil)},
		{"pg_get_partkeydef", 1, constant(nil)},
		{"pg_get_viewdef", -1, constant(nil)},
		{"pg_get_triggerdef", -1, constant(nil)},
		{"pg_function_is_visible", 1, constant(int64(1))},
		{"pg_type_is_visible", 1, constant(int64(1))},
		{"has_table_privilege", -1, constant(int64(1))},
		{"has_schema_privilege", -1, constant(int64(1))},
		{"has_database_privilege", -1, constant(int64(1))},
		{"pg_total_relation_size", 1, constant(int64(0))}, {"pg_relation_size", 1, constant(int64(0))},
		{"pg_table_size", 1, constant(int64(0))}, {"pg_indexes_size", 1, constant(int64(0))},
		{"pg_size_pretty", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return fmt.Sprint(a[0]) + " bytes", nil
		}},
		{"pg_tablespace_location", 1, constant("")},
		{"quote_ident", 1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
			return `"` + strings.ReplaceAll(fmt.Sprint(a[0]), `"`, `""`) + `"`, nil
		}},
		{"shobj_description", 2, constant(nil)},
		// Columns have no comments (COMMENT ON is not supported).
		{"col_description", 2, constant(nil)},
	}
	for _, f := range funcs {
		if err := sqlite.RegisterScalarFunction(f.name, f.n, f.f); err != nil {
			return fmt.Errorf("while registering %s: %w", f.name, err)
		}
	}
	return nil
})

// formatType is format_type(): the SQL spelling of a type OID and typmod.
func formatType(oid uint32, mod int64) string {
	switch oid {
	case oidNumeric:
		if mod >= 4 {
			m := mod - 4
			return fmt.Sprintf("numeric(%d,%d)", m>>16, m&0xffff)
		}
		return "numeric"
	case oidBool:
		return "boolean"
	case oidInt2:
		return "smallint"
	case oidInt4:
		return "integer"
	case oidInt8:
		return "bigint"
	case oidFloat4:
		return "real"
	case oidFloat8:
		return "double precision"
	case oidTimestamp:
		return "timestamp without time zone"
	case oidTimestamptz:
		return "timestamp with time zone"
	case oidTime:
		return "time without time zone"
	case oidVarchar:
		return "character varying"
	case oidChar:
		return `"char"`
	}
	for _, t := range pgTypes {
		if t.oid == oid {
			return t.name
		}
	}
	return "???"
}

// translateCatalogSQL turns PostgreSQL catalog-query syntax into SQLite:
// "pg_catalog." prefixes go, regex operators become REGEXP, casts and
// COLLATE clauses are dropped (OIDs are integers; names are text),
// E'...' strings lose the E, "x = ANY(arr)" becomes "x IN (arr)", ARRAY(
// subquery) becomes the scalar subquery, subscripts are dropped, and the
// functions that read the catalog become subqueries on its tables.
func translateCatalogSQL(toks []parse.Token, src string) string {
	var b strings.Builder
	emit := func(s string) {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	n := len(toks)
	// information_schema._pg_expandarray(arr), a set-returning function
	// of the select list, becomes a json_each join over arr (an
	// int2vector's or an array's text) added to the FROM list at the same depth; one
	// join per distinct argument, as PostgreSQL runs set-returning
	// functions of one select list in lockstep. pending holds the joins
	// to add before the WHERE (or the end) of each depth.
	expands := map[string]string{}
	pending := map[int][]string{}
	depth := 0
	flush := func(d int) {
		for _, j := range pending[d] {
			emit(j)
		}
		delete(pending, d)
	}
	expandAlias := func(arg string) string {
		if a, ok := expands[arg]; ok {
			return a
		}
		a := "kalam_ea" + strconv.Itoa(len(expands))
		expands[arg] = a
		pending[depth] = append(pending[depth], fmt.Sprintf(", json_each('[' || replace(replace(replace(trim(%s), '{', ''), '}', ''), ' ', ',') || ']') AS %s",
			translateCatalogSQL(mustLex(arg), arg), a))
		return a
	}
	isExpand := func(k int) bool {
		return k+3 < n && toks[k].Value == "information_schema" && toks[k+1].Text == "." && toks[k+2].Value == "_pg_expandarray" && toks[k+3].Text == "("
	}
	hasExpand := false
	for k := range toks {
		hasExpand = hasExpand || isExpand(k)
	}
	for i := 0; i < n; i++ {
		t := toks[i]
		if t.Kind == parse.TokEOF {
			break
		}
		next := func(k int) parse.Token {
			if i+k < n {
				return toks[i+k]
			}
			return parse.Token{}
		}
		if hasExpand {
			switch {
			case t.Text == "(" && isExpand(i+1):
				// (information_schema._pg_expandarray(arr)).x / .n
				if args, end, ok := callArgs(toks, i+4, src); ok && len(args) == 1 && end+3 < n && toks[end+1].Text == ")" && toks[end+2].Text == "." {
					a := expandAlias(args[0])
					switch toks[end+3].Value {
					case "x":
						emit(a + ".value")
					case "n":
						emit("(" + a + ".key + 1)")
					default:
						emit("NULL")
					}
					i = end + 3
					continue
				}
			case isExpand(i):
				// The bare composite stands for its element x.
				if args, end, ok := callArgs(toks, i+3, src); ok && len(args) == 1 {
					emit(expandAlias(args[0]) + ".value")
					i = end
					continue
				}
			case t.Text == "(" && next(1).Kind == parse.TokIdent && next(2).Text == "." && next(3).Kind == parse.TokIdent &&
				next(4).Text == ")" && next(5).Text == "." && next(6).Value == "x":
				// (sub.keys).x of such a composite column.
				emit(next(1).Text + "." + next(3).Text)
				i += 6
				continue
			case t.Text == "(":
				depth++
			case t.Text == ")":
				flush(depth)
				depth--
			case t.Kind == parse.TokIdent && (t.Value == "where" || t.Value == "group" || t.Value == "order" || t.Value == "limit" || t.Value == "union"):
				flush(depth)
			}
		}
		switch {
		case t.Kind == parse.TokIdent && t.Value == "pg_catalog" && next(1).Text == ".":
			i++ // drop the prefix
			continue
		case t.Kind == parse.TokIdent && t.Value == "operator" && next(1).Text == "(":
			// OPERATOR(pg_catalog.~) and friends.
			j := i + 2
			var op strings.Builder
			for j < n && toks[j].Text != ")" {
				if toks[j].Kind == parse.TokOp && toks[j].Text != "." {
					op.WriteString(toks[j].Text)
				}
				j++
			}
			emit(sqliteOp(op.String()))
			i = j
			continue
		case t.Kind == parse.TokIdent && t.Value == "unnest" && next(1).Text == "(" && next(2).Kind == parse.TokIdent &&
			((next(3).Text == ")" && next(2).Value == "reloptions") || (next(3).Text == "." && next(4).Value == "reloptions" && next(5).Text == ")")):
			// psql's \d+ lists unnest(tc.reloptions): no table has storage
			// options here, so it is the empty set, its column named by
			// the alias that follows.
			j := i + 4
			if next(3).Text == "." {
				j = i + 5
			}
			alias := "unnest"
			if j+1 < n && toks[j+1].Kind == parse.TokIdent {
				alias = toks[j+1].Value
			}
			emit("(SELECT NULL AS " + alias + " WHERE 0)")
			i = j
			continue
		case t.Kind == parse.TokOp && t.Text == "!" && next(1).Text == "~":
			emit("NOT REGEXP")
			i++
			continue
		case t.Kind == parse.TokOp && t.Text == "~":
			emit("REGEXP")
			continue
		case t.Kind == parse.TokIdent && t.Value == "collate":
			i++ // COLLATE name or COLLATE pg_catalog.name
			if next(1).Text == "." {
				i += 2
			}
			continue
		case t.Kind == parse.TokOp && t.Text == "::":
			i++
			if next(1).Text == "." {
				i += 2
			}
			// multi-word type names
			for next(1).Kind == parse.TokIdent && (next(1).Value == "precision" || next(1).Value == "varying" || next(1).Value == "without" || next(1).Value == "with" || next(1).Value == "time" || next(1).Value == "zone") {
				i++
			}
			if next(1).Text == "[" && next(2).Text == "]" {
				i += 2
			}
			continue
		case t.Kind == parse.TokIdent && (t.Value == "e" || t.Value == "E") && next(1).Kind == parse.TokString && next(1).Pos == t.End:
			continue // E'...': the string follows
		case t.Kind == parse.TokOp && t.Text == "=" && next(1).Kind == parse.TokIdent && next(1).Value == "any" && next(2).Text == "(":
			emit("IN")
			i++
			continue
		case t.Kind == parse.TokIdent && t.Value == "array" && next(1).Text == "(":
			continue
		case t.Kind == parse.TokIdent && t.Value == "array" && next(1).Text == "[":
			// ARRAY['a'] -> ('a')
			j := i + 2
			emit("(")
			for j < n && toks[j].Text != "]" {
				emit(toks[j].Text)
				j++
			}
			emit(")")
			i = j
			continue
		case t.Kind == parse.TokOp && t.Text == "[":
			j := i + 1
			for j < n && toks[j].Text != "]" {
				j++
			}
			i = j
			continue
		case t.Kind == parse.TokIdent && t.Value == "generate_series" && next(1).Text == "(":
			args, end, ok := callArgs(toks, i+1, src)
			if !ok {
				break
			}
			// generate_series(a, b) AS s(r), as pgjdbc's type lookup
			// writes it: the integers a..b in column r.
			if len(args) == 2 && end+5 < n && toks[end+1].Value == "as" && toks[end+2].Kind == parse.TokIdent &&
				toks[end+3].Text == "(" && toks[end+4].Kind == parse.TokIdent && toks[end+5].Text == ")" {
				a, z := translateCatalogSQL(mustLex(args[0]), args[0]), translateCatalogSQL(mustLex(args[1]), args[1])
				emit(fmt.Sprintf("(WITH RECURSIVE kalam_gs(v) AS (SELECT %s WHERE (%s) <= (%s) UNION ALL SELECT v + 1 FROM kalam_gs WHERE v < (%s)) SELECT v AS %s FROM kalam_gs) AS %s",
					a, a, z, z, quoteIdent(toks[end+4].Value), quoteIdent(toks[end+2].Value)))
				i = end + 5
				continue
			}
			// Otherwise only psql's publication query uses it, over
			// arrays KalamDB never has: an empty set.
			emit("(SELECT 0 AS generate_series WHERE 0)")
			i = end
			continue
		case t.Kind == parse.TokIdent && t.Value == "array_upper" && next(1).Text == "(" && next(2).Value == "current_schemas" && next(3).Text == "(":
			// The length of the search path array.
			if args, end, ok := callArgs(toks, i+3, src); ok && len(args) == 1 && end+3 < n && toks[end+1].Text == "," && toks[end+3].Text == ")" {
				emit(fmt.Sprintf("(SELECT count(*) FROM kalam_search_path WHERE (%s) OR NOT implicit)", translateCatalogSQL(mustLex(args[0]), args[0])))
				i = end + 3
				continue
			}
		case t.Kind == parse.TokIdent && t.Value == "current_schemas" && next(1).Text == "(":
			// The search path array becomes the subquery of its elements
			// in order: "= ANY(current_schemas(b))" is IN over all of
			// them, and "(current_schemas(b))[1]" (subscripts are
			// dropped) is the scalar subquery's first row.
			if args, end, ok := callArgs(toks, i+1, src); ok && len(args) == 1 {
				q := fmt.Sprintf("SELECT nspname FROM kalam_search_path WHERE (%s) OR NOT implicit ORDER BY pos", translateCatalogSQL(mustLex(args[0]), args[0]))
				if !(i >= 2 && toks[i-1].Text == "(" && toks[i-2].Value == "any") {
					q = "(" + q + ")"
				}
				emit(q)
				i = end
				continue
			}
		case t.Kind == parse.TokIdent && next(1).Text == "(" && catalogSubquery[t.Value] != "":
			if args, end, ok := callArgs(toks, i+1, src); ok && len(args) >= 1 {
				emit(fmt.Sprintf(catalogSubquery[t.Value], args[0]))
				i = end
				continue
			}
		}
		emit(t.Text)
	}
	flush(0)
	return b.String()
}

// mustLex lexes a fragment of an already lexed statement.
func mustLex(s string) []parse.Token {
	toks, _ := parse.Lex(s)
	return toks
}

// catalogSubquery maps catalog-reading functions to subqueries (%s is the
// first argument).
var catalogSubquery = map[string]string{
	"pg_get_indexdef":      "(SELECT kalam_def FROM pg_index WHERE indexrelid = (%s))",
	"pg_get_constraintdef": "(SELECT kalam_def FROM pg_constraint WHERE oid = (%s))",
	"pg_table_is_visible":  "(SELECT kalam_visible FROM pg_class WHERE oid = (%s))",
	"obj_description":      "(SELECT description FROM pg_description WHERE objoid = (%s) AND objsubid = 0)",
}

// callArgs returns the argument texts of the call whose "(" is at open,
// and the index of its ")".
func callArgs(toks []parse.Token, open int, src string) ([]string, int, bool) {
	depth := 0
	var args []string
	start := toks[open].End
	for j := open; j < len(toks); j++ {
		switch toks[j].Text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				args = append(args, strings.TrimSpace(src[start:toks[j].Pos]))
				return args, j, true
			}
		case ",":
			if depth == 1 {
				args = append(args, strings.TrimSpace(src[start:toks[j].Pos]))
				start = toks[j].End
			}
		}
	}
	return nil, 0, false
}

func sqliteOp(op string) string {
	switch op {
	case "~":
		return "REGEXP"
	case "!~":
		return "NOT REGEXP"
	case "~~":
		return "LIKE"
	case "!~~":
		return "NOT LIKE"
	}
	return op
}

// execCatalog runs a pg_catalog query.
func (c *conn) execCatalog(ctx context.Context, cl classified, params []any) (*outcome, error) {
	if err := registerCatalogFuncs(); err != nil {
		return nil, err
	}
	eng := c.srv.eng
	v := &catView{current: c.sess.Namespace, user: c.sess.UserID}
	for _, ns := range eng.Catalog().Namespaces() {
		v.namespaces = append(v.namespaces, ns.Name)
	}
	v.tables = visibleTables(eng.Catalog(), c.sess.Role)
	for k := range defaultParams {
		v.settings = append(v.settings, [2]string{k, c.paramValue(k)})
	}
	sort.Slice(v.settings, func(i, j int) bool { return v.settings[i][0] < v.settings[j][0] })
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	for name, ct := range catTables {
		if _, err := conn.ExecContext(ctx, "CREATE TABLE "+name+" ("+ct.cols+")"); err != nil {
			return nil, fmt.Errorf("while building %s: %w", name, err)
		}
		if ct.rows == nil {
			continue
		}
		rows := ct.rows(v)
		if len(rows) == 0 {
			continue
		}
		ph := "(" + strings.TrimSuffix(strings.Repeat("?,", len(rows[0])), ",") + ")"
		st, err := conn.PrepareContext(ctx, "INSERT INTO "+name+" VALUES "+ph)
		if err != nil {
			return nil, fmt.Errorf("while building %s: %w", name, err)
		}
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, r...); err != nil {
				st.Close()
				return nil, fmt.Errorf("while building %s: %w", name, err)
			}
		}
		st.Close()
	}
	if err := c.loadJoinedTables(ctx, conn, cl.toks); err != nil {
		return nil, err
	}
	q := translateCatalogSQL(cl.toks, cl.text)
	// $N parameters become ?N.
	args := make([]any, len(params))
	for i, p := range params {
		args[i] = p
	}
	q = paramRe.ReplaceAllString(q, "?$1")
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, catalogError(err)
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return nil, catalogError(err)
	}
	out := &outcome{fields: make([]field, len(cols))}
	decl := make([]string, len(cols))
	for i, ct := range cols {
		decl[i] = strings.ToUpper(ct.DatabaseTypeName())
		out.fields[i] = field{name: ct.Name(), ct: catalogColType(decl[i])}
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, catalogError(err)
		}
		for i, val := range vals {
			switch x := val.(type) {
			case int64:
				if decl[i] == "BOOLEAN" {
					vals[i] = x != 0
				}
			case bool:
			case []byte:
				vals[i] = string(x)
			}
			if decl[i] == "" && val != nil && out.fields[i].ct.oid == oidText {
				switch val.(type) {
				case int64:
					out.fields[i].ct = colType{oid: oidInt8, size: 8, mod: -1}
				case float64:
					out.fields[i].ct = colType{oid: oidFloat8, size: 8, mod: -1}
				}
			}
		}
		out.rows = append(out.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, catalogError(err)
	}
	out.tag = "SELECT " + strconv.Itoa(len(out.rows))
	return out, nil
}

var paramRe = regexp.MustCompile(`\$([0-9]+)`)

func catalogColType(decl string) colType {
	switch decl {
	case "BOOLEAN":
		return colType{oid: oidBool, size: 1, mod: -1}
	case "OID":
		return colType{oid: oidOID, size: 4, mod: -1}
	case "NAME":
		return colType{oid: oidName, size: 64, mod: -1}
	case "CHAR":
		return colType{oid: oidChar, size: 1, mod: -1}
	case "INT2":
		return colType{oid: oidInt2, size: 2, mod: -1}
	case "INT4":
		return colType{oid: oidInt4, size: 4, mod: -1}
	case "INT8":
		return colType{oid: oidInt8, size: 8, mod: -1}
	case "FLOAT4":
		return colType{oid: oidFloat4, size: 4, mod: -1}
	}
	return colType{oid: oidText, size: -1, mod: -1}
}

func catalogError(err error) error {
	msg := err.Error()
	code := "42601"
	switch {
	case strings.Contains(msg, "no such column"):
		code = "42703"
	case strings.Contains(msg, "no such table"):
		code = "42P01"
	case strings.Contains(msg, "no such function"):
		code = "42883"
	}
	return &pgError{Code: code, Message: "pg_catalog emulation: " + msg, Hint: "KalamDB emulates the pg_catalog tables and functions tools use at connect time (docs/postgres-wire.md#catalog)"}
}
