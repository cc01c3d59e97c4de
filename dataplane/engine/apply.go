package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// SeqEpochMs is the Snowflake epoch of _seq values: 2024-01-01T00:00:00Z.
const SeqEpochMs = 1704067200000

// applier applies one command into a batch. It reads only the batch (which
// reads through to the committed state) and the command.
//
// Data groups write into a plain batch and keep the round's writes in an
// overlay map (reads consult it before storage); the meta group uses an
// indexed batch so catalog reads see earlier commands of the same round.
type applier struct {
	db      *pebble.DB
	b       *pebble.Batch
	group   uint16
	lastSeq uint64
	overlay map[string][]byte
	// dropped lists table prefixes deleted in this round: storage reads
	// under them must not see pre-round rows.
	dropped [][]byte
	// purged lists keys a ColdCommit deleted in this round (cold.go).
	purged [][][]byte
}

// nextSeq returns the next Snowflake _seq: 41 bits of ms since SeqEpochMs,
// 10 bits of group id, 12 bits of sequence. It never goes backwards: when
// the command's time is not past the last _seq's time, the sequence part is
// incremented (spilling into the next millisecond after 4096).
func (a *applier) nextSeq(timeMs int64) uint64 {
	ms := uint64(0)
	if timeMs > SeqEpochMs {
		ms = uint64(timeMs - SeqEpochMs)
	}
	lastMs, lastCtr := a.lastSeq>>22, a.lastSeq&0xfff
	ctr := uint64(0)
	if ms <= lastMs {
		ms, ctr = lastMs, lastCtr+1
		if ctr > 0xfff {
			ms, ctr = ms+1, 0
		}
	}
	a.lastSeq = ms<<22 | uint64(a.group&0x3ff)<<12 | ctr
	return a.lastSeq
}

func (a *applier) get(key []byte) ([]byte, error) {
	if a.overlay == nil {
		return getCopy(a.b, key)
	}
	if v, ok := a.overlay[string(key)]; ok {
		return v, nil
	}
	for _, p := range a.dropped {
		if bytes.HasPrefix(key, p) {
			return nil, nil
		}
	}
	if a.isPurged(key) {
		return nil, nil
	}
	return getCopy(a.db, key)
}

// getCopy reads key from r and returns a copy of its value (nil if absent).
func getCopy(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, nil
}

func (a *applier) apply(cmd *Command) (Result, error) {
	if cmd.Version > CommandVersion {
		return Result{}, applyErr(ErrInvalid, "command version %d is newer than this server (%d)", cmd.Version, CommandVersion)
	}
	if cmd.Catalog != nil {
		if a.group != keys.GroupMeta {
			return Result{}, applyErr(ErrInvalid, "catalog command sent to group %d", a.group)
		}
		return a.applyCatalogAudited(cmd)
	}
	if cmd.Fence != nil {
		return a.applyFence(cmd.Fence)
	}
	if cmd.Cold != nil {
		return a.applyCold(cmd.Cold)
	}
	if cmd.PurgeUser != nil {
		return a.applyPurgeUser(cmd.PurgeUser)
	}
	if cmd.Index != nil {
		return a.applyIndex(cmd.Index)
	}
	return a.applyRows(cmd)
}

