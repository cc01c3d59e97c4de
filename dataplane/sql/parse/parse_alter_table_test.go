package parse

import "testing"

func TestParseAlterTable(t *testing.T) {
	tn := TableName{"app", "t"}
	runParseCases(t, []parseCase{
		{name: "add", in: "ALTER TABLE app.t ADD COLUMN c BIGINT NOT NULL DEFAULT 5",
			want: &AlterTable{Table: tn, Action: AlterAddColumn, Column: ColumnDef{Name: "c", Type: "BIGINT", NotNull: true,
				Default: &DefaultExpr{Literal: &Literal{Kind: LitInt, Text: "5"}}}}},
		{name: "add without COLUMN", in: "ALTER TABLE app.t ADD c TEXT", want: &AlterTable{Table: tn, Action: AlterAddColumn, Column: ColumnDef{Name: "c", Type: "TEXT"}}},
		{name: "add primary key", in: "ALTER TABLE app.t ADD COLUMN c INT PRIMARY KEY", code: CodeInvalidSQL, msg: "cannot add a PRIMARY KEY"},
		{name: "add system column", in: "ALTER TABLE app.t ADD COLUMN _seq INT", code: CodeInvalidInput, msg: "reserved"},
		{name: "drop", in: "ALTER TABLE app.t DROP COLUMN c", want: &AlterTable{Table: tn, Action: AlterDropColumn, Column: ColumnDef{Name: "c"}}},
		{name: "modify", in: "ALTER TABLE app.t MODIFY COLUMN c varchar(20)", want: &AlterTable{Table: tn, Action: AlterModifyColumn, Column: ColumnDef{Name: "c", Type: "VARCHAR(20)"}}},
		{name: "modify not null", in: "ALTER TABLE app.t MODIFY COLUMN c TEXT NOT NULL", want: &AlterTable{Table: tn, Action: AlterModifyColumn, Column: ColumnDef{Name: "c", Type: "TEXT", NotNull: true}}},
		{name: "modify null", in: "ALTER TABLE app.t MODIFY c BIGINT NULL", want: &AlterTable{Table: tn, Action: AlterModifyColumn, Column: ColumnDef{Name: "c", Type: "BIGINT", Nullable: true}}},
		{name: "modify not", in: "ALTER TABLE app.t MODIFY c BIGINT NOT", code: CodeInvalidSQL, msg: "NULL"},
		{name: "modify default", in: "ALTER TABLE app.t MODIFY c BIGINT DEFAULT 1", code: CodeInvalidSQL, msg: "unexpected"},
		{name: "rename", in: "ALTER TABLE app.t RENAME COLUMN a TO b", want: &AlterTable{Table: tn, Action: AlterRenameColumn, Column: ColumnDef{Name: "a"}, NewName: "b"}},
		{name: "rename to system", in: "ALTER TABLE app.t RENAME COLUMN a TO _deleted", code: CodeInvalidInput, msg: "reserved"},
		{name: "set default", in: "ALTER TABLE app.t ALTER COLUMN c SET DEFAULT NOW()", want: &AlterTable{Table: tn, Action: AlterSetDefault, Column: ColumnDef{Name: "c"}, Default: &DefaultExpr{Func: FuncNow}}},
		{name: "drop default", in: "ALTER TABLE app.t ALTER c DROP DEFAULT", want: &AlterTable{Table: tn, Action: AlterDropDefault, Column: ColumnDef{Name: "c"}}},
		{name: "set not null", in: "ALTER TABLE app.t ALTER COLUMN c SET NOT NULL", want: &AlterTable{Table: tn, Action: AlterSetNotNull, Column: ColumnDef{Name: "c"}}},
		{name: "drop not null", in: "ALTER TABLE app.t ALTER COLUMN c DROP NOT NULL", want: &AlterTable{Table: tn, Action: AlterDropNotNull, Column: ColumnDef{Name: "c"}}},
		{name: "props", in: "ALTER TABLE app.t SET TBLPROPERTIES (ttl_seconds = 60, COMPRESSION = 'zstd')",
			want: &AlterTable{Table: tn, Action: AlterSetProps, Props: map[string]string{"TTL_SECONDS": "60", "COMPRESSION": "zstd"}}},
		{name: "props unknown", in: "ALTER TABLE app.t SET TBLPROPERTIES (STORAGE_ID = 'x')", code: CodeInvalidInput, msg: "unalterable"},
		{name: "two actions", in: "ALTER TABLE app.t ADD COLUMN a INT, DROP COLUMN b", code: CodeInvalidSQL, msg: "unexpected"},
		{name: "unknown action", in: "ALTER TABLE app.t TRUNCATE", code: CodeInvalidSQL, msg: "unsupported ALTER TABLE action"},
		{name: "show stats", in: "SHOW STATS FOR TABLE app.t", want: &ShowStats{Table: tn}},
		{name: "show stats no TABLE", in: "SHOW STATS FOR app.t", want: &ShowStats{Table: tn}},
	})
}
