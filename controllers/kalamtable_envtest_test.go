package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

func newNamespace(name, cluster, dbName string, policy kalamv1.DeletionPolicy) *kalamv1.KalamNamespace {
	return &kalamv1.KalamNamespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       kalamv1.KalamNamespaceSpec{ClusterRef: kalamv1.ClusterReference{Name: cluster}, Name: dbName, DeletionPolicy: policy},
	}
}

func newTable(name, cluster, ns, table string, policy kalamv1.DeletionPolicy) *kalamv1.KalamTable {
	return &kalamv1.KalamTable{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: kalamv1.KalamTableSpec{
			ClusterRef: kalamv1.ClusterReference{Name: cluster}, Namespace: ns, Name: table, Type: kalamv1.TableShared,
			Columns: []kalamv1.ColumnSpec{
				{Name: "id", Type: "BIGINT", PrimaryKey: true},
				{Name: "note", Type: "TEXT", Nullable: ptr.To(false), Default: ptr.To("'none'")},
			},
			Options:        &kalamv1.TableOptions{AccessLevel: "PUBLIC", FlushPolicy: "rows:1000"},
			DeletionPolicy: policy,
		},
	}
}

// columns returns the data plane's column names of ns.t (nil if absent).
func columns(t *testing.T, dp *dataPlane, ns, table string) []string {
	t.Helper()
	info, err := dp.root.DescribeTable(tctx(t), ns, table)
	if err != nil {
		t.Fatal(err)
	}
	if info == nil {
		return nil
	}
	var out []string
	for _, c := range info.Columns {
		out = append(out, c.Name)
	}
	return out
}

