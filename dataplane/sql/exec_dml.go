package sql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
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

// retryWrite runs one plan-and-propose attempt of a DML statement until it
// succeeds, fails for good, or runs out of attempts. retryable tells which
// failures mean the statement lost a race and must be planned again from
// fresh state. A write refused by a schema fence (engine.ErrSchemaChanged)
// waits a little first: the ALTER holding the fence is checking the table.
func retryWrite(ctx context.Context, retryable func(error) bool, attempt func() (*Result, error)) (*Result, error) {
	backoff := 5 * time.Millisecond
	for n := 0; ; n++ {
		res, err := attempt()
		if err == nil || n >= maxConflictRetries || !retryable(err) {
			return res, err
		}
		if errors.Is(err, engine.ErrSchemaChanged) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 500*time.Millisecond)
		}
	}
}

// isSchemaChanged reports a write refused by a schema fence.
func isSchemaChanged(err error) bool { return errors.Is(err, engine.ErrSchemaChanged) }

// isConflict reports a write that lost a race (row or schema changed).
func isConflict(err error) bool { return errors.Is(err, engine.ErrConflict) }

func (e *Engine) execInsert(ctx context.Context, sess *Session, s *parse.Insert, params []any) (*Result, error) {
	return retryWrite(ctx, isSchemaChanged, func() (*Result, error) { return e.insertOnce(ctx, sess, s, params) })
}

// insertOnce plans an INSERT under the table's current definition and
// proposes it.
func (e *Engine) insertOnce(ctx context.Context, sess *Session, s *parse.Insert, params []any) (*Result, error) {
	t, err := e.resolveTable(sess, s.Table)
	if err != nil {
		return nil, err
	}
	if err := e.refuseRestoring(t.Namespace); err != nil {
		return nil, err
	}
	if err := canWrite(sess.Role, t); err != nil {
		return nil, err
	}
	// Map the statement's columns to table positions.
	positions := make([]int, 0, len(t.Columns))
	if len(s.Columns) == 0 {
		for i := range t.Columns {
			if !t.Columns[i].Hidden {
				positions = append(positions, i)
			}
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
			if x.Kind == parse.ExprDefault && t.Columns[p].Default != nil && t.Columns[p].Default.Func == parse.FuncAutoIncrement {
				continue // DEFAULT: the counter's next value, as if left out
			}
			v, err := e.exprValue(ctx, sess, &t.Columns[p], x, params)
			if err != nil {
				return nil, err
			}
			vals[p], given[p] = v, true
		}
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.Default != nil && c.Default.Func == parse.FuncAutoIncrement {
				if given[i] {
					if err := e.noteAutoIncrement(ctx, sess, t, c, vals[i]); err != nil {
						return nil, err
					}
				} else {
					n, err := e.nextAutoIncrement(ctx, sess, t, c)
					if err != nil {
						return nil, err
					}
					vals[i], given[i] = n, true
				}
			}
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
		cmd.Rows = append(cmd.Rows, engine.RowWrite{Op: engine.OpInsert, Table: t.ID, Key: keys.Row(scope, pk), Row: row, SchemaVersion: t.SchemaVersion})
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
	var src read.Source
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		rows, err := cs.queryRaw(ctx, rw.SQL, params, 0)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if rw.Exact != nil {
				row = row[:len(rw.Exact)] // the exact twins are only printed
			}
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
			if src.Reader == nil {
				// The scope's cold state in the statement's snapshot.
				if guard, view, err = e.coldGuard(ctx, cs.snap, sess, t); err != nil {
					return err
				}
				src = read.Source{Reader: cs.snap, Scope: scope, Cold: view}
			}
			found, ok, err := src.Get(ctx, pk, pkVal, nil)
			if err != nil {
				return err
			}
			switch {
			case !ok:
			case found.Hot():
				out = append(out, matchedRow{seq: uint64(seq), key: key, old: found.Value, vals: row[2:]})
			default:
				// Only in cold: the write carries the cold version and guard.
				crow, err := read.EncodeCold(t, found.File, found.Index)
				if err != nil {
					return err
				}
				out = append(out, matchedRow{seq: uint64(seq), key: key, old: crow, vals: row[2:], cold: true, guard: guard})
			}
		}
		return nil
	})
	return out, err
}

// writeTarget resolves the table of an UPDATE or DELETE under its current
// definition and checks the caller may write it with a WHERE clause.
func (e *Engine) writeTarget(sess *Session, tn parse.TableName, verb, where string) (*catalog.Table, error) {
	t, err := e.resolveTable(sess, tn)
	if err != nil {
		return nil, err
	}
	if err := e.refuseRestoring(t.Namespace); err != nil {
		return nil, err
	}
	if err := canWrite(sess.Role, t); err != nil {
		return nil, err
	}
	if strings.TrimSpace(where) == "" {
		return nil, badRequest(CodeInvalidSQL, "%s requires a WHERE clause", verb)
	}
	return t, nil
}

