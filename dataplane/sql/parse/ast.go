package parse

// Statement is a parsed statement. The concrete types are the structs in
// this file; statementNode only closes the set.
type Statement interface{ statementNode() }

// TableName is a possibly namespace-qualified table reference.
type TableName struct {
	// Namespace is "" for an unqualified name (the session's namespace).
	Namespace string
	Name      string
}

// String renders ns.name (or name) for messages.
func (t TableName) String() string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "." + t.Name
}

// Table types accepted by CREATE/DROP TABLE.
const (
	TableTypeUser   = "USER"
	TableTypeShared = "SHARED"
	TableTypeStream = "STREAM"
)

// CreateNamespace is CREATE NAMESPACE [IF NOT EXISTS] name.
type CreateNamespace struct {
	Name        string
	IfNotExists bool
}

// DropNamespace is DROP NAMESPACE [IF EXISTS] name [CASCADE].
type DropNamespace struct {
	Name     string
	IfExists bool
	Cascade  bool
}

// ShowNamespaces is SHOW NAMESPACES.
type ShowNamespaces struct{}

// UseNamespace is USE ns, USE NAMESPACE ns or SET NAMESPACE ns.
type UseNamespace struct{ Name string }

// CreateTable is CREATE [USER|SHARED|STREAM] TABLE.
type CreateTable struct {
	Table       TableName
	IfNotExists bool
	// TableType is TableTypeUser, TableTypeShared, TableTypeStream or ""
	// when neither a prefix keyword nor WITH (TYPE = ...) was given.
	TableType string
	Columns   []ColumnDef
	// PrimaryKey is the primary key column, from a column-level PRIMARY KEY
	// or a table-level [CONSTRAINT n] PRIMARY KEY (col); "" if none.
	PrimaryKey string
	// Options holds WITH (k = v, ...): keys uppercased, values unquoted.
	// TYPE, when given, is also reflected in TableType. The spec-002
	// clauses (parse_create_table_spec002.go) fill it too.
	Options map[string]string
	// spec002 records that a spec-002 clause was given (type inference).
	spec002 bool
}

// ColumnDef is one column of CREATE TABLE.
type ColumnDef struct {
	Name string
	// Type is the normalised type text: uppercased words, then parameters
	// without spaces, then UNSIGNED if given, e.g. "DECIMAL(10,2)",
	// "DOUBLE PRECISION", "TIMESTAMP WITH TIME ZONE", "INT(10) UNSIGNED".
	// The name is not checked here: the executor maps it to a KalamDB type.
	// SERIAL, BIGSERIAL and SMALLSERIAL become INT, BIGINT and SMALLINT with
	// a SNOWFLAKE_ID default.
	Type string
	// NotNull and Nullable record an explicit NOT NULL / NULL. PRIMARY KEY
	// does not set NotNull: the executor decides what a key implies.
	NotNull    bool
	Nullable   bool
	PrimaryKey bool
	Unique     bool
	Default    *DefaultExpr
}

// Default functions understood by DEFAULT clauses and INSERT values.
const (
	FuncNow              = "NOW"
	FuncCurrentTimestamp = "CURRENT_TIMESTAMP"
	FuncSnowflakeID      = "SNOWFLAKE_ID"
	// FuncAutoIncrement is the stored default of an INT or SMALLINT
	// AUTO_INCREMENT column: the next value of a per-table counter.
	FuncAutoIncrement = "AUTO_INCREMENT"
	FuncUUIDv7        = "UUID_V7"
	FuncULID          = "ULID"
	FuncCurrentUser   = "CURRENT_USER"
)

// DefaultExpr is a column default: a function or a literal.
type DefaultExpr struct {
	// Func is one of the Func* constants, or "" for a literal default.
	Func    string
	Literal *Literal
	// Serial marks the default implied by SERIAL, AUTO_INCREMENT or
	// GENERATED ... AS IDENTITY (Func is then FuncSnowflakeID; an INT or
	// SMALLINT column gets a counter instead, see FuncAutoIncrement).
	Serial bool
}

// LiteralKind classifies a Literal.
type LiteralKind int

// Literal kinds.
const (
	LitNull LiteralKind = iota
	LitBool
	LitInt
	LitFloat
	LitString
	LitBlob
)

// String returns a short name for diagnostics and tests.
func (k LiteralKind) String() string {
	switch k {
	case LitNull:
		return "NULL"
	case LitBool:
		return "BOOL"
	case LitInt:
		return "INT"
	case LitFloat:
		return "FLOAT"
	case LitString:
		return "STRING"
	case LitBlob:
		return "BLOB"
	}
	return "LiteralKind(?)"
}

