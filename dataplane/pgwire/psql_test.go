package pgwire_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// psqlPath finds psql (hack/install-pg-clients.sh installs it for make test).
func psqlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql is not installed: run hack/install-pg-clients.sh (make test does)")
	}
	return p
}

// TestPsqlScript runs a psql script with meta-commands (\dt, \d, \d+, \dn, \l)
// and errors against the listener and checks what psql printed.
func TestPsqlScript(t *testing.T) {
	n := startNode(t)
	host, port, _ := net.SplitHostPort(n.PostgresAddr())
	cmd := exec.Command(psqlPath(t), "-X", "-h", host, "-p", port, "-U", "root", "-d", "kalamdb", "-f", "testdata/psql_script.sql")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+rootPW, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	text := string(out)
	t.Logf("psql output:\n%s", text)
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	for _, want := range []string{
		"CREATE SCHEMA", "CREATE TABLE", "INSERT 0 2",
		" a   |  1.50 |   3 | 2024-01-02 03:04:05",
		// \dt shop.*
		" shop   | products | table | kalamdb",
		// \d shop.products
		`Table "shop.products"`, " sku    | text                        |           | not null |",
		" price  | numeric(10,2)               |           | not null |",
		" qty    | integer                     |           |          | '0'",
		" added  | timestamp without time zone |           |          |",
		`"products_pkey" PRIMARY KEY, btree (sku)`,
		// \d+ shop.products
		"| Storage | Compression | Stats target | Description", "Access method: heap",
		// \dn
		" shop    | kalamdb", " default | kalamdb",
		// \l
		" kalamdb | kalamdb | UTF8",
		" 2\n",
		`ERROR:  table 'nope' not found`,
		"ERROR:  ", "done",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("psql output lacks %q", want)
		}
	}
	if strings.Contains(text, "pg_catalog emulation") {
		t.Errorf("a psql catalog query failed")
	}
}
