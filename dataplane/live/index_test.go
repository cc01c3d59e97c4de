package live

import (
	"testing"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

func TestIndexGroupsAndRemoval(t *testing.T) {
	ix := newIndex()
	tbl := &catalog.Table{ID: 7, Type: catalog.TableUser}
	pa := &kalamsql.LivePlan{Table: tbl, UserID: "alice", PerUser: true, FilterKey: "7/1/x"}
	pb := &kalamsql.LivePlan{Table: tbl, UserID: "alice", PerUser: true} // no filter
	pc := &kalamsql.LivePlan{Table: tbl, UserID: "bob", PerUser: true, FilterKey: "7/1/x"}
	var subs []*Subscription
	for _, p := range []*kalamsql.LivePlan{pa, pa, pb, pc} {
		s := &Subscription{plan: p}
		ix.add(s)
		subs = append(subs, s)
	}
	if m, ok := ix.subscribedTable(7); !ok || !m.perUser {
		t.Fatal("table 7 not published")
	}
	b := ix.buckets[indexKey{7, "alice"}]
	if len(b.list) != 2 || len(b.groups["7/1/x"].subs) != 2 || len(b.groups["*"].subs) != 1 {
		t.Fatalf("alice bucket: %d groups", len(b.list))
	}
	// Swap-removal keeps positions consistent.
	ix.remove(subs[0])
	ix.remove(subs[0]) // idempotent
	g := b.groups["7/1/x"]
	if len(g.subs) != 1 || g.subs[0] != subs[1] || subs[1].pos != 0 {
		t.Fatalf("after removal: %v", g.subs)
	}
	for _, s := range subs[1:] {
		ix.remove(s)
	}
	if len(ix.buckets) != 0 || len(ix.counts) != 0 {
		t.Fatalf("index not empty: %d buckets", len(ix.buckets))
	}
	if _, ok := ix.subscribedTable(7); ok {
		t.Fatal("table 7 still published")
	}
}
