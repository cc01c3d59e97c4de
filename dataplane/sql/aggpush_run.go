package sql

import (
	"bytes"
	"context"
	"fmt"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// errAggFallback sends a matched aggregate back to the SQLite path (a sum
// overflowed, or a value's type was not the one planned for).
var errAggFallback = fmt.Errorf("aggregate pushdown: %w", errNotFastPath)

// acc accumulates one aggregate in SQLite's terms.
type acc struct {
	spec aggSpec
	// n counts rows (count(*)) or non-NULL values.
	n        int64
	sum      int64
	overflow bool
	has      bool
	imin     int64
	imax     int64
	smin     string
	smax     string
}

func (a *acc) addInt(x int64) {
	a.n++
	switch a.spec.kind {
	case aggSum, aggAvg:
		s := a.sum + x
		if (x > 0 && s < a.sum) || (x < 0 && s > a.sum) {
			a.overflow = true
		}
		a.sum = s
	case aggMin, aggMax:
		if !a.has {
			a.imin, a.imax, a.has = x, x, true
			return
		}
		a.imin, a.imax = min(a.imin, x), max(a.imax, x)
	}
}

func (a *acc) addStr(s string) {
	a.n++
	if a.spec.kind != aggMin && a.spec.kind != aggMax {
		return
	}
	if !a.has {
		a.smin, a.smax, a.has = strings.Clone(s), strings.Clone(s), true
		return
	}
	if s < a.smin {
		a.smin = strings.Clone(s)
	}
	if s > a.smax {
		a.smax = strings.Clone(s)
	}
}

// add takes a value as SQLite computes with it (after toSQLite).
func (a *acc) add(v any) error {
	switch x := v.(type) {
	case nil:
	case int64:
		a.addInt(x)
	case string:
		if a.spec.kind == aggSum || a.spec.kind == aggAvg {
			return errAggFallback
		}
		a.addStr(x)
	default:
		if a.spec.kind != aggCount {
			return errAggFallback
		}
		a.n++
	}
	return nil
}

// result is the aggregate's value as SQLite would return it.
func (a *acc) result(isText bool) (any, error) {
	switch a.spec.kind {
	case aggCountStar, aggCount:
		return a.n, nil
	}
	if a.n == 0 {
		return nil, nil
	}
	switch a.spec.kind {
	case aggSum:
		if a.overflow {
			return nil, errAggFallback
		}
		return a.sum, nil
	case aggAvg:
		if a.overflow {
			return nil, errAggFallback
		}
		// PostgreSQL's avg of integers is an exact numeric with
		// select_div_scale's digits (printed as its text).
		return pgfn.ExactArith("/", a.sum, a.n)
	case aggMin:
		if isText {
			return a.smin, nil
		}
		return a.imin, nil
	case aggMax:
		if isText {
			return a.smax, nil
		}
		return a.imax, nil
	}
	return nil, nil
}

// aggRun is one execution of an aggregate query.
type aggRun struct {
	q     *aggQuery
	accs  []acc
	rows  int64 // count(*)
	preds []aggPred
	// cols are the positions whose values a row must produce; the first
	// npred are the predicates' (decoded first: most rows fail them).
	cols    []int
	npred   int
	vals    []any
	posByID []int32
	offs    []int32
	proj    *catalog.Projection
	read    int64
	// groups holds the per-key accumulators of a GROUP BY (nil: none).
	groups map[any]*aggGroup
}

// runAggQuery answers a matched aggregate query.
func (e *Engine) runAggQuery(ctx context.Context, sess *Session, q *aggQuery) (*Result, error) {
	if err := canRead(sess.Role, q.table); err != nil {
		return nil, err
	}
	t := q.table
	r := &aggRun{q: q, accs: make([]acc, len(q.aggs)), proj: catalog.NewProjection(t)}
	for i, s := range q.aggs {
		r.accs[i].spec = s
	}
	lo, hi, rest, empty := q.pkBounds()
	r.preds = rest
	need := map[int]bool{}
	for _, p := range rest {
		if !need[p.col] {
			need[p.col] = true
			r.cols = append(r.cols, p.col)
		}
	}
	r.npred = len(r.cols)
	if q.group >= 0 {
		r.groups = map[any]*aggGroup{}
		if !need[q.group] {
			need[q.group] = true
			r.cols = append(r.cols, q.group)
		}
	}
	for _, s := range q.aggs {
		if s.col >= 0 && !need[s.col] {
			need[s.col] = true
			r.cols = append(r.cols, s.col)
		}
	}
	r.vals = make([]any, len(t.Columns))
	r.offs = make([]int32, len(t.Columns))
	r.posByID = make([]int32, t.NextColumnID+1)
	for i := range r.posByID {
		r.posByID[i] = -1
	}
	for i, c := range t.Columns {
		if int(c.ID) < len(r.posByID) {
			r.posByID[c.ID] = int32(i)
		}
	}
	if !empty {
		handled := false
		if q.indexCol >= 0 {
			var err error
			if handled, err = e.aggIndexScan(ctx, sess, r, lo, hi); err != nil {
				return nil, err
			}
		}
		if !handled {
			if err := e.aggScan(ctx, sess, r, lo, hi); err != nil {
				return nil, err
			}
		}
	}
	if q.group >= 0 {
		defLimit, maxRows, _ := e.rowCaps(ctx)
		res, err := r.groupResult(defLimit, maxRows)
		if err != nil {
			return nil, err
		}
		aggPushdowns.Add(1)
		return res, nil
	}
	res := &Result{Schema: make([]Field, len(q.aggs))}
	row := make([]any, len(q.aggs))
	for i := range r.accs {
		a := &r.accs[i]
		if a.spec.kind == aggCountStar {
			a.n = r.rows
		}
		v, err := a.result(a.spec.col >= 0 && isTextCol(t, a.spec.col))
		if err != nil {
			return nil, err
		}
		dt := "NULL"
		if v != nil {
			dt = dynamicTypeName(v)
		}
		res.Schema[i] = Field{Name: a.spec.name, DataType: dt, Index: i}
		row[i] = wireValue(datatype.Type{}, false, v)
	}
	res.Rows, res.RowCount = [][]any{row}, 1
	aggPushdowns.Add(1)
	return res, nil
}

// isTextCol reports whether min/max of column col compare strings.
func isTextCol(t *catalog.Table, col int) bool { return t.Columns[col].Type.Kind == datatype.Text }

// readSource is the read path's view of t's scope for sess in snapshot
// snap: the caller's partition of a USER table, and its cold segments.
func (e *Engine) readSource(ctx context.Context, snap pebble.Reader, sess *Session, t *catalog.Table) (read.Source, error) {
	_, scope := scopeOf(sess, t)
	uid := ""
	if t.Type.PerUser() {
		uid = sess.UserID
	}
	view, err := e.coldView(ctx, snap, t, uid)
	if err != nil {
		return read.Source{}, err
	}
	return read.Source{Reader: snap, Scope: scope, Cold: view}, nil
}

// segmentFilter prunes the isolated segments whose statistics rule out a
// predicate (nil: no segments).
func (r *aggRun) segmentFilter(view *cold.View) cold.SegmentFilter {
	if view.Empty() {
		return nil
	}
	t := r.q.table
	return func(m *cold.Manifest, i int) bool {
		if !m.Isolated(i) {
			return true // it may hold older versions another segment hides
		}
		seg := &m.Segments[i]
		for _, p := range r.preds {
			if !seg.MayMatch(t.Columns[p.col].ID, p.op, p.v) {
				view.Reader.Stats.SegmentsPruned.Add(1)
				return false
			}
		}
		return true
	}
}

// aggScan aggregates the scope's visible rows within [lo, hi) through the
// read path: segments answered by their statistics, runs of segment rows
// column by column, the rest row by row.
func (e *Engine) aggScan(ctx context.Context, sess *Session, r *aggRun, lo, hi []byte) error {
	t := r.q.table
	snap := e.db.NewSnapshot()
	defer snap.Close()
	src, err := e.readSource(ctx, snap, sess, t)
	if err != nil {
		return err
	}
	defer func() { e.stats.rowsRead.Add(r.read) }()
	if pkVal, ok := r.singleKey(lo, hi); ok {
		e.stats.pointGets.Add(1)
		row, found, err := src.Get(ctx, lo, pkVal, nil)
		if err != nil || !found {
			return err
		}
		return r.visit(row)
	}
	files, statsOnly, err := src.PlanCold(ctx, lo, hi, r.segmentFilter(src.Cold),
		func(seg *cold.Segment) bool { return r.statsAnswer(seg, lo, hi) })
	if err != nil {
		return err
	}
	for _, seg := range statsOnly {
		r.fromStats(seg)
	}
	e.stats.rangeScans.Add(1)
	it, err := src.Scan(ctx, read.ScanOptions{Lo: lo, Hi: hi, Files: files, Runs: r.groups == nil})
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if err := r.visit(it.Row()); err != nil {
			return err
		}
	}
	return it.Err()
}

