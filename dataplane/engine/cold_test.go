package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

func liveKeys(t *testing.T, db *pebble.DB, prefix []byte) []string {
	t.Helper()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: keys.PrefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for it.First(); it.Valid(); it.Next() {
		out = append(out, string(it.Key()[len(prefix):]))
	}
	return out
}

// TestColdCommitProtocol covers the flush commit: compare-and-set on the
// manifest version, purge of exactly the unchanged rows, and the range
// deletion shortcut never erasing a row the flush did not see.
func TestColdCommitProtocol(t *testing.T) {
	for _, tc := range []struct {
		name string
		// between runs after the flush "read" and before its commit.
		between  func(t *testing.T, ex *Executor, k func(string) []byte)
		wantKeys string
	}{
		{"all unchanged (range deletion)", nil, "[]"},
		{"row updated during flush stays hot", func(t *testing.T, ex *Executor, k func(string) []byte) {
			propose(t, ex, &Command{Group: 1, TimeMs: SeqEpochMs + 9000, Rows: []RowWrite{{Op: OpUpdate, Table: 1, Key: k("b"), Row: row(t, "B")}}})
		}, "[b]"},
		{"row inserted inside the range during flush stays", func(t *testing.T, ex *Executor, k func(string) []byte) {
			propose(t, ex, &Command{Group: 1, TimeMs: SeqEpochMs + 9000, Rows: []RowWrite{{Op: OpInsert, Table: 1, Key: k("bb"), Row: row(t, "new")}}})
		}, "[bb]"},
		{"row deleted during flush keeps its tombstone", func(t *testing.T, ex *Executor, k func(string) []byte) {
			propose(t, ex, &Command{Group: 1, TimeMs: SeqEpochMs + 9000, Rows: []RowWrite{{Op: OpDelete, Table: 1, Key: k("c"), Row: mustTomb(t)}}})
		}, "[c]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, ex := openMem(t, vfs.NewMem())
			defer db.Close()
			defer ex.Close()
			scope := keys.ScopePrefix(keys.GroupShared, 1, "", false)
			k := func(pk string) []byte { return keys.Row(scope, []byte(pk)) }
			var purge []PurgeKey
			for i, pk := range []string{"a", "b", "c", "d"} {
				res := propose(t, ex, &Command{Group: 1, TimeMs: SeqEpochMs + int64(i), Rows: []RowWrite{{Op: OpInsert, Table: 1, Key: k(pk), Row: row(t, pk)}}})
				purge = append(purge, PurgeKey{Key: k(pk), Seq: res.Seqs[0]})
			}
			if tc.between != nil {
				tc.between(t, ex, k)
			}
			ptr := keys.ColdPointer(keys.GroupShared, 1, "", false)
			commit := &Command{Group: 1, TimeMs: SeqEpochMs + 10000, Cold: &ColdCommit{Pointer: ptr, PrevVersion: 0,
				New: &ColdPointer{Version: 1, StorageID: "local", Manifest: "m-1", Segments: 1}, Purge: purge}}
			propose(t, ex, commit)
			if got := fmt.Sprint(liveKeys(t, db, scope)); got != tc.wantKeys {
				t.Fatalf("hot keys after commit: %s, want %s", got, tc.wantKeys)
			}
			p, err := ReadColdPointer(db, ptr)
			if err != nil || p.Version != 1 || p.Manifest != "m-1" {
				t.Fatalf("pointer %+v %v", p, err)
			}
			// A second commit expecting the old version loses the race.
			if _, err := ex.Propose(context.Background(), commit); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale commit: %v", err)
			}
		})
	}
}

func propose(t *testing.T, ex *Executor, cmd *Command) Result {
	t.Helper()
	res, err := ex.Propose(context.Background(), cmd)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestColdGuard checks DML over cold rows: a cold-only key is a duplicate
// for INSERT, UPDATE of a cold row is a CAS on its cold _seq, and a moved
// manifest makes the command conflict.
func TestColdGuard(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	scope := keys.ScopePrefix(keys.GroupShared, 1, "", false)
	key := keys.Row(scope, []byte("k"))
	ptr := keys.ColdPointer(keys.GroupShared, 1, "", false)
	propose(t, ex, &Command{Group: 1, TimeMs: SeqEpochMs, Cold: &ColdCommit{Pointer: ptr, New: &ColdPointer{Version: 1, Manifest: "m"}}})
	coldRow, err := rowcodec.Encode(77, false, 1, []rowcodec.Column{{ID: 1, Value: "cold"}})
	if err != nil {
		t.Fatal(err)
	}
	g := &ColdGuard{Pointer: ptr, Version: 1}
	_, err = ex.Propose(context.Background(), &Command{Group: 1, TimeMs: SeqEpochMs + 1, ColdGuard: g,
		Rows: []RowWrite{{Op: OpInsert, Table: 1, Key: key, Row: row(t, "x"), Cold: coldRow}}})
	if !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("insert over cold row: %v", err)
	}
	if _, err := ex.Propose(context.Background(), &Command{Group: 1, TimeMs: SeqEpochMs + 1, ColdGuard: g,
		Rows: []RowWrite{{Op: OpUpdate, Table: 1, Key: key, Row: row(t, "x"), Cold: coldRow, ExpectSeq: 76}}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("update with wrong cold seq: %v", err)
	}
	res := propose(t, ex, &Command{Group: 1, TimeMs: SeqEpochMs + 1, ColdGuard: g,
		Rows: []RowWrite{{Op: OpUpdate, Table: 1, Key: key, Row: row(t, "x"), Cold: coldRow, ExpectSeq: 77}}})
	if string(res.Old[0]) != string(coldRow) {
		t.Fatal("Old is not the cold row")
	}
	stale := &ColdGuard{Pointer: ptr, Version: 0}
	if _, err := ex.Propose(context.Background(), &Command{Group: 1, TimeMs: SeqEpochMs + 2, ColdGuard: stale,
		Rows: []RowWrite{{Op: OpInsert, Table: 1, Key: keys.Row(scope, []byte("z")), Row: row(t, "z")}}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale guard: %v", err)
	}
}
