package live

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// indexKey addresses the subscriptions that can see a row: its table and,
// for USER/STREAM tables, its owner ("" for SHARED tables).
type indexKey struct {
	table uint32
	user  string
}

// filterGroup holds subscriptions whose conditions are identical (same
// compiled filter on the same table version): a change is evaluated once
// per group, however many subscriptions it has.
type filterGroup struct {
	key  string
	plan *kalamsql.LivePlan
	subs []*Subscription
	// eq is the equality column the group is indexed under (nil: the
	// group is in bucket.plain) and eqKey its value's key.
	eq    *eqColumn
	eqKey string
}

// bucket holds the filter groups of one (table, user). Groups whose
// condition has a top-level `column = literal` conjunct are also indexed
// by (column, value), so a change is evaluated only against the groups
// whose value it carries (old or new version) plus the plain ones.
type bucket struct {
	groups map[string]*filterGroup
	list   []*filterGroup // every group
	plain  []*filterGroup // groups without an indexed equality
	eqCols []*eqColumn
}

// eqColumn indexes the groups of a bucket that require one column to
// equal a literal.
type eqColumn struct {
	id    uint32
	byKey map[string][]*filterGroup
	all   []*filterGroup
}

// candidates appends to dst the groups ev can match (before or after the
// change): the plain groups, and per indexed column the groups keyed by
// the old and the new value, or all of them when a value cannot be keyed.
// enc is scratch space of the calling worker.
func (b *bucket) candidates(enc *kalamsql.RowEncoder, ev *rowEvent, dst []*filterGroup) []*filterGroup {
	dst = append(dst, b.plain...)
	for _, c := range b.eqCols {
		p := c.all[0].plan
		var nk, ok string
		nOK, oOK := true, true
		hasNew, hasOld := ev.op != engine.OpDelete, ev.old != nil
		if hasNew {
			nk, nOK = p.EqKey(enc, ev.row, c.id)
		}
		if hasOld {
			ok, oOK = p.EqKey(enc, ev.old, c.id)
		}
		if !nOK || !oOK {
			dst = append(dst, c.all...)
			continue
		}
		if hasNew {
			dst = append(dst, c.byKey[nk]...)
		}
		if hasOld && (!hasNew || ok != nk) {
			dst = append(dst, c.byKey[ok]...)
		}
	}
	return dst
}

func removeGroup(list []*filterGroup, g *filterGroup) []*filterGroup {
	for i, x := range list {
		if x == g {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last]
		}
	}
	return list
}

// tableMeta is what Observe needs to know about a subscribed table.
type tableMeta struct {
	perUser bool
	subs    int
}

// index maps (table, user) to filter groups. Workers read it under the
// read lock while delivering one change; subscribe and unsubscribe take
// the write lock briefly. tables is a copy-on-write summary read without
// locks by Observe on the engine's apply goroutines.
type index struct {
	mu      sync.RWMutex
	buckets map[indexKey]*bucket
	counts  map[uint32]*tableMeta
	tables  atomic.Pointer[map[uint32]tableMeta]
}

func newIndex() *index {
	ix := &index{buckets: map[indexKey]*bucket{}, counts: map[uint32]*tableMeta{}}
	empty := map[uint32]tableMeta{}
	ix.tables.Store(&empty)
	return ix
}

func groupKey(p *kalamsql.LivePlan) string {
	if p.FilterKey != "" {
		return p.FilterKey
	}
	return "*"
}

// add indexes s (which must not be indexed yet).
func (ix *index) add(s *Subscription) {
	p := s.plan
	k := indexKey{table: p.Table.ID, user: p.UserID}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	b := ix.buckets[k]
	if b == nil {
		b = &bucket{groups: map[string]*filterGroup{}}
		ix.buckets[k] = b
	}
	gk := groupKey(p)
	g := b.groups[gk]
	if g == nil {
		g = &filterGroup{key: gk, plan: p}
		b.groups[gk] = g
		b.list = append(b.list, g)
		b.addGroup(g)
	}
	s.group, s.pos = g, len(g.subs)
	g.subs = append(g.subs, s)
	m := ix.counts[k.table]
	if m == nil {
		m = &tableMeta{perUser: p.PerUser}
		ix.counts[k.table] = m
		ix.publishLocked()
	}
	m.subs++
}

