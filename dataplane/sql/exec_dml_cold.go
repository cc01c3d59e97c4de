package sql

// DML over the cold tier. The proposer reads the scope's cold state (the
// manifest pointer version and, for the rows it touches, their cold
// versions) and ships both in the command: a ColdGuard that makes the
// apply fail with ErrConflict if the scope's manifest moved meanwhile, and
// RowWrite.Cold carrying the cold row. The apply path stays deterministic
// (it never reads Parquet) yet sees exactly the committed cold state: an
// INSERT of a key that lives only in cold is a duplicate, and UPDATE or
// DELETE of a cold-only row is a normal CAS on its cold _seq.

import (
	"context"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/flush"
	"github.com/kalamdb/kalamdb-k8s/dataplane/read"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
)

// coldGuard returns the guard for DML on the caller's scope of t as of
// reader r, and the scope's cold view (nil when it has no segments). It
// returns nil, nil when the table cannot have cold rows.
func (e *Engine) coldGuard(ctx context.Context, r pebble.Reader, sess *Session, t *catalog.Table) (*engine.ColdGuard, *cold.View, error) {
	if e.cold == nil || (t.Type != catalog.TableUser && t.Type != catalog.TableShared) {
		return nil, nil, nil
	}
	uid := ""
	if t.Type.PerUser() {
		uid = sess.UserID
	}
	view, err := e.coldView(ctx, r, t, uid)
	if err != nil {
		return nil, nil, err
	}
	g := &engine.ColdGuard{Pointer: flush.PointerKey(t, uid)}
	if view != nil {
		g.Version = view.Version
	}
	if view.Empty() {
		view = nil
	}
	return g, view, nil
}

// guardInsert attaches the cold guard to an INSERT and marks keys that
// are live in cold (the apply path then reports them as duplicates).
func (e *Engine) guardInsert(ctx context.Context, sess *Session, t *catalog.Table, cmd *engine.Command) error {
	g, view, err := e.coldGuard(ctx, e.db, sess, t)
	if err != nil || g == nil {
		return err
	}
	cmd.ColdGuard = g
	if view == nil {
		return nil
	}
	_, scope := scopeOf(sess, t)
	src := read.Source{Reader: e.db, Scope: scope, Cold: view}
	for i := range cmd.Rows {
		w := &cmd.Rows[i]
		pk := w.Key[len(scope):]
		if !mayHold(view, pk) {
			continue
		}
		pkVal, err := cold.DecodePK(t.Columns[t.PKIndex()].Type.Kind, pk)
		if err != nil {
			return err
		}
		// A hot version (row or tombstone) decides; else the cold row.
		found, ok, err := src.Get(ctx, pk, pkVal, nil)
		if err != nil {
			return err
		}
		if !ok || found.Hot() {
			continue
		}
		if w.Cold, err = read.EncodeCold(t, found.File, found.Index); err != nil {
			return err
		}
	}
	return nil
}

func mayHold(v *cold.View, pk []byte) bool {
	for i := range v.Manifest.Segments {
		if v.Manifest.Segments[i].MayContain(pk) {
			return true
		}
	}
	return false
}

// isColdConflict: an INSERT only fails with ErrConflict through its guard.
func isColdConflict(err error) bool { return errors.Is(err, engine.ErrConflict) }

// guardCold copies a cold-matched row's version and guard into cmd (the
// last RowWrite is m's).
func guardCold(cmd *engine.Command, m *matchedRow) {
	if !m.cold {
		return
	}
	cmd.Rows[len(cmd.Rows)-1].Cold = m.old
	cmd.ColdGuard = m.guard
}

// proposeInsert proposes an INSERT with its cold guard, re-reading the
// cold state when a flush or compaction committed in between.
func (e *Engine) proposeInsert(ctx context.Context, sess *Session, t *catalog.Table, cmd *engine.Command) (engine.Result, error) {
	for attempt := 0; ; attempt++ {
		for i := range cmd.Rows {
			cmd.Rows[i].Cold = nil
		}
		if err := e.guardInsert(ctx, sess, t, cmd); err != nil {
			return engine.Result{}, err
		}
		res, err := e.exec.Propose(ctx, cmd)
		if cmd.ColdGuard != nil && isColdConflict(err) && attempt < maxConflictRetries {
			continue
		}
		return res, err
	}
}