// lookup returns the current value of each key (nil when absent), reading
// the round overlay first and then storage. Keys are looked up in sorted
// order through one iterator: far cheaper than one Get per key for the
// multi-row inserts that dominate ingest.
func (a *applier) lookup(ks [][]byte) ([][]byte, error) {
	out := make([][]byte, len(ks))
	var miss []int
	for i, k := range ks {
		if a.overlay != nil {
			if v, ok := a.overlay[string(k)]; ok {
				out[i] = v
				continue
			}
		}
		miss = append(miss, i)
	}
	if len(miss) == 0 {
		return out, nil
	}
	if len(miss) <= 2 || a.overlay == nil || len(a.dropped) > 0 || len(a.purged) > 0 {
		for _, i := range miss {
			v, err := a.get(ks[i])
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	sort.Slice(miss, func(x, y int) bool { return bytes.Compare(ks[miss[x]], ks[miss[y]]) < 0 })
	lo, hi := ks[miss[0]], keys.PrefixEnd(ks[miss[len(miss)-1]])
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for _, i := range miss {
		if it.SeekGE(ks[i]) && bytes.Equal(it.Key(), ks[i]) {
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, err
			}
			out[i] = append([]byte(nil), v...)
		}
	}
	return out, it.Error()
}

func (a *applier) applyRows(cmd *Command) (Result, error) {
	res := Result{Seqs: make([]uint64, len(cmd.Rows)), Old: make([][]byte, len(cmd.Rows))}
	prefix := keys.GroupPrefix(a.group)
	ks := make([][]byte, 0, len(cmd.Rows))
	for _, w := range cmd.Rows {
		if w.Op == OpDropTableData {
			continue
		}
		if !bytes.HasPrefix(w.Key, prefix) {
			return Result{}, applyErr(ErrInvalid, "row key outside group %d", a.group)
		}
		ks = append(ks, w.Key)
	}
	if cmd.ColdGuard != nil {
		if err := a.checkGuard(cmd.ColdGuard); err != nil {
			return Result{}, err
		}
	}
	if err := a.checkFences(cmd); err != nil {
		return Result{}, err
	}
	current, err := a.lookup(ks)
	if err != nil {
		return Result{}, err
	}
	// Validation pass: earlier writes of the same command win over storage.
	pending := make(map[string][]byte, len(ks))
	var coldOld []bool
	j := 0
	for i, w := range cmd.Rows {
		if w.Op == OpDropTableData {
			continue
		}
		cur, seen := pending[string(w.Key)]
		if !seen {
			cur = current[j]
			if cur == nil && cmd.ColdGuard != nil {
				// No hot version: the cold row the guard pinned is current.
				cur = w.Cold
				if coldOld == nil {
					coldOld = make([]bool, len(cmd.Rows))
				}
				coldOld[i] = true // it has no hot index entries
			}
		}
		j++
		live := false
		var oldSeq uint64
		if cur != nil {
			h, err := rowcodec.ReadHeader(cur)
			if err != nil {
				return Result{}, fmt.Errorf("while reading row: %w", err)
			}
			live, oldSeq = !h.Deleted, h.Seq
		}
		switch w.Op {
		case OpInsert:
			if live {
				return Result{}, &Error{Kind: ErrDuplicateKey, Msg: "duplicate primary key", Row: i}
			}
		case OpUpdate, OpDelete:
			if !live {
				return Result{}, &Error{Kind: ErrConflict, Msg: "row was deleted concurrently", Row: i}
			}
			if w.ExpectSeq != 0 && w.ExpectSeq != oldSeq {
				return Result{}, &Error{Kind: ErrConflict, Msg: "row changed concurrently", Row: i}
			}
		default:
			return Result{}, applyErr(ErrInvalid, "unknown row op %d", w.Op)
		}
		if _, err := rowcodec.ReadHeader(w.Row); err != nil {
			return Result{}, applyErr(ErrInvalid, "invalid row encoding")
		}
		if live {
			res.Old[i] = cur
		}
		pending[string(w.Key)] = w.Row
	}
	// Write pass.
	idxSets := map[uint32]*IndexSetRecord{}
	for i, w := range cmd.Rows {
		if w.Op == OpDropTableData {
			start := keys.TablePrefix(a.group, w.Table)
			if err := a.b.DeleteRange(start, keys.PrefixEnd(start), nil); err != nil {
				return Result{}, err
			}
			cp := keys.ColdPointerPrefix(a.group, w.Table, false)
			if err := a.b.DeleteRange(cp, keys.PrefixEnd(cp), nil); err != nil {
				return Result{}, err
			}
			if err := a.dropFence(w.Table); err != nil {
				return Result{}, err
			}
			if err := a.dropTableIndexes(w.Table); err != nil {
				return Result{}, err
			}
			delete(idxSets, w.Table)
			if a.overlay != nil {
				for k := range a.overlay {
					if strings.HasPrefix(k, string(start)) {
						delete(a.overlay, k)
					}
				}
				a.dropped = append(a.dropped, start)
			}
			continue
		}
		row := append([]byte(nil), w.Row...)
		seq := a.nextSeq(cmd.TimeMs)
		rowcodec.SetSeq(row, seq)
		res.Seqs[i] = seq
		if set, err := a.rowIndexes(idxSets, w.Table); err != nil {
			return Result{}, err
		} else if set != nil {
			old := res.Old[i]
			if coldOld != nil && coldOld[i] {
				old = nil
			}
			if err := a.maintainIndexes(set, w.Key, old, row); err != nil {
				return Result{}, err
			}
		}
		if err := a.b.Set(w.Key, row, nil); err != nil {
			return Result{}, err
		}
		if a.overlay != nil {
			a.overlay[string(w.Key)] = row
		}
	}
	return res, nil
}

func (a *applier) putJSON(rec byte, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.b.Set(keys.Catalog(rec, name), data, nil)
}

func (a *applier) getJSON(rec byte, name string, v any) (bool, error) {
	data, err := a.get(keys.Catalog(rec, name))
	if err != nil || data == nil {
		return false, err
	}
	return true, json.Unmarshal(data, v)
}

func (a *applier) tablesIn(ns string) ([]*catalog.Table, error) {
	p := keys.Catalog(catalog.RecTable, ns+".")
	it, err := a.b.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*catalog.Table
	for it.First(); it.Valid(); it.Next() {
		var t catalog.Table
		if err := json.Unmarshal(it.Value(), &t); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, it.Error()
}

func (a *applier) dropTable(t *catalog.Table) error {
	if err := a.b.Delete(keys.Catalog(catalog.RecTable, t.QualifiedName()), nil); err != nil {
		return err
	}
	var id [4]byte
	binary.BigEndian.PutUint32(id[:], t.ID)
	// The pending-cleanup record keeps the definition: after a restart the
	// cleanup job needs it to find the table's cold-tier objects.
	def, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return a.b.Set(keys.Catalog(catalog.RecDropped, string(id[:])), def, nil)
}

func (a *applier) applyCatalog(cmd *Command) (Result, error) {
	cw := cmd.Catalog
	switch cw.Op {
	case CatCreateNamespace:
		var n catalog.Namespace
		ok, err := a.getJSON(catalog.RecNamespace, cw.Namespace.Name, &n)
		if err != nil {
			return Result{}, err
		}
		if ok {
			if cw.IfNotExists {
				return Result{Skipped: true}, nil
			}
			return Result{}, applyErr(ErrAlreadyExists, "namespace '%s' already exists", cw.Namespace.Name)
		}
		return Result{}, a.putJSON(catalog.RecNamespace, cw.Namespace.Name, cw.Namespace)

	case CatDropNamespace:
		var n catalog.Namespace
		ok, err := a.getJSON(catalog.RecNamespace, cw.Namespace.Name, &n)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			if cw.IfExists {
				return Result{Skipped: true}, nil
			}
			return Result{}, applyErr(ErrNotFound, "namespace '%s' not found", cw.Namespace.Name)
		}
		tables, err := a.tablesIn(cw.Namespace.Name)
		if err != nil {
			return Result{}, err
		}
		if len(tables) > 0 && !cw.Cascade {
			return Result{}, applyErr(ErrInvalid, "namespace '%s' has %d table(s); drop them first or use CASCADE", cw.Namespace.Name, len(tables))
		}
		for _, t := range tables {
			if err := a.dropTable(t); err != nil {
				return Result{}, err
			}
		}
		return Result{Dropped: tables}, a.b.Delete(keys.Catalog(catalog.RecNamespace, cw.Namespace.Name), nil)

	case CatCreateTable:
		t := *cw.Table
		existing, err := a.existingTable(&t)
		if err != nil {
			return Result{}, err
		}
		if existing != nil {
			if cw.IfNotExists {
				return Result{Skipped: true, Table: existing}, nil
			}
			return Result{}, applyErr(ErrAlreadyExists, "table '%s' already exists", t.QualifiedName())
		}
		if t.ID, err = a.allocTableID(); err != nil {
			return Result{}, err
		}
		t.SchemaVersion = 1
		return a.putTable(&t)

	case CatDropTable:
		var t catalog.Table
		name := cw.Table.QualifiedName()
		ok, err := a.getJSON(catalog.RecTable, name, &t)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			if cw.IfExists {
				return Result{Skipped: true}, nil
			}
			return Result{}, applyErr(ErrNotFound, "table '%s' not found", name)
		}
		return Result{Dropped: []*catalog.Table{&t}}, a.dropTable(&t)

	case CatCreateUser, CatUpdateUser:
		var u catalog.User
		ok, err := a.getJSON(catalog.RecUser, cw.User.UserID, &u)
		if err != nil {
			return Result{}, err
		}
		if cw.Op == CatCreateUser && ok {
			if cw.IfNotExists && u.DeletedAt == 0 {
				return Result{Skipped: true}, nil
			}
			if u.DeletedAt != 0 {
				// The user id owns USER-table rows that are retained after a
				// drop: reusing the name would hand them to a new account.
				return Result{}, applyErr(ErrAlreadyExists, "user '%s' was dropped and its data is retained until the user_cleanup job purges it; choose another name or wait", cw.User.UserID)
			}
			return Result{}, applyErr(ErrAlreadyExists, "user '%s' already exists", cw.User.UserID)
		}
		if cw.Op == CatUpdateUser && (!ok || u.DeletedAt != 0) {
			if cw.IfExists {
				return Result{Skipped: true}, nil
			}
			return Result{}, applyErr(ErrNotFound, "user '%s' not found", cw.User.UserID)
		}
		return Result{}, a.putJSON(catalog.RecUser, cw.User.UserID, cw.User)

	case CatCreateStorage, CatAlterStorage, CatDropStorage, CatPutJob, CatDeleteJob:
		return a.applyStorageCatalog(cw)

	case CatAlterTable:
		return a.applyAlterTable(cmd)
	case CatRestoreTable:
		return a.applyRestoreTable(cw)
	case CatSetNamespaceRestoring:
		return a.applySetNamespaceRestoring(cw)
	case CatClearRestoring:
		return a.applyClearRestoring(cw)
	case CatAppendAudit:
		return a.appendAudit(cmd)
	case CatPurgeUser:
		return a.purgeUser(cw)
	case CatCreateIndex, CatDropIndex, CatSetIndexState:
		return a.applyIndexCatalog(cmd)

	case CatPurgeDropped:
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], cw.TableID)
		return Result{}, a.b.Delete(keys.Catalog(catalog.RecDropped, string(id[:])), nil)
	}
	return Result{}, applyErr(ErrInvalid, "unknown catalog op %d", cw.Op)
}
