package sql

import (
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// addRowIdentity gives a USER or SHARED table created without a primary
// key a hidden one: catalog.RowIDColumn, a BIGINT filled with Snowflake ids
// (the original project's later releases do the same). Every row-keyed
// path (UPDATE/DELETE, flush, the cold tier's merge, live-query change
// events) then works unchanged; SELECT * and INSERT without a column list
// leave the column out, and naming it selects it.
func addRowIdentity(t *catalog.Table) {
	t.Columns = append(t.Columns, catalog.Column{
		ID:         uint32(len(t.Columns) + 1),
		Name:       catalog.RowIDColumn,
		Type:       datatype.Type{Kind: datatype.BigInt},
		PrimaryKey: true,
		Default:    &catalog.Default{Func: parse.FuncSnowflakeID},
		Hidden:     true,
	})
	t.NextColumnID = uint32(len(t.Columns) + 1)
	t.PrimaryKey = catalog.RowIDColumn
}
