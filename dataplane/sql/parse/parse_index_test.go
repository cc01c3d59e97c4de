package parse

import (
	"reflect"
	"testing"
)

func TestParseIndexStatements(t *testing.T) {
	cases := []struct {
		sql  string
		want Statement
		err  bool
	}{
		{sql: "CREATE INDEX ix ON t (c)", want: &CreateIndex{Name: "ix", Table: TableName{Name: "t"}, Column: "c"}},
		{sql: "create index if not exists ix on ns.t using btree (c);", want: &CreateIndex{Name: "ix", Table: TableName{Namespace: "ns", Name: "t"}, Column: "c", IfNotExists: true}},
		{sql: "CREATE INDEX ix ON t (a, b)", err: true},
		{sql: "CREATE INDEX ix ON t USING hash (c)", err: true},
		{sql: "CREATE INDEX ON t (c)", err: true},
		{sql: "DROP INDEX ix", want: &DropIndex{Name: "ix"}},
		{sql: "DROP INDEX IF EXISTS ns.ix", want: &DropIndex{Namespace: "ns", Name: "ix", IfExists: true}},
		{sql: "DROP INDEX ns.ix.x", err: true},
	}
	for _, tc := range cases {
		got, err := Parse(tc.sql)
		if tc.err {
			if err == nil {
				t.Errorf("%s: want error, got %#v", tc.sql, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tc.sql, got, err, tc.want)
		}
	}
}
