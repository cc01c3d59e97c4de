// Package keys defines the physical key layout of the hot tier.
//
// Every key starts with a 2-byte big-endian group id, so one group's data is
// one contiguous key range that can be exported, deleted or snapshotted on
// its own (the unit of replication in the scale-out design):
//
//	[group u16][0x00]                                   group state: applied index, last _seq
//	[group u16][0x01][record u8][name...]               catalog records (meta group only)
//	[group u16][0x05]                                   replicated-log state of the Raft shard homed here (ReplicaState)
//	[group u16][0x03][table u32]                        schema-write fence of a table (data groups)
//	[group u16][0x04][table u32]                        index set of a table (index.go)
//	[group u16][0x10][table u32][user...][0x00][pk...]  USER/STREAM table rows
//	[group u16][0x10][table u32][pk...]                 SHARED table rows
//	[group u16][0x11][table u32][user 0x00][index]...   secondary-index entries (index.go)
//	[group u16][0x20][table u32][user...][0x00]         history horizon of a USER/STREAM scope
//	[group u16][0x20][table u32]                        history horizon of a SHARED table
//
// Invariants:
//   - A user id never contains 0x00, so [table][user][0x00] is a prefix that
//     holds exactly one user's rows: per-user isolation is a key range.
//   - The primary key is the last component, encoded order-preservingly, so a
//     scan of a user's range returns rows in primary-key order and a PK lookup
//     is a point get.
//   - Table ids are never reused, so a dropped table's leftover keys are
//     unreachable before cleanup deletes them.
//   - The hot tier keeps the latest version of every key it holds, tombstones
//     included, so "every key changed after _seq S" can be answered from it
//     (live-query resume). Whatever removes row versions or tombstones from
//     the hot tier (cold-tier flush, TTL eviction) must raise the scope's
//     HistoryHorizon to the largest _seq it removed, in the same batch.
package keys

import (
	"encoding/binary"
	"hash/fnv"
)

// Group ids. The meta group holds the catalog; shared tables live in the
// shared group; USER and STREAM table rows are spread over UserGroups groups
// by a hash of the user id. These numbers are part of the on-disk format.
const (
	GroupMeta       uint16 = 0
	GroupShared     uint16 = 1
	firstUserGroup  uint16 = 64
	UserGroups      uint16 = 32
	kindGroupState  byte   = 0x00
	kindCatalog     byte   = 0x01
	kindTableRows   byte   = 0x10
	kindHistory     byte   = 0x20
	scopeTerminator byte   = 0x00
)

// UserGroup returns the data group that holds the rows of userID.
func UserGroup(userID string) uint16 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return firstUserGroup + uint16(h.Sum32()%uint32(UserGroups))
}

// AllDataGroups lists every group that can hold table rows.
func AllDataGroups() []uint16 {
	out := []uint16{GroupShared}
	for i := uint16(0); i < UserGroups; i++ {
		out = append(out, firstUserGroup+i)
	}
	return out
}

// AllGroups lists every group, meta first.
func AllGroups() []uint16 { return append([]uint16{GroupMeta}, AllDataGroups()...) }

// GroupState is the key of a group's state record.
func GroupState(g uint16) []byte { return []byte{byte(g >> 8), byte(g), kindGroupState} }

// GroupPrefix returns the first key of group g; GroupEnd the first key past it.
func GroupPrefix(g uint16) []byte { return []byte{byte(g >> 8), byte(g)} }

// GroupEnd returns the exclusive upper bound of group g.
func GroupEnd(g uint16) []byte { return []byte{byte((g + 1) >> 8), byte(g + 1)} }

// Catalog is the key of a catalog record of the given type and name.
func Catalog(record byte, name string) []byte {
	k := make([]byte, 0, 4+len(name))
	k = append(k, byte(GroupMeta>>8), byte(GroupMeta), kindCatalog, record)
	return append(k, name...)
}

// CatalogPrefix is the prefix of all catalog records of one type.
func CatalogPrefix(record byte) []byte { return Catalog(record, "") }

// TablePrefix returns the prefix of a table's rows within group g.
func TablePrefix(g uint16, table uint32) []byte {
	k := make([]byte, 7, 32)
	binary.BigEndian.PutUint16(k, g)
	k[2] = kindTableRows
	binary.BigEndian.PutUint32(k[3:], table)
	return k
}

