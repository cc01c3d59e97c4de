package sql

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// INT and SMALLINT AUTO_INCREMENT columns (and SERIAL, SMALLSERIAL and
// GENERATED ... AS IDENTITY on them) take the next value of a counter per
// table, column and key scope (each user's rows of a USER table count on
// their own, as they are keyed apart). A BIGINT one takes Snowflake ids
// instead, which need no counter.
//
// The counter lives in this node's memory: its first use after a start
// seeds it from MAX(column) in the scope, and each INSERT that leaves the
// column out takes the next value; one that gives a higher value moves the
// counter above it (as MySQL). So values are increasing and unique on
// one node while rows keep them; after a restart, a value freed by deleting
// the highest rows may be handed out again (as with MySQL before 8.0), and
// two nodes taking writes for the same table could hand out the same value.
// Declare the column PRIMARY KEY to have a duplicate refused.
//
// So in a cluster of several members (Options.RefuseNodeCounters) such a
// counter is refused with CodeAutoIncrementInCluster: declaring one
// (CREATE TABLE, ALTER TABLE ADD COLUMN), and an INSERT that
// would take a value from one (a table created on a single node before it
// became a cluster). An INSERT that gives the column's value explicitly
// works. Assigning the value in the Raft apply, from a counter in the
// group's state, would make it correct in a cluster; it is not done.

// autoIncrements holds the counters; the zero value is ready.
type autoIncrements struct {
	mu   sync.Mutex
	next map[autoIncKey]int64
}

type autoIncKey struct {
	table, column uint32
	scope         string
}

// nextAutoIncrement returns the next value of column c of t for the
// session's scope.
func (e *Engine) nextAutoIncrement(ctx context.Context, sess *Session, t *catalog.Table, c *catalog.Column) (int64, error) {
	if e.opts.RefuseNodeCounters {
		return 0, badRequest(CodeAutoIncrementInCluster, "column '%s' of %s is %s AUTO_INCREMENT, whose counter is per node: "+
			"in a cluster two replicas could hand out the same value, so its value must be given explicitly "+
			"(or retype the column to BIGINT and SET DEFAULT SNOWFLAKE_ID())", c.Name, t.QualifiedName(), c.Type)
	}
	a := &e.autoInc
	a.mu.Lock()
	defer a.mu.Unlock()
	k, n, err := e.counterLocked(ctx, sess, t, c)
	if err != nil {
		return 0, err
	}
	limit := int64(math.MaxInt32)
	if c.Type.Kind == datatype.SmallInt {
		limit = math.MaxInt16
	}
	if n > limit {
		return 0, badRequest(CodeTypeMismatch, "AUTO_INCREMENT of column '%s' is exhausted (%s ends at %d)", c.Name, c.Type, limit)
	}
	a.next[k] = n + 1
	return n, nil
}

// noteAutoIncrement records an explicit value v given to column c of t (an
// AUTO_INCREMENT one): as in MySQL, the counter goes on above it, so a
// later counter value does not repeat it. The counter is seeded first if
// it was not (v's row is not applied yet, so MAX does not count it).
func (e *Engine) noteAutoIncrement(ctx context.Context, sess *Session, t *catalog.Table, c *catalog.Column, v any) error {
	n, ok := v.(int64)
	if !ok || e.opts.RefuseNodeCounters {
		return nil
	}
	a := &e.autoInc
	a.mu.Lock()
	defer a.mu.Unlock()
	k, next, err := e.counterLocked(ctx, sess, t, c)
	if err != nil {
		return err
	}
	a.next[k] = max(next, n+1)
	return nil
}

// counterLocked returns the key and the next value of column c of t for
// the session's scope, seeding it from MAX(c) at its first use; the caller
// holds e.autoInc.mu and stores the value it leaves next.
func (e *Engine) counterLocked(ctx context.Context, sess *Session, t *catalog.Table, c *catalog.Column) (autoIncKey, int64, error) {
	k := autoIncKey{table: t.ID, column: c.ID}
	if t.Type.PerUser() {
		k.scope = sess.UserID
	}
	a := &e.autoInc
	if n, ok := a.next[k]; ok {
		return k, n, nil
	}
	top, err := e.maxColumn(ctx, sess, t, c)
	if err != nil {
		return k, 0, fmt.Errorf("while seeding AUTO_INCREMENT of %s.%s: %w", t.QualifiedName(), c.Name, err)
	}
	if a.next == nil {
		a.next = map[autoIncKey]int64{}
	}
	return k, top + 1, nil
}

// maxColumn returns MAX(c) over the rows the session sees (0: none).
func (e *Engine) maxColumn(ctx context.Context, sess *Session, t *catalog.Table, c *catalog.Column) (int64, error) {
	rw, r, err := e.rewrite(sess, fmt.Sprintf("SELECT MAX(%s) FROM %s.%s", quoteIdent(c.Name), quoteIdent(t.Namespace), quoteIdent(t.Name)))
	if err != nil {
		return 0, err
	}
	var top int64
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		rows, err := cs.queryRaw(ctx, rw.SQL, nil, 1)
		if err != nil {
			return err
		}
		if len(rows) == 1 {
			top, _ = rows[0][0].(int64)
		}
		return nil
	})
	return max(top, 0), err
}

// refuseNodeCounter refuses, when node counters are refused
// (Options.RefuseNodeCounters), making column c of table (a qualified
// name) an INT or SMALLINT AUTO_INCREMENT one (default d).
func (e *Engine) refuseNodeCounter(table string, c *catalog.Column, d *catalog.Default) error {
	if !e.opts.RefuseNodeCounters || d == nil || d.Func != parse.FuncAutoIncrement {
		return nil
	}
	return badRequest(CodeAutoIncrementInCluster, "column '%s' of %s: %s AUTO_INCREMENT (SERIAL, IDENTITY) keeps a counter per node, "+
		"and this is a cluster of several members: two replicas could hand out the same value. "+
		"Use BIGINT AUTO_INCREMENT (BIGSERIAL) or BIGINT DEFAULT SNOWFLAKE_ID(), unique per replica", c.Name, table, c.Type)
}
