package parse

import (
	"strings"
	"testing"
)

// starResolver lists every fake table's columns as id, name, age.
type starResolver struct{ fakeResolver }

func (starResolver) StarColumns(string) ([]string, bool) {
	return []string{"id", "name", "age"}, true
}

// TestRewriteTableAliasColumns: a column list on a table's alias becomes a
// derived table renaming the first columns (the others keep their names);
// CTE names, unknown tables and too many names are not rewritten.
func TestRewriteTableAliasColumns(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT a.x FROM users AS a(x, y)":                    `SELECT a.x FROM (SELECT"id"AS x,"name"AS y,"age"FROM"t_app_users" AS users)AS a`,
		"SELECT x FROM app.users a(x) WHERE x>1":              `SELECT x FROM (SELECT"id"AS x,"name","age"FROM"t_app_users" AS users)AS a WHERE x>1`,
		"SELECT * FROM users u JOIN rooms r(k) ON u.id = r.k": `SELECT * FROM "t_app_users" AS u JOIN (SELECT"id"AS k,"name","age"FROM"t_chat_rooms" AS rooms)AS r ON u.id = r.k`,
	} {
		if strings.Contains(in, "rooms") {
			in = strings.Replace(in, "rooms", "chat.rooms", 1)
		}
		got, err := Rewrite(in, starResolver{}, testOpt)
		if err != nil {
			t.Errorf("Rewrite(%q): %v", in, err)
			continue
		}
		if !strings.HasPrefix(got.SQL, want) {
			t.Errorf("Rewrite(%q)\n got: %s\nwant: %s", in, got.SQL, want)
		}
	}
	if _, err := Rewrite("SELECT * FROM users AS a(p, q, r, s)", starResolver{}, testOpt); err == nil || !strings.Contains(err.Error(), "3 columns available but 4") {
		t.Errorf("too many names: err = %v", err)
	}
	// A CTE of the statement shadows the table: its list is SQLite's to refuse.
	got, err := Rewrite("WITH users AS (SELECT 1 AS v) SELECT * FROM users AS a(x)", starResolver{}, testOpt)
	if err == nil && strings.Contains(got.SQL, `"id"`) {
		t.Errorf("CTE rewritten as a table: %s", got.SQL)
	}
}
