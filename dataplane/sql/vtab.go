package sql

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"modernc.org/sqlite/vtab"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// tableModule exposes a KalamDB table to SQLite. Arguments:
// USING kalam(<conn id>, <table id>, <schema version>).
//
// The scan is always confined to the caller's scope: for USER and STREAM
// tables the key range of the session's user, for SHARED tables the table's
// range. A primary-key equality becomes a point get and primary-key bounds a
// bounded range; every constraint is still re-checked by SQLite (Omit is
// never set), so a pushed-down bound only ever narrows a superset.
var tableModule = connectModule(connectTable)

type kalamTable struct {
	cs    *connState
	table *catalog.Table
	pkIdx int
	// posByID maps a column id to its position (-1: dropped column).
	posByID []int32
	// proj supplies the values of columns added after a row was stored.
	proj *catalog.Projection
	// allUsers: a USER table read across every user's scope
	// (vtab_allusers.go); users caches the user list of the statement
	// whose snapshot is usersSnap (a join re-filters once per outer row).
	allUsers  bool
	usersSnap pebble.Reader
	users     []string
}

func connectTable(ctx vtab.Context, args []string) (vtab.Table, error) {
	if len(args) < 6 {
		return nil, fmt.Errorf("kalam vtab: want (conn, table, version), got %v", args)
	}
	cs, err := lookupConn(strings.TrimSpace(args[3]))
	if err != nil {
		return nil, err
	}
	t, err := vtabTable(cs.eng.cat, "kalam", args[4])
	if err != nil {
		return nil, err
	}
	if err := declareTable(ctx, "kalam", t, cs.eng.opts.SelectStarSystemColumns); err != nil {
		return nil, err
	}
	maxID := uint32(0)
	for _, c := range t.Columns {
		maxID = max(maxID, c.ID)
	}
	posByID := make([]int32, maxID+1)
	for i := range posByID {
		posByID[i] = -1
	}
	for i, c := range t.Columns {
		posByID[c.ID] = int32(i)
	}
	all := len(args) > 6 && strings.TrimSpace(args[6]) == "1" && t.Type == catalog.TableUser
	return &kalamTable{cs: cs, table: t, pkIdx: t.PKIndex(), posByID: posByID, proj: catalog.NewProjection(t), allUsers: all}, nil
}

// Plan bits in idxNum.
const (
	planEq    = 1
	planLower = 2
	planUpper = 4
	planDesc  = 8
	// planLowerStrict / planUpperStrict: the bound is > / < rather than >= / <=.
	planLowerStrict = 16
	planUpperStrict = 32
	// planTombstones: the statement filters on _deleted, so the scan
	// returns tombstones too (vtab_syscols.go).
	planTombstones = 128
)

func (t *kalamTable) BestIndex(info *vtab.IndexInfo) error {
	plan := 0
	arg := 0
	var eq, lo, hi = -1, -1, -1
	for i, c := range info.Constraints {
		if !c.Usable || c.Column != t.pkIdx || t.pkIdx < 0 {
			continue
		}
		switch c.Op {
		case vtab.OpEQ, vtab.OpIS:
			if eq < 0 {
				eq = i
			}
		case vtab.OpGT, vtab.OpGE:
			if lo < 0 {
				lo = i
			}
		case vtab.OpLT, vtab.OpLE:
			if hi < 0 {
				hi = i
			}
		}
	}
	for i := range info.Constraints {
		info.Constraints[i].ArgIndex = -1
	}
	switch {
	case eq >= 0:
		plan |= planEq
		info.Constraints[eq].ArgIndex = arg
		arg++
		info.EstimatedCost, info.EstimatedRows = 1, 1
		info.IdxFlags = vtab.IndexScanUnique
	default:
		cost := 1e6
		if lo >= 0 {
			plan |= planLower
			if info.Constraints[lo].Op == vtab.OpGT {
				plan |= planLowerStrict
			}
			info.Constraints[lo].ArgIndex = arg
			arg++
			cost /= 4
		}
		if hi >= 0 {
			plan |= planUpper
			if info.Constraints[hi].Op == vtab.OpLT {
				plan |= planUpperStrict
			}
			info.Constraints[hi].ArgIndex = arg
			arg++
			cost /= 4
		}
		info.EstimatedCost, info.EstimatedRows = cost, int64(cost)
	}
	// Equality constraints on other columns are pre-checked in Go before a
	// row is handed to SQLite (SQLite re-checks them: Omit stays false).
	var filterCols []string
	for i, c := range info.Constraints {
		if !c.Usable || c.Op != vtab.OpEQ || c.Column == t.pkIdx || c.Column < 0 || c.Column >= len(t.table.Columns) {
			continue
		}
		if !prefilterable(t.table.Columns[c.Column].Type) || len(filterCols) >= 8 {
			continue
		}
		info.Constraints[i].ArgIndex = arg
		arg++
		filterCols = append(filterCols, strconv.Itoa(c.Column))
		info.EstimatedCost /= 10
		info.EstimatedRows = max(1, info.EstimatedRows/10)
	}
	tombs := t.tombstonesAsked(info)
	if tombs {
		// Index entries exist for live rows only.
		plan |= planTombstones
	} else if eq < 0 {
		if fp := t.bestIndexPlan(filterCols, info); fp >= 0 {
			plan |= planIndex | fp<<8
			info.EstimatedCost, info.EstimatedRows = 100, 100
		}
	}
	arg = t.bestPrune(info, arg, &filterCols)
	// Across users, keys come user by user: SQLite sorts.
	if len(info.OrderBy) == 1 && info.OrderBy[0].Column == t.pkIdx && t.pkIdx >= 0 && !t.allUsers {
		info.OrderByConsumed = true
		if info.OrderBy[0].Desc {
			plan |= planDesc
		}
	}
	info.IdxNum = int64(plan)
	info.IdxStr = strings.Join(filterCols, ",")
	return nil
}

