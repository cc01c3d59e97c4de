package replication

// Raft entry encoding. Every entry starts with a format byte, then the
// proposer's nonce and proposal id (big-endian u64 each), which let the
// proposing replica hand the full engine.Result to its waiting caller
// without serialising it, then the command:
//
//   - format 1: the command as JSON. Any command; the only format before
//     format 2 existed, so logs and snapshots written then still decode.
//   - format 2: a command of row writes, with or without a cold guard (no
//     catalog, cold commit, fence, purge or index part), in a compact
//     binary body. Every replica decodes and applies every entry, so this
//     is the hot path of INSERT/UPDATE/DELETE: against JSON (base64 for
//     the key and row bytes) it cut a follower's CPU on bulk inserts by
//     36% (docs/benchmarks.md).
//
// Format 2 body: [u8 command version][u16 group][varint time_ms][u8 flags]
// [bytes guard pointer][uvarint guard version] (the two guard fields only
// when flags is 1: a ColdGuard, which every INSERT into a table with a
// cold tier carries; flags is 0 or 1) [uvarint row count], then per row
// [u8 op][uvarint table][bytes key][bytes row][uvarint expect_seq]
// [bytes cold][uvarint schema_version], where bytes is [uvarint length]
// [length bytes]. Nothing may follow the last row.
// An empty byte field decodes as nil, as JSON's omitempty does.
//
// Invariants:
//   - Decoding is a pure function of the entry bytes: a malformed entry
//     fails with the same ErrInvalid on every replica, never a panic.
//   - A format byte this build does not know is an entry from a newer
//     build: Update stops the replica (errNewerEntry) rather than skip an
//     entry the other replicas apply. A new format must therefore ship
//     decode-first: one release that reads it, a later one that writes it
//     (docs/high-availability.md, failure modes).
//   - A decoded command owns its bytes (one copy of the entry's body):
//     dragonboat may reuse the entry buffer after Update returns.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
)

const (
	entryJSON   = 1
	entryRows   = 2
	entryHeader = 17
	// minRowBytes is the smallest encoded row: op, table, three empty
	// byte fields, expect_seq and schema_version of one byte each.
	minRowBytes = 7
)

// errNewerEntry: the entry was written by a newer build (format byte
// above entryRows).
var errNewerEntry = errors.New("replicated entry in a format newer than this server: upgrade this replica")

// rowsOnly reports whether cmd fits format 2.
func rowsOnly(cmd *engine.Command) bool {
	return cmd.Catalog == nil && cmd.Cold == nil && cmd.Fence == nil &&
		cmd.PurgeUser == nil && cmd.Index == nil
}

func encodeEntry(nonce, id uint64, cmd *engine.Command) ([]byte, error) {
	if !rowsOnly(cmd) {
		body, err := json.Marshal(cmd)
		if err != nil {
			return nil, fmt.Errorf("while encoding a command: %w", err)
		}
		out := make([]byte, entryHeader, entryHeader+len(body))
		putHeader(out, entryJSON, nonce, id)
		return append(out, body...), nil
	}
	size := entryHeader + 1 + 2 + 1 + 3*binary.MaxVarintLen64 + binary.MaxVarintLen64
	if cmd.ColdGuard != nil {
		size += len(cmd.ColdGuard.Pointer)
	}
	for i := range cmd.Rows {
		r := &cmd.Rows[i]
		size += 1 + 6*binary.MaxVarintLen64 + len(r.Key) + len(r.Row) + len(r.Cold)
	}
	out := make([]byte, entryHeader, size)
	putHeader(out, entryRows, nonce, id)
	out = append(out, cmd.Version)
	out = binary.BigEndian.AppendUint16(out, cmd.Group)
	out = binary.AppendVarint(out, cmd.TimeMs)
	if g := cmd.ColdGuard; g != nil {
		out = append(out, 1)
		out = appendBytes(out, g.Pointer)
		out = binary.AppendUvarint(out, g.Version)
	} else {
		out = append(out, 0)
	}
	out = binary.AppendUvarint(out, uint64(len(cmd.Rows)))
	for i := range cmd.Rows {
		r := &cmd.Rows[i]
		out = append(out, byte(r.Op))
		out = binary.AppendUvarint(out, uint64(r.Table))
		out = appendBytes(out, r.Key)
		out = appendBytes(out, r.Row)
		out = binary.AppendUvarint(out, r.ExpectSeq)
		out = appendBytes(out, r.Cold)
		out = binary.AppendUvarint(out, uint64(r.SchemaVersion))
	}
	return out, nil
}

