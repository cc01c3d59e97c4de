package replication

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// replicaState is the value of keys.ReplicaState: applied index, replica id.
func replicaState(applied, replica uint64) []byte {
	var v [16]byte
	binary.BigEndian.PutUint64(v[0:8], applied)
	binary.BigEndian.PutUint64(v[8:16], replica)
	return v[:]
}

// stateMachine is one shard's IOnDiskStateMachine over the node's Pebble.
type stateMachine struct {
	h       *Host
	shard   uint64
	replica uint64
	groups  []uint16
	home    uint16
	applied atomic.Uint64
}

var _ sm.IOnDiskStateMachine = (*stateMachine)(nil)

func (h *Host) newStateMachine(shard, replica uint64) sm.IOnDiskStateMachine {
	gs := h.layout.Groups(shard)
	s := &stateMachine{h: h, shard: shard, replica: replica, groups: gs, home: gs[0]}
	h.machines.Store(shard, s)
	return s
}

// Open reports the applied index stored with the data; it refuses a
// range stamped by another replica id (a removed-then-re-added replica
// must start from an empty range, scale-out.md §2.2 pitfall 1).
func (s *stateMachine) Open(<-chan struct{}) (uint64, error) {
	v, closer, err := s.h.db.Get(keys.ReplicaState(s.home))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("while opening shard %d: %w", s.shard, err)
	}
	defer closer.Close()
	if len(v) < 16 {
		return 0, fmt.Errorf("shard %d: corrupt replica state", s.shard)
	}
	applied, replica := binary.BigEndian.Uint64(v[0:8]), binary.BigEndian.Uint64(v[8:16])
	if replica != s.replica {
		return 0, fmt.Errorf("shard %d: the data directory holds replica %d's state, not replica %d's; a replaced replica needs an empty data directory", s.shard, replica, s.replica)
	}
	s.applied.Store(applied)
	return applied, nil
}

// Update applies committed entries: consecutive entries of the same group
// form one executor round (one batch, with the applied index).
func (s *stateMachine) Update(entries []sm.Entry) ([]sm.Entry, error) {
	type decoded struct {
		nonce, id uint64
		cmd       *engine.Command
		err       error
	}
	ds := make([]decoded, len(entries))
	for i, e := range entries {
		d := &ds[i]
		d.nonce, d.id, d.cmd, d.err = decodeEntry(e.Cmd)
		if errors.Is(d.err, errNewerEntry) {
			// Skipping it would diverge from the replicas that apply it.
			return nil, fmt.Errorf("shard %d entry %d: %w", s.shard, e.Index, d.err)
		}
		if d.err == nil && s.h.layout.ShardOf(d.cmd.Group) != s.shard {
			d.err = &engine.Error{Kind: engine.ErrInvalid, Msg: fmt.Sprintf("group %d is not replicated by shard %d", d.cmd.Group, s.shard), Row: -1}
		}
	}
	for i := 0; i < len(entries); {
		if ds[i].err != nil {
			s.deliver(ds[i].nonce, ds[i].id, engine.Result{}, ds[i].err)
			entries[i].Result = sm.Result{Value: 0}
			i++
			continue
		}
		g := ds[i].cmd.Group
		j := i
		var cmds []*engine.Command
		for j < len(entries) && ds[j].err == nil && ds[j].cmd.Group == g {
			cmds = append(cmds, ds[j].cmd)
			j++
		}
		last := entries[j-1].Index
		state := replicaState(last, s.replica)
		home := keys.ReplicaState(s.home)
		res, errs, err := s.h.exec.ApplyLog(g, cmds, func(b *pebble.Batch) error { return b.Set(home, state, nil) }, false)
		if err != nil {
			// Not reproducible on the other replicas: dragonboat stops
			// the process rather than let this replica diverge.
			return nil, fmt.Errorf("while applying shard %d entries %d..%d: %w", s.shard, entries[i].Index, last, err)
		}
		s.applied.Store(last)
		for k := range cmds {
			v := uint64(1)
			if errs[k] != nil {
				v = 0
			}
			entries[i+k].Result = sm.Result{Value: v}
			s.deliver(ds[i+k].nonce, ds[i+k].id, res[k], errs[k])
		}
		i = j
	}
	return entries, nil
}

// deliver hands a local proposal's outcome to its waiting caller.
func (s *stateMachine) deliver(nonce, id uint64, res engine.Result, err error) {
	if nonce != s.h.nonce {
		return
	}
	if w, ok := s.h.waiters.LoadAndDelete(id); ok {
		w.(*waiter).res, w.(*waiter).err = res, err
		close(w.(*waiter).done)
	}
}

// Lookup is unused: reads run against Pebble after a ReadIndex barrier.
func (s *stateMachine) Lookup(any) (any, error) { return nil, nil }

