package engine

// Schema-write fences close the race between an ALTER TABLE that checks
// existing data (SET NOT NULL, ADD COLUMN ... NOT NULL without a default)
// and row writes planned under the table's previous definition.
//
// The ALTER runs in the meta group, row writes in data groups: nothing
// orders a data-group write against the meta group's catalog change, and
// reading the catalog cache at apply time would make a data group's apply
// depend on how far another group's log has been applied (not
// deterministic under a future Raft replay). So the ordering is carried
// into each data group's own log instead:
//
//  1. The ALTER (one at a time per node, sql/exec_alter.go) proposes
//     Command.Fence{Table, MinVersion: V+1, UntilMs} to every data group.
//     Once a group applied it, every earlier write of that group is applied
//     and durable, and any later write of the table planned under a schema
//     version < V+1 (RowWrite.SchemaVersion) fails with ErrSchemaChanged,
//     which the SQL layer retries after re-planning.
//  2. Only then does the ALTER check the data (no write planned under V can
//     change it any more) and commit schema version V+1 in the meta group.
//  3. If the check or the commit fails, the ALTER lowers the fence back to
//     V. If the node crashes in between, the fence lapses by itself: it
//     only applies to commands whose TimeMs is before UntilMs, and the ALTER
//     refuses to commit when its lease is about to run out.
//
// The check reads only the group's own state (the fence record, written by
// an earlier command of the same log) and the command (its TimeMs and
// planned versions), so it is deterministic.

import (
	"encoding/binary"
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// ErrSchemaChanged fails a row write planned under a schema version older
// than its table's fence. It is an ErrConflict: the statement re-plans.
var ErrSchemaChanged = fmt.Errorf("%w: table schema changed", ErrConflict)

// SchemaFence sets a table's schema-write fence in the command's group.
type SchemaFence struct {
	Table uint32 `json:"table"`
	// MinVersion is the oldest schema version writes may be planned under.
	MinVersion uint32 `json:"min_version"`
	// UntilMs ends the fence for commands stamped at or after it.
	UntilMs int64 `json:"until_ms"`
}

func (a *applier) applyFence(f *SchemaFence) (Result, error) {
	if a.group == keys.GroupMeta {
		return Result{}, applyErr(ErrInvalid, "schema fence sent to the meta group")
	}
	var v [12]byte
	binary.BigEndian.PutUint32(v[:4], f.MinVersion)
	binary.BigEndian.PutUint64(v[4:], uint64(f.UntilMs))
	k := keys.SchemaFence(a.group, f.Table)
	if err := a.b.Set(k, v[:], nil); err != nil {
		return Result{}, err
	}
	if a.overlay != nil {
		a.overlay[string(k)] = v[:]
	}
	return Result{}, nil
}

// checkFences fails cmd when one of its planned row writes is older than
// its table's live fence.
func (a *applier) checkFences(cmd *Command) error {
	var lastTable, minVersion uint32
	var untilMs int64
	loaded := false
	for i, w := range cmd.Rows {
		if w.SchemaVersion == 0 {
			continue
		}
		if !loaded || w.Table != lastTable {
			loaded = true
			v, err := a.get(keys.SchemaFence(a.group, w.Table))
			if err != nil {
				return fmt.Errorf("while reading the schema fence of table %d: %w", w.Table, err)
			}
			lastTable, minVersion, untilMs = w.Table, 0, 0
			if len(v) == 12 {
				minVersion, untilMs = binary.BigEndian.Uint32(v[:4]), int64(binary.BigEndian.Uint64(v[4:]))
			}
		}
		if w.SchemaVersion < minVersion && cmd.TimeMs < untilMs {
			return &Error{Kind: ErrSchemaChanged, Row: i,
				Msg: fmt.Sprintf("table schema is changing (write planned under version %d, need %d); retry", w.SchemaVersion, minVersion)}
		}
	}
	return nil
}

// dropFence forgets a dropped table's fence (OpDropTableData).
func (a *applier) dropFence(table uint32) error {
	k := keys.SchemaFence(a.group, table)
	if a.overlay != nil {
		a.overlay[string(k)] = nil
	}
	return a.b.Delete(k, nil)
}
