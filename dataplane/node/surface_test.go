package node

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSQLSurface(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE NAMESPACE IF NOT EXISTS shop; CREATE NAMESPACE IF NOT EXISTS shop`)
	mustSQL(t, root, `CREATE SHARED TABLE shop.products (
		id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(),
		sku TEXT NOT NULL,
		price DECIMAL(10,2),
		qty INT DEFAULT 0,
		active BOOLEAN DEFAULT true,
		meta JSON,
		uid UUID DEFAULT UUID_V7(),
		created TIMESTAMP DEFAULT NOW(),
		owner TEXT DEFAULT CURRENT_USER()
	) WITH (ACCESS_LEVEL = 'PRIVATE', FLUSH_POLICY = 'rows:1000,interval:60')`)

	before := time.Now().UnixMicro()
	mustSQL(t, root, `INSERT INTO shop.products (sku, price, qty, meta) VALUES ('a', 1.50, 3, '{"c":"red"}'), ('b', 2.25, 0, NULL), ('c', 10, 7, '{}')`)
	res := mustSQL(t, root, `SELECT id, sku, price, qty, active, meta, uid, created, owner FROM shop.products ORDER BY sku`)
	r := res.Results[0]
	if r.RowCount != 3 || r.AsUser != "root" {
		t.Fatalf("row_count/as_user: %+v", r)
	}
	wantTypes := []string{"BIGINT", "TEXT", "DECIMAL(10,2)", "INT", "BOOLEAN", "JSON", "UUID", "TIMESTAMP", "TEXT"}
	for i, f := range r.Schema {
		if f.DataType != wantTypes[i] || f.Index != i {
			t.Fatalf("schema[%d] = %+v, want type %s", i, f, wantTypes[i])
		}
	}
	row := r.Rows[0]
	if _, ok := row[0].(string); !ok {
		t.Fatalf("BIGINT must be a JSON string, got %T", row[0])
	}
	if row[2] != "1.50" || fmt.Sprint(row[3]) != "3" || row[4] != true || row[5] != `{"c":"red"}` || row[8] != "root" {
		t.Fatalf("row values: %v", row)
	}
	if u, _ := row[6].(string); len(u) != 36 || u[14] != '7' {
		t.Fatalf("UUID_V7 default: %v", row[6])
	}
	created, _ := row[7].(json.Number).Int64()
	if created < before || created > time.Now().UnixMicro() {
		t.Fatalf("NOW() default %d not within the test window", created)
	}

	// Real SQL: WHERE expressions, GROUP BY/HAVING, subqueries, CTEs, OFFSET,
	// casts, ILIKE, EXTRACT, params.
	queries := []struct{ sql, want string }{
		{`SELECT sku FROM shop.products WHERE qty > 0 AND price < 5 ORDER BY sku`, `[[a]]`},
		{`SELECT sku FROM shop.products WHERE sku IN ('a','c') ORDER BY sku DESC`, `[[c] [a]]`},
		{`SELECT sku FROM shop.products WHERE meta IS NULL`, `[[b]]`},
		{`SELECT active, COUNT(*), SUM(qty) FROM shop.products GROUP BY active HAVING COUNT(*) > 1`, `[[true 3 10]]`},
		{`SELECT sku FROM shop.products WHERE qty = (SELECT MAX(qty) FROM shop.products)`, `[[c]]`},
		{`WITH big AS (SELECT sku, qty FROM shop.products WHERE qty >= 3) SELECT COUNT(*) FROM big`, `[[2]]`},
		{`SELECT sku FROM shop.products ORDER BY sku LIMIT 1 OFFSET 1`, `[[b]]`},
		{`SELECT qty::TEXT || '-x' FROM shop.products WHERE sku = 'a'`, `[[3-x]]`},
		{`SELECT sku FROM shop.products WHERE sku ILIKE 'A'`, `[[a]]`},
		{`SELECT sku FROM shop.products WHERE sku LIKE 'A'`, `[]`},
		{`SELECT EXTRACT(YEAR FROM TIMESTAMP '2025-03-04 05:06:07')`, `[[2025]]`},
		{`SELECT sku FROM shop.products WHERE id = (SELECT id FROM shop.products WHERE sku = 'b')`, `[[b]]`},
		{`SELECT 9007199254740993 + 1`, `[[9007199254740994]]`},
		{`SELECT 7 / 2`, `[[3]]`},
	}
	for _, q := range queries {
		got := fmt.Sprint(mustRows(t, root, q.sql))
		if got == "[]" && q.want == "[]" {
			continue
		}
		if got != q.want {
			t.Errorf("%s\n got  %s\n want %s", q.sql, got, q.want)
		}
	}
	if got := fmt.Sprint(mustRows(t, root, `SELECT sku FROM shop.products WHERE qty > $1 AND sku <> $2 ORDER BY sku`, 1, "a")); got != "[[c]]" {
		t.Errorf("params: %s", got)
	}

	// Implicit LIMIT 50 on unbounded SELECTs; explicit LIMIT up to the cap.
	var sb strings.Builder
	sb.WriteString(`INSERT INTO shop.products (sku) VALUES `)
	for i := 0; i < 120; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "('bulk%03d')", i)
	}
	mustSQL(t, root, sb.String())
	if got := len(mustRows(t, root, `SELECT * FROM shop.products`)); got != 50 {
		t.Fatalf("implicit limit: %d rows", got)
	}
	if got := len(mustRows(t, root, `SELECT * FROM shop.products LIMIT 100`)); got != 100 {
		t.Fatalf("explicit limit: %d rows", got)
	}

	// UPDATE with expressions; DELETE is soft (row disappears).
	res = mustSQL(t, root, `UPDATE shop.products SET qty = qty + 10, active = false WHERE sku IN ('a', 'b')`)
	if res.Results[0].RowCount != 2 {
		t.Fatalf("update count: %+v", res.Results[0])
	}
	if got := fmt.Sprint(mustRows(t, root, `SELECT sku, qty, active FROM shop.products WHERE sku IN ('a', 'b') ORDER BY sku`)); got != "[[a 13 false] [b 10 false]]" {
		t.Fatalf("after update: %s", got)
	}
	res = mustSQL(t, root, `DELETE FROM shop.products WHERE sku LIKE 'bulk%'`)
	if res.Results[0].RowCount != 120 {
		t.Fatalf("delete count: %+v", res.Results[0])
	}
	if got := fmt.Sprint(mustRows(t, root, `SELECT COUNT(*) FROM shop.products`)); got != "[[3]]" {
		t.Fatalf("after delete: %s", got)
	}
	// Re-insert over a tombstone works.
	mustSQL(t, root, `DELETE FROM shop.products WHERE sku = 'c'`)
	mustSQL(t, root, `INSERT INTO shop.products (id, sku) VALUES (42, 'c2')`)

	// Catalog statements.
	rows := mustRows(t, root, `SHOW NAMESPACES`)
	if fmt.Sprint(rows) == "" || !containsRow(rows, 0, "shop") || !containsRow(rows, 0, "default") {
		t.Fatalf("SHOW NAMESPACES: %v", rows)
	}
	rows = mustRows(t, root, `SHOW TABLES IN shop`)
	if len(rows) != 1 || rows[0][1] != "products" || rows[0][2] != "SHARED" {
		t.Fatalf("SHOW TABLES: %v", rows)
	}
	rows = mustRows(t, root, `DESCRIBE TABLE shop.products`)
	if len(rows) != 9 || rows[0][0] != "id" || rows[0][5] != true || rows[1][4] != false {
		t.Fatalf("DESCRIBE: %v", rows)
	}
	res = mustSQL(t, root, `USE shop; SELECT COUNT(*) FROM products`)
	if fmt.Sprint(res.Results[1].Rows) != "[[3]]" {
		t.Fatalf("USE: %v", res.Results[1].Rows)
	}
	for _, sys := range []string{"namespaces", "tables", "schemas", "users"} {
		if len(mustRows(t, root, `SELECT * FROM system.`+sys)) == 0 {
			t.Fatalf("system.%s is empty", sys)
		}
	}
	rows = mustRows(t, root, `SELECT user_id, role FROM system.users WHERE user_id = 'root'`)
	if !reflect.DeepEqual(rows, [][]any{{"root", "system"}}) {
		t.Fatalf("system.users: %v", rows)
	}
	mustSQL(t, root, `DROP TABLE shop.products`)
	wantCode(t, root, "NOT_FOUND", 400, `SELECT * FROM shop.products`)
	mustSQL(t, root, `DROP TABLE IF EXISTS shop.products; DROP NAMESPACE shop`)
	wantCode(t, root, "NOT_FOUND", 400, `USE shop`)
}

func containsRow(rows [][]any, col int, v any) bool {
	for _, r := range rows {
		if r[col] == v {
			return true
		}
	}
	return false
}

func TestUsersAndRoles(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, `CREATE USER 'svc' WITH PASSWORD 'service-pass' ROLE service; CREATE USER 'u1' WITH PASSWORD 'user1-pass' ROLE user`)
	wantCode(t, root, "INVALID_INPUT", 400, `CREATE USER 'weak' WITH PASSWORD 'short' ROLE user`)
	wantCode(t, root, "ALREADY_EXISTS", 400, `CREATE USER 'u1' WITH PASSWORD 'user1-pass' ROLE user`)
	u1 := login(t, n, "u1", "user1-pass")
	wantCode(t, u1, "PERMISSION_DENIED", 403, `CREATE NAMESPACE x`)
	wantCode(t, u1, "PERMISSION_DENIED", 403, `CREATE SHARED TABLE t (a INT PRIMARY KEY)`)
	mustSQL(t, u1, `CREATE USER TABLE notes (id INT PRIMARY KEY, body TEXT)`)
	mustSQL(t, u1, `ALTER USER 'u1' SET PASSWORD 'user1-pass-new'`)
	login(t, n, "u1", "user1-pass-new")
	mustSQL(t, root, `DROP USER 'u1'`)
	// The old token of a dropped user stops working.
	if _, err := u1.SQL(ctx(t), `SELECT 1`); err == nil {
		t.Fatal("dropped user's token still works")
	}
}
