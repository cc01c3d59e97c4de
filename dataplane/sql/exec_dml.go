package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/rowcodec"
)

// maxConflictRetries bounds how often an UPDATE/DELETE re-reads rows that
// changed between its read and its apply.
const maxConflictRetries = 8

// scopeOf returns the group and key prefix of the caller's rows in t.
func scopeOf(sess *Session, t *catalog.Table) (uint16, []byte) {
	if t.Type.PerUser() {
		g := keys.UserGroup(sess.UserID)
		return g, keys.ScopePrefix(g, t.ID, sess.UserID, true)
	}
	return keys.GroupShared, keys.ScopePrefix(keys.GroupShared, t.ID, "", false)
}

func encodeRow(t *catalog.Table, vals []any, deleted bool) ([]byte, error) {
	cols := make([]rowcodec.Column, 0, len(vals))
	for i, v := range vals {
		if v != nil {
			cols = append(cols, rowcodec.Column{ID: t.Columns[i].ID, Value: v})
		}
	}
	return rowcodec.Encode(0, deleted, t.SchemaVersion, cols)
}

func (e *Engine) execInsert(ctx context.Context, sess *Session, s *parse.Insert, params []any) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	if err := canWrite(sess.Role, t); err != nil {
		return nil, err
	}
	// Map the statement's columns to table positions.
	positions := make([]int, 0, len(t.Columns))
	if len(s.Columns) == 0 {
		for i := range t.Columns {
			positions = append(positions, i)
		}
	} else {
		seen := map[int]bool{}
		for _, name := range s.Columns {
			i := t.ColumnIndex(name)
			if i < 0 {
				return nil, notFound("column '%s' not found in table %s", name, t.QualifiedName())
			}
			if seen[i] {
				return nil, badRequest(CodeInvalidSQL, "column '%s' specified more than once", name)
			}
			seen[i] = true
			positions = append(positions, i)
		}
	}
	group, scope := scopeOf(sess, t)
	pkIdx := t.PKIndex()
	cmd := &engine.Command{Group: group, TimeMs: e.nowMs(), Rows: make([]engine.RowWrite, 0, len(s.Rows))}
	pks := make([]any, 0, len(s.Rows))
	given := make([]bool, len(t.Columns))
	for ri, exprs := range s.Rows {
		if len(exprs) != len(positions) {
			return nil, badRequest(CodeInvalidSQL, "row %d has %d values but %d columns are targeted", ri+1, len(exprs), len(positions))
		}
		vals := make([]any, len(t.Columns))
		for i := range given {
			given[i] = false
		}
		for j, x := range exprs {
			p := positions[j]
			v, err := e.exprValue(ctx, sess, &t.Columns[p], x, params)
			if err != nil {
				return nil, err
			}
			vals[p], given[p] = v, true
		}
		for i := range t.Columns {
			c := &t.Columns[i]
			if !given[i] {
				v, err := datatype.Coerce(c.Type, e.defaultValue(sess, c))
				if err != nil {
					return nil, badRequest(CodeTypeMismatch, "default of column '%s': %v", c.Name, err)
				}
				vals[i] = v
			}
			if vals[i] == nil && !c.Nullable {
				return nil, badRequest(CodeConstraint, "column '%s' of %s must not be NULL (row %d)", c.Name, t.QualifiedName(), ri+1)
			}
		}
		var pkVal any
		if pkIdx >= 0 {
			pkVal = vals[pkIdx]
		} else {
			pkVal = globalSnowflake.Next()
		}
		pk, err := keys.EncodePK(pkVal)
		if err != nil {
			return nil, badRequest(CodeConstraint, "row %d: %v", ri+1, err)
		}
		row, err := encodeRow(t, vals, false)
		if err != nil {
			return nil, err
		}
		cmd.Rows = append(cmd.Rows, engine.RowWrite{Op: engine.OpInsert, Table: t.ID, Key: keys.Row(scope, pk), Row: row})
		pks = append(pks, pkVal)
	}
	_, err = e.proposeInsert(ctx, sess, t, cmd)
	if err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) && errors.Is(err, engine.ErrDuplicateKey) && ee.Row >= 0 && ee.Row < len(pks) {
			return nil, AsError(&engine.Error{Kind: engine.ErrDuplicateKey, Row: ee.Row,
				Msg: fmt.Sprintf("duplicate primary key: %s = %v already exists in %s", t.PrimaryKey, pks[ee.Row], t.QualifiedName())})
		}
		return nil, err
	}
	n := len(s.Rows)
	return &Result{RowCount: n, Message: fmt.Sprintf("Inserted %d row(s)", n)}, nil
}

