package engine

// Secondary-index maintenance in the apply path.
//
// A table's indexes are described twice: in the catalog (meta group,
// catalog.Table.Indexes: names, states, what SQL shows) and, for the
// apply path of each data group, in an index-set record in the group
// itself (keys.IndexSet). The record is written by an IndexCommand of the
// group's own log, so maintaining an index reads only the group's state
// and the command: deterministic under a future Raft replay, like the
// schema fence (fence.go).
//
// Invariants:
//   - Once a group applied an index set, every later row write of the
//     table in that group writes/deletes the index entries of the old and
//     new row in the same batch as the row (no window without maintenance).
//   - Entries exist only for live hot rows: OpDelete removes them, a
//     ColdCommit purge removes the entries of the rows it purges, and
//     OpDropTableData removes the table's entry range.
//   - A backfill command re-derives the entry from the row's current
//     value, so it is idempotent and correct whatever happened to the row
//     since the backfill read its key.
//   - An index is usable by readers only when the group's record marks it
//     ready, which the SQL layer does after the backfill of every group; a
//     reader checks the record in its own snapshot.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Index catalog operations (meta group), numbered away from the iota
// block in command.go so parallel additions cannot shift them.
const (
	// CatCreateIndex adds CatalogWrite.Index (state building) to the table
	// named by CatalogWrite.Table; the apply path assigns its id.
	CatCreateIndex CatalogOp = 50
	// CatDropIndex removes the index named CatalogWrite.Index.Name.
	CatDropIndex CatalogOp = 51
	// CatSetIndexState sets the state of the index with CatalogWrite.Index.ID.
	CatSetIndexState CatalogOp = 52
)

// IndexSpec is one index as a data group's apply path sees it.
type IndexSpec struct {
	ID       uint32 `json:"id"`
	ColumnID uint32 `json:"column_id"`
	Ready    bool   `json:"ready,omitempty"`
}

// IndexSetRecord is the value of keys.IndexSet.
type IndexSetRecord struct {
	PerUser bool        `json:"per_user,omitempty"`
	Indexes []IndexSpec `json:"indexes"`
}

// IndexCommand changes a table's index set in one data group, or
// backfills entries.
type IndexCommand struct {
	Table uint32 `json:"table"`
	// Set, when non-nil, replaces the group's index set of Table.
	Set *IndexSetRecord `json:"set,omitempty"`
	// DropIDs are indexes whose entries are deleted from the group.
	DropIDs []uint32 `json:"drop_ids,omitempty"`
	// Backfill writes the entries of index BackfillID for the current
	// values of the rows at Keys (absent or deleted rows are skipped).
	BackfillID uint32   `json:"backfill_id,omitempty"`
	Keys       [][]byte `json:"keys,omitempty"`
}

// ReadIndexSet reads a table's index set in group g from r (nil: none).
func ReadIndexSet(r pebble.Reader, g uint16, table uint32) (*IndexSetRecord, error) {
	v, closer, err := r.Get(keys.IndexSet(g, table))
	if err == pebble.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return decodeIndexSet(v)
}

func decodeIndexSet(v []byte) (*IndexSetRecord, error) {
	if len(v) == 0 {
		return nil, nil
	}
	var rec IndexSetRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("corrupt index set: %w", err)
	}
	return &rec, nil
}

// indexSet returns the table's index set as of this point of the round.
func (a *applier) indexSet(table uint32) (*IndexSetRecord, error) {
	v, err := a.get(keys.IndexSet(a.group, table))
	if err != nil {
		return nil, fmt.Errorf("while reading the index set of table %d: %w", table, err)
	}
	return decodeIndexSet(v)
}

// IndexValueOf returns the order-preserving index encoding of column col
// of an encoded row; a row stored before the column existed encodes as
// keys.IndexAbsent (readers resolve its projected default).
func IndexValueOf(row []byte, col uint32, dst []byte) ([]byte, error) {
	present := false
	var val [1]any
	_, err := rowcodec.Decode(row, func(id uint32) (int, bool) {
		if id == col {
			present = true
			return 0, true
		}
		return 0, false
	}, nil, val[:])
	if err != nil {
		return nil, err
	}
	if !present {
		return append(dst, keys.IndexAbsent), nil
	}
	return keys.EncodeIndexValue(dst, val[0])
}

// liveRow reports whether an encoded row is present and not a tombstone.
func liveRow(v []byte) bool {
	if v == nil {
		return false
	}
	h, err := rowcodec.ReadHeader(v)
	return err == nil && !h.Deleted
}

