package flush

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// coldScopes lists the users (or "" for SHARED) that have a manifest
// pointer for table t.
func (m *Manager) coldScopes(t *catalog.Table) ([]string, error) {
	var out []string
	groups := []uint16{keys.GroupShared}
	if t.Type.PerUser() {
		groups = keys.AllDataGroups()[1:]
	}
	for _, g := range groups {
		p := keys.ColdPointerPrefix(g, t.ID, false)
		it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
		if err != nil {
			return nil, err
		}
		for it.First(); it.Valid(); it.Next() {
			if _, u, ok := keys.ParseColdPointer(it.Key()); ok {
				out = append(out, u)
			}
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *Manager) compactTable(ctx context.Context, t *catalog.Table, j *catalog.Job, sel scopeSel) (Stats, error) {
	users, err := m.coldScopes(t)
	if err != nil {
		return Stats{}, err
	}
	var total Stats
	for _, u := range users {
		g, _ := pointerKey(t, u)
		if skip, err := m.skipScope(sel, g); skip || err != nil {
			if err != nil {
				return total, err
			}
			continue
		}
		var st Stats
		err := m.withRetry(ctx, j, func() error {
			var err error
			st, err = m.compactScope(ctx, t, u)
			return err
		})
		if err != nil {
			return total, jobErrorf(u, err)
		}
		total.Rows += st.Rows
		total.Bytes += st.Bytes
		total.Segments += st.Segments
	}
	return total, nil
}

// compactScope merges all of a scope's segments into as few as possible
// (MaxRowsPerFlush rows each), keeping the newest version per key and
// dropping tombstones: with every segment merged nothing older remains
// for a tombstone to hide. Hot rows are untouched (they are newer).
func (m *Manager) compactScope(ctx context.Context, t *catalog.Table, user string) (Stats, error) {
	l := m.scopeLock(scopeID{t.ID, user})
	l.Lock()
	defer l.Unlock()
	// Segments written under newer versions need the scope lock too, so
	// the definition read here knows every column the segments hold.
	if cur, ok := m.cat.TableByID(t.ID); ok {
		t = cur
	}
	s, err := m.loadScope(ctx, m.db, t, user)
	if err != nil {
		return Stats{}, err
	}
	tomb := int64(0)
	for _, seg := range s.man.Segments {
		tomb += seg.Tombstones
	}
	if len(s.man.Segments) < 2 && tomb == 0 {
		return Stats{}, nil
	}
	files := make([]*cold.File, 0, len(s.man.Segments))
	for i := range s.man.Segments {
		f, err := m.reader.File(ctx, s.store, s.storage, &s.man.Segments[i])
		if err == nil {
			err = f.LoadAll()
		}
		if err != nil {
			return Stats{}, err
		}
		files = append(files, f)
	}
	schema := schemaOf(t)
	proj := catalog.NewProjection(t)
	newMan := s.man.Clone()
	newMan.Segments = nil
	newMan.Version, newMan.UpdatedAt = s.ptr.Version+1, m.nowMs()
	var st Stats
	var rows []cold.Row
	var held int64 // bytes of rows (valueBytes) since the last segment
	flushOut := func() error {
		if len(rows) == 0 {
			return nil
		}
		n := newMan.NextSegment
		data, seg, err := cold.WriteSegment(schema, rows, cold.WriteOptions{Compression: t.Compression})
		if err != nil {
			return err
		}
		seg.ID, seg.Path, seg.CreatedAt = n, cold.TaggedSegmentKey(s.dir, n, s.tag), m.nowMs()
		if err := s.store.Put(ctx, seg.Path, data); err != nil {
			return fmt.Errorf("while writing %s: %w", seg.Path, err)
		}
		newMan.NextSegment = n + 1
		newMan.Segments = append(newMan.Segments, seg)
		st.Rows += int64(len(rows))
		st.Bytes += int64(len(data))
		st.Segments++
		rows = rows[:0]
		return nil
	}
	for c := cold.NewCursor(files, nil, nil, false); c.Valid(); c.Next() {
		f, r := c.File(), c.Row()
		if f.Deleted(r) {
			continue
		}
		vals := make([]any, len(t.Columns))
		for i, col := range t.Columns {
			ci := f.ColumnIndex(col.ID)
			vals[i] = f.Value(r, ci)
			if ci < 0 {
				vals[i] = proj.Fill(i, f.Meta.SchemaVersion)
			}
		}
		rows = append(rows, cold.Row{PK: append([]byte(nil), c.Key()...), Seq: f.Seq(r), Values: vals})
		for _, v := range vals {
			held += int64(valueBytes(v))
		}
		held += int64(len(c.Key()))
		if len(rows) >= m.opts.MaxRowsPerFlush || held >= m.opts.MaxBytesPerFlush {
			held = 0
			if err := flushOut(); err != nil {
				return Stats{}, err
			}
		}
	}
	if err := flushOut(); err != nil {
		return Stats{}, err
	}
	mkey, err := m.putManifest(ctx, s, newMan)
	if err != nil {
		return Stats{}, err
	}
	cc := &engine.ColdCommit{Pointer: s.ptrKey, PrevVersion: s.ptr.Version,
		New: &engine.ColdPointer{Version: newMan.Version, StorageID: s.storage, Manifest: mkey, Segments: len(newMan.Segments)}}
	if _, err := m.exec.Propose(ctx, &engine.Command{Group: s.group, TimeMs: m.nowMs(), Cold: cc}); err != nil {
		return Stats{}, fmt.Errorf("while committing compaction: %w", err)
	}
	m.mirror(ctx, s, newMan)
	return st, nil
}

// valueBytes approximates what a compacted value adds to the output
// segment being built (MaxBytesPerFlush): strings and bytes their
// length, anything else a word.
func valueBytes(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []byte:
		return len(x)
	}
	return 8
}
