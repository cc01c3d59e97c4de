package pgwire

import (
	"testing"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// TestResultTooLargeIsProgramLimitExceeded: an answer over
// limits.max_result_bytes reaches PostgreSQL clients as SQLSTATE 54000,
// like one over postgres_wire.max_result_rows.
func TestResultTooLargeIsProgramLimitExceeded(t *testing.T) {
	e := &kalamsql.Error{Code: kalamsql.CodeResultTooLarge, Status: 400, Message: "the result holds more than 64 bytes of rows"}
	if got := e.SQLState(); got != "54000" {
		t.Fatalf("SQLState(RESULT_TOO_LARGE) = %s, want 54000", got)
	}
	if pe := toPGError(e); pe.Code != "54000" || pe.Message != e.Message {
		t.Fatalf("toPGError = %+v", pe)
	}
}

// TestAutoIncrementInClusterIsFeatureNotSupported: a refused per-node
// AUTO_INCREMENT counter in a cluster reaches PostgreSQL clients as
// SQLSTATE 0A000, like NODE_LOCAL_STORAGE.
func TestAutoIncrementInClusterIsFeatureNotSupported(t *testing.T) {
	e := &kalamsql.Error{Code: kalamsql.CodeAutoIncrementInCluster, Status: 400, Message: "column 'id' of app.t: INT AUTO_INCREMENT keeps a counter per node"}
	if got := e.SQLState(); got != "0A000" {
		t.Fatalf("SQLState(AUTO_INCREMENT_IN_CLUSTER) = %s, want 0A000", got)
	}
}
