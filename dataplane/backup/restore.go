package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// Restore batching: rows per command and encoded bytes per command.
const (
	restoreBatchRows  = 1000
	restoreBatchBytes = 4 << 20
)

// Server is the running server a restore writes into. Every write goes
// through Propose (the engine's single apply path); the other methods read
// its current catalog.
type Server interface {
	engine.Proposer
	// NamespaceTables reports whether ns exists and how many tables it has.
	NamespaceTables(ns string) (exists bool, tables int)
	HasUser(id string) bool
	HasStorage(id string) bool
	// DropNamespace drops ns with all its tables and their data
	// (RESTORE ... WITH OVERWRITE).
	DropNamespace(ctx context.Context, ns string) error
}

// RestoreRequest is one restore (or verify) to run.
type RestoreRequest struct {
	// ID is the backup to restore; "" picks the newest completed one.
	ID string
	// Namespace restores only that namespace ("" = everything).
	Namespace string
	// Overwrite drops existing namespaces that have tables instead of
	// refusing.
	Overwrite bool
	Target    objstore.Store
	Progress  func(Progress)
}

// ErrNoBackup reports a target without a completed backup.
var ErrNoBackup = errors.New("no completed backup")

// LoadManifest reads backup id's manifest ("" = the newest completed).
func LoadManifest(ctx context.Context, st objstore.Store, id string) (*Manifest, error) {
	if id == "" {
		ids, err := completedIDs(ctx, st)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("%w in %s", ErrNoBackup, st)
		}
		id = ids[len(ids)-1]
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	key := ManifestKey(id)
	data, err := st.Get(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		if _, serr := st.Get(ctx, startedKey(id)); serr == nil {
			return nil, &ObjectError{Key: key, Err: fmt.Errorf("backup %s is not complete (no manifest)", id)}
		}
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("backup %s not found", id)}
	}
	if err != nil {
		return nil, &ObjectError{Key: key, Err: err}
	}
	m, err := DecodeManifest(key, data)
	if err != nil {
		return nil, err
	}
	if m.BackupID != id {
		return nil, &ObjectError{Key: key, Err: fmt.Errorf("manifest names backup %q", m.BackupID)}
	}
	return m, nil
}