func (t *kalamTable) Open() (vtab.Cursor, error) {
	return &kalamCursor{t: t, offs: make([]int32, len(t.table.Columns))}, nil
}

func (t *kalamTable) Disconnect() error { return nil }
func (t *kalamTable) Destroy() error    { return nil }

type kalamCursor struct {
	t *kalamTable
	// rd walks the scope through the read path (dataplane/read): hot and
	// cold rows merged, tombstones hidden; nil after a point lookup.
	rd   *read.Iter
	desc bool
	eof  bool
	// raw is the current row's encoding (valid until the next step) and
	// offs where each column's value starts in it: columns are decoded only
	// when SQLite asks for them.
	raw  []byte
	offs []int32
	seq  uint64
	read int64
	// filters are equality constraints pre-checked before SQLite sees a row.
	filters []colFilter
	// point holds the single value of a primary-key lookup.
	point []byte
	// tombs: the plan reads tombstones (planTombstones); deleted marks
	// the current row as one.
	tombs, deleted bool
	// users is the scan's user list when the table reads every user
	// (allUsers), user the index of the scope being read.
	users []string
	user  int
	// plan and args keep Filter's plan to open each user's scope.
	plan  int
	args  []vtab.Value
	rowid int64
	// cold is the current row when it comes from a segment (vtab_cold.go);
	// minSeq hides expired STREAM rows.
	cold   vtabColdRow
	minSeq uint64
	// ver is the schema version the current hot row was stored under.
	ver uint32
	// prune holds comparisons on non-key columns used to skip cold
	// segments by their statistics (vtab_prune.go).
	prune []pruneCond
}

// hotValue decodes position i of the hot row raw (indexed into c.offs),
// projecting columns the row predates (catalog.Projection).
func (c *kalamCursor) hotValue(raw []byte, i int) any {
	if c.offs[i] < 0 {
		return c.t.proj.Fill(i, c.ver)
	}
	return rowcodec.DecodeAt(raw, c.offs[i], true)
}

func (c *kalamCursor) scope() ([]byte, error) {
	cs := c.t.cs
	if cs.sess == nil || cs.snap == nil {
		return nil, fmt.Errorf("kalam vtab: no active statement on connection")
	}
	if c.t.table.Type.PerUser() {
		uid := c.scopeUser()
		return keys.ScopePrefix(keys.UserGroup(uid), c.t.table.ID, uid, true), nil
	}
	return keys.ScopePrefix(keys.GroupShared, c.t.table.ID, "", false), nil
}

// pkBound encodes a constraint value as a key suffix, or ok=false when the
// value cannot be compared in key order (the bound is then dropped, which
// only widens the scan).
func (c *kalamCursor) pkBound(v any) ([]byte, bool) {
	col := c.t.table.Columns[c.t.pkIdx]
	if col.Type.IsInteger() {
		if _, isInt := v.(int64); !isInt {
			return nil, false
		}
	} else if col.Type.Kind == datatype.Text {
		if _, isStr := v.(string); !isStr {
			return nil, false
		}
	} else {
		return nil, false
	}
	k, err := keys.EncodePK(v)
	return k, err == nil
}

