package backup

// Streaming restore of a table's rows.
//
// Invariants:
//   - Hot rows come from the table's row chunks in key order; within a
//     table, each scope's (user's) records are contiguous and sorted by
//     primary key (the backup iterated Pebble in key order, and a user
//     lives in one group). Segments are sorted by primary key too.
//   - A scope is restored by a streaming two-way merge of its hot records
//     and a newest-version cursor over its segments: per key, the version
//     with the highest _seq wins (hot wins a tie), tombstones are dropped.
//     No row is buffered except the pending command batch (BatchRows /
//     BatchBytes).
//   - Segments are loaded one CLUSTER at a time: segments sorted by MinPK,
//     split where a segment starts after every earlier one ended. Keys of
//     different clusters never overlap, so the merge only ever needs one
//     cluster in memory (one segment when flushes produced disjoint key
//     ranges, e.g. after compaction or with growing keys).
//   - Every object is re-hashed while it is read for writing; a mismatch
//     with the manifest fails the restore (which then rolls back).

import (
	"bytes"
	"context"
	"sort"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// restorer proposes one backup's rows.
type restorer struct {
	srv        Server
	st         objstore.Store
	m          *Manifest
	report     func(Progress)
	prog       Progress
	batchRows  int
	batchBytes int
	stats      *RestoreStats
	// batch is the pending command of the current group.
	group uint16
	rows  []engine.RowWrite
	bytes int
}

func (r *restorer) flush(ctx context.Context) error {
	if len(r.rows) == 0 {
		return nil
	}
	_, err := r.srv.Propose(ctx, &engine.Command{Group: r.group, TimeMs: time.Now().UnixMilli(), Rows: r.rows})
	if err != nil {
		return err
	}
	r.prog.Rows += int64(len(r.rows))
	r.rows, r.bytes = nil, 0
	if r.report != nil {
		r.report(r.prog)
	}
	return nil
}

// add queues one live row of table t for user (row is copied).
func (r *restorer) add(ctx context.Context, t *catalog.Table, user string, pk, row []byte) error {
	g := keys.GroupShared
	if t.Type.PerUser() {
		g = keys.UserGroup(user)
	}
	key := keys.Row(keys.ScopePrefix(g, t.ID, user, t.Type.PerUser()), pk)
	size := len(key) + len(row)
	// Flush before the row would push the batch past a bound, so the
	// batch never exceeds batchBytes (a single larger row goes alone).
	if g != r.group || len(r.rows) >= r.batchRows || (len(r.rows) > 0 && r.bytes+size > r.batchBytes) {
		if err := r.flush(ctx); err != nil {
			return err
		}
		r.group = g
	}
	v := append([]byte(nil), row...)
	rowcodec.SetSeq(v, 0)
	r.rows = append(r.rows, engine.RowWrite{Op: engine.OpInsert, Table: t.ID, Key: key, Row: v})
	r.bytes += size
	r.stats.MaxBufferedRows = max(r.stats.MaxBufferedRows, len(r.rows))
	r.stats.MaxBufferedBytes = max(r.stats.MaxBufferedBytes, r.bytes)
	return nil
}

// table restores the rows of one table (t is the new definition).
func (r *restorer) table(ctx context.Context, t *catalog.Table, te *TableEntry) error {
	coldBy := map[string][]ColdSegment{}
	for _, cs := range te.Cold {
		coldBy[cs.User] = append(coldBy[cs.User], cs.Segments...)
	}
	done := map[string]bool{}
	hot := newChunkStream(ctx, r.st, te.Hot)
	defer hot.Close()
	ok, err := hot.Next()
	if err != nil {
		return err
	}
	for ok {
		user := hot.rec.User
		done[user] = true
		if ok, err = r.scope(ctx, t, user, coldBy[user], hot); err != nil {
			return err
		}
	}
	users := make([]string, 0, len(coldBy))
	for u := range coldBy {
		if !done[u] {
			users = append(users, u)
		}
	}
	sort.Strings(users)
	for _, u := range users {
		if _, err := r.scope(ctx, t, u, coldBy[u], nil); err != nil {
			return err
		}
	}
	return r.flush(ctx)
}

// scope merges user's hot records (hot positioned on its first one, or
// nil) with its segments and proposes the newest live version of every
// key. It returns whether hot is positioned on a record of another scope.
func (r *restorer) scope(ctx context.Context, t *catalog.Table, user string, segs []ColdSegment, hot *chunkStream) (bool, error) {
	cs := newColdStream(ctx, r.st, t, segs, r.stats)
	defer cs.release()
	if err := cs.next(); err != nil {
		return false, err
	}
	hotOK := hot != nil && hot.ok && hot.rec.User == user
	for hotOK || cs.ok {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		c := 0
		switch {
		case !cs.ok:
			c = -1
		case !hotOK:
			c = 1
		default:
			c = bytes.Compare(hot.rec.PK, cs.key)
		}
		if c <= 0 {
			h, err := rowcodec.ReadHeader(hot.rec.Row)
			if err != nil {
				return false, &ObjectError{Key: hot.ref.Key, Err: err}
			}
			// Equal keys: the higher _seq wins, hot on a tie.
			if c < 0 || h.Seq >= cs.seq {
				if !h.Deleted {
					if err := r.add(ctx, t, user, hot.rec.PK, hot.rec.Row); err != nil {
						return false, err
					}
				}
			} else if err := r.addCold(ctx, t, user, cs); err != nil {
				return false, err
			}
			if c == 0 {
				if err := cs.next(); err != nil {
					return false, err
				}
			}
			more, err := hot.Next()
			if err != nil {
				return false, err
			}
			hotOK = more && hot.rec.User == user
			if !more {
				hot.ok = false
			}
			continue
		}
		if err := r.addCold(ctx, t, user, cs); err != nil {
			return false, err
		}
		if err := cs.next(); err != nil {
			return false, err
		}
	}
	return hot != nil && hot.ok, nil
}

// addCold proposes the cold stream's current row unless it is a tombstone.
func (r *restorer) addCold(ctx context.Context, t *catalog.Table, user string, cs *coldStream) error {
	if cs.deleted {
		return nil
	}
	row, err := cs.encode()
	if err != nil {
		return err
	}
	return r.add(ctx, t, user, cs.key, row)
}

// coldStream yields a scope's newest version per key across its
// segments, loading one cluster of overlapping segments at a time.
type coldStream struct {
	ctx      context.Context
	st       objstore.Store
	t        *catalog.Table
	clusters [][]ColdSegment
	stats    *RestoreStats
	// current cluster
	cur   *cold.Cursor
	files []*segFile
	// current row
	ok      bool
	key     []byte
	seq     uint64
	deleted bool
	f       *cold.File
	row     int
	obj     string
}

// segFile pairs a decoded segment with its backup object key (errors).
type segFile struct {
	f   *cold.File
	key string
}

func newColdStream(ctx context.Context, st objstore.Store, t *catalog.Table, segs []ColdSegment, stats *RestoreStats) *coldStream {
	return &coldStream{ctx: ctx, st: st, t: t, clusters: clusters(segs), stats: stats}
}

// clusters splits segments (sorted by MinPK) where a segment starts after
// every earlier one ended.
func clusters(segs []ColdSegment) [][]ColdSegment {
	s := append([]ColdSegment(nil), segs...)
	sort.SliceStable(s, func(i, j int) bool { return bytes.Compare(s[i].Segment.MinPK, s[j].Segment.MinPK) < 0 })
	var out [][]ColdSegment
	var hi []byte
	for i, seg := range s {
		if i == 0 || bytes.Compare(seg.Segment.MinPK, hi) > 0 {
			out = append(out, nil)
			hi = nil
		}
		out[len(out)-1] = append(out[len(out)-1], seg)
		if bytes.Compare(seg.Segment.MaxPK, hi) > 0 {
			hi = seg.Segment.MaxPK
		}
	}
	return out
}

// next moves to the next key (loading the next cluster when needed).
func (c *coldStream) next() error {
	if c.cur != nil {
		c.cur.Next()
	}
	for c.cur == nil || !c.cur.Valid() {
		c.release()
		if len(c.clusters) == 0 {
			c.ok = false
			return nil
		}
		if err := c.load(c.clusters[0]); err != nil {
			return err
		}
		c.clusters = c.clusters[1:]
	}
	c.f, c.row = c.cur.File(), c.cur.Row()
	c.key = append(c.key[:0], c.cur.Key()...)
	c.seq, c.deleted, c.ok = c.f.Seq(c.row), c.f.Deleted(c.row), true
	for _, f := range c.files {
		if f.f == c.f {
			c.obj = f.key
		}
	}
	return nil
}

func (c *coldStream) load(segs []ColdSegment) error {
	var files []*cold.File
	for _, cs := range segs {
		data, err := getVerified(c.ctx, c.st, cs.Object)
		if err != nil {
			return err
		}
		seg := cs.Segment
		f, err := cold.Decode(c.ctx, &seg, data)
		if err != nil {
			return &ObjectError{Key: cs.Object.Key, Err: err}
		}
		files = append(files, f)
		c.files = append(c.files, &segFile{f: f, key: cs.Object.Key})
	}
	c.stats.MaxOpenSegments = max(c.stats.MaxOpenSegments, len(files))
	c.cur = cold.NewCursor(files, nil, nil, false)
	return nil
}

// release drops the current cluster.
func (c *coldStream) release() { c.cur, c.files = nil, nil }

// encode turns the current segment row into a hot-tier row value under the
// table's latest schema version.
func (c *coldStream) encode() ([]byte, error) {
	cols := make([]rowcodec.Column, 0, len(c.t.Columns))
	for _, col := range c.t.Columns {
		idx := c.f.ColumnIndex(col.ID)
		if idx < 0 {
			continue
		}
		val, err := c.f.ValueErr(c.row, idx)
		if err != nil {
			return nil, &ObjectError{Key: c.obj, Err: err}
		}
		cols = append(cols, rowcodec.Column{ID: col.ID, Value: storedValue(col.Type.Kind, val)})
	}
	row, err := rowcodec.Encode(0, false, c.t.SchemaVersion, cols)
	if err != nil {
		return nil, &ObjectError{Key: c.obj, Err: err}
	}
	return row, nil
}