// completedIDs lists backups that have a manifest, oldest first (ids sort
// by time).
func completedIDs(ctx context.Context, st objstore.Store) ([]string, error) {
	list, err := st.List(ctx, backupsDir+"/")
	if err != nil {
		return nil, fmt.Errorf("while listing backups in %s: %w", st, err)
	}
	var ids []string
	for _, o := range list {
		if path.Base(o.Key) == manifestName {
			ids = append(ids, path.Base(path.Dir(o.Key)))
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// getVerified reads one object and checks its size and SHA-256.
func getVerified(ctx context.Context, st objstore.Store, ref ObjectRef) ([]byte, error) {
	data, err := st.Get(ctx, ref.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, &ObjectError{Key: ref.Key, Err: errors.New("missing")}
	}
	if err != nil {
		return nil, &ObjectError{Key: ref.Key, Err: err}
	}
	if int64(len(data)) != ref.Size {
		return nil, &ObjectError{Key: ref.Key, Err: fmt.Errorf("size %d, manifest says %d (truncated or replaced)", len(data), ref.Size)}
	}
	if h := hashOf(data); h != ref.SHA256 {
		return nil, &ObjectError{Key: ref.Key, Err: fmt.Errorf("SHA-256 %s, manifest says %s (corrupt)", h, ref.SHA256)}
	}
	return data, nil
}

// Verify re-reads every object of a backup and checks sizes, checksums
// and that the catalog and row chunks decode. It writes nothing.
func Verify(ctx context.Context, req RestoreRequest) (*Manifest, *CatalogImage, error) {
	m, err := LoadManifest(ctx, req.Target, req.ID)
	if err != nil {
		return nil, nil, err
	}
	var prog Progress
	hot := map[string]bool{}
	segs := map[string]*cold.Segment{}
	for _, t := range m.Tables {
		for _, r := range t.Hot {
			hot[r.Key] = true
		}
		for _, cs := range t.Cold {
			for i := range cs.Segments {
				segs[cs.Segments[i].Object.Key] = &cs.Segments[i].Segment
			}
		}
	}
	var img *CatalogImage
	for _, ref := range m.Objects {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		data, err := getVerified(ctx, req.Target, ref)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case ref.Key == m.Catalog.Key:
			img = &CatalogImage{}
			if err := json.Unmarshal(data, img); err != nil {
				return nil, nil, &ObjectError{Key: ref.Key, Err: fmt.Errorf("corrupt catalog: %w", err)}
			}
		case hot[ref.Key]:
			recs, err := decodeChunk(data)
			if err != nil {
				return nil, nil, &ObjectError{Key: ref.Key, Err: err}
			}
			prog.Rows += int64(len(recs))
		case segs[ref.Key] != nil:
			// Parquet footer plus key, _seq and _deleted columns.
			seg := *segs[ref.Key]
			if _, err := cold.Decode(ctx, &seg, data); err != nil {
				return nil, nil, &ObjectError{Key: ref.Key, Err: err}
			}
		}
		prog.Files++
		prog.BytesRead += ref.Size
		if req.Progress != nil {
			req.Progress(prog)
		}
	}
	if img == nil {
		return nil, nil, &ObjectError{Key: m.Catalog.Key, Err: errors.New("catalog object is not listed in the manifest")}
	}
	return m, img, nil
}

// Restore verifies a backup completely, then recreates its storages,
// users, namespaces and tables and proposes its rows into srv. Nothing is
// written when verification or the conflict check fails.
func Restore(ctx context.Context, srv Server, req RestoreRequest) (*Manifest, error) {
	m, img, err := Verify(ctx, RestoreRequest{ID: req.ID, Target: req.Target})
	if err != nil {
		return nil, err
	}
	if req.Namespace != "" {
		if m.Scope != ScopeDatabase && m.Scope != NamespaceScope(req.Namespace) {
			return nil, fmt.Errorf("backup %s has scope %s and does not contain namespace '%s'", m.BackupID, m.Scope, req.Namespace)
		}
		if !img.hasNamespace(req.Namespace) {
			return nil, fmt.Errorf("backup %s does not contain namespace '%s'", m.BackupID, req.Namespace)
		}
		img = img.filter(req.Namespace)
	}
	// Conflicts are checked before the first write.
	var drop []string
	for _, n := range img.Namespaces {
		exists, tables := srv.NamespaceTables(n.Name)
		if exists && tables > 0 {
			if !req.Overwrite {
				return nil, fmt.Errorf("namespace '%s' already exists with %d table(s); drop it or restore WITH OVERWRITE", n.Name, tables)
			}
			drop = append(drop, n.Name)
		}
	}
	r := &restorer{srv: srv, st: req.Target, m: m, report: req.Progress}
	meta := func(cw *engine.CatalogWrite) (engine.Result, error) {
		return srv.Propose(ctx, &engine.Command{Group: keys.GroupMeta, TimeMs: time.Now().UnixMilli(), Catalog: cw})
	}
	for _, s := range img.Storages {
		if srv.HasStorage(s.ID) {
			continue
		}
		if _, err := meta(&engine.CatalogWrite{Op: engine.CatCreateStorage, IfNotExists: true, Storage: s}); err != nil {
			return nil, fmt.Errorf("while restoring storage '%s': %w", s.ID, err)
		}
	}
	for _, u := range img.Users {
		if srv.HasUser(u.UserID) {
			continue
		}
		if _, err := meta(&engine.CatalogWrite{Op: engine.CatCreateUser, IfNotExists: true, User: u}); err != nil {
			return nil, fmt.Errorf("while restoring user '%s': %w", u.UserID, err)
		}
	}
	for _, ns := range drop {
		if err := srv.DropNamespace(ctx, ns); err != nil {
			return nil, fmt.Errorf("while dropping namespace '%s' to overwrite it: %w", ns, err)
		}
	}
	for _, n := range img.Namespaces {
		if _, err := meta(&engine.CatalogWrite{Op: engine.CatCreateNamespace, IfNotExists: true, Namespace: n}); err != nil {
			return nil, fmt.Errorf("while restoring namespace '%s': %w", n.Name, err)
		}
	}
	entries := map[string]*TableEntry{}
	for i := range m.Tables {
		entries[m.Tables[i].QualifiedName()] = &m.Tables[i]
	}
	for _, ti := range img.Tables {
		te := entries[ti.Latest.QualifiedName()]
		if te == nil {
			return nil, fmt.Errorf("backup %s: table %s has no data entry", m.BackupID, ti.Latest.QualifiedName())
		}
		res, err := meta(&engine.CatalogWrite{Op: engine.CatRestoreTable, Table: ti.Latest, History: ti.Versions})
		if err != nil {
			return nil, fmt.Errorf("while restoring table %s: %w", ti.Latest.QualifiedName(), err)
		}
		if err := r.table(ctx, res.Table, te); err != nil {
			return nil, fmt.Errorf("while restoring rows of %s: %w", ti.Latest.QualifiedName(), err)
		}
	}
	// Restored tables keep their index definitions (state building); a
	// server that can build indexes rebuilds them from the restored rows.
	if ib, ok := srv.(interface{ ResumeIndexBuilds(context.Context) error }); ok {
		if err := ib.ResumeIndexBuilds(ctx); err != nil {
			return nil, fmt.Errorf("while rebuilding indexes: %w", err)
		}
	}
	return m, nil
}

// restorer proposes one backup's rows.
type restorer struct {
	srv    Server
	st     objstore.Store
	m      *Manifest
	report func(Progress)
	prog   Progress
	// batch is the pending command of the current scope.
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

// add queues one live row of table t for user.
func (r *restorer) add(ctx context.Context, t *catalog.Table, user string, pk, row []byte) error {
	g := keys.GroupShared
	if t.Type.PerUser() {
		g = keys.UserGroup(user)
	}
	if g != r.group || len(r.rows) >= restoreBatchRows || r.bytes >= restoreBatchBytes {
		if err := r.flush(ctx); err != nil {
			return err
		}
		r.group = g
	}
	key := keys.Row(keys.ScopePrefix(g, t.ID, user, t.Type.PerUser()), pk)
	v := append([]byte(nil), row...)
	rowcodec.SetSeq(v, 0)
	r.rows = append(r.rows, engine.RowWrite{Op: engine.OpInsert, Table: t.ID, Key: key, Row: v})
	r.bytes += len(key) + len(v)
	return nil
}

// table restores the rows of one table (t is the new definition).
func (r *restorer) table(ctx context.Context, t *catalog.Table, te *TableEntry) error {
	coldBy := map[string][]ColdSegment{}
	for _, cs := range te.Cold {
		coldBy[cs.User] = append(coldBy[cs.User], cs.Segments...)
	}
	done := map[string]bool{}
	var runUser string
	var run []chunkRecord
	inRun := false
	endRun := func() error {
		if !inRun {
			return nil
		}
		inRun = false
		done[runUser] = true
		if len(coldBy[runUser]) == 0 {
			return nil // streamed already
		}
		return r.mergedScope(ctx, t, runUser, coldBy[runUser], run)
	}
	for _, ref := range te.Hot {
		data, err := getVerified(ctx, r.st, ref)
		if err != nil {
			return err
		}
		recs, err := decodeChunk(data)
		if err != nil {
			return &ObjectError{Key: ref.Key, Err: err}
		}
		for _, rec := range recs {
			if !inRun || rec.User != runUser {
				if err := endRun(); err != nil {
					return err
				}
				runUser, run, inRun = rec.User, nil, true
			}
			if len(coldBy[rec.User]) > 0 {
				run = append(run, rec)
				continue
			}
			h, err := rowcodec.ReadHeader(rec.Row)
			if err != nil {
				return &ObjectError{Key: ref.Key, Err: err}
			}
			if h.Deleted {
				continue
			}
			if err := r.add(ctx, t, rec.User, rec.PK, rec.Row); err != nil {
				return err
			}
		}
	}
	if err := endRun(); err != nil {
		return err
	}
	users := make([]string, 0, len(coldBy))
	for u := range coldBy {
		if !done[u] {
			users = append(users, u)
		}
	}
	sort.Strings(users)
	for _, u := range users {
		if err := r.mergedScope(ctx, t, u, coldBy[u], nil); err != nil {
			return err
		}
	}
	return r.flush(ctx)
}

type version struct {
	seq     uint64
	deleted bool
	row     []byte
}

// mergedScope restores one scope that has cold segments: the newest
// version of every key across segments and hot rows, tombstones dropped.
func (r *restorer) mergedScope(ctx context.Context, t *catalog.Table, user string, segs []ColdSegment, hot []chunkRecord) error {
	latest := map[string]version{}
	for _, cs := range segs {
		data, err := getVerified(ctx, r.st, cs.Object)
		if err != nil {
			return err
		}
		seg := cs.Segment
		f, err := cold.Decode(ctx, &seg, data)
		if err != nil {
			return &ObjectError{Key: cs.Object.Key, Err: err}
		}
		if err := f.LoadAll(); err != nil {
			return &ObjectError{Key: cs.Object.Key, Err: err}
		}
		idx := make([]int, len(t.Columns))
		for i, c := range t.Columns {
			idx[i] = f.ColumnIndex(c.ID)
		}
		var buf [8]byte
		for i := 0; i < f.Len(); i++ {
			pk := string(f.PKAt(i, &buf))
			seq := f.Seq(i)
			if cur, ok := latest[pk]; ok && cur.seq >= seq {
				continue
			}
			v := version{seq: seq, deleted: f.Deleted(i)}
			if !v.deleted {
				cols := make([]rowcodec.Column, 0, len(t.Columns))
				for ci, c := range t.Columns {
					if idx[ci] < 0 {
						continue
					}
					val, err := f.ValueErr(i, idx[ci])
					if err != nil {
						return &ObjectError{Key: cs.Object.Key, Err: err}
					}
					cols = append(cols, rowcodec.Column{ID: c.ID, Value: storedValue(c.Type.Kind, val)})
				}
				row, err := rowcodec.Encode(0, false, t.SchemaVersion, cols)
				if err != nil {
					return &ObjectError{Key: cs.Object.Key, Err: err}
				}
				v.row = row
			}
			latest[pk] = v
		}
	}
	for _, rec := range hot {
		h, err := rowcodec.ReadHeader(rec.Row)
		if err != nil {
			return err
		}
		if cur, ok := latest[string(rec.PK)]; ok && cur.seq > h.Seq {
			continue
		}
		latest[string(rec.PK)] = version{seq: h.Seq, deleted: h.Deleted, row: rec.Row}
	}
	pks := make([]string, 0, len(latest))
	for pk, v := range latest {
		if !v.deleted {
			pks = append(pks, pk)
		}
	}
	sort.Strings(pks)
	for _, pk := range pks {
		if err := r.add(ctx, t, user, []byte(pk), latest[pk].row); err != nil {
			return err
		}
	}
	return nil
}

// storedValue maps a segment value to the hot-tier value of a column
// kind: text kinds are strings, BYTES are []byte.
func storedValue(k datatype.Kind, v any) any {
	switch x := v.(type) {
	case []byte:
		if k != datatype.Bytes {
			return string(x)
		}
		return bytes.Clone(x)
	case string:
		if k == datatype.Bytes {
			return []byte(x)
		}
		return strings.Clone(x)
	}
	return v
}
