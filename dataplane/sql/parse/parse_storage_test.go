package parse

import (
	"fmt"
	"testing"
)

func TestParseStorageStatements(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string // fmt %+v of the statement, or "error"
	}{
		{"CREATE STORAGE s3-prod TYPE 's3' BUCKET 'b' REGION 'eu' CONFIG '{\"endpoint\":\"h:9000\"}'",
			`&{ID:s3-prod IfNotExists:false Type:s3 Options:map[BUCKET:b CONFIG:{"endpoint":"h:9000"} REGION:eu]}`},
		{"create storage if not exists arch type = 'filesystem' path '/data/arch' name 'Archive'",
			"&{ID:arch IfNotExists:true Type:filesystem Options:map[BASE_DIRECTORY:/data/arch NAME:Archive]}"},
		{"CREATE STORAGE x TYPE 'gcs'", "error"},
		{"CREATE STORAGE x TYPE 'filesystem' PATH '/a' PATH '/b'", "error"},
		{"CREATE STORAGE x TYPE 'filesystem' BOGUS 'y'", "error"},
		{"CREATE STORAGE 'a/b' TYPE 'filesystem'", "error"},
		{"ALTER STORAGE arch SET NAME 'n' SET DESCRIPTION 'd'", "&{ID:arch Set:map[DESCRIPTION:d NAME:n]}"},
		{"ALTER STORAGE arch", "error"},
		{"DROP STORAGE IF EXISTS arch", "&{ID:arch IfExists:true}"},
		{"SHOW STORAGES", "&{}"},
		{"STORAGE CHECK arch EXTENDED", "&{ID:arch Extended:true}"},
		{"STORAGE FLUSH TABLE app.t", "&{Verb:flush Table:app.t All:false Namespace:}"},
		{"STORAGE FLUSH ALL IN NAMESPACE app", "&{Verb:flush Table: All:true Namespace:app}"},
		{"STORAGE COMPACT ALL", "&{Verb:compact Table: All:true Namespace:}"},
		{"STORAGE COMPACT TABLE t", "&{Verb:compact Table:t All:false Namespace:}"},
		{"STORAGE FLUSH", "error"},
		{"STORAGE VACUUM", "error"},
	} {
		st, err := Parse(tc.sql)
		got := "error"
		if err == nil {
			got = fmt.Sprintf("%+v", st)
		}
		if got != tc.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.sql, got, err, tc.want)
		}
	}
}