func putHeader(out []byte, format byte, nonce, id uint64) {
	out[0] = format
	binary.BigEndian.PutUint64(out[1:9], nonce)
	binary.BigEndian.PutUint64(out[9:17], id)
}

func appendBytes(out, b []byte) []byte {
	return append(binary.AppendUvarint(out, uint64(len(b))), b...)
}

func invalidEntry(msg string) error {
	return &engine.Error{Kind: engine.ErrInvalid, Msg: msg, Row: -1}
}

func decodeEntry(b []byte) (nonce, id uint64, cmd *engine.Command, err error) {
	if len(b) < entryHeader || b[0] == 0 {
		return 0, 0, nil, invalidEntry("unknown replicated entry format")
	}
	nonce, id = binary.BigEndian.Uint64(b[1:9]), binary.BigEndian.Uint64(b[9:17])
	switch b[0] {
	case entryJSON:
		cmd = &engine.Command{}
		if err := json.Unmarshal(b[entryHeader:], cmd); err != nil {
			return nonce, id, nil, invalidEntry("undecodable replicated command: " + err.Error())
		}
		return nonce, id, cmd, nil
	case entryRows:
		cmd, err = decodeRows(b[entryHeader:])
		return nonce, id, cmd, err
	}
	return nonce, id, nil, errNewerEntry
}

// rowReader reads format 2 fields; the first failure sticks in err.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) fail(what string) {
	if r.err == nil {
		r.err = invalidEntry("malformed replicated row command: " + what)
	}
}

func (r *rowReader) byte1(what string) byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *rowReader) uvarint(what string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns the next byte field, nil when empty, capped so an append
// by a later owner cannot overwrite the field after it.
func (r *rowReader) bytes(what string) []byte {
	n := r.uvarint(what, uint64(len(r.b)))
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	if n == 0 {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func decodeRows(body []byte) (*engine.Command, error) {
	r := &rowReader{b: append([]byte(nil), body...)}
	cmd := &engine.Command{Version: r.byte1("version")}
	if r.err == nil && len(r.b) >= 2 {
		cmd.Group = binary.BigEndian.Uint16(r.b)
		r.b = r.b[2:]
	} else {
		r.fail("group")
	}
	if r.err == nil {
		v, n := binary.Varint(r.b)
		if n <= 0 {
			r.fail("time")
		} else {
			cmd.TimeMs, r.b = v, r.b[n:]
		}
	}
	switch r.byte1("flags") {
	case 0:
	case 1:
		cmd.ColdGuard = &engine.ColdGuard{Pointer: r.bytes("guard pointer"), Version: r.uvarint("guard version", 1<<64-1)}
	default:
		r.fail("flags")
	}
	count := r.uvarint("row count", uint64(len(r.b))/minRowBytes)
	if r.err == nil && count > 0 {
		cmd.Rows = make([]engine.RowWrite, count)
	}
	for i := range cmd.Rows {
		w := &cmd.Rows[i]
		w.Op = engine.RowOp(r.byte1("op"))
		w.Table = uint32(r.uvarint("table", 1<<32-1))
		w.Key = r.bytes("key")
		w.Row = r.bytes("row")
		w.ExpectSeq = r.uvarint("expect_seq", 1<<64-1)
		w.Cold = r.bytes("cold")
		w.SchemaVersion = uint32(r.uvarint("schema_version", 1<<32-1))
		if r.err != nil {
			break
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return nil, r.err
	}
	return cmd, nil
}
