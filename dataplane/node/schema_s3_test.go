package node

import (
	"context"
	"testing"
)

// TestAlterAndDropOnS3 runs the ALTER/flush cycle and the drop cleanup
// against a real MinIO: old segments resolve by column id after a rename
// and an ADD COLUMN default, and DROP TABLE leaves no object behind.
func TestAlterAndDropOnS3(t *testing.T) {
	srv := startMinIO(t)
	n := startCold(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	createS3Storage(t, root, "minio", srv, "prod")
	mustSQL(t, root, `CREATE NAMESPACE shop;
		CREATE USER TABLE shop.items (id BIGINT PRIMARY KEY, name TEXT, qty INT) WITH (STORAGE_ID = 'minio')`)
	mustSQL(t, root, "CREATE USER erin WITH PASSWORD 'erin-password-1' ROLE user")
	erin := login(t, n, "erin", "erin-password-1")
	mustSQL(t, erin, "INSERT INTO shop.items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', NULL)")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE shop.items"))
	mustSQL(t, root, "ALTER TABLE shop.items ADD COLUMN status TEXT DEFAULT 'new'")
	mustSQL(t, root, "ALTER TABLE shop.items RENAME COLUMN name TO title")
	mustSQL(t, root, "ALTER TABLE shop.items MODIFY COLUMN qty BIGINT")
	mustSQL(t, erin, "INSERT INTO shop.items (id, title, qty, status) VALUES (3, 'c', 3, 'old')")
	mustComplete(t, runJob(t, root, "STORAGE FLUSH TABLE shop.items"))
	mustSQL(t, root, "ALTER TABLE shop.items DROP COLUMN qty")
	want := "1|a|new\n2|b|new\n3|c|old"
	if got := allRows(t, erin, "SELECT * FROM shop.items ORDER BY id"); got != want {
		t.Fatalf("after alters:\n%s\nwant\n%s", got, want)
	}
	mustComplete(t, runJob(t, root, "STORAGE COMPACT TABLE shop.items"))
	if got := allRows(t, erin, "SELECT * FROM shop.items ORDER BY id"); got != want {
		t.Fatalf("after compaction:\n%s\nwant\n%s", got, want)
	}
	st, err := srv.Store(context.Background(), "kalam", "")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(context.Background(), "prod/shop/items/")
	if err != nil || len(objs) == 0 {
		t.Fatalf("objects before drop: %d %v", len(objs), err)
	}
	mustSQL(t, root, "DROP TABLE shop.items")
	if objs, err = st.List(context.Background(), "prod/shop/"); err != nil || len(objs) != 0 {
		t.Fatalf("objects after drop: %v %v", objs, err)
	}
	if got := one(t, root, "SELECT status FROM system.jobs WHERE job_type = 'drop_cleanup'"); got != "completed" {
		t.Fatalf("cleanup job: %s", got)
	}
}
