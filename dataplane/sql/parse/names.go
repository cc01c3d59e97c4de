package parse

import "strings"

// MaxNameLen is the longest namespace, table or column name.
const MaxNameLen = 64

// MaxUserNameLen is the longest user name.
const MaxUserNameLen = 128

// reservedWords may not be used as namespace, table or column names
// (except the namespace "default"). The
// list covers SQL keywords that would make a name ambiguous in SQLite or
// PostgreSQL syntax; everyday column names (id, name, body, user_id,
// created_at, value, type, status, timestamp, date, ...) are deliberately
// not in it.
var reservedWords = toSet(
	"add", "all", "alter", "analyze", "and", "any", "array", "as", "asc",
	"attach", "authorization", "autoincrement", "begin", "between", "both",
	"by", "cascade", "case", "cast", "check", "collate", "column", "commit",
	"constraint", "create", "cross", "current_date", "current_role",
	"current_time", "current_timestamp", "current_user", "default",
	"deferrable", "delete", "desc", "detach", "distinct", "do", "drop",
	"else", "end", "escape", "except", "exists", "explain", "false", "fetch",
	"for", "foreign", "from", "full", "glob", "grant", "group", "having",
	"ilike", "in", "index", "indexed", "inner", "insert", "intersect",
	"into", "is", "isnull", "join", "key", "lateral", "leading", "left",
	"like", "limit", "localtime", "localtimestamp", "match", "natural",
	"not", "notnull", "null", "offset", "on", "only", "or", "order",
	"outer", "over", "partition", "pragma", "primary", "references",
	"regexp", "reindex", "rename", "replace", "returning", "revoke",
	"right", "rollback", "select", "session_user", "set", "similar", "some",
	"table", "then", "to", "trailing", "transaction", "trigger", "true",
	"union", "unique", "update", "user", "using", "vacuum", "values", "view",
	"virtual", "when", "where", "window", "with",
)

// reservedNamespaces may not be created by users: they are system
// namespaces or would collide with SQLite/PostgreSQL schema names.
// "default" is intentionally absent: it is the default namespace.
var reservedNamespaces = toSet(
	"system", "sys", "root", "kalamdb", "kalam", "main", "temp", "sql",
	"admin", "internal", "information_schema", "pg_catalog", "sqlite",
)

// reservedColumns are system column names. They already fail the "must
// not start with '_'" rule; the list exists to give a precise message.
var reservedColumns = toSet(
	"_seq", "_deleted", "_id", "_row_id", "_rowid", "_key", "_updated",
	"_created", "_timestamp", "_version", "_hash", "_user",
)

func toSet(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// IsReservedWord reports whether name (any case) is a reserved SQL word.
func IsReservedWord(name string) bool {
	_, ok := reservedWords[asciiLower(name)]
	return ok
}

// ValidateName checks a namespace, table or column name. kind ("namespace",
// "table", "column", ...) only feeds the message. Rules: 1..64 ASCII
// letters, digits or '_', starting with a letter; no leading '_' (reserved
// for system columns); no "sqlite_" prefix (reserved by SQLite); not a
// reserved word. The returned error is an *Error with Code
// CodeInvalidInput and Pos -1.
func ValidateName(kind, name string) error {
	if name == "" {
		return errInput(-1, "%s name must not be empty", kind)
	}
	if len(name) > MaxNameLen {
		return errInput(-1, "%s name '%s...' is longer than %d characters", kind, printable(name[:MaxNameLen]), MaxNameLen)
	}
	if name[0] == '_' {
		return errInput(-1, "%s name '%s' must not start with '_' (reserved for system columns)", kind, name)
	}
	if !isLetter(name[0]) {
		return errInput(-1, "%s name '%s' must start with a letter", kind, printable(name))
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isLetter(c) && !isDigit(c) && c != '_' {
			return errInput(-1, "%s name '%s' may contain only letters, digits and '_'", kind, printable(name))
		}
	}
	lower := asciiLower(name)
	if strings.HasPrefix(lower, "sqlite_") {
		return errInput(-1, "%s name '%s' must not start with 'sqlite_'", kind, name)
	}
	// "default" is a reserved word but also the name of the default
	// namespace, so it stays usable as one.
	if _, ok := reservedWords[lower]; ok && !(kind == "namespace" && lower == "default") {
		return errInput(-1, "%s name '%s' is a reserved word", kind, name)
	}
	return nil
}

// ValidateNamespaceName checks a name for CREATE NAMESPACE: ValidateName
// plus the reserved system namespaces.
func ValidateNamespaceName(name string) error {
	if err := ValidateName("namespace", name); err != nil {
		return err
	}
	if _, ok := reservedNamespaces[asciiLower(name)]; ok {
		return errInput(-1, "namespace name '%s' is reserved", name)
	}
	return nil
}

// ValidateColumnName checks a column name for CREATE TABLE: the reserved
// system column names first (for a precise message), then ValidateName.
func ValidateColumnName(name string) error {
	if _, ok := reservedColumns[asciiLower(name)]; ok {
		return errInput(-1, "column name '%s' is reserved for system columns", name)
	}
	return ValidateName("column", name)
}

// ValidateUserName checks a user name: 1..128 ASCII letters, digits or
// one of "_.-@".
func ValidateUserName(name string) error {
	if name == "" {
		return errInput(-1, "user name must not be empty")
	}
	if len(name) > MaxUserNameLen {
		return errInput(-1, "user name is longer than %d characters", MaxUserNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLetter(c) && !isDigit(c) && c != '_' && c != '.' && c != '-' && c != '@' {
			return errInput(-1, "user name '%s' may contain only letters, digits and '_', '.', '-', '@'", printable(name))
		}
	}
	return nil
}

// printable makes a rejected name safe to echo in a message: control
// bytes and invalid UTF-8 become escapes, and long names are cut.
func printable(s string) string {
	const limit = 80
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xFFFD {
			b.WriteString("?")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
