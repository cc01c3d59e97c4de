package parse

import "testing"

func TestParseExecuteAs(t *testing.T) {
	for _, tc := range []struct {
		sql, user, inner string
		wantErr          bool
	}{
		{sql: `EXECUTE AS USER 'alice' (SELECT * FROM app.notes)`, user: "alice", inner: "SELECT * FROM app.notes"},
		{sql: `execute as user "bob" ( DELETE FROM t WHERE id IN (SELECT id FROM t) );`, user: "bob", inner: " DELETE FROM t WHERE id IN (SELECT id FROM t) "},
		{sql: `EXECUTE AS USER 'a' (SELECT ')' AS p)`, user: "a", inner: "SELECT ')' AS p"},
		{sql: `EXECUTE AS USER 'a' (SELECT 1 -- )`, wantErr: true},
		{sql: `EXECUTE AS USER 'a' (SELECT 1) DELETE FROM t WHERE id > 0`, wantErr: true},
		{sql: `EXECUTE AS USER 'a' (EXECUTE AS USER 'b' (SELECT 1))`, wantErr: true},
		{sql: `EXECUTE AS USER 'a' SELECT 1`, wantErr: true},
		{sql: `EXECUTE AS USER 'a' ((SELECT 1)`, wantErr: true},
		{sql: `EXECUTE AS USER 'a' ()`, wantErr: true},
		{sql: `EXECUTE AS 'a' (SELECT 1)`, wantErr: true},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			st, err := Parse(tc.sql)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %#v, want error", st)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ea, ok := st.(*ExecuteAs)
			if !ok || ea.User != tc.user || ea.InnerSQL != tc.inner || ea.Inner == nil {
				t.Fatalf("got %#v", st)
			}
		})
	}
}

func init() {
	fuzzSeeds = append(fuzzSeeds,
		`EXECUTE AS USER 'alice' (SELECT * FROM app.notes WHERE id IN (SELECT id FROM app.notes))`,
		`EXECUTE AS USER "bob" (DELETE FROM t WHERE x = ')')`)
}
