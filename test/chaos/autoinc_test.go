package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// wantAutoIncRefused fails t unless stmt is refused with
// AUTO_INCREMENT_IN_CLUSTER (HTTP 400).
func wantAutoIncRefused(t *testing.T, cl *client.Client, stmt string) {
	t.Helper()
	_, err := cl.SQL(context.Background(), stmt)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != "AUTO_INCREMENT_IN_CLUSTER" || ae.HTTPStatus != http.StatusBadRequest || !strings.Contains(ae.Message, "per node") {
		t.Fatalf("%s: %v, want AUTO_INCREMENT_IN_CLUSTER (400)", stmt, err)
	}
}

// checkNodeCountersRefused: in a cluster of three, INT and SMALLINT
// AUTO_INCREMENT columns (per-node counters: two replicas could hand out
// the same value) are refused and create nothing; BIGINT AUTO_INCREMENT
// (Snowflake ids, unique per replica) is taken. storage is an S3 storage
// for the BIGINT table.
func checkNodeCountersRefused(t *testing.T, cl *client.Client, storage string) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE SHARED TABLE default.ai (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = '" + storage + "')",
		"CREATE USER TABLE default.ai (id SERIAL PRIMARY KEY, v TEXT) WITH (STORAGE_ID = '" + storage + "')",
		"CREATE SHARED TABLE default.ai (id BIGINT PRIMARY KEY, n SMALLINT AUTO_INCREMENT) WITH (STORAGE_ID = '" + storage + "')",
	} {
		wantAutoIncRefused(t, cl, stmt)
	}
	rows, err := cl.Rows(ctx, "SELECT table_name FROM system.tables WHERE namespace_id = 'default' AND table_name = 'ai'")
	if err != nil || len(rows) != 0 {
		t.Fatalf("a refused table exists: %v %v", rows, err)
	}
	if _, err := cl.SQL(ctx, "CREATE SHARED TABLE default.ai (id BIGINT AUTO_INCREMENT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = '"+storage+"')"); err != nil {
		t.Fatalf("BIGINT AUTO_INCREMENT: %v", err)
	}
	if _, err := cl.SQL(ctx, "INSERT INTO default.ai (v) VALUES ('a'), ('b')"); err != nil {
		t.Fatalf("insert into a BIGINT AUTO_INCREMENT table: %v", err)
	}
}

// checkMigratedCounter: table (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT),
// created on the single node the cluster was migrated from, holds ids
// 1..n; in the cluster an INSERT that would take a counter value is
// refused and changes nothing, one that gives the id is taken (id n+1
// when add).
func checkMigratedCounter(t *testing.T, cl *client.Client, table string, n int, add bool) {
	t.Helper()
	ctx := context.Background()
	wantAutoIncRefused(t, cl, fmt.Sprintf("INSERT INTO %s (v) VALUES ('cluster')", table))
	if add {
		if _, err := cl.SQL(ctx, fmt.Sprintf("INSERT INTO %s (id, v) VALUES (%d, 'given')", table, n+1)); err != nil {
			t.Fatalf("insert with the id given: %v", err)
		}
		n++
	}
	rows, err := cl.Rows(ctx, fmt.Sprintf("SELECT id FROM %s ORDER BY id", table))
	if err != nil || len(rows) != n {
		t.Fatalf("%s: %v %v, want ids 1..%d", table, rows, err, n)
	}
	for i, r := range rows {
		if toInt(r[0]) != int64(i+1) {
			t.Fatalf("%s: ids %v, want 1..%d", table, rows, n)
		}
	}
}