func (c *kalamCursor) Filter(idxNum int, idxStr string, vals []vtab.Value) error {
	c.close()
	c.eof = false
	c.filters = c.filters[:0]
	idxStr, pruneStr := splitPrune(idxStr)
	c.prune = c.prune[:0]
	if idxStr != "" && !c.t.cs.noPrefilter {
		nargs := 0
		for _, bit := range []int{planEq, planLower, planUpper} {
			if idxNum&bit != 0 {
				nargs++
			}
		}
		for i, f := range strings.Split(idxStr, ",") {
			col, err := strconv.Atoi(f)
			if err != nil || nargs+i >= len(vals) {
				break
			}
			c.filters = append(c.filters, colFilter{col: col, val: vals[nargs+i]})
		}
	}
	c.parsePrune(idxNum, idxStr, pruneStr, vals)
	cs := c.t.cs
	if cs.sess == nil || cs.snap == nil {
		return fmt.Errorf("kalam vtab: no active statement on connection")
	}
	c.minSeq = streamCutoff(c.t.table, cs.eng.nowMs())
	c.desc = idxNum&planDesc != 0
	c.tombs = idxNum&planTombstones != 0
	c.users, c.user = nil, 0
	if c.t.allUsers {
		users, err := c.t.tableUsers(cs.snap)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			c.eof = true
			return nil
		}
		c.users, c.plan, c.args = users, idxNum, append(c.args[:0], vals...)
	}
	return c.openScopes(idxNum, vals)
}

// openScope starts the plan's read of the current scope (the session's,
// or users[user] across users).
func (c *kalamCursor) openScope(idxNum int, vals []vtab.Value) error {
	scope, err := c.scope()
	if err != nil {
		return err
	}
	cs := c.t.cs
	sess := cs.sess
	if c.users != nil {
		s := *sess
		s.UserID = c.users[c.user]
		sess = &s
	}
	src, err := cs.eng.readSource(context.Background(), cs.snap, sess, c.t.table)
	if err != nil {
		return err
	}
	src.Scope = scope
	if idxNum&planIndex != 0 {
		if handled, err := c.indexFilter(idxNum, src); handled {
			return err
		}
	}
	if idxNum&planEq != 0 {
		return c.pointFilter(src, vals[0])
	}
	lower, upper := c.pkRange(idxNum, scope, vals)
	var lo, hi []byte
	if len(lower) > len(scope) {
		lo = lower[len(scope):]
	}
	if !bytes.Equal(upper, keys.PrefixEnd(scope)) {
		hi = upper[len(scope):]
	}
	cs.eng.stats.rangeScans.Add(1)
	c.rd, err = src.Scan(context.Background(), read.ScanOptions{Lo: lo, Hi: hi, Desc: c.desc, Keep: c.segmentFilter(src.Cold), Tombstones: c.tombs})
	if err != nil {
		return err
	}
	return c.settle()
}

// pointFilter reads the one row of a primary-key equality.
func (c *kalamCursor) pointFilter(src read.Source, val vtab.Value) error {
	col := c.t.table.Columns[c.t.pkIdx]
	v, err := datatype.Coerce(col.Type, val)
	if err != nil || v == nil {
		c.eof = true
		return nil
	}
	pk, err := keys.EncodePK(v)
	if err != nil {
		c.eof = true
		return nil
	}
	c.t.cs.eng.stats.pointGets.Add(1)
	row, found, err := src.GetVersion(context.Background(), pk, v, c.point, c.tombs)
	if err != nil || !found {
		c.eof = true
		return err
	}
	ok, err := c.visit(row)
	c.eof = !ok
	return err
}

// visit makes row the current row if it passes the pre-filters. A hot
// row's encoding is used in place: it stays valid until the cursor moves.
func (c *kalamCursor) visit(row read.Row) (bool, error) {
	c.deleted = row.Deleted
	if row.Hot() {
		c.cold.on = false
		if c.rd == nil {
			c.point = row.Value
		}
		return c.load(row.Value)
	}
	return c.setCold(row.File, row.Index), nil
}

