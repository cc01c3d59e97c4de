// Package engine is the single write path of the data plane.
//
// Every mutation (DML and DDL) is a Command addressed to one group. Commands
// are applied one group-commit round per group at a time (run by the round's
// first proposer, executor.go), in queue order, by a deterministic
// function of (current state, command): no clock reads, no randomness. The
// proposer stamps the wall-clock time into the command; _seq values are
// derived from it and from the group's last _seq, so replaying the same
// commands on the same state yields the same bytes. That is the contract a
// replicated log (Raft) will need later; today the Direct executor applies
// commands locally.
//
// Invariants:
//   - The applied index and last _seq of a group are written in the same
//     Pebble batch as the command's effects, so they can never disagree.
//   - A command either applies completely or not at all: it is validated in
//     full before any of its writes reach the batch.
//   - A command is acknowledged only after its batch is durable (WAL fsync
//     when sync is on); concurrent commands share one fsync (group commit).
//   - Observers see applied commands in apply order, after they are durable.
package engine

import (
	"context"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
)

// RowOp is the kind of a row write.
type RowOp uint8

// Row operations.
const (
	// OpInsert fails with ErrDuplicateKey when a live row has the key.
	OpInsert RowOp = iota + 1
	// OpUpdate replaces a live row; ExpectSeq, when set, must match the
	// stored _seq (optimistic concurrency) or the command fails with ErrConflict.
	OpUpdate
	// OpDelete writes a tombstone over a live row; ExpectSeq as for OpUpdate.
	OpDelete
	// OpDropTableData deletes every row of Table in the group.
	OpDropTableData
)

// RowWrite is one row mutation. Key is the full hot-tier key; Row is the
// encoded row whose _seq the apply path stamps.
type RowWrite struct {
	Op        RowOp  `json:"op"`
	Table     uint32 `json:"table"`
	Key       []byte `json:"key,omitempty"`
	Row       []byte `json:"row,omitempty"`
	ExpectSeq uint64 `json:"expect_seq,omitempty"`
	// Cold is the live cold-tier version of Key (with its _seq) that the
	// proposer read under Command.ColdGuard; it is the current row when
	// the hot tier holds no version of Key.
	Cold []byte `json:"cold,omitempty"`
	// SchemaVersion is the table schema version an OpInsert/OpUpdate was
	// planned under (0: not checked); see fence.go.
	SchemaVersion uint32 `json:"schema_version,omitempty"`
}

// CatalogOp is the kind of a catalog change.
type CatalogOp uint8

// Catalog operations (meta group only).
const (
	CatCreateNamespace CatalogOp = iota + 1
	CatDropNamespace
	CatCreateTable
	CatDropTable
	CatCreateUser
	CatUpdateUser
	// CatPurgeDropped forgets a dropped table once its rows are deleted
	// from every group.
	CatPurgeDropped
	// Cold-tier storages and background job records (cold.go).
	CatCreateStorage
	CatAlterStorage
	CatDropStorage
	CatPutJob
	CatDeleteJob
	// CatAppendAudit appends Audit to system.audit_log and deletes records
	// older than AuditRetentionMs before the command time (audit.go).
	CatAppendAudit
)

// CatalogWrite is one catalog change. The proposer fills the record; the
// apply path validates it against the current catalog and assigns ids.
type CatalogWrite struct {
	Op          CatalogOp          `json:"op"`
	Namespace   *catalog.Namespace `json:"namespace,omitempty"`
	Table       *catalog.Table     `json:"table,omitempty"`
	User        *catalog.User      `json:"user,omitempty"`
	IfNotExists bool               `json:"if_not_exists,omitempty"`
	IfExists    bool               `json:"if_exists,omitempty"`
	Cascade     bool               `json:"cascade,omitempty"`
	TableID     uint32             `json:"table_id,omitempty"`
	Storage     *catalog.Storage   `json:"storage,omitempty"`
	Job         *catalog.Job       `json:"job,omitempty"`
	// ExpectVersion is the schema version an ALTER TABLE was derived from
	// (CatAlterTable applies only while the table is still at it).
	ExpectVersion uint32 `json:"expect_version,omitempty"`
	// History is every schema version of a restored table (CatRestoreTable).
	History []*catalog.Table `json:"history,omitempty"`
	// Namespaces are CatClearRestoring's namespaces, each with the restore
	// mark it must carry (restoring.go).
	Namespaces []*catalog.Namespace `json:"namespaces,omitempty"`
	// Audit and AuditRetentionMs are CatAppendAudit's record and retention;
	// on any other op, Audit is the record of the statement that made the
	// change, appended in the same batch when the change applies (audit.go).
	Audit            *catalog.AuditRecord `json:"audit,omitempty"`
	AuditRetentionMs int64                `json:"audit_retention_ms,omitempty"`
	// Index is the index of CatCreateIndex/CatDropIndex/CatSetIndexState
	// (index_catalog.go); Table names its table.
	Index *catalog.Index `json:"index,omitempty"`
}

// CommandVersion is the encoding version of Command; a replica refuses
// commands from a newer version instead of misapplying them.
const CommandVersion = 1

// Proposer is the write path as the SQL layer sees it: the Direct Executor
// today, a replicated log later.
type Proposer interface {
	Propose(ctx context.Context, cmd *Command) (Result, error)
}

// Command is the unit of replication and apply.
type Command struct {
	// Version is CommandVersion of the proposer (0 is treated as 1).
	Version uint8         `json:"version,omitempty"`
	Group   uint16        `json:"group"`
	TimeMs  int64         `json:"time_ms"`
	Rows    []RowWrite    `json:"rows,omitempty"`
	Catalog *CatalogWrite `json:"catalog,omitempty"`
	// ColdGuard, when set, makes the command apply only if the scope's
	// cold manifest version is unchanged (see cold.go).
	ColdGuard *ColdGuard `json:"cold_guard,omitempty"`
	// Cold commits a flush/compaction or purges hot rows (cold.go).
	Cold *ColdCommit `json:"cold,omitempty"`
	// Fence sets a table's schema-write fence in a data group (fence.go).
	Fence *SchemaFence `json:"fence,omitempty"`
	// PurgeUser deletes a dropped user's rows (userpurge.go).
	PurgeUser *UserPurge `json:"purge_user,omitempty"`
	// Index changes or backfills a table's secondary indexes in a data
	// group (index.go).
	Index *IndexCommand `json:"index,omitempty"`
}

// Result is the outcome of one applied command.
type Result struct {
	// Index is the group's applied index after this command.
	Index uint64
	// Seqs holds the _seq stamped on each row write, in order.
	Seqs []uint64
	// Old holds the previous encoded row for each row write (nil if none).
	Old [][]byte
	// Skipped is true for IF [NOT] EXISTS no-ops.
	Skipped bool
	// Table is the table definition after a catalog change that made one.
	Table *catalog.Table
	// Dropped lists tables removed by a catalog change (data cleanup follows).
	Dropped []*catalog.Table
	// Purged counts hot rows a ColdCommit deleted.
	Purged int
}
