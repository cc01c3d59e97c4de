package sql

// Read fences: on a replicated node a SELECT reads local state, so before
// it reads a group it runs the read barrier (Options.ReadBarrier, ReadIndex)
// on that group. The barrier covers only the groups the statement reads:
//
//   - the meta group whenever the statement resolves anything in the
//     catalog (a table, a system view). The catalog is state like any
//     other: a DROP TABLE, ALTER TABLE or ACCESS_LEVEL change acknowledged
//     before the read must be reflected by it, so the catalog the statement
//     was planned on must be at least as new as meta's read index.
//   - per table: a SHARED table's rows are in the shared group; a USER or
//     STREAM table's rows are in the reader's user group, or in every user
//     group for a USER table a service, dba or system role reads (every user's rows); system
//     views read catalog records (meta) or node-local state.
//
// Planning needs the catalog before the barrier has run (which groups a
// statement reads depends on its tables), so a statement is planned on the
// local catalog, then the barrier runs on meta and the data groups in
// parallel (one round trip), then the catalog version is compared with the
// one planned on: if meta's barrier applied a catalog change, the statement
// is planned again (meta is then fenced; the data groups of the new plan
// are fenced if they were not). A table the stale catalog does not know
// yet fails the lookup with NOT_FOUND, which execCaughtUp retries after
// fencing meta.
//
// A fence belongs to one request (Execute, ExecutePrepared): a group
// fenced once stays fenced for the statements after it, which still read
// every write acknowledged before the request started.

import (
	"context"
	"slices"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// readFence records the groups one request has fenced. Statements of a
// request run one after another, so it needs no lock.
type readFence struct {
	done []uint16
}

type readFenceKey struct{}

// withReadFence returns ctx carrying a new fence when the engine is
// replicated and the request did not opt into stale reads.
func (e *Engine) withReadFence(ctx context.Context, stale bool) context.Context {
	if e.opts.ReadBarrier == nil || stale {
		return ctx
	}
	return context.WithValue(ctx, readFenceKey{}, &readFence{})
}

func readFenceFrom(ctx context.Context) *readFence {
	f, _ := ctx.Value(readFenceKey{}).(*readFence)
	return f
}

// tableGroups appends the groups that hold the rows of a table of kind
// tt read by userID to dst: every user group for a USER table when
// allUsers (a role that reads every user's rows: Role.ReadsAllUsers, as
// readsAllUsers in vtab_allusers.go decides for the scan), the user's own
// group for its STREAM tables and otherwise.
func tableGroups(dst []uint16, tt catalog.TableType, userID string, allUsers bool) []uint16 {
	switch {
	case tt == catalog.TableShared:
		return append(dst, keys.GroupShared)
	case tt == catalog.TableUser && allUsers:
		for _, g := range keys.AllDataGroups() {
			if g != keys.GroupShared {
				dst = append(dst, g)
			}
		}
		return dst
	case tt.PerUser():
		return append(dst, keys.UserGroup(userID))
	}
	return append(dst, keys.GroupMeta)
}

// readGroups is the set of groups a statement that resolved tables (and
// views system views) reads, for sess: meta for the catalog whenever
// anything was resolved, plus each table's data groups. A statement that
// resolved nothing (SELECT 1) reads no group.
func readGroups(sess *Session, tables []catalog.TableType, views bool) []uint16 {
	if len(tables) == 0 && !views {
		return nil
	}
	gs := []uint16{keys.GroupMeta}
	all := sess.Role.ReadsAllUsers()
	for _, tt := range tables {
		gs = tableGroups(gs, tt, sess.UserID, all)
	}
	slices.Sort(gs)
	return slices.Compact(gs)
}

// fence runs the read barrier on the groups of gs this request has not
// fenced yet. It reports whether meta was among them: the caller must
// then check that the catalog it planned on is still current.
func (e *Engine) fence(ctx context.Context, f *readFence, gs []uint16) (metaFenced bool, err error) {
	var need []uint16
	for _, g := range gs {
		if !slices.Contains(f.done, g) {
			need = append(need, g)
		}
	}
	if len(need) == 0 {
		return false, nil
	}
	if err := e.opts.ReadBarrier(ctx, need); err != nil {
		return false, AsError(err)
	}
	f.done = append(f.done, need...)
	return slices.Contains(need, keys.GroupMeta), nil
}

// errReplan says a statement was planned on a catalog that meta's read
// barrier then advanced: execSelect plans it again.
type errReplan struct{}

func (errReplan) Error() string { return "catalog changed under the read barrier; planning again" }

// fenceRead fences the groups a statement planned on catalog version
// planned reads. Without a fence in ctx (a single node, a stale read, a
// statement outside a request) it does nothing.
func (e *Engine) fenceRead(ctx context.Context, sess *Session, planned uint64, tables []catalog.TableType, views bool) error {
	f := readFenceFrom(ctx)
	if f == nil {
		return nil
	}
	metaFenced, err := e.fence(ctx, f, readGroups(sess, tables, views))
	if err != nil {
		return err
	}
	if metaFenced && e.cat.Version() != planned {
		return errReplan{}
	}
	return nil
}

// fenceCatalog makes the catalog current before a NOT_FOUND is answered
// (execCaughtUp): the meta group only, recorded in the request's fence
// when there is one.
func (e *Engine) fenceCatalog(ctx context.Context) error {
	if e.opts.ReadBarrier == nil {
		return nil
	}
	if f := readFenceFrom(ctx); f != nil {
		_, err := e.fence(ctx, f, []uint16{keys.GroupMeta})
		return err
	}
	if err := e.opts.ReadBarrier(ctx, []uint16{keys.GroupMeta}); err != nil {
		return AsError(err)
	}
	return nil
}
