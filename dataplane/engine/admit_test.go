package engine

import "testing"

func TestFreesSpace(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  Command
		want bool
	}{
		{"insert", Command{Rows: []RowWrite{{Op: OpInsert}}}, false},
		{"update", Command{Rows: []RowWrite{{Op: OpUpdate}}}, false},
		{"delete", Command{Rows: []RowWrite{{Op: OpDelete}, {Op: OpDelete}}}, true},
		{"delete and insert", Command{Rows: []RowWrite{{Op: OpDelete}, {Op: OpInsert}}}, false},
		{"drop table data", Command{Rows: []RowWrite{{Op: OpDropTableData}}}, true},
		{"empty", Command{}, false},
		{"create table", Command{Catalog: &CatalogWrite{Op: CatCreateTable}}, false},
		{"drop table", Command{Catalog: &CatalogWrite{Op: CatDropTable}}, true},
		{"drop namespace", Command{Catalog: &CatalogWrite{Op: CatDropNamespace}}, true},
		{"job record", Command{Catalog: &CatalogWrite{Op: CatPutJob}}, true},
		{"audit", Command{Catalog: &CatalogWrite{Op: CatAppendAudit}}, false},
		{"cold commit", Command{Cold: &ColdCommit{}}, true},
		{"user purge", Command{PurgeUser: &UserPurge{}}, true},
		{"fence", Command{Fence: &SchemaFence{}}, false},
		{"index", Command{Index: &IndexCommand{}}, false},
	} {
		if got := FreesSpace(&tc.cmd); got != tc.want {
			t.Errorf("%s: FreesSpace = %v, want %v", tc.name, got, tc.want)
		}
	}
}