// visit aggregates one row (or run of segment rows) of the read path.
func (r *aggRun) visit(row read.Row) error {
	switch {
	case row.IsRun():
		return r.bulk(row.File, row.Index, row.End)
	case row.Hot():
		return r.hot(row.Value)
	default:
		return r.coldRow(row.File, row.Index)
	}
}

// statsAnswer reports whether seg's manifest statistics answer every
// aggregate for all of its rows: no row predicates, the key range covers
// the segment, no tombstones, and only count/min/max of columns whose
// statistics are exact.
func (r *aggRun) statsAnswer(seg *cold.Segment, lo, hi []byte) bool {
	if r.groups != nil || len(r.preds) > 0 || seg.Tombstones != 0 || seg.RowCount <= 0 {
		return false
	}
	if (lo != nil && string(seg.MinPK) < string(lo)) || (hi != nil && string(seg.MaxPK) >= string(hi)) {
		return false
	}
	t := r.q.table
	for _, s := range r.q.aggs {
		switch s.kind {
		case aggCountStar:
			continue
		case aggCount, aggMin, aggMax:
		default:
			return false
		}
		st, ok := seg.Stat(t.Columns[s.col].ID)
		if !ok || seg.SchemaVersion != t.SchemaVersion {
			return false
		}
		if s.kind == aggCount || st.NullCount == seg.RowCount {
			continue
		}
		if st.Min == nil || st.Max == nil {
			return false // booleans keep no min/max
		}
		if isTextCol(t, s.col) {
			if _, ok := st.Min.(string); !ok {
				return false
			}
			if _, ok := st.Max.(string); !ok {
				return false
			}
		} else {
			if _, ok := cold.StatInt(st.Min); !ok {
				return false
			}
			if _, ok := cold.StatInt(st.Max); !ok {
				return false
			}
		}
	}
	return true
}

