package parse

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseBackupStatements(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want Statement
		err  string
	}{
		{sql: "BACKUP DATABASE TO 's3://objstore/backups/c1'", want: &Backup{Target: "s3://objstore/backups/c1"}},
		{sql: "backup namespace app to '/var/bk';", want: &Backup{Namespace: "app", Target: "/var/bk"}},
		{sql: "BACKUP VERIFY '/var/bk'", want: &VerifyBackup{Target: "/var/bk"}},
		{sql: "BACKUP VERIFY '/var/bk' BACKUP '20260101T000000000Z-0001'", want: &VerifyBackup{Target: "/var/bk", BackupID: "20260101T000000000Z-0001"}},
		{sql: "SHOW BACKUPS", want: &ShowBackups{}},
		{sql: "SHOW BACKUPS IN 's3://x/y'", want: &ShowBackups{Target: "s3://x/y"}},
		{sql: "RESTORE DATABASE FROM '/bk'", want: &Restore{Target: "/bk"}},
		{sql: "RESTORE NAMESPACE app FROM '/bk' BACKUP 'b1' WITH OVERWRITE", want: &Restore{Namespace: "app", Target: "/bk", BackupID: "b1", Overwrite: true}},
		{sql: "DELETE BACKUP 'b1' IN '/bk'", want: &DeleteBackup{BackupID: "b1", Target: "/bk"}},
		{sql: "DELETE BACKUPS IN '/bk' KEEP LAST 7", want: &PruneBackups{Target: "/bk", KeepLast: 7}},
		{sql: "DELETE BACKUPS IN '/bk' KEEP LAST 0 MAX AGE '720h'", want: &PruneBackups{Target: "/bk", MaxAge: 720 * time.Hour}},
		{sql: "DELETE FROM app.t WHERE id = 1", want: nil},
		{sql: "BACKUP TABLE app.t TO '/x'", err: "DATABASE, NAMESPACE or VERIFY"},
		{sql: "BACKUP DATABASE TO s3", err: "quoted string"},
		{sql: "RESTORE DATABASE FROM '/bk' WITH FORCE", err: "OVERWRITE"},
		{sql: "DELETE BACKUPS IN '/bk' KEEP LAST -1", err: "number"},
		{sql: "DELETE BACKUPS IN '/bk' KEEP LAST 1 MAX AGE '3 days'", err: "duration"},
		{sql: "DELETE BACKUP '' IN '/bk'", err: "empty"},
		{sql: "BACKUP DATABASE TO '/x' extra", err: ""},
	} {
		st, err := Parse(tc.sql)
		if tc.want == nil && tc.err == "" && !strings.HasPrefix(tc.sql, "BACKUP DATABASE TO '/x' extra") {
			if _, ok := st.(*Delete); !ok || err != nil {
				t.Errorf("%s: %T %v, want a row DELETE", tc.sql, st, err)
			}
			continue
		}
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: parsed as %#v, want an error", tc.sql, st)
			} else if tc.err != "" && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %q, want %q", tc.sql, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(st, tc.want) {
			t.Errorf("%s: %#v %v, want %#v", tc.sql, st, err, tc.want)
		}
	}
}