// Sync fsyncs Pebble's WAL: dragonboat calls it before compacting the
// Raft log, which is the only copy of entries applied without fsync.
func (s *stateMachine) Sync() error { return s.h.db.LogData(nil, pebble.Sync) }

// PrepareSnapshot pins a Pebble snapshot of the shard's ranges.
func (s *stateMachine) PrepareSnapshot() (any, error) { return s.h.db.NewSnapshot(), nil }

const snapshotMagic = "KALAMSN1"

// Bounds on one snapshot record, far above any real key or row (rows are
// bounded by the request body limit), so a corrupt stream cannot make
// RecoverFromSnapshot allocate without limit.
const (
	maxSnapshotKey   = 64 << 10
	maxSnapshotValue = 256 << 20
)

// SaveSnapshot streams the shard's key ranges: the magic, then
// [uvarint key len][key][uvarint value len][value] pairs, then a zero
// key length.
func (s *stateMachine) SaveSnapshot(ctx any, w io.Writer, stop <-chan struct{}) error {
	snap := ctx.(*pebble.Snapshot)
	defer snap.Close()
	bw := bufio.NewWriterSize(w, 256<<10)
	if _, err := bw.WriteString(snapshotMagic); err != nil {
		return err
	}
	var lenBuf [binary.MaxVarintLen64]byte
	put := func(b []byte) error {
		n := binary.PutUvarint(lenBuf[:], uint64(len(b)))
		if _, err := bw.Write(lenBuf[:n]); err != nil {
			return err
		}
		_, err := bw.Write(b)
		return err
	}
	for _, g := range s.groups {
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: keys.GroupPrefix(g), UpperBound: keys.GroupEnd(g)})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			select {
			case <-stop:
				it.Close()
				return sm.ErrSnapshotStopped
			default:
			}
			v, err := it.ValueAndErr()
			if err == nil {
				err = put(it.Key())
			}
			if err == nil {
				err = put(v)
			}
			if err != nil {
				it.Close()
				return err
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return err
		}
	}
	if err := bw.WriteByte(0); err != nil {
		return err
	}
	return bw.Flush()
}

// RecoverFromSnapshot replaces the shard's ranges with the snapshot's in
// one synced batch, re-stamps the replica marker and reloads the
// executor's (and for meta, the catalog cache's) view of them.
func (s *stateMachine) RecoverFromSnapshot(r io.Reader, stop <-chan struct{}) error {
	br := bufio.NewReaderSize(r, 256<<10)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return fmt.Errorf("shard %d: not a kalamdb snapshot", s.shard)
	}
	b := s.h.db.NewBatch()
	defer b.Close()
	for _, g := range s.groups {
		if err := b.DeleteRange(keys.GroupPrefix(g), keys.GroupEnd(g), nil); err != nil {
			return err
		}
	}
	get := func(limit uint64) ([]byte, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, fmt.Errorf("record of %d bytes exceeds %d", n, limit)
		}
		// Grown as bytes arrive: a corrupt length cannot allocate ahead.
		var buf bytes.Buffer
		if _, err := io.CopyN(&buf, br, int64(n)); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	home := keys.ReplicaState(s.home)
	var applied uint64
	for {
		select {
		case <-stop:
			return sm.ErrSnapshotStopped
		default:
		}
		k, err := get(maxSnapshotKey)
		if err != nil {
			return fmt.Errorf("while reading shard %d snapshot: %w", s.shard, err)
		}
		if len(k) == 0 {
			break
		}
		v, err := get(maxSnapshotValue)
		if err != nil {
			return fmt.Errorf("while reading shard %d snapshot: %w", s.shard, err)
		}
		if len(k) < 3 {
			return fmt.Errorf("shard %d snapshot holds a malformed key %x", s.shard, k)
		}
		if s.h.layout.ShardOf(binary.BigEndian.Uint16(k)) != s.shard {
			return fmt.Errorf("shard %d snapshot holds a key of group %d", s.shard, binary.BigEndian.Uint16(k))
		}
		if string(k) == string(home) && len(v) >= 8 {
			applied = binary.BigEndian.Uint64(v[0:8])
			v = replicaState(applied, s.replica)
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("while installing shard %d snapshot: %w", s.shard, err)
	}
	for _, g := range s.groups {
		if err := s.h.exec.ReloadGroup(g); err != nil {
			return err
		}
		if g == keys.GroupMeta {
			if err := s.h.cat.ReloadFrom(s.h.db); err != nil {
				return fmt.Errorf("while reloading the catalog: %w", err)
			}
		}
	}
	s.applied.Store(applied)
	return nil
}

// Close releases nothing: the Pebble DB belongs to the node.
func (s *stateMachine) Close() error { return nil }
