package sql

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestSelectStarSystemColumns: with SelectStarSystemColumns, SELECT * ends
// with _seq and _deleted on the scan and the point-lookup paths, as the
// original's does; without, * is the declared columns.
func TestSelectStarSystemColumns(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newTestEngine(t)
		e.opts.SelectStarSystemColumns = on
		exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, v TEXT); INSERT INTO app.t VALUES (1, 'a')`)
		for _, q := range []string{`SELECT * FROM app.t`, `SELECT * FROM app.t WHERE id = 1`, `SELECT t.* FROM app.t t ORDER BY id`} {
			res := exec(t, e, rootSess, q)[0]
			var names []string
			for _, f := range res.Schema {
				names = append(names, f.Name)
			}
			want := "[id v]"
			if on {
				want = "[id v _seq _deleted]"
			}
			if fmt.Sprint(names) != want || len(res.Rows) != 1 || len(res.Rows[0]) != len(names) {
				t.Errorf("on=%v %s: columns %v rows %v, want %s", on, q, names, res.Rows, want)
			}
			if on && res.Rows[0][3] != false {
				t.Errorf("%s: _deleted = %#v, want false", q, res.Rows[0][3])
			}
		}
		// INSERT without a column list still takes the declared columns.
		exec(t, e, rootSess, `INSERT INTO app.t VALUES (2, 'b')`)
	}
}

// TestSchemasColumnsAreColumnDefinitions: system.schemas.columns holds
// the original's ColumnDefinition records.
func TestSchemasColumnsAreColumnDefinitions(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app; CREATE USER TABLE app.t (id BIGINT PRIMARY KEY, v EMBEDDING(3) NOT NULL, d DECIMAL(10,2) DEFAULT 1.5, j JSON, ts TIMESTAMP DEFAULT NOW())`)
	text := exec(t, e, rootSess, `SELECT columns FROM system.schemas WHERE table_name = 't'`)[0].Rows[0][0].(string)
	var cols []map[string]any
	if err := json.Unmarshal([]byte(text), &cols); err != nil || len(cols) != 5 {
		t.Fatalf("columns %s: %v", text, err)
	}
	for i, want := range []string{
		`{"column_comment":null,"column_id":1,"column_name":"id","data_type":"BigInt","default_value":"None","is_nullable":false,"is_partition_key":false,"is_primary_key":true,"ordinal_position":1,"sql_type":"BIGINT"}`,
		`{"column_comment":null,"column_id":2,"column_name":"v","data_type":{"Embedding":3},"default_value":"None","is_nullable":false,"is_partition_key":false,"is_primary_key":false,"ordinal_position":2,"sql_type":"EMBEDDING(3)"}`,
		`{"column_comment":null,"column_id":3,"column_name":"d","data_type":{"Decimal":{"precision":10,"scale":2}},"default_value":{"Literal":1.5},"is_nullable":true,"is_partition_key":false,"is_primary_key":false,"ordinal_position":3,"sql_type":"DECIMAL(10,2)"}`,
		`"data_type":"Json"`,
		`"default_value":{"FunctionCall":`,
	} {
		got, _ := json.Marshal(cols[i])
		if i < 3 && string(got) != want || i >= 3 && !strings.Contains(string(got), want) {
			t.Errorf("column %d: %s, want %s", i, got, want)
		}
	}
	exec(t, e, rootSess, `CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC'); ALTER TABLE app.s SET TBLPROPERTIES (ACCESS_LEVEL = 'RESTRICTED')`)
	rows := exec(t, e, rootSess, `SELECT options FROM system.schemas WHERE table_name = 's' ORDER BY schema_version`)[0].Rows
	if len(rows) != 2 || !strings.Contains(rows[0][0].(string), `"access_level":"PUBLIC"`) || !strings.Contains(rows[1][0].(string), `"access_level":"RESTRICTED"`) ||
		!strings.Contains(rows[1][0].(string), `"table_type":"SHARED"`) {
		t.Errorf("options of the two versions: %v", rows)
	}
}

// TestWireSchemaKalamTypeNames: with KalamTypeNames a result schema names
// its types as the original's KalamDataType.
func TestWireSchemaKalamTypeNames(t *testing.T) {
	e := newTestEngine(t)
	fs := []Field{{"a", "BIGINT", 0}, {"b", "EMBEDDING(4)", 1}, {"c", "DECIMAL(18,4)", 2}, {"d", "JSON", 3}, {"e", "UUID", 4}}
	if got := e.WireSchema(fs); fmt.Sprint(got) != fmt.Sprint(fs) {
		t.Errorf("off: %v", got)
	}
	if e.WireSchema(nil) != nil {
		t.Error("no fields must give a nil schema")
	}
	e.opts.KalamTypeNames = true
	b, _ := json.Marshal(e.WireSchema(fs))
	want := `[{"name":"a","data_type":"BigInt","index":0},{"name":"b","data_type":{"Embedding":4},"index":1},` +
		`{"name":"c","data_type":{"Decimal":{"precision":18,"scale":4}},"index":2},{"name":"d","data_type":"Json","index":3},` +
		`{"name":"e","data_type":"Uuid","index":4}]`
	if string(b) != want {
		t.Errorf("on: %s\nwant %s", b, want)
	}
}
