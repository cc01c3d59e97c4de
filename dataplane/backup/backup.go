package backup

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// DefaultChunkBytes bounds one row chunk (memory per backup and object
// size) when a request names no bound (backup.chunk_bytes).
const DefaultChunkBytes = 8 << 20

// maxRecordPart rejects a corrupt record length before allocating it. It
// is independent of the chunk bound a backup was taken with.
const maxRecordPart = 16 << 20

// Progress is the running total of a backup, restore or verify.
type Progress struct {
	Files         int64
	BytesUploaded int64
	BytesReused   int64
	// BytesRead counts object bytes read (restore, verify).
	BytesRead int64
	Rows      int64
}

// BackupRequest is one backup to take.
type BackupRequest struct {
	ID string
	// Namespace limits the backup to one namespace ("" = whole database).
	Namespace string
	Target    objstore.Store
	// Progress, when set, is called after every object (same goroutine).
	Progress func(Progress)
	// ChunkBytes bounds one row chunk, built in memory before it is
	// uploaded (0 = DefaultChunkBytes); a single larger row gets a chunk
	// of its own.
	ChunkBytes int
	// ClusterBarrier records in the manifest that the snapshot was taken
	// after a barrier on every Raft group (Options.Barrier).
	ClusterBarrier bool
}

// uploader writes content-addressed objects, reusing those the target
// already holds.
type uploader struct {
	st       objstore.Store
	existing map[string]int64
	refs     map[string]ObjectRef
	order    []ObjectRef
	prog     Progress
	report   func(Progress)
}

func newUploader(ctx context.Context, st objstore.Store, report func(Progress)) (*uploader, error) {
	list, err := st.List(ctx, objectsDir+"/")
	if err != nil {
		return nil, fmt.Errorf("while listing %s in the target: %w", objectsDir, err)
	}
	u := &uploader{st: st, existing: make(map[string]int64, len(list)), refs: map[string]ObjectRef{}, report: report}
	for _, o := range list {
		u.existing[o.Key] = o.Size
	}
	return u, nil
}

// put stores data content-addressed and returns its reference.
func (u *uploader) put(ctx context.Context, data []byte) (ObjectRef, error) {
	h := hashOf(data)
	ref := ObjectRef{Key: ObjectKey(h), Size: int64(len(data)), SHA256: h}
	if _, seen := u.refs[ref.Key]; seen {
		return ref, nil
	}
	if size, ok := u.existing[ref.Key]; ok && size == ref.Size {
		u.prog.BytesReused += ref.Size
	} else {
		if err := u.st.Put(ctx, ref.Key, data); err != nil {
			return ObjectRef{}, fmt.Errorf("while uploading %s: %w", ref.Key, err)
		}
		u.prog.BytesUploaded += ref.Size
	}
	u.record(ref)
	return ref, nil
}

// reuse records ref without reading its content when this backup or the
// target already holds it: objects are content-addressed, so the same
// SHA-256 and size is the same object.
func (u *uploader) reuse(ref ObjectRef) bool {
	if _, seen := u.refs[ref.Key]; seen {
		return true
	}
	if size, ok := u.existing[ref.Key]; !ok || size != ref.Size {
		return false
	}
	u.prog.BytesReused += ref.Size
	u.record(ref)
	return true
}

// record adds a new object to the backup and reports progress.
func (u *uploader) record(ref ObjectRef) {
	u.refs[ref.Key] = ref
	u.order = append(u.order, ref)
	u.prog.Files++
	if u.report != nil {
		u.report(u.prog)
	}
}

