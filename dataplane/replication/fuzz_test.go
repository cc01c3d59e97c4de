package replication

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// FuzzDecodeEntry: any log entry decodes to a command or a deterministic
// ErrInvalid, never a panic, and the state machine survives it.
func FuzzDecodeEntry(f *testing.F) {
	good, _ := encodeEntry(1, 1, &engine.Command{Group: keys.GroupMeta, TimeMs: 5})
	f.Add(good)
	f.Add([]byte{1})
	f.Add(append([]byte{1}, make([]byte, 16)...))
	f.Add(append(append([]byte{1}, make([]byte, 16)...), `{"group":9999}`...))
	rows, _ := encodeEntry(1, 2, rowsCommand(3))
	f.Add(rows)
	f.Add(rows[:len(rows)-3])
	h := newTestHost(f, vfs.NewMem())
	s := h.newStateMachine(ShardMeta, 1).(*stateMachine)
	index := uint64(0)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, cmd, err := decodeEntry(b)
		switch {
		case err == nil && cmd == nil:
			t.Fatal("nil command without error")
		case errors.Is(err, errNewerEntry):
			return // Update stops the replica on it (TestUpdateStopsOnNewerEntry)
		case err == nil && b[0] == entryRows:
			// Format 2 round-trips: what the encoder writes for the
			// decoded command decodes to the same command.
			again, err := encodeEntry(1, 1, cmd)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, cmd2, err := decodeEntry(again); err != nil || !reflect.DeepEqual(cmd, cmd2) {
				t.Fatalf("re-encoded %+v decodes to %+v, %v", cmd, cmd2, err)
			}
		}
		index++
		if _, err := s.Update([]sm.Entry{{Index: index, Cmd: b}}); err != nil {
			// Only storage failures may stop the state machine; a
			// decodable command that the engine rejects is not one.
			t.Fatalf("Update(%x): %v", b, err)
		}
	})
}

// FuzzRecoverFromSnapshot: a corrupt snapshot stream is refused with an
// error, never a panic.
func FuzzRecoverFromSnapshot(f *testing.F) {
	f.Add([]byte(snapshotMagic + "\x00"))
	f.Add([]byte(snapshotMagic + "\x03\x00\x00\x05\x01x\x00"))
	f.Add([]byte("junk"))
	f.Add([]byte(snapshotMagic + "\x01x\x00")) // a 1-byte key once panicked
	h := newTestHost(f, vfs.NewMem())
	s := h.newStateMachine(ShardMeta, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = s.RecoverFromSnapshot(bytes.NewReader(b), nil)
	})
}
