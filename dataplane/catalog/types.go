// Package catalog holds the schema of the database: namespaces, tables with
// their versioned schemas, and users. Records are persisted as JSON in the
// meta group of the hot tier (keys.Catalog) and mirrored in memory by Cache,
// which only the apply path mutates.
package catalog

import (
	"fmt"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
)

// TableType says how a table's rows are scoped and stored.
type TableType string

// Table types.
const (
	TableUser   TableType = "USER"
	TableShared TableType = "SHARED"
	TableStream TableType = "STREAM"
	TableSystem TableType = "SYSTEM"
)

// PerUser reports whether rows are scoped to their owning user.
func (t TableType) PerUser() bool { return t == TableUser || t == TableStream }

// Access levels of SHARED tables.
const (
	AccessPublic     = "PUBLIC"
	AccessPrivate    = "PRIVATE"
	AccessRestricted = "RESTRICTED"
	AccessDBA        = "DBA"
)

// Namespace is a container of tables.
type Namespace struct {
	Name      string            `json:"name"`
	CreatedAt int64             `json:"created_at"`
	Options   map[string]string `json:"options,omitempty"`
	// Restoring is the id of the restore job recreating the namespace;
	// while set, the SQL layer refuses writes and DDL on it
	// (NAMESPACE_RESTORING). Cleared when the restore completes.
	Restoring string `json:"restoring,omitempty"`
	// RestoreCreated, meaningful only while Restoring is set, says the
	// restore created the namespace (false: it existed, empty, before the
	// restore marked it). Rolling back an interrupted restore drops a
	// created namespace and only empties one that existed. A record
	// without the field (written before it existed) reads as false: the
	// rollback then keeps an empty namespace rather than dropping one
	// that may have existed before the restore (e.g. "default").
	RestoreCreated bool `json:"restore_created,omitempty"`
}

// Default is a column default: a function (NOW, SNOWFLAKE_ID, UUID_V7, ULID,
// CURRENT_USER) or a literal kept as text and coerced on use.
type Default struct {
	Func    string `json:"func,omitempty"`
	Literal string `json:"literal,omitempty"`
	Null    bool   `json:"null,omitempty"`
}

// String renders the default as SQL.
func (d *Default) String() string {
	switch {
	case d == nil:
		return ""
	case d.Func == "AUTO_INCREMENT":
		return d.Func
	case d.Func != "":
		return d.Func + "()"
	case d.Null:
		return "NULL"
	}
	return "'" + strings.ReplaceAll(d.Literal, "'", "''") + "'"
}

// Column is one user-visible column.
type Column struct {
	// ID is stable for the life of the table; rows reference columns by ID.
	ID         uint32        `json:"id"`
	Name       string        `json:"name"`
	Type       datatype.Type `json:"type"`
	Nullable   bool          `json:"nullable"`
	PrimaryKey bool          `json:"primary_key,omitempty"`
	Default    *Default      `json:"default,omitempty"`
	Comment    string        `json:"comment,omitempty"`
	// AddedIn is the schema version that added the column by ALTER TABLE
	// ADD COLUMN (0: the column exists since CREATE TABLE).
	AddedIn uint32 `json:"added_in,omitempty"`
	// Missing is the value that rows stored before AddedIn read for this
	// column (the ADD COLUMN literal default, PostgreSQL semantics); nil:
	// they read NULL. It never changes after the ADD.
	Missing *Default `json:"missing,omitempty"`
	// Hidden marks the row identity added to a table created without a
	// primary key (RowIDColumn): SELECT * and INSERT without a column
	// list leave it out, naming it selects it.
	Hidden bool `json:"hidden,omitempty"`
}

// RowIDColumn is the hidden BIGINT primary key, filled with Snowflake ids,
// that a USER or SHARED table declared without a primary key gets.
const RowIDColumn = "_id"

// Table is one version of a table definition.
type Table struct {
	ID            uint32            `json:"id"`
	Namespace     string            `json:"namespace"`
	Name          string            `json:"name"`
	Type          TableType         `json:"type"`
	Columns       []Column          `json:"columns"`
	PrimaryKey    string            `json:"primary_key,omitempty"`
	SchemaVersion uint32            `json:"schema_version"`
	NextColumnID  uint32            `json:"next_column_id"`
	Options       map[string]string `json:"options,omitempty"`
	AccessLevel   string            `json:"access_level,omitempty"`
	StorageID     string            `json:"storage_id"`
	FlushPolicy   string            `json:"flush_policy,omitempty"`
	TTLSeconds    int64             `json:"ttl_seconds,omitempty"`
	Compression   string            `json:"compression,omitempty"`
	Comment       string            `json:"comment,omitempty"`
	CreatedAt     int64             `json:"created_at"`
	UpdatedAt     int64             `json:"updated_at"`
	// Indexes are the table's secondary indexes (index.go). Only the
	// index catalog operations change them; ALTER TABLE keeps them.
	Indexes []Index `json:"indexes,omitempty"`
	// NextIndexID is the id the next index gets (ids are never reused).
	NextIndexID uint32 `json:"next_index_id,omitempty"`
}

// QualifiedName returns "namespace.table".
func (t *Table) QualifiedName() string { return t.Namespace + "." + t.Name }

// ColumnIndex returns the position of the named column, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// PKIndex returns the position of the primary-key column, or -1.
func (t *Table) PKIndex() int { return t.ColumnIndex(t.PrimaryKey) }

// PositionOf maps column ids to positions; used by the row decoder.
func (t *Table) PositionOf() func(uint32) (int, bool) {
	m := make(map[uint32]int, len(t.Columns))
	for i, c := range t.Columns {
		m[c.ID] = i
	}
	return func(id uint32) (int, bool) { i, ok := m[id]; return i, ok }
}

// User is an account.
type User struct {
	UserID       string `json:"user_id"`
	PasswordHash string `json:"password_hash,omitempty"`
	// ScramSHA256 is the SCRAM-SHA-256 verifier of the same password
	// (PostgreSQL's rolpassword form), kept for the PostgreSQL wire
	// protocol's authentication; empty for users whose password was set
	// before it existed.
	ScramSHA256 string `json:"scram_sha256,omitempty"`
	Role        string `json:"role"`
	Email       string `json:"email,omitempty"`
	AuthType    string `json:"auth_type"`
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
	DeletedAt   int64  `json:"deleted_at,omitempty"`
	// TokensValidAfter (ms) revokes every token issued before it: set on
	// password and role changes and on drop.
	TokensValidAfter int64 `json:"tokens_valid_after,omitempty"`
	// LockedUntil (ms) is the end of the lockout that repeated failed
	// logins caused, persisted when the lock starts so it survives a
	// restart; FailedLoginAttempts is the count that caused it. Individual
	// failures are counted in memory only (auth.Lockout).
	LockedUntil         int64 `json:"locked_until,omitempty"`
	FailedLoginAttempts int   `json:"failed_login_attempts,omitempty"`
}

// Record types in the meta group (keys.Catalog's record byte).
const (
	RecNamespace byte = 'n'
	RecTable     byte = 't' // latest definition, by "ns.table"
	RecSchema    byte = 's' // every version, by table id + version
	RecUser      byte = 'u'
	RecCounter   byte = 'c'
	RecDropped   byte = 'd' // dropped table ids awaiting data cleanup
)

// SchemaKey names a schema-history record.
func SchemaKey(id, version uint32) string { return fmt.Sprintf("%08x:%08x", id, version) }
