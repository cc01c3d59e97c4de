package pgwire_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// queryStrings runs q and joins each row's columns with ":" and the rows
// with " ".
func queryStrings(t *testing.T, c *pgx.Conn, q string) string {
	t.Helper()
	rows, err := c.Query(tctx(t), q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, v := range vals {
			cols = append(cols, fmt.Sprint(v))
		}
		out = append(out, strings.Join(cols, ":"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(out, " ")
}

// TestCatalogJDBCMetadata runs the pg_catalog forms pgjdbc's
// DatabaseMetaData uses (42.5: getPrimaryKeys, getSchemas, getTypeInfo's
// type cache) and checks PostgreSQL's answers.
func TestCatalogJDBCMetadata(t *testing.T) {
	n := startNode(t)
	root := connect(t, n, "root", rootPW)
	mustExec(t, root, "CREATE NAMESPACE cm")
	mustExec(t, root, "CREATE SHARED TABLE cm.things (name TEXT, id BIGINT PRIMARY KEY)")
	mustExec(t, root, "USE cm")
	for _, tc := range []struct{ q, want string }{
		// getPrimaryKeys: the primary key is the second column.
		{`SELECT result.TABLE_SCHEM, result.TABLE_NAME, result.COLUMN_NAME, result.KEY_SEQ, result.PK_NAME FROM
		  (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,
		   (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,
		   information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM
		   FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)
		   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid) JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)
		   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE true AND n.nspname = E'cm' AND ct.relname = E'things'
		   AND i.indisprimary ) result where result.A_ATTNUM = (result.KEYS).x ORDER BY result.table_name, result.pk_name, result.key_seq`,
			"cm:things:id:1:things_pkey"},
		// pgjdbc 42.7's getPrimaryKeys expands pg_constraint.conkey, an array.
		{`SELECT result.TABLE_CAT AS "TABLE_CAT", result.TABLE_SCHEM AS "TABLE_SCHEM", result.TABLE_NAME AS "TABLE_NAME",
		  result.COLUMN_NAME AS "COLUMN_NAME", result.KEY_SEQ AS "KEY_SEQ", result.PK_NAME AS "PK_NAME" FROM
		  (SELECT current_database() AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,
		   (information_schema._pg_expandarray(con.conkey)).n AS KEY_SEQ, con.conname AS PK_NAME,
		   information_schema._pg_expandarray(con.conkey) AS KEYS, a.attnum AS A_ATTNUM
		   FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class ct ON (con.conrelid = ct.oid)
		   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (a.attrelid = ct.oid)
		   WHERE con.contype = 'p' AND n.nspname = 'cm' AND ct.relname = 'things' ) result
		  where result.A_ATTNUM = (result.KEYS).x ORDER BY result.table_name, result.pk_name, result.key_seq`,
			"kalamdb:cm:things:id:1:things_pkey"},
		// The expansion's elements and their 1-based positions.
		{`SELECT (information_schema._pg_expandarray(i.indkey)).x, (information_schema._pg_expandarray(i.indkey)).n
		  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid WHERE c.relname = 'things'`, "2:1"},
		// getSchemas
		{`SELECT nspname AS TABLE_SCHEM FROM pg_catalog.pg_namespace WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'
		  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'
		  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_')) AND nspname LIKE 'c%' ORDER BY TABLE_SCHEM`,
			"cm"},
		{`SELECT (pg_catalog.current_schemas(true))[1] FROM pg_catalog.pg_database`, "pg_catalog"},
		{`SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ANY (current_schemas(true)) ORDER BY 1`, "cm pg_catalog"},
		{`SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ANY (current_schemas(false)) ORDER BY 1`, "cm"},
		{`SELECT s.r FROM pg_catalog.pg_database d, generate_series(1, 3) AS s(r) ORDER BY s.r`, "1 2 3"},
		{`SELECT count(*) FROM pg_catalog.pg_database d, generate_series(2, 1) AS s(r)`, "0"},
		// getTypeInfo's type cache. A comparison in the select list comes
		// back as an integer (0/1; PostgreSQL: boolean), which pgjdbc's
		// getBoolean reads alike; pgx shows the "char" typtype as its code.
		{`SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid FROM pg_catalog.pg_type
		  LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r from pg_namespace as ns
		  join ( select s.r, (current_schemas(false))[s.r] as nspname from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r
		  using ( nspname ) ) as sp ON sp.nspoid = typnamespace WHERE typname IN ('int8', 'text') ORDER BY sp.r, pg_type.oid DESC`,
			"0:98:text:25 0:98:int8:20"},
	} {
		if got := queryStrings(t, root, tc.q); got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.q, got, tc.want)
		}
	}
}