// matchedRow is a row selected by an UPDATE/DELETE WHERE clause.
type matchedRow struct {
	seq uint64
	key []byte
	old []byte
	// cold is set when old is the row's cold-tier version (no hot one);
	// guard pins the cold state it was read at.
	cold  bool
	guard *engine.ColdGuard
	vals  []any // SET expression results evaluated by SQLite
}

// selectForWrite runs `SELECT _seq, pk, extra... FROM t WHERE where` within
// the caller's scope and loads each matched row's current bytes from the
// same snapshot.
func (e *Engine) selectForWrite(ctx context.Context, sess *Session, t *catalog.Table, where string, extra []string, params []any) ([]matchedRow, error) {
	pkExpr := "_seq"
	if t.PrimaryKey != "" {
		pkExpr = quoteIdent(t.PrimaryKey)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT _seq, %s", pkExpr)
	for _, x := range extra {
		fmt.Fprintf(&b, ", (%s)", x)
	}
	fmt.Fprintf(&b, " FROM %s.%s WHERE %s", quoteIdent(t.Namespace), quoteIdent(t.Name), where)
	rw, r, err := e.rewrite(sess, b.String())
	if err != nil {
		return nil, err
	}
	if err := r.checkRead(); err != nil {
		return nil, err
	}
	if rw.NumParams > len(params) {
		return nil, badRequest(CodeInvalidParameter, "statement uses $%d but %d parameter(s) were given", rw.NumParams, len(params))
	}
	_, scope := scopeOf(sess, t)
	var out []matchedRow
	var guard *engine.ColdGuard
	var view *cold.View
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		rows, err := cs.queryRaw(ctx, rw.SQL, params, 0)
		if err != nil {
			return err
		}
		for _, row := range rows {
			seq, _ := row[0].(int64)
			var key []byte
			if t.PrimaryKey == "" {
				return badRequest(CodeInvalidSQL, "UPDATE/DELETE need a primary key on %s", t.QualifiedName())
			}
			pkVal, err := datatype.Coerce(t.Columns[t.PKIndex()].Type, row[1])
			if err != nil {
				return err
			}
			pk, err := keys.EncodePK(pkVal)
			if err != nil {
				return err
			}
			key = keys.Row(scope, pk)
			old, closer, err := cs.snap.Get(key)
			if err == pebble.ErrNotFound {
				// Not hot: the row may live in the cold tier.
				if guard == nil {
					if guard, view, err = e.coldGuard(ctx, cs.snap, sess, t); err != nil {
						return err
					}
				}
				crow, err := coldRow(ctx, view, t, scope, key)
				if err != nil {
					return err
				}
				if crow != nil {
					out = append(out, matchedRow{seq: uint64(seq), key: key, old: crow, vals: row[2:], cold: true, guard: guard})
				}
				continue
			}
			if err != nil {
				return err
			}
			m := matchedRow{seq: uint64(seq), key: key, old: append([]byte(nil), old...), vals: row[2:]}
			closer.Close()
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

func (e *Engine) execUpdate(ctx context.Context, sess *Session, s *parse.Update, params []any) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	if err := canWrite(sess.Role, t); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Where) == "" {
		return nil, badRequest(CodeInvalidSQL, "UPDATE requires a WHERE clause")
	}
	type setCol struct {
		pos   int
		expr  parse.Expr
		rawAt int // index into matchedRow.vals, or -1
	}
	var sets []setCol
	var raws []string
	seen := map[int]bool{}
	for _, a := range s.Set {
		i := t.ColumnIndex(a.Column)
		if i < 0 {
			return nil, notFound("column '%s' not found in table %s", a.Column, t.QualifiedName())
		}
		if i == t.PKIndex() {
			return nil, badRequest(CodeInvalidSQL, "primary key column '%s' cannot be updated", a.Column)
		}
		if seen[i] {
			return nil, badRequest(CodeInvalidSQL, "column '%s' assigned more than once", a.Column)
		}
		seen[i] = true
		sc := setCol{pos: i, expr: a.Expr, rawAt: -1}
		if a.Expr.Kind == parse.ExprRaw {
			sc.rawAt = len(raws)
			raws = append(raws, a.Expr.Raw)
		}
		sets = append(sets, sc)
	}
	group, _ := scopeOf(sess, t)
	pos := t.PositionOf()
	for attempt := 0; ; attempt++ {
		rows, err := e.selectForWrite(ctx, sess, t, s.Where, raws, params)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return &Result{RowCount: 0, Message: "Updated 0 row(s)"}, nil
		}
		cmd := &engine.Command{Group: group, TimeMs: e.nowMs(), Rows: make([]engine.RowWrite, 0, len(rows))}
		for _, m := range rows {
			vals := make([]any, len(t.Columns))
			h, err := rowcodec.Decode(m.old, pos, nil, vals)
			if err != nil {
				return nil, err
			}
			fillMissing(t, h.SchemaVersion, vals)
			for _, sc := range sets {
				c := &t.Columns[sc.pos]
				var v any
				if sc.rawAt >= 0 {
					if v, err = datatype.Coerce(c.Type, m.vals[sc.rawAt]); err != nil {
						return nil, badRequest(CodeTypeMismatch, "column '%s': %v", c.Name, err)
					}
				} else if v, err = e.exprValue(ctx, sess, c, sc.expr, params); err != nil {
					return nil, err
				}
				if v == nil && !c.Nullable {
					return nil, badRequest(CodeConstraint, "column '%s' of %s must not be NULL", c.Name, t.QualifiedName())
				}
				vals[sc.pos] = v
			}
			row, err := encodeRow(t, vals, false)
			if err != nil {
				return nil, err
			}
			cmd.Rows = append(cmd.Rows, engine.RowWrite{Op: engine.OpUpdate, Table: t.ID, Key: m.key, Row: row, ExpectSeq: m.seq})
			guardCold(cmd, &m)
		}
		_, err = e.exec.Propose(ctx, cmd)
		if errors.Is(err, engine.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Result{RowCount: len(rows), Message: fmt.Sprintf("Updated %d row(s)", len(rows))}, nil
	}
}

func (e *Engine) execDelete(ctx context.Context, sess *Session, s *parse.Delete, params []any) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	if err := canWrite(sess.Role, t); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.Where) == "" {
		return nil, badRequest(CodeInvalidSQL, "DELETE requires a WHERE clause")
	}
	group, _ := scopeOf(sess, t)
	tomb, err := rowcodec.Encode(0, true, t.SchemaVersion, nil)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		rows, err := e.selectForWrite(ctx, sess, t, s.Where, nil, params)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return &Result{RowCount: 0, Message: "Deleted 0 row(s)"}, nil
		}
		cmd := &engine.Command{Group: group, TimeMs: e.nowMs(), Rows: make([]engine.RowWrite, 0, len(rows))}
		for _, m := range rows {
			cmd.Rows = append(cmd.Rows, engine.RowWrite{Op: engine.OpDelete, Table: t.ID, Key: m.key, Row: tomb, ExpectSeq: m.seq})
			guardCold(cmd, &m)
		}
		_, err = e.exec.Propose(ctx, cmd)
		if errors.Is(err, engine.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Result{RowCount: len(rows), Message: fmt.Sprintf("Deleted %d row(s)", len(rows))}, nil
	}
}
