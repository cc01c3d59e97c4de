package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// TestLeaderGroupCommitOrder: with many concurrent proposers (leaders
// change every round), observers run one at a time, in apply order:
// applied indexes consecutive and _seq increasing; every proposer gets its
// own result, and Close waits for queued commands.
func TestLeaderGroupCommitOrder(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	var inside atomic.Int32
	var lastIdx, lastSeq uint64
	var bad atomic.Value
	ex.AddObserver(func(cmd *Command, res *Result) {
		if inside.Add(1) != 1 {
			bad.Store("observers ran concurrently")
		}
		if res.Index != lastIdx+1 || res.Seqs[0] <= lastSeq {
			bad.Store("observer out of order")
		}
		lastIdx, lastSeq = res.Index, res.Seqs[0]
		inside.Add(-1)
	})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				k := keys.Row(keys.ScopePrefix(keys.GroupShared, 3, "", false), []byte{byte(w), byte(i)})
				res, err := ex.Propose(context.Background(), &Command{Group: keys.GroupShared, TimeMs: SeqEpochMs + 1, Rows: []RowWrite{{Op: OpInsert, Table: 3, Key: k, Row: row(t, "v")}}})
				if err != nil || len(res.Seqs) != 1 {
					t.Errorf("propose: %v %v", res, err)
				}
			}
		})
	}
	wg.Wait()
	ex.Close()
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	if lastIdx != 800 {
		t.Fatalf("applied %d, want 800", lastIdx)
	}
	if _, err := ex.Propose(context.Background(), &Command{Group: keys.GroupShared}); err != ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}
