package sql

import (
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// TestAuditRecordKinds pins which statements reach system.audit_log: reads,
// DML and SHOW statements never do (docs/sql-reference.md#systemaudit_log);
// administrative statements always do, passwords excluded.
func TestAuditRecordKinds(t *testing.T) {
	sess := &Session{UserID: "root", Role: "system", Namespace: "app"}
	for _, tt := range []struct {
		sql    string
		action string // "" = not audited
	}{
		{`SELECT 1`, ""},
		{`INSERT INTO t (id) VALUES (1)`, ""},
		{`SHOW TABLES`, ""},
		{`SHOW NAMESPACES`, ""},
		{`SHOW STORAGES`, ""},
		{`SHOW STATS FOR TABLE app.t`, ""},
		{`SHOW BACKUPS IN '/tmp/b'`, ""},
		{`DESCRIBE TABLE app.t`, ""},
		{`CREATE NAMESPACE app2`, "CREATE_NAMESPACE"},
		{`CREATE USER 'u' WITH PASSWORD 'secret-pw-123'`, "CREATE_USER"},
		{`BACKUP DATABASE TO '/tmp/b'`, "BACKUP"},
	} {
		st, err := parse.Parse(tt.sql)
		if err != nil {
			t.Fatalf("%s: %v", tt.sql, err)
		}
		rec := auditRecord(sess, st, tt.sql)
		switch {
		case tt.action == "" && rec != nil:
			t.Errorf("%s is audited as %s, want not audited", tt.sql, rec.Action)
		case tt.action != "" && rec == nil:
			t.Errorf("%s is not audited, want %s", tt.sql, tt.action)
		case rec != nil && rec.Action != tt.action:
			t.Errorf("%s audited as %s, want %s", tt.sql, rec.Action, tt.action)
		case rec != nil && (strings.Contains(rec.Details, "secret-pw-123") || strings.Contains(rec.Target, "secret-pw-123")):
			t.Errorf("%s: audit record holds the password: %+v", tt.sql, rec)
		}
	}
}
