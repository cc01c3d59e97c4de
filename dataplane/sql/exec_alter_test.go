package sql

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// TestModifyColumnTypeAndNullability: MODIFY c type NOT NULL | NULL (the
// original KalamDB's form) changes type and nullability in one schema
// version, after checking both; a refusal of either changes nothing.
func TestModifyColumnTypeAndNullability(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, content SMALLINT, n INT)`)
	exec(t, e, rootSess, "INSERT INTO app.t (id, content, n) VALUES (1, 1, 1), (2, NULL, 2)")
	col := func(name string) (string, bool, uint32) {
		t.Helper()
		tb, err := e.resolveTable(&rootSess, parse.TableName{Namespace: "app", Name: "t"})
		if err != nil {
			t.Fatal(err)
		}
		c := tb.Columns[tb.ColumnIndex(name)]
		return c.Type.String(), c.Nullable, tb.SchemaVersion
	}
	refused := func(sql, code string) {
		t.Helper()
		ty0, _, v0 := col("content")
		_, err := e.Execute(context.Background(), rootSess, Request{SQL: sql})
		var se *Error
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("%s: want %s, got %v", sql, code, err)
		}
		if ty, null, v := col("content"); v != v0 || ty != ty0 || !null {
			t.Fatalf("%s: refused but changed the column: %s %v v%d", sql, ty, null, v)
		}
	}
	// A NULL in a row refuses NOT NULL; the type change is not made either.
	refused("ALTER TABLE app.t MODIFY COLUMN content INT NOT NULL", CodeConstraint)
	// A type that does not widen refuses the statement, nullability too.
	refused("ALTER TABLE app.t MODIFY COLUMN content TEXT NULL", CodeIncompatibleType)
	refused("ALTER TABLE app.t MODIFY COLUMN id BIGINT NULL", CodeProtectedColumn)

	exec(t, e, rootSess, "UPDATE app.t SET content = 2 WHERE id = 2")
	_, _, v0 := col("content")
	exec(t, e, rootSess, "ALTER TABLE app.t MODIFY COLUMN content INT NOT NULL")
	if ty, null, v := col("content"); ty != "INT" || null || v != v0+1 {
		t.Fatalf("after MODIFY INT NOT NULL: %s nullable=%v v%d (was v%d)", ty, null, v, v0)
	}
	if _, err := e.Execute(context.Background(), rootSess, Request{SQL: "INSERT INTO app.t (id, content) VALUES (3, NULL)"}); err == nil {
		t.Fatal("NULL accepted in a NOT NULL column")
	}
	// Same type, nullability only; then back to NULL; then no change.
	exec(t, e, rootSess, "ALTER TABLE app.t MODIFY COLUMN n INT NOT NULL")
	if ty, null, _ := col("n"); ty != "INT" || null {
		t.Fatalf("n: %s nullable=%v", ty, null)
	}
	exec(t, e, rootSess, "ALTER TABLE app.t MODIFY n BIGINT NULL")
	if ty, null, _ := col("n"); ty != "BIGINT" || !null {
		t.Fatalf("n: %s nullable=%v", ty, null)
	}
	res := exec(t, e, rootSess, "ALTER TABLE app.t MODIFY n BIGINT")
	if !strings.Contains(res[0].Message, "unchanged") {
		t.Fatalf("no-op MODIFY: %q", res[0].Message)
	}
}
