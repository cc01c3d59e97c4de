package replication

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	sm "github.com/lni/dragonboat/v4/statemachine"
)

func rowsCommand(n int) *engine.Command {
	cmd := &engine.Command{Version: engine.CommandVersion, Group: 65, TimeMs: 1700000000123,
		ColdGuard: &engine.ColdGuard{Pointer: []byte("\x00\x41\x05cold-pointer"), Version: 4}}
	for i := range n {
		cmd.Rows = append(cmd.Rows, engine.RowWrite{Op: engine.OpInsert, Table: 7,
			Key: []byte("\x00\x41\x01tbl-key-" + string(rune('a'+i%26))), Row: make([]byte, 90),
			SchemaVersion: 3})
		cmd.Rows[i].Row[0] = byte(i)
	}
	return cmd
}

func TestEntryCodecRoundTrip(t *testing.T) {
	upd := &engine.Command{Group: 3, TimeMs: -5, Rows: []engine.RowWrite{
		{Op: engine.OpUpdate, Table: 1<<32 - 1, Key: []byte("k"), Row: []byte("r"), ExpectSeq: 1<<64 - 1,
			Cold: []byte("c"), SchemaVersion: 9},
		{Op: engine.OpDelete, Table: 2, Key: []byte("k2")},
		{Op: engine.OpDropTableData, Table: 2},
	}}
	for name, tc := range map[string]struct {
		cmd    *engine.Command
		format byte
	}{
		"rows":              {rowsCommand(3), entryRows},
		"update":            {upd, entryRows},
		"no rows":           {&engine.Command{Group: 65, TimeMs: 42}, entryRows},
		"catalog":           {&engine.Command{Group: 0, TimeMs: 1, Catalog: &engine.CatalogWrite{Op: engine.CatCreateNamespace}}, entryJSON},
		"guarded":           {&engine.Command{Group: 9, Rows: upd.Rows, ColdGuard: &engine.ColdGuard{Pointer: []byte("p"), Version: 1<<64 - 1}}, entryRows},
		"unversioned guard": {&engine.Command{Group: 9, Rows: upd.Rows, ColdGuard: &engine.ColdGuard{Pointer: []byte("p")}}, entryRows},
		"cold commit":       {&engine.Command{Group: 9, Cold: &engine.ColdCommit{}}, entryJSON},
	} {
		b, err := encodeEntry(3, 4, tc.cmd)
		if err != nil {
			t.Fatal(name, err)
		}
		if b[0] != tc.format {
			t.Errorf("%s: format %d, want %d", name, b[0], tc.format)
		}
		n, id, got, err := decodeEntry(b)
		if err != nil || n != 3 || id != 4 || !reflect.DeepEqual(got, tc.cmd) {
			t.Errorf("%s: decode = %d %d %+v %v, want %+v", name, n, id, got, err, tc.cmd)
		}
		// A decoded command owns its bytes.
		for i := range b {
			b[i] = 0xff
		}
		if !reflect.DeepEqual(got, tc.cmd) {
			t.Errorf("%s: decoded command aliases the entry buffer", name)
		}
	}
	// Empty byte fields decode as nil, as format 1 (omitempty) does.
	b, _ := encodeEntry(1, 1, &engine.Command{Rows: []engine.RowWrite{{Key: []byte{}, Row: []byte{}}}})
	if _, _, got, err := decodeEntry(b); err != nil || got.Rows[0].Key != nil || got.Rows[0].Row != nil {
		t.Fatalf("empty fields: %+v %v", got, err)
	}
}

// TestEntryCodecReadsFormat1 keeps entries written before format 2
// (JSON of any command, rows included) decodable.
func TestEntryCodecReadsFormat1(t *testing.T) {
	cmd := rowsCommand(2)
	body, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte{entryJSON, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4}, body...)
	if n, id, got, err := decodeEntry(b); err != nil || n != 3 || id != 4 || !reflect.DeepEqual(got, cmd) {
		t.Fatalf("format 1: %d %d %+v %v", n, id, got, err)
	}
}

