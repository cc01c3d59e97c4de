package flush

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

type scopeInfo struct {
	group uint16
	user  string
	rows  int64
}

// hotScopes lists the scopes of t that hold hot rows, with row counts.
// For per-user tables it skips from user to user with SeekGE, so the cost
// is one seek per user plus the rows counted.
func (m *Manager) hotScopes(t *catalog.Table) []scopeInfo {
	if !t.Type.PerUser() {
		p := keys.ScopePrefix(keys.GroupShared, t.ID, "", false)
		n := countKeys(m.db, p, keys.PrefixEnd(p))
		if n == 0 {
			return nil
		}
		return []scopeInfo{{group: keys.GroupShared, rows: n}}
	}
	var out []scopeInfo
	for _, g := range keys.AllDataGroups() {
		if g == keys.GroupShared {
			continue
		}
		tp := keys.TablePrefix(g, t.ID)
		it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: keys.PrefixEnd(tp)})
		if err != nil {
			continue
		}
		for valid := it.First(); valid; {
			rest := it.Key()[len(tp):]
			i := bytes.IndexByte(rest, 0)
			if i < 0 {
				valid = it.Next()
				continue
			}
			user := string(rest[:i])
			sp := keys.ScopePrefix(g, t.ID, user, true)
			n := int64(0)
			for ; valid && bytes.HasPrefix(it.Key(), sp); valid = it.Next() {
				n++
			}
			out = append(out, scopeInfo{group: g, user: user, rows: n})
		}
		it.Close()
	}
	return out
}

func countKeys(r pebble.Reader, lo, hi []byte) int64 {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0
	}
	defer it.Close()
	n := int64(0)
	for valid := it.First(); valid; valid = it.Next() {
		n++
	}
	return n
}

// schemaOf is the segment schema of a table's current definition.
func schemaOf(t *catalog.Table) cold.Schema {
	s := cold.Schema{PK: t.PKIndex(), Version: t.SchemaVersion}
	proj := catalog.NewProjection(t)
	for i, c := range t.Columns {
		s.Columns = append(s.Columns, cold.Column{ID: c.ID, Name: c.Name, Kind: c.Type.Kind})
		if proj.Active() {
			s.Missing = append(s.Missing, proj.Fill(i, 0))
			s.AddedIn = append(s.AddedIn, c.AddedIn)
		}
	}
	return s
}

func (m *Manager) flushTable(ctx context.Context, t *catalog.Table, j *catalog.Job, sel scopeSel) (Stats, error) {
	var total Stats
	if t.PKIndex() < 0 {
		return total, fmt.Errorf("table %s has no primary key", t.QualifiedName())
	}
	m.mu.Lock()
	m.lastFlush[t.ID] = m.now()
	m.mu.Unlock()
	for _, s := range m.hotScopes(t) {
		if skip, err := m.skipScope(sel, s.group); skip || err != nil {
			if err != nil {
				return total, err
			}
			continue
		}
		var st Stats
		err := m.withRetry(ctx, j, func() error {
			var err error
			st, err = m.flushScope(ctx, t, s.user)
			return err
		})
		if err != nil {
			return total, jobErrorf(s.user, err)
		}
		total.Rows += st.Rows
		total.Bytes += st.Bytes
		total.Segments += st.Segments
	}
	m.compactHot(ctx, t)
	return total, nil
}

// compactHot compacts the table's hot key ranges after a flush: the
// flushed rows are deleted but their versions and tombstones stay in the
// LSM until compaction, and every scan of the scope would step over them.
func (m *Manager) compactHot(ctx context.Context, t *catalog.Table) {
	groups := []uint16{keys.GroupShared}
	if t.Type.PerUser() {
		groups = keys.AllDataGroups()[1:]
	}
	for _, g := range groups {
		p := keys.TablePrefix(g, t.ID)
		if err := m.db.Compact(ctx, p, keys.PrefixEnd(p), false); err != nil && ctx.Err() == nil {
			m.log.Warn("hot-tier compaction after flush failed", "table", t.QualifiedName(), "err", err)
		}
	}
}

// scopeState is a scope's committed cold state read under its lock.
type scopeState struct {
	group   uint16
	ptrKey  []byte
	ptr     engine.ColdPointer
	store   objstore.Store
	rec     *catalog.Storage
	dir     string
	man     *cold.Manifest
	storage string
	// tag names this write's objects uniquely on a replicated node
	// (cold.TaggedSegmentKey); "" on a single node.
	tag string
}

