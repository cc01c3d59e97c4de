package pgwire

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// maxCatalogJoinRows bounds the rows of one user table a pg_catalog
// statement may join with.
const maxCatalogJoinRows = 10000

// loadJoinedTables copies the user tables a pg_catalog statement names as
// namespace.table into its private database, so the statement can join
// them with the catalog (tools such as DBeaver's navigator and ad-hoc
// queries do). The rows are read through the SQL engine as the session —
// the same USER-table scoping, access levels and errors as a SELECT — and
// a table of more than maxCatalogJoinRows rows is refused (54000) rather
// than cut.
func (c *conn) loadJoinedTables(ctx context.Context, db *sql.Conn, toks []parse.Token) error {
	cat := c.srv.eng.Catalog()
	attached := map[string]bool{}
	loaded := map[string]bool{}
	for i := 0; i+2 < len(toks); i++ {
		ns, dot, name := toks[i], toks[i+1], toks[i+2]
		if ns.Kind != parse.TokIdent || dot.Text != "." || name.Kind != parse.TokIdent || ns.Value == "pg_catalog" || ns.Value == "information_schema" {
			continue
		}
		if i > 0 && toks[i-1].Text == "." {
			continue // the column of ns.table.column
		}
		qn := ns.Value + "." + name.Value
		if loaded[qn] {
			continue
		}
		if _, ok := cat.Table(ns.Value, name.Value); !ok {
			continue // a table alias and its column, or a missing table
		}
		loaded[qn] = true
		res, err := c.srv.eng.Execute(kalamsql.WithRowCap(ctx, maxCatalogJoinRows), c.sess, kalamsql.Request{SQL: "SELECT * FROM " + quoteIdent(ns.Value) + "." + quoteIdent(name.Value)})
		if err != nil {
			return err
		}
		r := res[len(res)-1]
		if r.Truncated {
			return pgErr("54000", fmt.Sprintf("%s has more than %d rows: a pg_catalog statement joins user tables up to that size", qn, maxCatalogJoinRows))
		}
		if !attached[ns.Value] {
			if _, err := db.ExecContext(ctx, "ATTACH DATABASE ':memory:' AS "+quoteIdent(ns.Value)); err != nil {
				return fmt.Errorf("while attaching %s: %w", ns.Value, err)
			}
			attached[ns.Value] = true
		}
		if err := createJoinedTable(ctx, db, quoteIdent(ns.Value)+"."+quoteIdent(name.Value), &r); err != nil {
			return fmt.Errorf("while copying %s: %w", qn, err)
		}
	}
	return nil
}

// createJoinedTable creates table and fills it with r's rows: integers and
// booleans as such, every other value in PostgreSQL's text form.
func createJoinedTable(ctx context.Context, db *sql.Conn, table string, r *kalamsql.Result) error {
	cts := make([]colType, len(r.Schema))
	defs := make([]string, len(r.Schema))
	for i, f := range r.Schema {
		cts[i] = typeForDataType(f.DataType)
		decl := "TEXT"
		switch cts[i].kind {
		case datatype.Boolean:
			decl = "BOOLEAN"
		case datatype.SmallInt:
			decl = "INT2"
		case datatype.Int:
			decl = "INT4"
		case datatype.BigInt:
			decl = "INT8"
		}
		defs[i] = quoteIdent(f.Name) + " " + decl
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return err
	}
	if len(r.Rows) == 0 {
		return nil
	}
	st, err := db.PrepareContext(ctx, "INSERT INTO "+table+" VALUES ("+strings.TrimSuffix(strings.Repeat("?,", len(defs)), ",")+")")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, row := range r.Rows {
		args := make([]any, len(row))
		for i, v := range row {
			switch cts[i].kind {
			case datatype.Boolean, datatype.SmallInt, datatype.Int, datatype.BigInt:
				switch x := v.(type) {
				case string:
					n, err := strconv.ParseInt(x, 10, 64)
					if err != nil {
						return err
					}
					args[i] = n
					continue
				case bool, int64, float64, nil:
					args[i] = x
					continue
				}
			}
			b, err := textValue(cts[i], v)
			if err != nil {
				return err
			}
			if b != nil {
				args[i] = string(b)
			}
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
