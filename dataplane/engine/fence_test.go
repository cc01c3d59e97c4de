package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

func TestSchemaFence(t *testing.T) {
	db, ex := openMem(t, vfs.NewMem())
	defer db.Close()
	defer ex.Close()
	ctx := context.Background()
	g := keys.GroupShared
	const now = SeqEpochMs + 10_000
	fence := func(minV uint32, until int64) {
		t.Helper()
		if _, err := ex.Propose(ctx, &Command{Group: g, TimeMs: now, Fence: &SchemaFence{Table: 7, MinVersion: minV, UntilMs: until}}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	insert := func(planned uint32, timeMs int64) error {
		n++
		key := keys.Row(keys.ScopePrefix(g, 7, "", false), fmt.Appendf(nil, "k%d", n))
		_, err := ex.Propose(ctx, &Command{Group: g, TimeMs: timeMs, Rows: []RowWrite{{Op: OpInsert, Table: 7, Key: key, Row: row(t, "v"), SchemaVersion: planned}}})
		return err
	}
	fence(3, now+1000)
	for _, tc := range []struct {
		name    string
		planned uint32
		timeMs  int64
		want    error
	}{
		{"older version inside the lease", 2, now + 1, ErrSchemaChanged},
		{"older version is a conflict", 1, now + 1, ErrConflict},
		{"fenced version", 3, now + 1, nil},
		{"unchecked write", 0, now + 1, nil},
		{"lease over", 2, now + 1000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := insert(tc.planned, tc.timeMs); !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ex.Propose(ctx, &Command{Group: keys.GroupMeta, TimeMs: now, Fence: &SchemaFence{Table: 7}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fence in meta group: got %v", err)
	}
	fence(2, 0) // lowered
	if err := insert(2, now+1); err != nil {
		t.Fatalf("after lowering: %v", err)
	}
	// Dropping the table's data forgets its fence.
	if _, err := ex.Propose(ctx, &Command{Group: g, TimeMs: now, Rows: []RowWrite{{Op: OpDropTableData, Table: 7}}}); err != nil {
		t.Fatal(err)
	}
	if v, err := getCopy(db, keys.SchemaFence(g, 7)); err != nil || v != nil {
		t.Fatalf("fence after drop: %x %v", v, err)
	}
}