// TableOfRow returns the table id of a table-row key (ok false for any
// other key).
func TableOfRow(k []byte) (table uint32, ok bool) {
	if len(k) < 7 || k[2] != kindTableRows {
		return 0, false
	}
	return binary.BigEndian.Uint32(k[3:7]), true
}

// ScopePrefix returns the prefix of one scope's rows: for USER and STREAM
// tables the scope is the user id; for SHARED tables it is "" (whole table).
func ScopePrefix(g uint16, table uint32, userID string, perUser bool) []byte {
	k := TablePrefix(g, table)
	if perUser {
		k = append(k, userID...)
		k = append(k, scopeTerminator)
	}
	return k
}

// Row appends an encoded primary key to a scope prefix.
func Row(scope []byte, pk []byte) []byte {
	k := make([]byte, 0, len(scope)+len(pk))
	return append(append(k, scope...), pk...)
}

// PrefixEnd returns the smallest key greater than every key with prefix p.
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// kindColdPointer marks a scope's cold-tier manifest pointer. It lives in
// the scope's own data group, so the commit that moves the pointer can
// delete the flushed hot rows in the same atomic batch.
const kindColdPointer byte = 0x02

// ColdPointer returns the key of one scope's manifest pointer:
// [group][0x02][table u32][user...][0x00] (SHARED tables: no user part).
func ColdPointer(g uint16, table uint32, userID string, perUser bool) []byte {
	k := make([]byte, 7, 32)
	binary.BigEndian.PutUint16(k, g)
	k[2] = kindColdPointer
	binary.BigEndian.PutUint32(k[3:], table)
	if perUser {
		k = append(k, userID...)
		k = append(k, scopeTerminator)
	}
	return k
}

// ColdPointerPrefix returns the prefix of every manifest pointer of group
// g (table == 0 && all) or of one table.
func ColdPointerPrefix(g uint16, table uint32, all bool) []byte {
	if all {
		return []byte{byte(g >> 8), byte(g), kindColdPointer}
	}
	return ColdPointer(g, table, "", false)
}

// ParseColdPointer splits a pointer key into table id and user id.
func ParseColdPointer(k []byte) (table uint32, userID string, ok bool) {
	if len(k) < 7 || k[2] != kindColdPointer {
		return 0, "", false
	}
	table = binary.BigEndian.Uint32(k[3:7])
	rest := k[7:]
	if n := len(rest); n > 0 && rest[n-1] == scopeTerminator {
		rest = rest[:n-1]
	}
	return table, string(rest), true
}

// HistoryHorizon is the key of a scope's change-history horizon: a
// big-endian uint64 holding the largest _seq of any row version or
// tombstone of that scope that was removed from the hot tier. Changes
// after a _seq at or above the horizon are all still visible in the hot
// tier (the latest version of each key, tombstones included); a live-query
// resume from an older _seq is refused instead of silently missing deletes.
// A missing key means nothing was ever removed. The scope arguments are
// those of ScopePrefix.
func HistoryHorizon(g uint16, table uint32, userID string, perUser bool) []byte {
	k := ScopePrefix(g, table, userID, perUser)
	k[2] = kindHistory
	return k
}

// HistoryHorizonOf returns the horizon key of the scope a scope-shaped key
// names: a row scope prefix (ScopePrefix) or a manifest pointer
// (ColdPointer), which share the [group][kind][table][user 0x00] layout.
func HistoryHorizonOf(scope []byte) []byte {
	k := append([]byte(nil), scope...)
	if len(k) > 2 {
		k[2] = kindHistory
	}
	return k
}

// kindSchemaFence marks a table's schema-write fence in a data group.
const kindSchemaFence byte = 0x03

// SchemaFence is the key of a table's schema-write fence in data group g:
// [group u16][0x03][table u32]. Its value (engine/fence.go) holds the
// minimum schema version row writes must have been planned under.
func SchemaFence(g uint16, table uint32) []byte {
	return []byte{byte(g >> 8), byte(g), kindSchemaFence, byte(table >> 24), byte(table >> 16), byte(table >> 8), byte(table)}
}

// kindReplicaState marks the replicated-log state of a Raft shard, kept in
// the shard's home group (its lowest group id; dataplane/replication).
const kindReplicaState byte = 0x05

// ReplicaState is the key of the replicated-log state (applied Raft index
// and replica marker) of the Raft shard whose home group is g. It is
// written in the same batch as the entries it counts.
func ReplicaState(g uint16) []byte { return []byte{byte(g >> 8), byte(g), kindReplicaState} }
