package sql

import (
	"fmt"
	"testing"
)

// TestJSONFunctions: the original KalamDB's DataFusion JSON functions and
// the jsonb ? operator, over a JSON column and literals.
func TestJSONFunctions(t *testing.T) {
	e := newTestEngine(t)
	exec(t, e, rootSess, `CREATE NAMESPACE app;
		CREATE SHARED TABLE app.d (id BIGINT PRIMARY KEY, doc JSON)`)
	exec(t, e, rootSess, `INSERT INTO app.d (id, doc) VALUES
		(1, '{"items":[10,20,30],"meta":{"b":2,"a":1},"count":7,"flag":true,"name":"x\"y","big":12345678901234567890,"f":1.5,"nul":null}'),
		(2, '{"customer_id":"cust_123","status":"paid"}'),
		(3, NULL)`)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT json_length(doc, 'items'), json_get_int(doc, 'count'), json_get_bool(doc, 'flag') FROM app.d WHERE id = 1", "[[3 7 true]]"},
		{"SELECT json_object_keys(doc, 'meta'), json_length(doc, 'meta'), json_length(doc), json_object_keys(doc, 'items') FROM app.d WHERE id = 1", `[[["b","a"] 2 8 <nil>]]`},
		{"SELECT json_as_text(doc, 'name'), json_get_str(doc, 'name'), json_as_text(doc, 'meta'), json_as_text(doc, 'count'), json_as_text(doc, 'nul') FROM app.d WHERE id = 1", `[[x"y x"y {"b":2,"a":1} 7 <nil>]]`},
		{"SELECT json_get_int(doc, 'items', 2), json_get_int(doc, 'items', 3), json_get_int(doc, 'items', -1), json_get_int(doc, 'f'), json_get_float(doc, 'f'), json_get_float(doc, 'count'), json_get_int(doc, 'big') FROM app.d WHERE id = 1", "[[30 <nil> <nil> <nil> 1.5 7 <nil>]]"},
		{"SELECT json_get_str(doc, 'count'), json_get_bool(doc, 'count'), json_get_json(doc, 'items'), json_get_array(doc, 'items'), json_get_array(doc, 'meta') FROM app.d WHERE id = 1", "[[<nil> <nil> [10,20,30] [10,20,30] <nil>]]"},
		{"SELECT json_get(doc, 'name'), json_get(doc, 'count'), json_get(doc, 'f'), json_get(doc, 'meta', 'a'), json_get(doc, 'missing') FROM app.d WHERE id = 1", `[[x"y 7 1.5 1 <nil>]]`},
		{"SELECT id, json_contains(doc, 'customer_id'), json_contains(doc, 'meta', 'a'), json_contains(doc, 'items', 0), json_contains(doc, 'nul') FROM app.d ORDER BY id", "[[1 false true true true] [2 true false false false] [3 <nil> <nil> <nil> <nil>]]"},
		{"SELECT json_contains('not json', 'a'), json_get_int('{\"a\":', 'a'), json_length('5'), json_contains('[1]', 0)", "[[false <nil> <nil> true]]"},
		// The ? operator (json_contains) and the original's smoke query.
		{"SELECT doc->>'customer_id' AS customer_id FROM app.d WHERE doc ? 'customer_id'", "[[cust_123]]"},
		{"SELECT json_as_text(doc, 'status') AS status FROM app.d WHERE json_contains(doc, 'customer_id')", "[[paid]]"},
		{"SELECT id FROM app.d WHERE doc->'meta' ? 'a' ORDER BY id", "[[1]]"},
		{"SELECT id FROM app.d WHERE NOT doc ? 'status' ORDER BY id", "[[1]]"},
		{"SELECT id, doc ? 'flag' FROM app.d WHERE id <= 2 ORDER BY id", "[[1 true] [2 false]]"},
	} {
		res := exec(t, e, rootSess, tc.sql)
		if got := fmt.Sprint(res[0].Rows); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}
	// Parameters still bind as $N, also as the ? operand.
	res := exec(t, e, rootSess, "SELECT id FROM app.d WHERE doc ? $1 AND id = $2", "status", int64(2))
	if got := fmt.Sprint(res[0].Rows); got != "[[2]]" {
		t.Fatalf("? with a parameter: %s", got)
	}
}