// maintainIndexes writes the index changes of one row write: old is the
// previous live row (nil: none), row the new value (a tombstone for
// OpDelete).
func (a *applier) maintainIndexes(set *IndexSetRecord, key, old, row []byte) error {
	scope, pk, ok := keys.SplitRowKey(key, set.PerUser)
	if !ok {
		return applyErr(ErrInvalid, "malformed row key")
	}
	newLive := liveRow(row)
	for _, ix := range set.Indexes {
		var oldV, newV []byte
		var err error
		if old != nil {
			if oldV, err = IndexValueOf(old, ix.ColumnID, nil); err != nil {
				return fmt.Errorf("while indexing the previous row: %w", err)
			}
		}
		if newLive {
			if newV, err = IndexValueOf(row, ix.ColumnID, nil); err != nil {
				return applyErr(ErrInvalid, "row value cannot be indexed: %v", err)
			}
		}
		if oldV != nil && newV != nil && bytes.Equal(oldV, newV) {
			continue
		}
		if oldV != nil {
			if err := a.b.Delete(keys.IndexEntry(scope, ix.ID, oldV, pk), nil); err != nil {
				return err
			}
		}
		if newV != nil {
			if err := a.b.Set(keys.IndexEntry(scope, ix.ID, newV, pk), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// rowIndexes returns the index set of a row write's table, caching per
// command (an IndexCommand is its own command, so the set cannot change
// within one).
func (a *applier) rowIndexes(cache map[uint32]*IndexSetRecord, table uint32) (*IndexSetRecord, error) {
	if set, ok := cache[table]; ok {
		return set, nil
	}
	set, err := a.indexSet(table)
	if err != nil {
		return nil, err
	}
	if set != nil && len(set.Indexes) == 0 {
		set = nil
	}
	cache[table] = set
	return set, nil
}

// purgeIndexEntries deletes the index entries of hot rows a ColdCommit is
// about to remove (those whose _seq is still the flushed one).
func (a *applier) purgeIndexEntries(ps []PurgeKey, seqs []uint64) error {
	cache := map[uint32]*IndexSetRecord{}
	for i, p := range ps {
		if seqs[i] != p.Seq || len(p.Key) < 7 {
			continue
		}
		set, err := a.rowIndexes(cache, binary.BigEndian.Uint32(p.Key[3:7]))
		if err != nil || set == nil {
			if err != nil {
				return err
			}
			continue
		}
		v, err := a.get(p.Key)
		if err != nil {
			return err
		}
		if !liveRow(v) {
			continue
		}
		if err := a.maintainIndexes(set, p.Key, v, nil); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) applyIndex(c *IndexCommand) (Result, error) {
	if a.group == keys.GroupMeta {
		return Result{}, applyErr(ErrInvalid, "index command sent to the meta group")
	}
	if c.Set != nil {
		k := keys.IndexSet(a.group, c.Table)
		data, err := json.Marshal(c.Set)
		if err != nil {
			return Result{}, err
		}
		if err := a.setKey(k, data); err != nil {
			return Result{}, err
		}
	}
	for _, id := range c.DropIDs {
		if err := a.dropIndexEntries(c.Table, id, c.Set != nil && c.Set.PerUser); err != nil {
			return Result{}, err
		}
	}
	if len(c.Keys) == 0 {
		return Result{}, nil
	}
	set, err := a.indexSet(c.Table)
	if err != nil {
		return Result{}, err
	}
	var spec *IndexSpec
	if set != nil {
		for i := range set.Indexes {
			if set.Indexes[i].ID == c.BackfillID {
				spec = &set.Indexes[i]
			}
		}
	}
	if spec == nil {
		return Result{}, &Error{Kind: ErrConflict, Row: -1, Msg: fmt.Sprintf("index %d of table %d no longer exists", c.BackfillID, c.Table)}
	}
	one := &IndexSetRecord{PerUser: set.PerUser, Indexes: []IndexSpec{*spec}}
	prefix := keys.TablePrefix(a.group, c.Table)
	for _, k := range c.Keys {
		if !bytes.HasPrefix(k, prefix) {
			return Result{}, applyErr(ErrInvalid, "backfill key outside table %d of group %d", c.Table, a.group)
		}
		v, err := a.get(k)
		if err != nil {
			return Result{}, err
		}
		if !liveRow(v) {
			continue
		}
		if err := a.maintainIndexes(one, k, nil, v); err != nil {
			return Result{}, err
		}
	}
	return Result{}, nil
}

// dropIndexEntries deletes every entry of one index of a table in the
// group. Entries written earlier in the same round are not in storage yet
// and may survive; index ids are never reused, so they are unreachable and
// go with the table's entry range when the table is dropped.
func (a *applier) dropIndexEntries(table, id uint32, perUser bool) error {
	p := keys.IndexTablePrefix(a.group, table)
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], id)
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		at := 7
		if perUser {
			at = bytes.IndexByte(k[7:], 0) + 8
			if at < 8 {
				continue
			}
		}
		if len(k) >= at+4 && bytes.Equal(k[at:at+4], want[:]) {
			if err := a.b.Delete(append([]byte(nil), k...), nil); err != nil {
				return err
			}
		}
	}
	return it.Error()
}

// dropTableIndexes removes a dropped table's index entries and set.
func (a *applier) dropTableIndexes(table uint32) error {
	p := keys.IndexTablePrefix(a.group, table)
	if err := a.b.DeleteRange(p, keys.PrefixEnd(p), nil); err != nil {
		return err
	}
	k := keys.IndexSet(a.group, table)
	if a.overlay != nil {
		a.overlay[string(k)] = nil
	}
	return a.b.Delete(k, nil)
}
