package upstream

// Ports of ddl/smoke_test_ddl_alter.rs and ddl/smoke_test_alter_with_data.rs
// (v0.4.3-rc.4). The originals accept an error from ALTER forms their
// server did not implement yet (and then return); where this server
// implements the form, the port requires the success path.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// sqlJSON is the original's execute_sql_as_root_via_client_json: the raw
// JSON answer of one request, or the error.
func sqlJSON(c *client.Client, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.SQL(ctx, sql); err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]string{"sql": sql})
	_, out, err := c.Do(ctx, "POST", "/v1/api/sql", body, true)
	return string(out), err
}

// trySQL runs sql and returns its CLI text or the error.
func trySQL(c *client.Client, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.SQL(ctx, sql)
	if err != nil {
		return "", err
	}
	return cliText(res), nil
}

// ddl/smoke_test_ddl_alter.rs: its six tests.
func TestSmokeDDLAlter(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	create := func(t *testing.T, ns, cols, with string) string {
		full := ns + ".t"
		s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE")
		s.sql(t, s.Root, "CREATE NAMESPACE "+ns)
		s.sql(t, s.Root, "CREATE TABLE "+full+" (\n            id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),\n            "+cols+"\n        ) WITH ("+with+")")
		t.Cleanup(func() { s.sql(t, s.Root, "DROP NAMESPACE IF EXISTS "+ns+" CASCADE") })
		return full
	}
	const user = "TYPE = 'USER', FLUSH_POLICY = 'rows:1000'"
	t.Run("smoke_test_alter_table_add_column", func(t *testing.T) {
		full := create(t, "alter_add", "name TEXT NOT NULL", user)
		s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('Alice')")
		s.sql(t, s.Root, "ALTER TABLE "+full+" ADD COLUMN age INT")
		out, err := sqlJSON(s.Root, "SELECT name, age FROM "+full)
		if err != nil {
			t.Fatalf("Column 'age' not found after ADD COLUMN: %v", err)
		}
		if !strings.Contains(out, `"age"`) || !strings.Contains(out, "Alice") {
			t.Fatalf("Expected 'age' column and the existing row in output: %s", out)
		}
		s.sql(t, s.Root, "ALTER TABLE "+full+" ADD COLUMN status TEXT DEFAULT 'active'")
		s.sql(t, s.Root, "INSERT INTO "+full+" (name, age) VALUES ('Bob', 30)")
		out, err = sqlJSON(s.Root, "SELECT name, status FROM "+full+" WHERE name = 'Bob'")
		if err != nil || !strings.Contains(out, "active") {
			t.Fatalf("Expected DEFAULT value 'active' for new column: %s %v", out, err)
		}
	})
	t.Run("smoke_test_alter_table_drop_column", func(t *testing.T) {
		full := create(t, "alter_drop", "name TEXT NOT NULL,\n            email TEXT,\n            age INT", user)
		s.sql(t, s.Root, "INSERT INTO "+full+" (name, email, age) VALUES ('Alice', 'alice@example.com', 25)")
		s.sql(t, s.Root, "ALTER TABLE "+full+" DROP COLUMN email")
		out, err := sqlJSON(s.Root, "SELECT * FROM "+full)
		if err != nil {
			t.Fatalf("Failed to query after DROP COLUMN: %v", err)
		}
		if strings.Contains(out, `"email"`) {
			t.Fatalf("Expected 'email' column to be removed from output: %s", out)
		}
		if !strings.Contains(out, "Alice") || !strings.Contains(out, `"age"`) {
			t.Fatalf("Expected other columns to still exist: %s", out)
		}
	})
	t.Run("smoke_test_alter_table_modify_column", func(t *testing.T) {
		full := create(t, "alter_modify", "content TEXT", user)
		s.sql(t, s.Root, "INSERT INTO "+full+" (content) VALUES ('Test data')")
		// The original accepts either outcome of MODIFY COLUMN; when it
		// succeeds, NULL must then be refused.
		if _, err := trySQL(s.Root, "ALTER TABLE "+full+" MODIFY COLUMN content TEXT NOT NULL"); err != nil {
			t.Logf("MODIFY COLUMN refused (the original accepts this): %v", err)
			return
		}
		if out, err := trySQL(s.Root, "INSERT INTO "+full+" (content) VALUES (NULL)"); err == nil && !strings.Contains(strings.ToLower(out), "error") {
			t.Fatalf("Expected error when inserting NULL into NOT NULL column: %s", out)
		}
	})
	t.Run("smoke_test_alter_shared_table_access_level", func(t *testing.T) {
		full := create(t, "alter_access", "data TEXT", "\n            TYPE = 'SHARED',\n            ACCESS_LEVEL = 'PUBLIC',\n            FLUSH_POLICY = 'rows:1000'\n        ")
		if _, err := trySQL(s.Root, "ALTER TABLE "+full+" SET TBLPROPERTIES (ACCESS_LEVEL = 'RESTRICTED')"); err != nil {
			t.Logf("SET TBLPROPERTIES refused (the original accepts this): %v", err)
			return
		}
		out, err := sqlJSON(s.Root, "SELECT options FROM system.schemas WHERE table_name = 't' AND namespace_id = 'alter_access'")
		if err != nil {
			t.Fatalf("Failed to query system.schemas: %v", err)
		}
		if !strings.Contains(strings.ToLower(out), "restricted") {
			t.Fatalf("Expected ACCESS_LEVEL='RESTRICTED' in system.schemas options: %s", out)
		}
	})
	t.Run("smoke_test_alter_add_not_null_without_default_error", func(t *testing.T) {
		full := create(t, "alter_nn", "name TEXT NOT NULL", user)
		s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('Alice')")
		out, err := trySQL(s.Root, "ALTER TABLE "+full+" ADD COLUMN required_field TEXT NOT NULL")
		if err != nil {
			msg := strings.ToLower(err.Error())
			if !strings.Contains(msg, "not null") && !strings.Contains(msg, "default") && !strings.Contains(msg, "required") {
				t.Fatalf("Expected error message about NOT NULL requiring DEFAULT, got: %v", err)
			}
		} else if l := strings.ToLower(out); !strings.Contains(l, "error") && !strings.Contains(l, "failed") {
			t.Fatalf("Expected error when adding NOT NULL column without DEFAULT, got success: %s", out)
		}
	})
	t.Run("smoke_test_alter_system_columns_error", func(t *testing.T) {
		full := create(t, "alter_sys", "name TEXT NOT NULL", user)
		// The original only logs the outcome of dropping a system column;
		// the port requires a refusal and that the table keeps working.
		for _, c := range []string{"_updated", "_deleted"} {
			if out, err := trySQL(s.Root, "ALTER TABLE "+full+" DROP COLUMN "+c); err == nil {
				t.Errorf("DROP COLUMN %s was accepted: %s", c, out)
			}
		}
		s.sql(t, s.Root, "INSERT INTO "+full+" (name) VALUES ('x')")
		if recs := records(t, s.Root, "SELECT name, _deleted FROM "+full); len(recs) != 1 || recs[0]["_deleted"] != false {
			t.Errorf("table after refused system-column drops: %v", recs)
		}
	})
}