func TestEntryCodecRejects(t *testing.T) {
	good, _ := encodeEntry(1, 2, rowsCommand(2))
	hdr := good[:entryHeader]
	for name, bad := range map[string][]byte{
		"nil":             nil,
		"short":           {entryRows},
		"format 0":        append([]byte{0}, make([]byte, 16)...),
		"empty json":      append([]byte{entryJSON}, make([]byte, 16)...),
		"empty rows body": append([]byte(nil), hdr...),
		"truncated":       good[:len(good)-1],
		"trailing":        append(append([]byte(nil), good...), 0),
		"huge row count":  append(append([]byte(nil), hdr...), 1, 0, 65, 2, 0, 0xff, 0xff, 0xff, 0xff, 0x0f),
		"huge key":        append(append([]byte(nil), hdr...), 1, 0, 65, 2, 0, 1, 1, 7, 0xff, 0xff, 0x03, 0, 0, 0, 0),
		"table overflow":  append(append([]byte(nil), hdr...), 1, 0, 65, 2, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x1f, 0, 0, 0, 0, 0),
		"unknown flags":   append(append([]byte(nil), hdr...), 1, 0, 65, 2, 2, 0),
		"short guard":     append(append([]byte(nil), hdr...), 1, 0, 65, 2, 1, 5, 'p'),
	} {
		if _, _, _, err := decodeEntry(bad); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("%s: decode(%x) err = %v, want ErrInvalid", name, bad, err)
		}
	}
	newer := append([]byte(nil), good...)
	newer[0] = entryRows + 1
	if _, _, _, err := decodeEntry(newer); !errors.Is(err, errNewerEntry) {
		t.Fatalf("newer format: %v", err)
	}
}

// TestRowsOnlyCoversCommand fails when engine.Command gains a field:
// format 2 would silently drop it. Add it to the codec (a new format byte
// if it changes the body) or to rowsOnly, then to this list.
func TestRowsOnlyCoversCommand(t *testing.T) {
	known := map[string]bool{"Version": true, "Group": true, "TimeMs": true, "Rows": true, "Catalog": true,
		"ColdGuard": true, "Cold": true, "Fence": true, "PurgeUser": true, "Index": true}
	ct := reflect.TypeFor[engine.Command]()
	for i := range ct.NumField() {
		if !known[ct.Field(i).Name] {
			t.Errorf("engine.Command.%s is not handled by the entry codec", ct.Field(i).Name)
		}
	}
	rows := map[string]bool{"Op": true, "Table": true, "Key": true, "Row": true, "ExpectSeq": true, "Cold": true, "SchemaVersion": true}
	rt := reflect.TypeFor[engine.RowWrite]()
	if rt.NumField() != len(rows) {
		t.Errorf("engine.RowWrite has %d fields, the codec encodes %d", rt.NumField(), len(rows))
	}
	for i := range rt.NumField() {
		if !rows[rt.Field(i).Name] {
			t.Errorf("engine.RowWrite.%s is not encoded by format 2", rt.Field(i).Name)
		}
	}
}

// BenchmarkEntryCodec: encode + decode of a 1,000-row INSERT (the W2
// shape), the work every replica does per entry (decode) plus the
// proposer's (encode). "json" is format 1, as every entry was before.
func BenchmarkEntryCodec(b *testing.B) {
	cmd := rowsCommand(1000)
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, err := json.Marshal(cmd)
			if err != nil {
				b.Fatal(err)
			}
			e := append(make([]byte, entryHeader), body...)
			e[0] = entryJSON
			if _, _, _, err := decodeEntry(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e, err := encodeEntry(1, 1, cmd)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, _, err := decodeEntry(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestUpdateStopsOnNewerEntry: an entry of an unknown (newer) format stops
// the replica instead of being skipped while the other replicas apply it.
func TestUpdateStopsOnNewerEntry(t *testing.T) {
	h := newTestHost(t, vfs.NewMem())
	s := h.newStateMachine(ShardMeta, 1)
	b, _ := encodeEntry(1, 1, &engine.Command{})
	b[0] = entryRows + 1
	if _, err := s.Update([]sm.Entry{{Index: 1, Cmd: b}}); !errors.Is(err, errNewerEntry) {
		t.Fatalf("Update = %v, want errNewerEntry", err)
	}
}