// addGroup files a new group under its equality column, or as plain.
func (b *bucket) addGroup(g *filterGroup) {
	id, key, ok := g.plan.EqIndex()
	if !ok {
		b.plain = append(b.plain, g)
		return
	}
	var c *eqColumn
	for _, x := range b.eqCols {
		if x.id == id {
			c = x
			break
		}
	}
	if c == nil {
		c = &eqColumn{id: id, byKey: map[string][]*filterGroup{}}
		b.eqCols = append(b.eqCols, c)
	}
	g.eq, g.eqKey = c, key
	c.byKey[key] = append(c.byKey[key], g)
	c.all = append(c.all, g)
}

// removeGroup undoes addGroup.
func (b *bucket) removeGroup(g *filterGroup) {
	c := g.eq
	if c == nil {
		b.plain = removeGroup(b.plain, g)
		return
	}
	if l := removeGroup(c.byKey[g.eqKey], g); len(l) == 0 {
		delete(c.byKey, g.eqKey)
	} else {
		c.byKey[g.eqKey] = l
	}
	if c.all = removeGroup(c.all, g); len(c.all) == 0 {
		for i, x := range b.eqCols {
			if x == c {
				b.eqCols = append(b.eqCols[:i], b.eqCols[i+1:]...)
				break
			}
		}
	}
	g.eq = nil
}

// remove unindexes s; it is a no-op when s is not indexed.
func (ix *index) remove(s *Subscription) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	g := s.group
	if g == nil {
		return
	}
	last := len(g.subs) - 1
	moved := g.subs[last]
	g.subs[s.pos], moved.pos = moved, s.pos
	g.subs[last] = nil
	g.subs = g.subs[:last]
	s.group = nil
	p := s.plan
	k := indexKey{table: p.Table.ID, user: p.UserID}
	if len(g.subs) == 0 {
		b := ix.buckets[k]
		delete(b.groups, g.key)
		for i, x := range b.list {
			if x == g {
				b.list = append(b.list[:i], b.list[i+1:]...)
				break
			}
		}
		b.removeGroup(g)
		if len(b.list) == 0 {
			delete(ix.buckets, k)
		}
	}
	if m := ix.counts[k.table]; m != nil {
		if m.subs--; m.subs == 0 {
			delete(ix.counts, k.table)
			ix.publishLocked()
		}
	}
}

// publishLocked republishes the table summary; called on 0<->1 changes
// only, so its copy cost does not grow with the number of subscriptions.
func (ix *index) publishLocked() {
	next := make(map[uint32]tableMeta, len(ix.counts))
	for id, m := range ix.counts {
		next[id] = tableMeta{perUser: m.perUser}
	}
	ix.tables.Store(&next)
}

// subscribedTable reports whether any subscription reads table.
func (ix *index) subscribedTable(table uint32) (tableMeta, bool) {
	m, ok := (*ix.tables.Load())[table]
	return m, ok
}

// tablesOf returns every subscription of the given tables (catalog drops).
func (ix *index) subsOfTables(ids map[uint32]bool) []*Subscription {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []*Subscription
	for k, b := range ix.buckets {
		if !ids[k.table] {
			continue
		}
		for _, g := range b.list {
			out = append(out, g.subs...)
		}
	}
	return out
}

// keyUser extracts the owner of a USER/STREAM row key:
// [group u16][kind][table u32][user...][0x00][pk...].
func keyUser(key []byte) (string, bool) {
	if len(key) < 8 {
		return "", false
	}
	i := bytes.IndexByte(key[7:], 0)
	if i < 0 {
		return "", false
	}
	return string(key[7 : 7+i]), true
}