// Literal is a constant value.
type Literal struct {
	Kind LiteralKind
	// Text is canonical: decimal digits (with a leading '-' if negative) for
	// LitInt, the source spelling (sign folded) for LitFloat, the unescaped
	// value for LitString, uppercase hex digits for LitBlob, "true"/"false"
	// for LitBool and "NULL" for LitNull. Hex integers (0x1F) are converted
	// to decimal as SQLite does (64-bit two's complement).
	Text string
	Bool bool
}

// DropTable is DROP [USER|SHARED|STREAM] TABLE [IF EXISTS] t.
type DropTable struct {
	Table    TableName
	IfExists bool
	// TableType is the prefix keyword given, or "".
	TableType string
}

// ShowTables is SHOW TABLES [IN|FROM [NAMESPACE] ns].
type ShowTables struct{ Namespace string }

// DescribeTable is DESCRIBE|DESC [TABLE] t [HISTORY].
type DescribeTable struct {
	Table   TableName
	History bool
}

// CreateUser is CREATE USER [IF NOT EXISTS] name WITH PASSWORD 'pw'
// [ROLE r] [EMAIL 'e'].
type CreateUser struct {
	Name     string
	Password string
	// Role is the lowercased role text; "user" when not given. The executor
	// validates it against the known roles.
	Role        string
	Email       string
	IfNotExists bool
}

// AlterUser is ALTER USER name SET PASSWORD 'p' | SET ROLE r | SET EMAIL 'e'.
// Exactly one of the pointers is non-nil.
type AlterUser struct {
	Name     string
	Password *string
	Role     *string
	Email    *string
}

// DropUser is DROP USER [IF EXISTS] name.
type DropUser struct {
	Name     string
	IfExists bool
}

// Insert is INSERT INTO t [(cols)] VALUES (...), (...).
type Insert struct {
	Table TableName
	// Columns is empty when the statement names no columns, meaning all
	// columns in table order.
	Columns []string
	// Rows all have the same length (len(Columns) when Columns is given).
	Rows [][]Expr
}

// ExprKind classifies an Expr.
type ExprKind int

// Expression kinds.
const (
	// ExprLiteral is a constant (Expr.Lit).
	ExprLiteral ExprKind = iota
	// ExprParam is a $N placeholder (Expr.Param).
	ExprParam
	// ExprFunc is a zero-argument call of a Func* function (Expr.Func).
	ExprFunc
	// ExprRaw is any other expression (Expr.Raw), for SQLite to evaluate
	// after Rewrite.
	ExprRaw
	// ExprDefault is the DEFAULT keyword used as a value.
	ExprDefault
)

// Expr is a value expression of INSERT VALUES or UPDATE SET.
type Expr struct {
	Kind ExprKind
	// Lit is set for ExprLiteral; a unary minus on a number is folded in.
	Lit Literal
	// Param is the 1-based parameter number for ExprParam.
	Param int
	// Func is the uppercase function name for ExprFunc (a Func* constant).
	Func string
	// Raw is the exact source text of the expression for ExprRaw.
	Raw string
}

// Update is UPDATE t SET c = e, ... WHERE cond.
type Update struct {
	Table TableName
	Set   []Assignment
	// Where is the raw source text after WHERE. It is never empty: UPDATE
	// without WHERE is rejected.
	Where string
}

// Assignment is one "column = expr" of UPDATE SET.
type Assignment struct {
	Column string
	Expr   Expr
}

// Delete is DELETE FROM t WHERE cond.
type Delete struct {
	Table TableName
	// Where is the raw source text after WHERE; never empty.
	Where string
}

// Select is any query (SELECT, WITH, VALUES or a parenthesised SELECT).
// SQL is the original statement text, untouched; Rewrite translates it.
type Select struct{ SQL string }

// Explain is EXPLAIN [ANALYZE] <query>: the query's plan as text rows. SQL
// is the query without the EXPLAIN [ANALYZE] keywords; Analyze also runs it
// and reports its actual row count and time.
type Explain struct {
	SQL     string
	Analyze bool
}

func (*Explain) statementNode() {}

func (*CreateNamespace) statementNode() {}
func (*DropNamespace) statementNode()   {}
func (*ShowNamespaces) statementNode()  {}
func (*UseNamespace) statementNode()    {}
func (*CreateTable) statementNode()     {}
func (*DropTable) statementNode()       {}
func (*ShowTables) statementNode()      {}
func (*DescribeTable) statementNode()   {}
func (*CreateUser) statementNode()      {}
func (*AlterUser) statementNode()       {}
func (*DropUser) statementNode()        {}
func (*Insert) statementNode()          {}
func (*Update) statementNode()          {}
func (*Delete) statementNode()          {}
func (*Select) statementNode()          {}