// fromStats adds a segment accepted by statsAnswer.
func (r *aggRun) fromStats(seg *cold.Segment) {
	r.rows += seg.RowCount
	t := r.q.table
	for i := range r.accs {
		a := &r.accs[i]
		if a.spec.kind == aggCountStar {
			continue
		}
		st, _ := seg.Stat(t.Columns[a.spec.col].ID)
		nonNull := seg.RowCount - st.NullCount
		if a.spec.kind == aggCount || nonNull == 0 {
			a.n += nonNull
			continue
		}
		if isTextCol(t, a.spec.col) {
			a.addStr(st.Min.(string))
			a.addStr(st.Max.(string))
		} else {
			x, _ := cold.StatInt(st.Min)
			y, _ := cold.StatInt(st.Max)
			a.addInt(x)
			a.addInt(y)
		}
		a.n += nonNull - 2
	}
}

// pass runs the predicates on r.vals (positions r.cols[:r.npred]).
func (r *aggRun) pass() (bool, error) {
	for _, p := range r.preds {
		ok, sure := p.match(r.vals[p.col])
		if !sure {
			return false, errAggFallback
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// accept aggregates r.vals (positions r.cols) of a row that passed.
func (r *aggRun) accept() error {
	accs, rows := r.accs, &r.rows
	if r.groups != nil {
		g := r.groupOf(r.vals[r.q.group])
		accs, rows = g.accs, &g.rows
	}
	*rows++
	for i := range accs {
		a := &accs[i]
		if a.spec.col < 0 || a.spec.kind == aggKey {
			continue
		}
		if err := a.add(r.vals[a.spec.col]); err != nil {
			return err
		}
	}
	return nil
}

// hot aggregates one hot row version (tombstones hide the key).
func (r *aggRun) hot(raw []byte) error {
	r.read++
	h, err := rowcodec.Index(raw, r.posByID, r.offs)
	if err != nil {
		return fmt.Errorf("while decoding a row of %s: %w", r.q.table.QualifiedName(), err)
	}
	if h.Deleted {
		return nil
	}
	t := r.q.table
	for i, c := range r.cols {
		if i == r.npred {
			if ok, err := r.pass(); !ok || err != nil {
				return err
			}
		}
		var v any
		if r.offs[c] < 0 {
			v = r.proj.Fill(c, h.SchemaVersion)
		} else {
			v = rowcodec.DecodeAt(raw, r.offs[c], true)
		}
		r.vals[c] = toSQLite(t.Columns[c].Type, v)
	}
	if r.npred == len(r.cols) {
		if ok, err := r.pass(); !ok || err != nil {
			return err
		}
	}
	return r.accept()
}

// coldRow aggregates one segment row (the newest cold version of its key).
func (r *aggRun) coldRow(f *cold.File, row int) error {
	r.read++
	if f.Deleted(row) {
		return nil
	}
	t := r.q.table
	for i, c := range r.cols {
		if i == r.npred {
			if ok, err := r.pass(); !ok || err != nil {
				return err
			}
		}
		idx := f.ColumnIndex(t.Columns[c].ID)
		var v any
		if idx < 0 {
			v = r.proj.Fill(c, f.Meta.SchemaVersion)
		} else {
			var err error
			if v, err = f.ValueErr(row, idx); err != nil {
				return err
			}
		}
		r.vals[c] = toSQLite(t.Columns[c].Type, v)
	}
	if r.npred == len(r.cols) {
		if ok, err := r.pass(); !ok || err != nil {
			return err
		}
	}
	return r.accept()
}

// bulk aggregates rows [start, end) of a segment that no hot row and no
// other segment touches, column by column.
func (r *aggRun) bulk(f *cold.File, start, end int) error {
	t := r.q.table
	r.read += int64(end - start)
	// sel lists the visible rows that pass the predicates (nil: all).
	var sel []int
	if f.Meta.Tombstones > 0 || len(r.preds) > 0 {
		sel = make([]int, 0, end-start)
		for row := start; row < end; row++ {
			if !f.Deleted(row) {
				sel = append(sel, row)
			}
		}
		for _, p := range r.preds {
			kept := sel[:0]
			col, err := r.column(f, p.col)
			if err != nil {
				return err
			}
			for _, row := range sel {
				ok, sure := p.match(colValue(col, row))
				if !sure {
					return errAggFallback
				}
				if ok {
					kept = append(kept, row)
				}
			}
			sel = kept
		}
		r.rows += int64(len(sel))
	} else {
		r.rows += int64(end - start)
	}
	for i := range r.accs {
		a := &r.accs[i]
		if a.spec.col < 0 {
			continue
		}
		col, err := r.column(f, a.spec.col)
		if err != nil {
			return err
		}
		each := func(fn func(row int)) {
			if sel == nil {
				for row := start; row < end; row++ {
					fn(row)
				}
				return
			}
			for _, row := range sel {
				fn(row)
			}
		}
		switch c := col.(type) {
		case *array.Int64:
			vals := c.Int64Values()
			if c.NullN() == 0 && sel == nil && (a.spec.kind == aggSum || a.spec.kind == aggAvg) {
				for _, x := range vals[start:end] {
					s := a.sum + x
					if (x > 0 && s < a.sum) || (x < 0 && s > a.sum) {
						a.overflow = true
					}
					a.sum = s
				}
				a.n += int64(end - start)
				continue
			}
			each(func(row int) {
				if !c.IsNull(row) {
					a.addInt(vals[row])
				}
			})
		case *array.Boolean:
			each(func(row int) {
				if !c.IsNull(row) {
					if c.Value(row) {
						a.addInt(1)
					} else {
						a.addInt(0)
					}
				}
			})
		case *array.String:
			if a.spec.kind == aggSum || a.spec.kind == aggAvg {
				return errAggFallback
			}
			if a.spec.kind == aggCount {
				each(func(row int) {
					if !c.IsNull(row) {
						a.n++
					}
				})
				continue
			}
			// Compare without copying; keep only the final bounds.
			var lo, hi string
			has := false
			n := int64(0)
			each(func(row int) {
				if c.IsNull(row) {
					return
				}
				s := c.Value(row)
				n++
				if !has {
					lo, hi, has = s, s, true
				} else if s < lo {
					lo = s
				} else if s > hi {
					hi = s
				}
			})
			if has {
				a.addStr(lo)
				a.addStr(hi)
				a.n += n - 2
			}
		case projected:
			v := toSQLite(t.Columns[a.spec.col].Type, c.v)
			var err error
			each(func(int) {
				if err == nil {
					err = a.add(v)
				}
			})
			if err != nil {
				return err
			}
		default:
			if a.spec.kind != aggCount {
				return errAggFallback
			}
			each(func(row int) {
				if !col.(interface{ IsNull(int) bool }).IsNull(row) {
					a.n++
				}
			})
		}
	}
	return nil
}

// projected stands for a column a segment predates: every row holds v.
type projected struct{ v any }

// column returns table position p of segment f: its decoded array, or a
// projected constant.
func (r *aggRun) column(f *cold.File, p int) (any, error) {
	idx := f.ColumnIndex(r.q.table.Columns[p].ID)
	if idx < 0 {
		return projected{r.proj.Fill(p, f.Meta.SchemaVersion)}, nil
	}
	return f.Column(idx)
}

// colValue reads row of a column returned by column, as SQLite sees it.
func colValue(col any, row int) any {
	switch c := col.(type) {
	case projected:
		return c.v
	case *array.Int64:
		if c.IsNull(row) {
			return nil
		}
		return c.Value(row)
	case *array.String:
		if c.IsNull(row) {
			return nil
		}
		return c.Value(row)
	case *array.Boolean:
		if c.IsNull(row) {
			return nil
		}
		if c.Value(row) {
			return int64(1)
		}
		return int64(0)
	case *array.Float64:
		if c.IsNull(row) {
			return nil
		}
		return c.Value(row)
	}
	return math.NaN() // unknown: match reports sure=false
}

// singleKey reports whether [lo, hi) holds exactly one key (a primary-key
// equality) and returns its value.
func (r *aggRun) singleKey(lo, hi []byte) (any, bool) {
	if lo == nil || len(hi) != len(lo)+1 || hi[len(lo)] != 0 || !bytes.HasPrefix(hi, lo) {
		return nil, false
	}
	pk := r.q.table.PKIndex()
	for _, p := range r.q.preds {
		if p.col != pk || (p.op != "=" && p.op != "==") {
			continue
		}
		if k, err := keys.EncodePK(p.v); err == nil && bytes.Equal(k, lo) {
			return p.v, true
		}
	}
	return nil, false
}
