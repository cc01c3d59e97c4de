package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// KalamTableReconciler keeps a KalamDB table's schema equal to its spec:
// observe (system.tables, DESCRIBE TABLE) → diff → CREATE / ALTER / no-op,
// with destructive changes held back until allowed or approved.
type KalamTableReconciler struct {
	client.Client
	Recorder  events.EventRecorder
	DataPlane *DataPlane
	// Resync is the drift-check interval (default 2 min).
	Resync time.Duration
}

// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamtables,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamtables/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamtables/finalizers,verbs=update

// Reconcile implements reconcile.Reconciler.
func (r *KalamTableReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var kt kalamv1.KalamTable
	return reconcileManaged(ctx, r.Client, r.Recorder, req, managedReconcile{
		kind: "KalamTable", noun: "table", obj: &kt,
		keepFinalizer: func() bool { return kt.Spec.DeletionPolicy == kalamv1.DeletionDelete },
		remove:        func(ctx context.Context) (ctrl.Result, error) { return r.delete(ctx, &kt) },
		apply:         func(ctx context.Context) (ctrl.Result, error) { return r.reconcile(ctx, &kt) },
	})
}

func (r *KalamTableReconciler) reconcile(ctx context.Context, kt *kalamv1.KalamTable) (ctrl.Result, error) {
	kc, dp, err := connectUnclaimed(ctx, r.Client, r.DataPlane, kt, kt.Spec.ClusterRef.Name, "KalamTable", "table "+kt.QualifiedName(),
		func(ctx context.Context) (string, error) { return r.conflict(ctx, kt) })
	if err != nil {
		return ctrl.Result{}, err
	}
	nsExists, err := dp.NamespaceExists(ctx, kt.Spec.Namespace)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, classifyDataPlane(err, "reading system.namespaces")
	}
	if !nsExists {
		return ctrl.Result{}, waitFor(kalamv1.ReasonNamespaceNotFound, 15*time.Second, "namespace %s does not exist in cluster %s", kt.Spec.Namespace, kc.Name)
	}
	cur, err := dp.DescribeTable(ctx, kt.Spec.Namespace, kt.Spec.Name)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, classifyDataPlane(err, "describing "+kt.QualifiedName())
	}
	// inSync means the spec was applied before and has not changed since:
	// any statement now is a correction of an out-of-band change.
	inSync := kt.Status.ObservedGeneration == kt.Generation && kalamv1.IsReady(kt) && kt.Status.TableID != 0
	reason, msg := kalamv1.ReasonAvailable, "table "+kt.QualifiedName()+" matches the spec"
	var stmts []string
	if cur == nil {
		stmt, err := createStatement(kt)
		if err != nil {
			return ctrl.Result{}, permanent(kalamv1.ReasonInvalidSpec, "%v", err)
		}
		stmts = []string{stmt}
		reason, msg = kalamv1.ReasonApplied, "created table "+kt.QualifiedName()
		if kt.Status.TableID != 0 {
			reason, msg = kalamv1.ReasonDriftCorrected, "table "+kt.QualifiedName()+" was missing and has been recreated (empty)"
		}
	} else {
		p, err := diffTable(kt, cur, kt.Status.AppliedOptionsHash)
		if err != nil {
			return ctrl.Result{}, permanent(kalamv1.ReasonInvalidSpec, "%v", err)
		}
		if blocked := r.gate(kt, p); blocked != nil {
			kt.Status.TableID, kt.Status.SchemaVersion = cur.ID, cur.SchemaVersion
			return ctrl.Result{}, blocked
		}
		stmts = p.Statements
		if len(stmts) > 0 {
			reason, msg = kalamv1.ReasonApplied, fmt.Sprintf("applied %d statement(s) to %s", len(stmts), kt.QualifiedName())
			if inSync {
				reason, msg = kalamv1.ReasonDriftCorrected, fmt.Sprintf("reverted out-of-band changes to %s with %d statement(s)", kt.QualifiedName(), len(stmts))
			}
		}
	}
	for _, s := range stmts {
		if _, err := dp.SQL(ctx, s); err != nil {
			r.DataPlane.forgetOnAuth(kc, err)
			return ctrl.Result{}, classifyDataPlane(err, s)
		}
	}
	if len(stmts) > 0 {
		kt.Status.LastAppliedStatements = stmts
		if reason == kalamv1.ReasonDriftCorrected {
			driftCorrections.WithLabelValues("KalamTable").Inc()
			kt.Status.DriftCorrections++
			r.Recorder.Eventf(kt, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
		} else {
			r.Recorder.Eventf(kt, nil, corev1.EventTypeNormal, reason, "Reconcile", "%s", msg)
		}
		if cur, err = dp.DescribeTable(ctx, kt.Spec.Namespace, kt.Spec.Name); err != nil {
			return ctrl.Result{}, classifyDataPlane(err, "describing "+kt.QualifiedName())
		}
		if cur == nil {
			return ctrl.Result{}, fmt.Errorf("table %s is missing right after it was applied", kt.QualifiedName())
		}
	}
	kt.Status.TableID, kt.Status.SchemaVersion = cur.ID, cur.SchemaVersion
	kt.Status.AppliedOptionsHash = optionsHash(kt.Spec.Options)
	kt.Status.PendingPlan = nil
	now := metav1.Now()
	kt.Status.LastSyncTime = &now
	kalamv1.SetCondition(kt, kalamv1.ConditionSchemaInSync, metav1.ConditionTrue, reason, msg)
	kalamv1.MarkReady(kt, reason, msg)
	return ctrl.Result{RequeueAfter: resyncOr(r.Resync)}, nil
}

