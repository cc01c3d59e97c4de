package sql

import (
	"context"
	"database/sql/driver"
	"regexp"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// Describe returns the result columns of one statement without running
// it: nothing is written and no row is read (the PostgreSQL listener's
// Describe). known is false when the columns cannot be told without
// running the statement (SHOW, DESCRIBE TABLE, ... build their answers in
// Go). Statements that return no rows (INSERT, DELETE, DDL) have known
// true and no fields.
//
// A SELECT is planned by SQLite under LIMIT 0, which ends it before its
// first table access; a column that is a table column gets its declared
// type, a computed one DataType "" (its type is that of its values, as in
// Execute's answers).
func (e *Engine) Describe(ctx context.Context, sess Session, text string) (fields []Field, known bool, err error) {
	if sess.Namespace == "" {
		sess.Namespace = "default"
	}
	p, err := e.Prepare(text)
	if err != nil {
		return nil, false, err
	}
	switch s := p.st.(type) {
	case *parse.Select:
		fields, err := e.describeSelect(ctx, &sess, s.SQL)
		return fields, err == nil, err
	case *parse.Subscribe:
		return subscribeSchema(), true, nil
	case *parse.Insert, *parse.Update, *parse.Delete, *parse.CreateNamespace, *parse.DropNamespace,
		*parse.CreateTable, *parse.DropTable, *parse.AlterTable, *parse.CreateIndex, *parse.DropIndex,
		*parse.CreateUser, *parse.AlterUser, *parse.DropUser, *parse.UseNamespace, *parse.KillLiveQuery:
		return nil, true, nil
	}
	return nil, false, nil
}

// dedupSuffix is the ":N" SQLite appends to repeated column names of a
// subquery.
var dedupSuffix = regexp.MustCompile(`:[0-9]+$`)

func (e *Engine) describeSelect(ctx context.Context, sess *Session, text string) ([]Field, error) {
	rw, r, err := e.rewriteRead(sess, text)
	if err != nil {
		return nil, err
	}
	if err := r.checkRead(); err != nil {
		return nil, err
	}
	q := strings.TrimRight(strings.TrimSpace(rw.SQL), ";")
	wrapped := rw.HasLimit
	if wrapped {
		q = "SELECT * FROM (\n" + q + "\n) LIMIT 0"
	} else {
		q += "\nLIMIT 0"
	}
	var fields []Field
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		// Parameters are NULL; LIMIT 0 stops before any row.
		_, rows, err := cs.run(ctx, q, make([]any, rw.NumParams))
		if err != nil {
			return err
		}
		defer rows.Close()
		names := rows.Columns()
		if rw.Exact != nil {
			names = names[:len(rw.Exact)] // without the exact twins
		}
		ct, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
		fields = make([]Field, len(names))
		for i, n := range names {
			if wrapped {
				n = dedupSuffix.ReplaceAllString(n, "")
			}
			fields[i] = Field{Name: n, Index: i}
			if ct != nil {
				if t, typed := datatype.FromSQLiteDecl(ct.ColumnTypeDatabaseTypeName(i)); typed {
					fields[i].DataType = t.String()
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fields, nil
}
