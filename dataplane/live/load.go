package live

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// scopeState reads, from one snapshot, the position of the plan's group
// (its last _seq: every change in the snapshot is at or below it, every
// later change above it) and the scope's history horizon.
func scopeState(snap *pebble.Snapshot, p *kalamsql.LivePlan) (pos, horizon uint64, err error) {
	v, closer, err := snap.Get(keys.GroupState(p.Group))
	switch err {
	case nil:
		if len(v) >= 16 {
			pos = binary.BigEndian.Uint64(v[8:16])
		}
		closer.Close()
	case pebble.ErrNotFound:
	default:
		return 0, 0, fmt.Errorf("while reading group %d state: %w", p.Group, err)
	}
	v, closer, err = snap.Get(keys.HistoryHorizon(p.Group, p.Table.ID, p.UserID, p.PerUser))
	switch err {
	case nil:
		if len(v) >= 8 {
			horizon = binary.BigEndian.Uint64(v[:8])
		}
		closer.Close()
	case pebble.ErrNotFound:
	default:
		return 0, 0, fmt.Errorf("while reading the history horizon: %w", err)
	}
	return pos, horizon, nil
}

// page reads the next initial-data page of s.
func (m *Manager) page(ctx context.Context, s *Subscription, l *loadState) (rows, deleted [][]byte, more bool, err error) {
	p := s.plan
	switch {
	case l.lastRows > 0:
		rs, err := m.eng.LiveLastRows(ctx, p, l.snap, l.lastRows)
		s.clock.holdRows(s, rs)
		return rowJSON(rs), nil, false, err
	case l.resume:
		if l.replay == nil {
			if l.replay, err = newReplayCursor(l.snap, p, l.from); err != nil {
				return nil, nil, false, err
			}
		}
		return m.replayPage(ctx, p, l)
	default:
		rs, next, more, err := m.eng.LivePage(ctx, p, l.snap, l.cursor, pageLimit(l, m.opts.MaxBatchBytes))
		if err != nil {
			return nil, nil, false, err
		}
		l.cursor = next
		if len(rs) > 0 {
			n := 0
			for _, r := range rs {
				n += len(r.JSON)
			}
			l.rowBytes = max(1, n/len(rs))
		}
		s.clock.holdRows(s, rs)
		return rowJSON(rs), nil, more, nil
	}
}

// pageLimit is the number of rows to read for the next page: the batch
// size, lowered so the page stays near maxBytes (websocket.max_batch_bytes)
// once the previous page told the average row size. The first page is
// read at the batch size (a client bounds it with batch_size); at least
// one row always goes.
func pageLimit(l *loadState, maxBytes int) int {
	if l.rowBytes == 0 || maxBytes <= 0 {
		return l.batchSize
	}
	return max(1, min(l.batchSize, maxBytes/l.rowBytes))
}

func rowJSON(rs []kalamsql.LiveRow) [][]byte {
	out := make([][]byte, len(rs))
	for i, r := range rs {
		out[i] = r.JSON
	}
	return out
}

// replayCursor walks the caller's scope in the pinned snapshot, tombstones
// included, for a resume: each key changed after from is reported once,
// with its latest state (net change per key, not every version).
type replayCursor struct {
	it       *pebble.Iterator
	scopeLen int
	from     uint64
	valid    bool
	enc      kalamsql.RowEncoder
}

func newReplayCursor(snap *pebble.Snapshot, p *kalamsql.LivePlan, from uint64) (*replayCursor, error) {
	scope := keys.ScopePrefix(p.Group, p.Table.ID, p.UserID, p.PerUser)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: scope, UpperBound: keys.PrefixEnd(scope)})
	if err != nil {
		return nil, err
	}
	return &replayCursor{it: it, scopeLen: len(scope), from: from, valid: it.First()}, nil
}

func (r *replayCursor) close() {
	if r.it != nil {
		r.it.Close()
		r.it = nil
	}
}

// replayPage returns up to batchSize keys changed after from: current rows
// that match go to rows; keys deleted since, or whose current row no
// longer matches, go to deleted (primary key and _seq only). A client
// drops a deleted key it does not hold.
func (m *Manager) replayPage(ctx context.Context, p *kalamsql.LivePlan, l *loadState) (rows, deleted [][]byte, more bool, err error) {
	r := l.replay
	mt, err := m.leaseMatcher(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	defer m.returnMatcher(mt)
	n, size := 0, 0
	for ; r.valid; r.valid = r.it.Next() {
		v, err := r.it.ValueAndErr()
		if err != nil {
			return nil, nil, false, err
		}
		h, err := rowcodec.ReadHeader(v)
		if err != nil {
			return nil, nil, false, fmt.Errorf("while reading a row of %s: %w", p.Table.QualifiedName(), err)
		}
		if h.Seq <= r.from {
			continue
		}
		if n == l.batchSize || size >= m.opts.MaxBatchBytes {
			return rows, deleted, true, nil
		}
		n++
		key := r.it.Key()
		if h.Deleted {
			deleted = append(deleted, p.EncodeKey(r.scopeLen, key, h.Seq))
			size += len(deleted[len(deleted)-1])
			continue
		}
		ok, err := mt.Match(ctx, p, v, h.Seq)
		if err != nil {
			return nil, nil, false, err
		}
		if !ok {
			deleted = append(deleted, p.EncodeKey(r.scopeLen, key, h.Seq))
			continue
		}
		row, err := p.EncodeStored(&r.enc, nil, v, h.Seq)
		if err != nil {
			return nil, nil, false, err
		}
		rows = append(rows, row)
		size += len(row)
	}
	return rows, deleted, false, r.it.Error()
}