// gate returns a permanent error (and records the plan in status) when p
// must not run: unsupported changes, or destructive ones that are neither
// allowed by the policy nor approved by the annotation.
func (r *KalamTableReconciler) gate(kt *kalamv1.KalamTable, p *plan) error {
	if len(p.Unsupported) > 0 {
		kt.Status.PendingPlan = &kalamv1.SchemaPlan{Hash: p.Hash(), Statements: p.Statements, Destructive: p.Destructive, Unsupported: p.Unsupported}
		msg := "unsupported schema change: " + strings.Join(p.Unsupported, "; ")
		kalamv1.SetCondition(kt, kalamv1.ConditionSchemaInSync, metav1.ConditionFalse, kalamv1.ReasonUnsupportedChange, msg)
		return permanent(kalamv1.ReasonUnsupportedChange, "%s", msg)
	}
	if len(p.Destructive) == 0 || kt.Spec.SchemaChangePolicy.AllowDestructive || kt.Annotations[kalamv1.AnnotationApprovePlan] == p.Hash() {
		return nil
	}
	kt.Status.PendingPlan = &kalamv1.SchemaPlan{Hash: p.Hash(), Statements: p.Statements, Destructive: p.Destructive}
	msg := fmt.Sprintf("destructive change blocked (%s); set schemaChangePolicy.allowDestructive or annotate %s=%s to apply: %s",
		strings.Join(p.Destructive, "; "), kalamv1.AnnotationApprovePlan, p.Hash(), strings.Join(p.Statements, "; "))
	kalamv1.SetCondition(kt, kalamv1.ConditionSchemaInSync, metav1.ConditionFalse, kalamv1.ReasonDestructiveChange, msg)
	return permanent(kalamv1.ReasonDestructiveChange, "%s", msg)
}

// conflict returns the name of an older KalamTable claiming the same table
// of the same cluster, or "".
func (r *KalamTableReconciler) conflict(ctx context.Context, kt *kalamv1.KalamTable) (string, error) {
	var list kalamv1.KalamTableList
	if err := r.List(ctx, &list, client.InNamespace(kt.Namespace)); err != nil {
		return "", fmt.Errorf("while listing KalamTables: %w", err)
	}
	return olderClaimant(list.Items, kt, func(o *kalamv1.KalamTable) bool {
		return o.Spec.ClusterRef.Name == kt.Spec.ClusterRef.Name && o.QualifiedName() == kt.QualifiedName()
	}), nil
}

// delete runs on a CR being deleted that still carries the finalizer. The
// table is dropped only when the policy is Delete and this CR created or
// adopted it (status.tableID) without a conflict; a vanished or deleting
// cluster releases the CR at once.
func (r *KalamTableReconciler) delete(ctx context.Context, kt *kalamv1.KalamTable) (ctrl.Result, error) {
	if !hasFinalizer(kt) {
		return ctrl.Result{}, nil
	}
	conflicted := metaIsTrue(kt.Status.Conditions, kalamv1.ConditionConflict)
	kc, err := getCluster(ctx, r.Client, kt.Namespace, kt.Spec.ClusterRef.Name)
	if err != nil || !kc.DeletionTimestamp.IsZero() || kt.Status.TableID == 0 || conflicted || kt.Spec.DeletionPolicy != kalamv1.DeletionDelete {
		if err != nil && !isWait(err) {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, setFinalizer(ctx, r.Client, kt, false)
	}
	dp, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		return ctrl.Result{}, err
	}
	cur, err := dp.DescribeTable(ctx, kt.Spec.Namespace, kt.Spec.Name)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, classifyDataPlane(err, "describing "+kt.QualifiedName())
	}
	// Drop only the table this CR managed: a table recreated out of band
	// under the same name (another id) is not ours to destroy.
	if cur != nil && cur.ID == kt.Status.TableID {
		if _, err := dp.SQL(ctx, "DROP TABLE IF EXISTS "+kt.QualifiedName()); err != nil {
			r.DataPlane.forgetOnAuth(kc, err)
			return ctrl.Result{}, classifyDataPlane(err, "dropping "+kt.QualifiedName())
		}
		r.Recorder.Eventf(kt, nil, corev1.EventTypeNormal, "Dropped", "Delete", "dropped table %s", kt.QualifiedName())
	}
	return ctrl.Result{}, setFinalizer(ctx, r.Client, kt, false)
}

func metaIsTrue(conds []metav1.Condition, typ string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// SetupWithManager registers the controller. Annotation changes (pause,
// unmanage, plan approval) trigger a reconcile as well as spec changes.
func (r *KalamTableReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kalamv1.KalamTable{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&kalamv1.KalamCluster{}, enqueueTablesOf(r.Client)).
		Watches(&kalamv1.KalamNamespace{}, enqueueTablesOf(r.Client)).
		Named("kalamtable").
		Complete(r)
}