// matchAndPropose selects the rows of t matching where, builds one row
// write per match and proposes them as one command. It returns the number
// of rows written.
func (e *Engine) matchAndPropose(ctx context.Context, sess *Session, t *catalog.Table, where string, extra []string, params []any, build func(m *matchedRow) (engine.RowWrite, error)) (int, error) {
	rows, err := e.selectForWrite(ctx, sess, t, where, extra, params)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	group, _ := scopeOf(sess, t)
	cmd := &engine.Command{Group: group, TimeMs: e.nowMs(), Rows: make([]engine.RowWrite, 0, len(rows))}
	for i := range rows {
		w, err := build(&rows[i])
		if err != nil {
			return 0, err
		}
		cmd.Rows = append(cmd.Rows, w)
		guardCold(cmd, &rows[i])
	}
	if _, err := e.exec.Propose(ctx, cmd); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// setCol is one assignment of an UPDATE.
type setCol struct {
	pos   int
	expr  parse.Expr
	rawAt int // index into matchedRow.vals, or -1
}

func (e *Engine) execUpdate(ctx context.Context, sess *Session, s *parse.Update, params []any) (*Result, error) {
	return retryWrite(ctx, isConflict, func() (*Result, error) {
		t, err := e.writeTarget(sess, s.Table, "UPDATE", s.Where)
		if err != nil {
			return nil, err
		}
		sets, raws, err := updateSets(t, s)
		if err != nil {
			return nil, err
		}
		pos := t.PositionOf()
		n, err := e.matchAndPropose(ctx, sess, t, s.Where, raws, params, func(m *matchedRow) (engine.RowWrite, error) {
			vals := make([]any, len(t.Columns))
			h, err := rowcodec.Decode(m.old, pos, nil, vals)
			if err != nil {
				return engine.RowWrite{}, err
			}
			fillMissing(t, h.SchemaVersion, vals)
			for _, sc := range sets {
				c := &t.Columns[sc.pos]
				var v any
				if sc.rawAt >= 0 {
					if v, err = datatype.Coerce(c.Type, m.vals[sc.rawAt]); err != nil {
						return engine.RowWrite{}, badRequest(CodeTypeMismatch, "column '%s': %v", c.Name, err)
					}
				} else if v, err = e.exprValue(ctx, sess, c, sc.expr, params); err != nil {
					return engine.RowWrite{}, err
				}
				if v == nil && !c.Nullable {
					return engine.RowWrite{}, badRequest(CodeConstraint, "column '%s' of %s must not be NULL", c.Name, t.QualifiedName())
				}
				vals[sc.pos] = v
			}
			row, err := encodeRow(t, vals, false)
			if err != nil {
				return engine.RowWrite{}, err
			}
			return engine.RowWrite{Op: engine.OpUpdate, Table: t.ID, Key: m.key, Row: row, ExpectSeq: m.seq, SchemaVersion: t.SchemaVersion}, nil
		})
		if err != nil {
			return nil, err
		}
		return &Result{RowCount: n, Message: fmt.Sprintf("Updated %d row(s)", n)}, nil
	})
}

// updateSets maps an UPDATE's assignments to column positions; raws are
// the SQL expressions SQLite evaluates per matched row.
func updateSets(t *catalog.Table, s *parse.Update) ([]setCol, []string, error) {
	var sets []setCol
	var raws []string
	seen := map[int]bool{}
	for _, a := range s.Set {
		i := t.ColumnIndex(a.Column)
		if i < 0 {
			return nil, nil, notFound("column '%s' not found in table %s", a.Column, t.QualifiedName())
		}
		if i == t.PKIndex() {
			return nil, nil, badRequest(CodeInvalidSQL, "primary key column '%s' cannot be updated", a.Column)
		}
		if seen[i] {
			return nil, nil, badRequest(CodeInvalidSQL, "column '%s' assigned more than once", a.Column)
		}
		seen[i] = true
		sc := setCol{pos: i, expr: a.Expr, rawAt: -1}
		if a.Expr.Kind == parse.ExprRaw {
			sc.rawAt = len(raws)
			raws = append(raws, a.Expr.Raw)
		}
		sets = append(sets, sc)
	}
	return sets, raws, nil
}

func (e *Engine) execDelete(ctx context.Context, sess *Session, s *parse.Delete, params []any) (*Result, error) {
	return retryWrite(ctx, isConflict, func() (*Result, error) {
		t, err := e.writeTarget(sess, s.Table, "DELETE", s.Where)
		if err != nil {
			return nil, err
		}
		n, err := e.matchAndPropose(ctx, sess, t, s.Where, nil, params, func(m *matchedRow) (engine.RowWrite, error) {
			// The tombstone keeps the row's values: WHERE _deleted = true
			// reads them (package read, invariant 4).
			tomb, err := rowcodec.Tombstone(m.old)
			if err != nil {
				return engine.RowWrite{}, fmt.Errorf("while writing the tombstone: %w", err)
			}
			return engine.RowWrite{Op: engine.OpDelete, Table: t.ID, Key: m.key, Row: tomb, ExpectSeq: m.seq}, nil
		})
		if err != nil {
			return nil, err
		}
		return &Result{RowCount: n, Message: fmt.Sprintf("Deleted %d row(s)", n)}, nil
	})
}