// settle moves the read iterator to the next row that passes the
// pre-filters, or to the end.
func (c *kalamCursor) settle() error {
	for ; c.rd.Valid(); c.rd.Next() {
		ok, err := c.visit(c.rd.Row())
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	c.eof = true
	return c.rd.Err()
}

func (c *kalamCursor) load(v []byte) (bool, error) {
	c.read++
	h, err := rowcodec.Index(v, c.t.posByID, c.offs)
	if err != nil {
		return false, fmt.Errorf("while decoding a row of %s: %w", c.t.table.QualifiedName(), err)
	}
	if (h.Deleted && !c.tombs) || h.Seq < c.minSeq {
		return false, nil
	}
	c.ver = h.SchemaVersion
	for _, f := range c.filters {
		if !f.match(c.hotValue(v, f.col)) {
			return false, nil
		}
	}
	c.raw, c.seq = v, h.Seq
	c.rowid++
	return true, nil
}

func (c *kalamCursor) Next() error {
	if c.rd == nil {
		c.eof = true
	} else {
		c.rd.Next()
		if err := c.settle(); err != nil {
			return err
		}
	}
	if c.eof && c.users != nil && c.user+1 < len(c.users) {
		c.close()
		c.user++
		c.eof = false
		return c.openScopes(c.plan, c.args)
	}
	return nil
}

func (c *kalamCursor) Eof() bool { return c.eof }

func (c *kalamCursor) Column(i int) (vtab.Value, error) {
	if c.cold.on {
		return c.coldColumn(i)
	}
	if v, ok := sysColumn(i, len(c.offs), c.seq, c.deleted); ok {
		return v, nil
	}
	if k := exactStoredColumn(c.t.table, i); k >= 0 {
		return c.hotValue(c.raw, k), nil // the stored DECIMAL text
	}
	if i < 0 || i > len(c.offs) {
		return nil, fmt.Errorf("kalam vtab: column %d out of range", i)
	}
	// Text aliases the storage buffer: SQLite copies it before we move on.
	return toSQLite(c.t.table.Columns[i].Type, c.hotValue(c.raw, i)), nil
}

// Rowid is the row's identity for SQLite: the same row must have the same
// rowid in every scan of one statement, because SQLite's RIGHT and FULL
// JOIN remember the right side's matched rows by rowid and emit the
// unmatched ones in a later scan (a per-scan counter made every row look
// unmatched and duplicated them). The primary key is that identity: an
// integer key is its own rowid, other keys are hashed (FNV-1a, 64 bits).
// Keyless STREAM rows fall back to their _seq, unique per inserted row.
func (c *kalamCursor) Rowid() (int64, error) {
	if c.users != nil {
		return c.allUsersRowid()
	}
	if c.t.pkIdx < 0 {
		return int64(c.seq), nil
	}
	v, err := c.Column(c.t.pkIdx)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		return rowidHash([]byte(x)), nil
	case []byte:
		return rowidHash(x), nil
	case nil:
		return c.rowid, nil
	default:
		return rowidHash([]byte(fmt.Sprint(x))), nil
	}
}

// rowidHash is FNV-1a over b.
func rowidHash(b []byte) int64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int64(h)
}

func (c *kalamCursor) close() {
	c.cold.on = false
	if c.read > 0 {
		c.t.cs.eng.stats.rowsRead.Add(c.read)
		c.read = 0
	}
	if c.rd != nil {
		c.t.cs.eng.stats.pointGets.Add(c.rd.Stats.IndexEntries)
		_ = c.rd.Close()
		c.rd = nil
	}
}

func (c *kalamCursor) Close() error {
	c.close()
	return nil
}

// toSQLite converts a stored value to the value SQLite computes with.
func toSQLite(t datatype.Type, v any) vtab.Value {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case string:
		if t.Kind == datatype.Decimal {
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f
			}
		}
	}
	return v
}

// colFilter is an equality constraint `column = value` checked in Go.
type colFilter struct {
	col int
	val any
}

// match reports whether a stored value can satisfy the constraint. It only
// rejects when the answer is certain: the expr layer's comparison decides
// same-class values (text with text, numbers with numbers) and NULLs;
// anything else (mixed classes that SQLite would convert by affinity)
// passes through for SQLite to decide.
func (f colFilter) match(v any) bool {
	r := expr.CompareTruth(v, expr.Eq, f.val)
	return r == expr.True || r == expr.Undecided
}

// prefilterable reports whether equality on a column of type t can be
// checked on stored values with SQLite's BINARY semantics.
func prefilterable(t datatype.Type) bool {
	switch t.Kind {
	case datatype.Text, datatype.UUID, datatype.JSON:
		return true
	}
	return t.IsInteger()
}

// pkRange turns a plan's primary-key bounds into an iterator range within
// scope. A bound whose value cannot be compared in key order is dropped,
// which only widens the range (SQLite re-checks every constraint).
func (c *kalamCursor) pkRange(idxNum int, scope []byte, vals []vtab.Value) (lower, upper []byte) {
	lower, upper = scope, keys.PrefixEnd(scope)
	arg := 0
	if idxNum&planLower != 0 {
		if k, ok := c.pkBound(vals[arg]); ok {
			lower = keys.Row(scope, k)
			if idxNum&planLowerStrict != 0 {
				// The smallest key after k: k's encoding plus 0x00.
				lower = append(lower, 0)
			}
		}
		arg++
	}
	if idxNum&planUpper != 0 {
		if k, ok := c.pkBound(vals[arg]); ok {
			if idxNum&planUpperStrict != 0 {
				upper = keys.Row(scope, k)
			} else {
				upper = append(keys.Row(scope, k), 0)
			}
		}
	}
	return lower, upper
}
