package live

import (
	"bytes"
	"sync"
	"sync/atomic"

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
}

type bucket struct {
	groups map[string]*filterGroup
	list   []*filterGroup
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