func (m *Manager) loadScope(ctx context.Context, r pebble.Reader, t *catalog.Table, user string) (*scopeState, error) {
	s := &scopeState{tag: m.writeTag()}
	s.group, s.ptrKey = pointerKey(t, user)
	var err error
	if s.ptr, err = engine.ReadColdPointer(r, s.ptrKey); err != nil {
		return nil, err
	}
	s.storage = s.ptr.StorageID
	if s.storage == "" {
		s.storage = t.StorageID
	}
	if s.store, s.rec, err = m.Store(s.storage); err != nil {
		return nil, err
	}
	if s.dir, err = scopeDir(s.rec, t, user); err != nil {
		return nil, err
	}
	if s.ptr.Manifest != "" {
		if s.man, err = m.reader.Manifest(ctx, s.store, s.storage, s.ptr.Manifest); err != nil {
			return nil, err
		}
		return s, nil
	}
	now := m.nowMs()
	s.man = &cold.Manifest{FormatVersion: cold.FormatVersion, TableID: t.ID, Namespace: t.Namespace, Table: t.Name,
		Version: s.ptr.Version, CreatedAt: now, NextSegment: 1}
	if t.Type.PerUser() {
		s.man.UserID = user
	}
	return s, nil
}

// mayHoldCold reports whether any committed segment's key range holds pk.
func mayHoldCold(man *cold.Manifest, pk []byte) bool {
	for i := range man.Segments {
		if man.Segments[i].MayContain(pk) {
			return true
		}
	}
	return false
}

