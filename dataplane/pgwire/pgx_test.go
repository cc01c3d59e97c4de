package pgwire_test

import (
	"testing"
)

func TestPgxSmoke(t *testing.T) {
	n := startNode(t)
	c := connect(t, n, "root", rootPW)
	var one int
	if err := c.QueryRow(tctx(t), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %v %d", err, one)
	}
	mustExec(t, c, "CREATE NAMESPACE app")
	mustExec(t, c, "CREATE TABLE app.items (id BIGINT PRIMARY KEY, name TEXT, price DOUBLE, ok BOOLEAN)")
	mustExec(t, c, "INSERT INTO app.items (id, name, price, ok) VALUES ($1, $2, $3, $4)", int64(1), "a", 1.5, true)
	var name string
	var price float64
	var ok bool
	if err := c.QueryRow(tctx(t), "SELECT name, price, ok FROM app.items WHERE id = $1", int64(1)).Scan(&name, &price, &ok); err != nil {
		t.Fatal(err)
	}
	if name != "a" || price != 1.5 || !ok {
		t.Fatalf("got %q %v %v", name, price, ok)
	}
}