// Backup takes one backup from snap (which it does not close) into the
// request's target, reading cold objects through stores. The manifest is
// written last; on error no manifest exists and failed.json says why.
func Backup(ctx context.Context, snap pebble.Reader, stores Stores, version string, now time.Time, req BackupRequest) (m *Manifest, err error) {
	if err := ValidateID(req.ID); err != nil {
		return nil, err
	}
	scope := ScopeDatabase
	if req.Namespace != "" {
		scope = NamespaceScope(req.Namespace)
	}
	m = &Manifest{FormatVersion: FormatVersion, BackupID: req.ID, Scope: scope, ServerVersion: version, StartedAt: now.UnixMilli(), ClusterBarrier: req.ClusterBarrier}
	started, _ := json.Marshal(map[string]any{"backup_id": req.ID, "scope": scope, "started_at": m.StartedAt, "server_version": version, "format_version": FormatVersion})
	if err := req.Target.Put(ctx, startedKey(req.ID), started); err != nil {
		return nil, fmt.Errorf("while writing %s: %w", startedKey(req.ID), err)
	}
	defer func() {
		if err != nil {
			// Best effort: the missing manifest already marks the backup
			// incomplete; failed.json tells SHOW BACKUPS why.
			msg, _ := json.Marshal(map[string]any{"backup_id": req.ID, "error": err.Error(), "failed_at": time.Now().UnixMilli()})
			_ = req.Target.Put(context.WithoutCancel(ctx), failedKey(req.ID), msg)
		}
	}()
	for _, g := range keys.AllGroups() {
		mark, err := readGroupMark(snap, g)
		if err != nil {
			return nil, err
		}
		m.Groups = append(m.Groups, mark)
		m.SeqHighWater = max(m.SeqHighWater, mark.LastSeq)
	}
	img, err := ReadCatalog(snap)
	if err != nil {
		return nil, err
	}
	if req.Namespace != "" {
		if !img.hasNamespace(req.Namespace) {
			return nil, fmt.Errorf("namespace '%s' not found", req.Namespace)
		}
		img = img.filter(req.Namespace)
	}
	up, err := newUploader(ctx, req.Target, req.Progress)
	if err != nil {
		return nil, err
	}
	chunkLimit := req.ChunkBytes
	if chunkLimit <= 0 {
		chunkLimit = DefaultChunkBytes
	}
	catData, err := json.Marshal(img)
	if err != nil {
		return nil, err
	}
	if m.Catalog, err = up.put(ctx, catData); err != nil {
		return nil, err
	}
	for _, ti := range img.Tables {
		te, err := backupTable(ctx, snap, stores, up, ti.Latest, now, chunkLimit)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", ti.Latest.QualifiedName(), err)
		}
		m.Tables = append(m.Tables, te)
	}
	m.Objects = up.order
	for _, o := range m.Objects {
		m.SizeBytes += o.Size
	}
	m.BytesUploaded, m.BytesReused, m.Rows = up.prog.BytesUploaded, up.prog.BytesReused, up.prog.Rows
	m.FinishedAt = time.Now().UnixMilli()
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	if err := req.Target.Put(ctx, ManifestKey(req.ID), data); err != nil {
		return nil, fmt.Errorf("while writing %s: %w", ManifestKey(req.ID), err)
	}
	return m, nil
}

func readGroupMark(r pebble.Reader, g uint16) (GroupMark, error) {
	mark := GroupMark{Group: g}
	v, closer, err := r.Get(keys.GroupState(g))
	if errors.Is(err, pebble.ErrNotFound) {
		return mark, nil
	}
	if err != nil {
		return mark, fmt.Errorf("while reading state of group %d: %w", g, err)
	}
	defer closer.Close()
	if len(v) >= 16 {
		mark.AppliedIndex = binary.BigEndian.Uint64(v[0:8])
		mark.LastSeq = binary.BigEndian.Uint64(v[8:16])
	}
	return mark, nil
}