// flushScope moves one scope's hot rows to a new segment (commit protocol
// in the package comment).
func (m *Manager) flushScope(ctx context.Context, t *catalog.Table, user string) (Stats, error) {
	id := scopeID{t.ID, user}
	l := m.scopeLock(id)
	l.Lock()
	defer l.Unlock()
	snap := m.db.NewSnapshot()
	defer snap.Close()
	// Re-read the definition after the snapshot: every row in it was
	// written under this version or an older one, so no column of a row
	// is unknown to the segment schema (ALTER TABLE during a flush).
	if cur, ok := m.cat.TableByID(t.ID); ok {
		t = cur
	}
	s, err := m.loadScope(ctx, snap, t, user)
	if err != nil {
		return Stats{}, err
	}
	sp := keys.ScopePrefix(s.group, t.ID, user, t.Type.PerUser())
	schema := schemaOf(t)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: sp, UpperBound: keys.PrefixEnd(sp)})
	if err != nil {
		return Stats{}, err
	}
	t0 := time.Now()
	var tScan, tPut, tCommit time.Duration
	defer func() {
		m.log.Debug("flush scope", "table", t.QualifiedName(), "user", user, "scan+encode", tScan, "put", tPut, "commit", tCommit)
	}()
	m.mu.Lock()
	hint := int(min(max(m.pending[id], 1024), int64(m.opts.MaxRowsPerFlush)))
	m.mu.Unlock()
	// Rows stream from the snapshot straight into the Parquet column
	// builders; only the purge list (key, _seq) is kept per row.
	var w *cold.Writer
	defer func() {
		if w != nil {
			w.Abort()
		}
	}()
	purge := make([]engine.PurgeKey, 0, hint)
	keyArena := make([]byte, 0, hint*(len(sp)+16))
	var held int64 // hot bytes read into this flush (MaxBytesPerFlush)
	for valid := it.First(); valid && len(purge) < m.opts.MaxRowsPerFlush && held < m.opts.MaxBytesPerFlush; valid = it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return Stats{}, err
		}
		seq, ok := rowcodec.SeqOf(v)
		if !ok {
			it.Close()
			return Stats{}, fmt.Errorf("while reading hot row %x: %w", k, rowcodec.ErrCorrupt)
		}
		// Keys share one arena: one allocation per ~hint keys, not per key.
		if cap(keyArena)-len(keyArena) < len(k) {
			keyArena = make([]byte, 0, max(len(k)*4096, 1<<16))
		}
		keyArena = append(keyArena, k...)
		key := keyArena[len(keyArena)-len(k) : len(keyArena) : len(keyArena)]
		purge = append(purge, engine.PurgeKey{Key: key, Seq: seq})
		held += int64(len(k) + len(v))
		pk := k[len(sp):]
		if h, _ := rowcodec.ReadHeader(v); h.Deleted && !mayHoldCold(s.man, pk) {
			continue // a tombstone matters only if an older cold row may exist
		}
		if w == nil {
			if w, err = cold.NewWriter(schema, cold.WriteOptions{Compression: t.Compression}, hint); err != nil {
				it.Close()
				return Stats{}, err
			}
		}
		if err := w.AppendEncoded(pk, v); err != nil {
			it.Close()
			return Stats{}, fmt.Errorf("while encoding hot row %x: %w", k, err)
		}
	}
	if err := it.Close(); err != nil {
		return Stats{}, err
	}
	if len(purge) == 0 {
		return Stats{}, nil
	}
	st := Stats{}
	cc := &engine.ColdCommit{Purge: purge}
	var newMan *cold.Manifest
	if w != nil {
		n := s.man.NextSegment
		data, seg, err := w.Finish()
		w = nil
		if err != nil {
			return Stats{}, err
		}
		tScan = time.Since(t0)
		t1 := time.Now()
		seg.ID, seg.Path, seg.CreatedAt = n, cold.TaggedSegmentKey(s.dir, n, s.tag), m.nowMs()
		if err := s.store.Put(ctx, seg.Path, data); err != nil {
			return Stats{}, fmt.Errorf("while writing %s: %w", seg.Path, err)
		}
		newMan = s.man.Clone()
		newMan.Version, newMan.NextSegment, newMan.UpdatedAt = s.ptr.Version+1, n+1, m.nowMs()
		newMan.LastSeq = max(newMan.LastSeq, seg.MaxSeq)
		newMan.Segments = append(newMan.Segments, seg)
		mkey, err := m.putManifest(ctx, s, newMan)
		if err != nil {
			return Stats{}, err
		}
		tPut = time.Since(t1)
		cc.Pointer, cc.PrevVersion = s.ptrKey, s.ptr.Version
		cc.New = &engine.ColdPointer{Version: newMan.Version, StorageID: s.storage, Manifest: mkey, Segments: len(newMan.Segments)}
		st.Rows, st.Bytes, st.Segments = seg.RowCount, int64(len(data)), 1
	}
	if cc.Pointer != nil {
		// Readers skip the cold tier of tables not marked here (ScopeView's
		// hot-only fast path). The observer marks a table only after the
		// commit is durable, while a reader's snapshot may already hold it
		// (hot rows purged, pointer set): marked after the commit, such a
		// read saw neither tier and returned no rows. Marking first is
		// harmless: a snapshot without the pointer reads an empty view.
		m.coldTables.Store(t.ID, struct{}{})
	}
	t2 := time.Now()
	// The observer takes the purged rows off the pending count (on every
	// replica) when the commit applies.
	if _, err := m.exec.Propose(ctx, &engine.Command{Group: s.group, TimeMs: m.nowMs(), Cold: cc}); err != nil {
		return Stats{}, fmt.Errorf("while committing flush: %w", err)
	}
	tCommit = time.Since(t2)
	if newMan != nil {
		m.mirror(ctx, s, newMan)
		if m.opts.CompactSegments > 0 && len(newMan.Segments) > m.opts.CompactSegments {
			if _, err := m.Submit(context.WithoutCancel(ctx), JobCompact, "auto", t, false); err != nil {
				m.log.Warn("could not queue automatic compaction", "table", t.QualifiedName(), "err", err)
			}
		}
	}
	return st, nil
}

// putManifest writes a new immutable manifest version object.
func (m *Manager) putManifest(ctx context.Context, s *scopeState, man *cold.Manifest) (string, error) {
	enc, err := man.Encode()
	if err != nil {
		return "", err
	}
	key := cold.TaggedManifestKey(s.dir, man.Version, s.tag)
	if err := s.store.Put(ctx, key, enc); err != nil {
		return "", fmt.Errorf("while writing %s: %w", key, err)
	}
	return key, nil
}

// mirror refreshes manifest.json after a commit (best effort: readers
// never use it).
func (m *Manager) mirror(ctx context.Context, s *scopeState, man *cold.Manifest) {
	enc, err := man.Encode()
	if err == nil {
		err = s.store.Put(ctx, cold.MirrorKey(s.dir), enc)
	}
	if err != nil {
		m.log.Warn("could not refresh manifest.json", "dir", s.dir, "err", err)
	}
}
