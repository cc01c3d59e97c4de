package read

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// BenchmarkIndexScanW4 reads peerbench W4's shape through an index scan:
// 100k hot rows in one scope (10 tag values of 10k consecutive keys, like
// peerbench's user_id), 10k of them named by the index. "range-read" is
// the read path (stepping, then a dense run); "seek-per-key" never steps,
// which is the seek per named key the index scan did before.
func BenchmarkIndexScanW4(b *testing.B) {
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem(), Logger: quiet{}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	scope := keys.ScopePrefix(keys.UserGroup(testUser), tableID, testUser, true)
	for start := int64(1); start <= 100000; start += 1000 {
		batch := db.NewBatch()
		for id := start; id < start+1000; id++ {
			tag := fmt.Sprintf("u%d", (id-1)/10000)
			v, _ := rowcodec.Encode(uint64(id), false, 1, []rowcodec.Column{{ID: colID, Value: id}, {ID: colTag, Value: tag}})
			pk, _ := keys.EncodePK(id)
			_ = batch.Set(keys.Row(scope, pk), v, nil)
			enc, _ := keys.EncodeIndexValue(nil, tag)
			_ = batch.Set(keys.IndexEntry(scope, indexID, enc, pk), nil, nil)
		}
		if err := batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
	}
	enc, _ := keys.EncodeIndexValue(nil, "u0")
	run := func(b *testing.B, steps int) {
		for i := 0; i < b.N; i++ {
			snap := db.NewSnapshot()
			it, err := Source{Reader: snap, Scope: scope}.IndexScan(context.Background(), IndexOptions{Index: indexID, Value: enc, steps: steps})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for ; it.Valid(); it.Next() {
				n++
			}
			// A dense run may overrun into the next value's rows: the caller
			// re-checks them.
			if n < 10000 || n > 10000+resyncEvery || it.Err() != nil {
				b.Fatalf("%d rows, %v", n, it.Err())
			}
			_ = it.Close()
			_ = snap.Close()
		}
	}
	b.Run("range-read", func(b *testing.B) { run(b, 0) })
	b.Run("seek-per-key", func(b *testing.B) { run(b, -1) })
}