// ReadCatalog reads the catalog records of a snapshot.
func ReadCatalog(r pebble.Reader) (*CatalogImage, error) {
	img := &CatalogImage{}
	if err := eachRecord(r, catalog.RecNamespace, func(_ string, v []byte) error {
		var n catalog.Namespace
		img.Namespaces = append(img.Namespaces, &n)
		return json.Unmarshal(v, &n)
	}); err != nil {
		return nil, err
	}
	versions := map[uint32][]*catalog.Table{}
	if err := eachRecord(r, catalog.RecSchema, func(_ string, v []byte) error {
		var t catalog.Table
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		versions[t.ID] = append(versions[t.ID], &t)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRecord(r, catalog.RecTable, func(_ string, v []byte) error {
		var t catalog.Table
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		vs := versions[t.ID]
		sort.Slice(vs, func(i, j int) bool { return vs[i].SchemaVersion < vs[j].SchemaVersion })
		img.Tables = append(img.Tables, TableImage{Latest: &t, Versions: vs})
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRecord(r, catalog.RecUser, func(_ string, v []byte) error {
		var u catalog.User
		img.Users = append(img.Users, &u)
		return json.Unmarshal(v, &u)
	}); err != nil {
		return nil, err
	}
	if err := eachRecord(r, catalog.RecStorage, func(_ string, v []byte) error {
		var s catalog.Storage
		img.Storages = append(img.Storages, &s)
		return json.Unmarshal(v, &s)
	}); err != nil {
		return nil, err
	}
	return img, nil
}

func eachRecord(r pebble.Reader, rec byte, fn func(name string, v []byte) error) error {
	p := keys.CatalogPrefix(rec)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(string(it.Key()[len(p):]), it.Value()); err != nil {
			it.Close()
			return fmt.Errorf("catalog record %q: %w", it.Key()[len(p):], err)
		}
	}
	return it.Close()
}

func (img *CatalogImage) hasNamespace(ns string) bool {
	for _, n := range img.Namespaces {
		if n.Name == ns {
			return true
		}
	}
	return false
}

// filter keeps one namespace and its tables (users and storages stay:
// restored rows need their owners and tables their storage).
func (img *CatalogImage) filter(ns string) *CatalogImage {
	out := &CatalogImage{Users: img.Users, Storages: img.Storages}
	for _, n := range img.Namespaces {
		if n.Name == ns {
			out.Namespaces = append(out.Namespaces, n)
		}
	}
	for _, t := range img.Tables {
		if t.Latest.Namespace == ns {
			out.Tables = append(out.Tables, t)
		}
	}
	return out
}

// tableGroups lists the groups that can hold a table's rows.
func tableGroups(t *catalog.Table) []uint16 {
	if t.Type.PerUser() {
		return keys.AllDataGroups()[1:]
	}
	return []uint16{keys.GroupShared}
}

// streamCutoff is the smallest _seq of a STREAM table still alive at now
// (same rule as reads: rows stamped before now-TTL are expired).
func streamCutoff(t *catalog.Table, now time.Time) uint64 {
	if t.Type != catalog.TableStream || t.TTLSeconds <= 0 {
		return 0
	}
	ms := now.UnixMilli() - t.TTLSeconds*1000 - engine.SeqEpochMs
	if ms <= 0 {
		return 0
	}
	return uint64(ms) << 22
}

func backupTable(ctx context.Context, snap pebble.Reader, stores Stores, up *uploader, t *catalog.Table, now time.Time, chunkLimit int) (TableEntry, error) {
	te := TableEntry{Namespace: t.Namespace, Name: t.Name, Type: string(t.Type), SourceID: t.ID, StreamCutoffSeq: streamCutoff(t, now)}
	var cw chunkWriter
	flushChunk := func() error {
		if cw.buf.Len() == 0 {
			return nil
		}
		ref, err := up.put(ctx, cw.buf.Bytes())
		if err != nil {
			return err
		}
		te.Hot = append(te.Hot, ref)
		cw.buf.Reset()
		return nil
	}
	for _, g := range tableGroups(t) {
		if err := ctx.Err(); err != nil {
			return te, err
		}
		tp := keys.TablePrefix(g, t.ID)
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: keys.PrefixEnd(tp)})
		if err != nil {
			return te, err
		}
		for it.First(); it.Valid(); it.Next() {
			rest := it.Key()[len(tp):]
			user := ""
			if t.Type.PerUser() {
				i := bytes.IndexByte(rest, 0)
				if i < 0 {
					continue
				}
				user, rest = string(rest[:i]), rest[i+1:]
			}
			v := it.Value()
			h, err := rowcodec.ReadHeader(v)
			if err != nil {
				it.Close()
				return te, fmt.Errorf("corrupt hot row: %w", err)
			}
			if te.StreamCutoffSeq != 0 && h.Seq < te.StreamCutoffSeq {
				continue
			}
			if !cw.fits(recordLen(user, rest, v), chunkLimit) {
				if err := flushChunk(); err != nil {
					it.Close()
					return te, err
				}
			}
			cw.add(user, rest, v)
			up.prog.Rows++
		}
		if err := it.Close(); err != nil {
			return te, err
		}
		if err := backupCold(ctx, snap, stores, up, t, g, &te); err != nil {
			return te, err
		}
	}
	return te, flushChunk()
}

// backupCold copies the segments of every scope of t in group g whose
// manifest pointer (in the snapshot) names a manifest.
func backupCold(ctx context.Context, snap pebble.Reader, stores Stores, up *uploader, t *catalog.Table, g uint16, te *TableEntry) error {
	p := keys.ColdPointerPrefix(g, t.ID, false)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return err
	}
	type ptr struct {
		user string
		p    engine.ColdPointer
	}
	var ptrs []ptr
	for it.First(); it.Valid(); it.Next() {
		_, user, ok := keys.ParseColdPointer(it.Key())
		if !ok {
			continue
		}
		cp, err := engine.DecodeColdPointer(it.Value())
		if err != nil {
			it.Close()
			return err
		}
		if cp.Manifest != "" {
			ptrs = append(ptrs, ptr{user, cp})
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, pt := range ptrs {
		if stores == nil {
			return fmt.Errorf("cold data in storage '%s' but no storages are available", pt.p.StorageID)
		}
		st, err := stores.Store(pt.p.StorageID)
		if err != nil {
			return fmt.Errorf("storage '%s': %w", pt.p.StorageID, err)
		}
		data, err := st.Get(ctx, pt.p.Manifest)
		if err != nil {
			return fmt.Errorf("while reading cold manifest %s: %w", pt.p.Manifest, err)
		}
		man, err := cold.DecodeManifest(data)
		if err != nil {
			return fmt.Errorf("cold manifest %s: %w", pt.p.Manifest, err)
		}
		cs := ColdScope{User: pt.user, ManifestVersion: man.Version}
		if cs.Manifest, err = up.put(ctx, data); err != nil {
			return err
		}
		for _, seg := range man.Segments {
			if seg.SHA256 != "" {
				// Hash recorded at write time: no need to download a
				// segment the target already holds.
				ref := ObjectRef{Key: ObjectKey(seg.SHA256), Size: seg.SizeBytes, SHA256: seg.SHA256}
				if up.reuse(ref) {
					cs.Segments = append(cs.Segments, ColdSegment{Object: ref, Segment: seg})
					continue
				}
			}
			ref, err := up.copySegment(ctx, st, seg)
			if err != nil {
				return err
			}
			cs.Segments = append(cs.Segments, ColdSegment{Object: ref, Segment: seg})
		}
		te.Cold = append(te.Cold, cs)
	}
	return nil
}

// NewID returns a backup id that sorts by time.
func NewID(now time.Time, seq uint32) string {
	return strings.ReplaceAll(now.UTC().Format("20060102T150405.000Z"), ".", "") + fmt.Sprintf("-%04x", seq&0xffff)
}