func mustSQL(t *testing.T, c *dpclient.Client, sql string) {
	t.Helper()
	if _, err := c.SQL(tctx(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func namespaceExists(t *testing.T, dp *dataPlane, ns string) bool {
	t.Helper()
	ok, err := dp.root.NamespaceExists(tctx(t), ns)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestNamespaceAndTableLifecycle is the acceptance flow: a
// KalamNamespace and a KalamTable are created in the data plane and become
// Ready; adding a column runs ALTER; removing one is blocked with the plan
// in status until approved; an out-of-band change is reverted; a second CR
// for the same table gets a Conflict; deleting with deletionPolicy Delete
// drops the table and with Retain keeps it.
func TestNamespaceAndTableLifecycle(t *testing.T) {
	kc := newCluster("tables")
	create(t, kc)
	dp := runDataPlane(t, kc)

	kn := newNamespace("shop-ns", kc.Name, "shop", kalamv1.DeletionRetain)
	create(t, kn)
	waitCondition(t, kn, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if !namespaceExists(t, dp, "shop") || kn.Status.AppliedName != "shop" || controllerutil.ContainsFinalizer(kn, Finalizer) {
		t.Fatalf("namespace: status %+v finalizers %v", kn.Status, kn.Finalizers)
	}

	kt := newTable("orders", kc.Name, "shop", "orders", kalamv1.DeletionDelete)
	create(t, kt)
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionTrue, "") // Applied, or Available once a later reconcile finds nothing to do
	if got := columns(t, dp, "shop", "orders"); !slices.Equal(got, []string{"id", "note"}) {
		t.Fatalf("created columns %v", got)
	}
	if !controllerutil.ContainsFinalizer(kt, Finalizer) || kt.Status.TableID == 0 || kt.Status.SchemaVersion != 1 {
		t.Fatalf("table status %+v finalizers %v", kt.Status, kt.Finalizers)
	}
	info, _ := dp.root.DescribeTable(tctx(t), "shop", "orders")
	if info.AccessLevel != "PUBLIC" || info.Type != "SHARED" || info.Columns[1].Nullable || info.Columns[1].Default != "'none'" {
		t.Fatalf("created table: %+v", info)
	}
	mustSQL(t, dp.root, "INSERT INTO shop.orders (id, note) VALUES (1, 'first')")

	// Adding a column runs ALTER TABLE ... ADD COLUMN.
	update(t, kt, func() {
		kt.Spec.Columns = append(kt.Spec.Columns, kalamv1.ColumnSpec{Name: "qty", Type: "int", Default: ptr.To("0")})
	})
	eventually(t, 30*time.Second, "qty added", func() (bool, string) {
		get(t, kt)
		return kalamv1.IsReady(kt) && kt.Status.ObservedGeneration == kt.Generation && kt.Status.SchemaVersion == 2,
			strings.Join(kt.Status.LastAppliedStatements, "; ")
	})
	if got := columns(t, dp, "shop", "orders"); !slices.Equal(got, []string{"id", "note", "qty"}) {
		t.Fatalf("after add: %v", got)
	}
	if want := "ALTER TABLE shop.orders ADD COLUMN qty INT DEFAULT '0'"; !slices.Equal(kt.Status.LastAppliedStatements, []string{want}) {
		t.Fatalf("applied %q, want %q", kt.Status.LastAppliedStatements, want)
	}

	// Removing a column is destructive: blocked, with the plan in status.
	update(t, kt, func() {
		kt.Spec.Columns = slices.DeleteFunc(kt.Spec.Columns, func(c kalamv1.ColumnSpec) bool { return c.Name == "note" })
	})
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonDestructiveChange)
	waitCondition(t, kt, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonDestructiveChange)
	plan := kt.Status.PendingPlan
	if plan == nil || !slices.Equal(plan.Statements, []string{"ALTER TABLE shop.orders DROP COLUMN note"}) || len(plan.Destructive) != 1 || plan.Hash == "" {
		t.Fatalf("pending plan %+v", plan)
	}
	time.Sleep(3 * time.Second) // a resync passes: still blocked
	if got := columns(t, dp, "shop", "orders"); !slices.Contains(got, "note") {
		t.Fatalf("note dropped without approval: %v", got)
	}
	// A wrong approval does nothing; the right one applies the plan.
	update(t, kt, func() {
		kt.Annotations = map[string]string{kalamv1.AnnotationApprovePlan: "not-the-hash"}
	})
	time.Sleep(time.Second)
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonDestructiveChange)
	update(t, kt, func() {
		kt.Annotations[kalamv1.AnnotationApprovePlan] = plan.Hash
	})
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionTrue, "") // Applied, or Available once a later reconcile finds nothing to do
	if got := columns(t, dp, "shop", "orders"); !slices.Equal(got, []string{"id", "qty"}) || kt.Status.PendingPlan != nil {
		t.Fatalf("after approval: columns %v plan %+v", got, kt.Status.PendingPlan)
	}

	// Drift: a column dropped out of band is put back by the resync.
	mustSQL(t, dp.root, "ALTER TABLE shop.orders DROP COLUMN qty")
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonDriftCorrected)
	if got := columns(t, dp, "shop", "orders"); !slices.Equal(got, []string{"id", "qty"}) || kt.Status.DriftCorrections < 1 {
		t.Fatalf("after drift: columns %v corrections %d", got, kt.Status.DriftCorrections)
	}
	if v := counterValue(t, driftCorrections.WithLabelValues("KalamTable")); v < 1 {
		t.Fatalf("kalamdb_operator_drift_corrections_total{kind=KalamTable} = %v", v)
	}
	if v := counterValue(t, reconcileErrors.WithLabelValues("KalamTable", kalamv1.ReasonDestructiveChange)); v < 1 {
		t.Fatalf("kalamdb_operator_reconcile_errors_total{kind=KalamTable,reason=DestructiveChangeBlocked} = %v", v)
	}

	// Drift of an option the data plane reports (system.tables): a flush
	// policy changed out of band is set back, and counted.
	before := kt.Status.DriftCorrections
	mustSQL(t, dp.root, "ALTER TABLE shop.orders SET TBLPROPERTIES (FLUSH_POLICY = 'interval:7')")
	eventually(t, 60*time.Second, "flush policy drift reverted", func() (bool, string) {
		info, err := dp.root.DescribeTable(tctx(t), "shop", "orders")
		if err != nil || info == nil || info.Options == nil {
			return false, fmt.Sprintf("describe: %v %+v", err, info)
		}
		get(t, kt)
		return info.Options.FlushPolicy == "rows:1000" && kt.Status.DriftCorrections > before,
			fmt.Sprintf("flush policy %q, corrections %d", info.Options.FlushPolicy, kt.Status.DriftCorrections)
	})

	// A second CR for the same table is the newcomer: Conflict, hands off.
	dup := newTable("orders-dup", kc.Name, "shop", "orders", kalamv1.DeletionDelete)
	dup.Spec.Columns = dup.Spec.Columns[:1]
	create(t, dup)
	waitCondition(t, dup, kalamv1.ConditionConflict, metav1.ConditionTrue, kalamv1.ReasonConflict)
	waitCondition(t, dup, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonConflict)
	if err := k8s.Delete(tctx(t), dup); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "conflicting CR gone", func() (bool, string) { return !get(t, dup), "" })
	if got := columns(t, dp, "shop", "orders"); !slices.Equal(got, []string{"id", "qty"}) {
		t.Fatalf("the conflicting CR touched the table: %v", got)
	}

	// Retain keeps the table when its CR goes.
	keep := newTable("keepme", kc.Name, "shop", "keepme", kalamv1.DeletionRetain)
	create(t, keep)
	waitCondition(t, keep, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if controllerutil.ContainsFinalizer(keep, Finalizer) {
		t.Fatal("a Retain table carries a finalizer")
	}
	if err := k8s.Delete(tctx(t), keep); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "keepme CR gone", func() (bool, string) { return !get(t, keep), "" })
	if got := columns(t, dp, "shop", "keepme"); got == nil {
		t.Fatal("Retain table dropped")
	}

	// Delete drops the table, then releases the CR.
	if err := k8s.Delete(tctx(t), kt); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "orders CR gone", func() (bool, string) { return !get(t, kt), "" })
	if got := columns(t, dp, "shop", "orders"); got != nil {
		t.Fatalf("Delete table still exists: %v", got)
	}

	// A Retain namespace stays; a Delete namespace is dropped once empty.
	if err := k8s.Delete(tctx(t), kn); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "namespace CR gone", func() (bool, string) { return !get(t, kn), "" })
	if !namespaceExists(t, dp, "shop") {
		t.Fatal("Retain namespace dropped")
	}
	scratch := newNamespace("scratch", kc.Name, "scratch", kalamv1.DeletionDelete)
	create(t, scratch)
	waitCondition(t, scratch, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if !controllerutil.ContainsFinalizer(scratch, Finalizer) {
		t.Fatal("a Delete namespace has no finalizer")
	}
	if err := k8s.Delete(tctx(t), scratch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "scratch CR gone", func() (bool, string) { return !get(t, scratch), "" })
	if namespaceExists(t, dp, "scratch") {
		t.Fatal("Delete namespace not dropped")
	}

	// A Delete namespace holding a Retain table and a Delete table, all
	// three CRs deleted at once: the Delete table is dropped, the Retain
	// table is kept, and so is the namespace that holds it; the namespace
	// CR goes away instead of staying Deleting forever.
	mixed := newNamespace("mixed", kc.Name, "mixed", kalamv1.DeletionDelete)
	kept := newTable("mixed-kept", kc.Name, "mixed", "kept", kalamv1.DeletionRetain)
	gone := newTable("mixed-gone", kc.Name, "mixed", "gone", kalamv1.DeletionDelete)
	for _, o := range []statusObject{mixed, kept, gone} {
		create(t, o)
	}
	for _, o := range []statusObject{mixed, kept, gone} {
		waitCondition(t, o, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	}
	for _, o := range []client.Object{mixed, kept, gone} {
		if err := k8s.Delete(tctx(t), o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 60*time.Second, "mixed CRs gone", func() (bool, string) {
		return !get(t, mixed) && !get(t, kept) && !get(t, gone), fmt.Sprintf("namespace CR %+v", mixed.Status.Conditions)
	})
	if !namespaceExists(t, dp, "mixed") {
		t.Fatal("the namespace holding a retained table was dropped")
	}
	if info, err := dp.root.DescribeTable(tctx(t), "mixed", "kept"); err != nil || info == nil {
		t.Fatalf("retained table: %v %v", info, err)
	}
	if info, err := dp.root.DescribeTable(tctx(t), "mixed", "gone"); err != nil || info != nil {
		t.Fatalf("Delete table still exists: %v %v", info, err)
	}
}

// TestWaitingConditions: a missing cluster or namespace is a waiting
// condition (Reconciling, requeued), and resolves by itself once the
// dependency appears.
func TestWaitingConditions(t *testing.T) {
	orphan := newTable("orphan", "no-such-cluster", "shop", "t", kalamv1.DeletionRetain)
	create(t, orphan)
	waitCondition(t, orphan, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonClusterNotFound)
	waitCondition(t, orphan, kalamv1.ConditionReconciling, metav1.ConditionTrue, kalamv1.ReasonClusterNotFound)

	kc := newCluster("waits")
	create(t, kc)
	early := newTable("early", kc.Name, "late", "t", kalamv1.DeletionRetain)
	create(t, early)
	waitCondition(t, early, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonClusterNotReady)
	dp := runDataPlane(t, kc)
	waitCondition(t, early, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonNamespaceNotFound)
	create(t, newNamespace("late", kc.Name, "", kalamv1.DeletionRetain))
	waitCondition(t, early, kalamv1.ConditionReady, metav1.ConditionTrue, "") // Applied, or Available once a later reconcile finds nothing to do
	if got := columns(t, dp, "late", "t"); len(got) != 2 {
		t.Fatalf("table after waiting: %v", got)
	}

	// A second KalamNamespace for the same namespace is the newcomer.
	dup := newNamespace("late-dup", kc.Name, "late", kalamv1.DeletionDelete)
	create(t, dup)
	waitCondition(t, dup, kalamv1.ConditionConflict, metav1.ConditionTrue, kalamv1.ReasonConflict)
	if err := k8s.Delete(tctx(t), dup); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "conflicting namespace CR gone", func() (bool, string) { return !get(t, dup), "" })
	if !namespaceExists(t, dp, "late") {
		t.Fatal("a conflicting KalamNamespace dropped the namespace it did not own")
	}
}

// TestEscapeHatches: kalamdb.io/reconcile=paused stops reconciliation;
// kalamdb.io/managed=false drops the finalizer so deleting the CR keeps
// the table even with deletionPolicy Delete.
func TestEscapeHatches(t *testing.T) {
	kc := newCluster("hatches")
	create(t, kc)
	dp := runDataPlane(t, kc)
	create(t, newNamespace("hatch-ns", kc.Name, "hatch", kalamv1.DeletionRetain))
	kt := newTable("hatch-t", kc.Name, "hatch", "t", kalamv1.DeletionDelete)
	create(t, kt)
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionTrue, "")

	update(t, kt, func() {
		kt.Annotations = map[string]string{kalamv1.AnnotationReconcile: kalamv1.ReconcilePaused}
	})
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionUnknown, kalamv1.ReasonPaused)
	mustSQL(t, dp.root, "ALTER TABLE hatch.t DROP COLUMN note")
	time.Sleep(3 * time.Second)
	if got := columns(t, dp, "hatch", "t"); slices.Contains(got, "note") {
		t.Fatal("a paused table was reconciled")
	}

	update(t, kt, func() {
		kt.Annotations = map[string]string{kalamv1.AnnotationManaged: "false"}
	})
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionUnknown, kalamv1.ReasonUnmanaged)
	if controllerutil.ContainsFinalizer(kt, Finalizer) {
		t.Fatal("an unmanaged table keeps its finalizer")
	}
	if err := k8s.Delete(tctx(t), kt); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "CR gone", func() (bool, string) { return !get(t, kt), "" })
	if got := columns(t, dp, "hatch", "t"); got == nil {
		t.Fatal("an unmanaged table was dropped")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestDeleteAfterClusterGone: with the cluster gone, a Delete-policy CR is
// released without touching any data plane (it must not hang on its
// finalizer forever).
func TestDeleteAfterClusterGone(t *testing.T) {
	kc := newCluster("gone")
	create(t, kc)
	dp := runDataPlane(t, kc)
	create(t, newNamespace("gone-ns", kc.Name, "gone", kalamv1.DeletionRetain))
	kt := newTable("gone-t", kc.Name, "gone", "t", kalamv1.DeletionDelete)
	create(t, kt)
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	if err := k8s.Delete(tctx(t), kc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "cluster CR gone", func() (bool, string) { return !get(t, kc), "" })
	if err := k8s.Delete(tctx(t), kt); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "table CR released", func() (bool, string) { return !get(t, kt), "" })
	if got := columns(t, dp, "gone", "t"); got == nil {
		t.Fatal("table dropped although its cluster CR was gone")
	}
}
