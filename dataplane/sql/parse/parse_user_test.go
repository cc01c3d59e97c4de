package parse

import "testing"

func strp(s string) *string { return &s }

func TestParseUserStatements(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "create", in: "CREATE USER 'alice' WITH PASSWORD 's3cret'", want: &CreateUser{Name: "alice", Password: "s3cret", Role: "user"}},
		{name: "create full", in: "CREATE USER IF NOT EXISTS 'a.b@x.io' WITH PASSWORD 'p''w' ROLE DBA EMAIL 'a@x.io'",
			want: &CreateUser{Name: "a.b@x.io", Password: "p'w", Role: "dba", Email: "a@x.io", IfNotExists: true}},
		{name: "create bare ident name", in: "CREATE USER Bob WITH PASSWORD 'x' EMAIL 'b@x.io' ROLE 'Service'",
			want: &CreateUser{Name: "bob", Password: "x", Role: "service", Email: "b@x.io"}},
		{name: "create with role", in: "CREATE USER bob WITH PASSWORD 'x' WITH ROLE system", want: &CreateUser{Name: "bob", Password: "x", Role: "system"}},
		{name: "create user vs user table", in: "CREATE USER table1 WITH PASSWORD 'x'", want: &CreateUser{Name: "table1", Password: "x", Role: "user"}},
		{name: "create no password", in: "CREATE USER 'bob'", code: CodeInvalidSQL, msg: "expected WITH after user name"},
		{name: "create empty password", in: "CREATE USER 'bob' WITH PASSWORD ''", code: CodeInvalidInput, msg: "password must not be empty"},
		{name: "create password not string", in: "CREATE USER 'bob' WITH PASSWORD secret", code: CodeInvalidSQL, msg: "expected password (a quoted string)"},
		{name: "create bad name", in: "CREATE USER 'bo b' WITH PASSWORD 'x'", code: CodeInvalidInput, msg: "user name 'bo b' may contain only"},
		{name: "create empty name", in: "CREATE USER '' WITH PASSWORD 'x'", code: CodeInvalidInput, msg: "user name must not be empty"},
		{name: "create bad email", in: "CREATE USER bob WITH PASSWORD 'x' EMAIL 'nope'", code: CodeInvalidInput, msg: "invalid e-mail address"},
		{name: "create bad role", in: "CREATE USER bob WITH PASSWORD 'x' ROLE 'a b'", code: CodeInvalidInput, msg: "invalid role name"},
		{name: "create duplicate role", in: "CREATE USER bob WITH PASSWORD 'x' ROLE a ROLE b", code: CodeInvalidSQL, msg: "ROLE given twice"},
		{name: "create junk", in: "CREATE USER bob WITH PASSWORD 'x' ADMIN", code: CodeInvalidSQL, msg: "expected ROLE or EMAIL"},
		{name: "alter password", in: "ALTER USER 'alice' SET PASSWORD 'new'", want: &AlterUser{Name: "alice", Password: strp("new")}},
		{name: "alter role", in: "ALTER USER alice SET ROLE dba", want: &AlterUser{Name: "alice", Role: strp("dba")}},
		{name: "alter email", in: "ALTER USER alice SET EMAIL 'a@b.c'", want: &AlterUser{Name: "alice", Email: strp("a@b.c")}},
		{name: "alter nothing", in: "ALTER USER alice SET COLOR 'red'", code: CodeInvalidSQL, msg: "expected PASSWORD, ROLE or EMAIL"},
		{name: "alter no set", in: "ALTER USER alice ROLE dba", code: CodeInvalidSQL, msg: "expected SET after user name 'alice'"},
		{name: "drop", in: "DROP USER 'alice'", want: &DropUser{Name: "alice"}},
		{name: "drop if exists", in: "DROP USER IF EXISTS alice", want: &DropUser{Name: "alice", IfExists: true}},
		{name: "drop missing", in: "DROP USER", code: CodeInvalidSQL, msg: "expected user name"},
	})
}
