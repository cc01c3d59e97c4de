package pgwire_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// jdbcJar is the PostgreSQL JDBC driver Debian's libpostgresql-jdbc-java
// installs (hack/install-pg-clients.sh, with a JDK).
const jdbcJar = "/usr/share/java/postgresql.jar"

// TestJDBCSuite compiles testdata/jdbc/Suite.java and runs it with the
// PostgreSQL JDBC driver: DDL, DML with prepared statements, result
// metadata, a SQLSTATE, and DatabaseMetaData (getTables, getColumns,
// getPrimaryKeys, getSchemas, getTypeInfo) over the catalog emulation.
func TestJDBCSuite(t *testing.T) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Fatal("javac is not installed: run hack/install-pg-clients.sh (make test does)")
	}
	if _, err := os.Stat(jdbcJar); err != nil {
		t.Fatalf("%s is missing: run hack/install-pg-clients.sh (make test does)", jdbcJar)
	}
	out := t.TempDir()
	if b, err := exec.Command(javac, "-d", out, "-cp", jdbcJar, "testdata/jdbc/Suite.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, b)
	}
	n := startNode(t)
	host, port, _ := net.SplitHostPort(n.PostgresAddr())
	cmd := exec.Command("java", "-cp", jdbcJar+string(os.PathListSeparator)+out, "Suite", host, port, rootPW)
	b, err := cmd.CombinedOutput()
	t.Logf("JDBC suite:\n%s", b)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), "done") {
		t.Fatalf("JDBC suite failed: %v", err)
	}
}
