package engine

import (
	"encoding/binary"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func horizon(t *testing.T, db *pebble.DB, k []byte) uint64 {
	t.Helper()
	v, closer, err := db.Get(k)
	if err == pebble.ErrNotFound {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	return binary.BigEndian.Uint64(v)
}

// TestPurgeRaisesHistoryHorizon: a cold commit records the largest purged
// _seq per scope in the same batch (flush: the pointer's scope; stream
// eviction: each user's scope), and never lowers it.
func TestPurgeRaisesHistoryHorizon(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	g := keys.UserGroup("alice")
	var purge []PurgeKey
	var seqs []uint64
	for i := range 2 {
		k := keys.Row(keys.ScopePrefix(g, 3, "alice", true), []byte{byte('a' + i)})
		res := propose(t, ex, &Command{Group: g, TimeMs: SeqEpochMs + int64(i), Rows: []RowWrite{{Op: OpInsert, Table: 3, Key: k, Row: row(t, "x")}}})
		purge = append(purge, PurgeKey{Key: k, Seq: res.Seqs[0]})
		seqs = append(seqs, res.Seqs[0])
	}
	// Stream eviction: no pointer, scope from the keys.
	propose(t, ex, &Command{Group: g, TimeMs: SeqEpochMs + 10, Cold: &ColdCommit{Purge: purge[:1]}})
	hk := keys.HistoryHorizon(g, 3, "alice", true)
	if h := horizon(t, db, hk); h != seqs[0] {
		t.Fatalf("horizon %d, want %d", h, seqs[0])
	}
	// Flush: the pointer names the scope; the horizon only grows.
	ptr := keys.ColdPointer(g, 3, "alice", true)
	propose(t, ex, &Command{Group: g, TimeMs: SeqEpochMs + 11, Cold: &ColdCommit{Pointer: ptr, New: &ColdPointer{Version: 1, Manifest: "m"}, Purge: purge[1:2]}})
	if h := horizon(t, db, hk); h != seqs[1] {
		t.Fatalf("horizon %d, want %d", h, seqs[1])
	}
	propose(t, ex, &Command{Group: g, TimeMs: SeqEpochMs + 12, Cold: &ColdCommit{Pointer: ptr, PrevVersion: 1, New: &ColdPointer{Version: 2, Manifest: "m2"}, Purge: purge[:1]}})
	if h := horizon(t, db, hk); h != seqs[1] {
		t.Fatalf("horizon lowered to %d", h)
	}
}
