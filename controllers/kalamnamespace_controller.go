package controllers

import (
	"context"
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// identRE is a KalamDB identifier the operator is willing to send unquoted.
var identRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// KalamNamespaceReconciler keeps a KalamDB namespace in existence.
type KalamNamespaceReconciler struct {
	client.Client
	Recorder  events.EventRecorder
	DataPlane *DataPlane
	// Resync is the drift-check interval (default 2 min).
	Resync time.Duration
}

// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamnamespaces,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamnamespaces/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamnamespaces/finalizers,verbs=update

// Reconcile implements reconcile.Reconciler.
func (r *KalamNamespaceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var kn kalamv1.KalamNamespace
	return reconcileManaged(ctx, r.Client, r.Recorder, req, managedReconcile{
		kind: "KalamNamespace", noun: "namespace", obj: &kn,
		keepFinalizer: func() bool { return kn.Spec.DeletionPolicy == kalamv1.DeletionDelete },
		remove:        func(ctx context.Context) (ctrl.Result, error) { return r.delete(ctx, &kn) },
		apply:         func(ctx context.Context) (ctrl.Result, error) { return r.reconcile(ctx, &kn) },
	})
}

func (r *KalamNamespaceReconciler) reconcile(ctx context.Context, kn *kalamv1.KalamNamespace) (ctrl.Result, error) {
	name := kn.DatabaseName()
	if !identRE.MatchString(name) {
		return ctrl.Result{}, permanent(kalamv1.ReasonInvalidSpec, "namespace name %q is not a KalamDB identifier (^[a-z][a-z0-9_]{0,63}$); set spec.name", name)
	}
	kc, dp, err := connectUnclaimed(ctx, r.Client, r.DataPlane, kn, kn.Spec.ClusterRef.Name, "KalamNamespace", "namespace "+name,
		func(ctx context.Context) (string, error) { return r.conflict(ctx, kn) })
	if err != nil {
		return ctrl.Result{}, err
	}
	exists, err := dp.NamespaceExists(ctx, name)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, classifyDataPlane(err, "reading system.namespaces")
	}
	reason, msg := kalamv1.ReasonAvailable, "namespace "+name+" exists"
	if !exists {
		if _, err := dp.SQL(ctx, "CREATE NAMESPACE IF NOT EXISTS "+name); err != nil {
			r.DataPlane.forgetOnAuth(kc, err)
			return ctrl.Result{}, classifyDataPlane(err, "creating namespace "+name)
		}
		if kn.Status.AppliedName != "" {
			// It existed before and was dropped out of band: put it back.
			driftCorrections.WithLabelValues("KalamNamespace").Inc()
			reason, msg = kalamv1.ReasonDriftCorrected, "namespace "+name+" was missing and has been recreated"
			r.Recorder.Eventf(kn, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
		} else {
			r.Recorder.Eventf(kn, nil, corev1.EventTypeNormal, "Created", "Reconcile", "created namespace %s", name)
		}
	}
	kn.Status.AppliedName = name
	now := metav1.Now()
	kn.Status.LastSyncTime = &now
	kalamv1.MarkReady(kn, reason, msg)
	return ctrl.Result{RequeueAfter: resyncOr(r.Resync)}, nil
}

// conflict returns the name of an older KalamNamespace claiming the same
// namespace of the same cluster, or "".
func (r *KalamNamespaceReconciler) conflict(ctx context.Context, kn *kalamv1.KalamNamespace) (string, error) {
	var list kalamv1.KalamNamespaceList
	if err := r.List(ctx, &list, client.InNamespace(kn.Namespace)); err != nil {
		return "", fmt.Errorf("while listing KalamNamespaces: %w", err)
	}
	return olderClaimant(list.Items, kn, func(o *kalamv1.KalamNamespace) bool {
		return o.Spec.ClusterRef.Name == kn.Spec.ClusterRef.Name && o.DatabaseName() == kn.DatabaseName()
	}), nil
}

// delete runs on a CR being deleted that still carries the finalizer (so
// its policy is Delete). It drops the namespace only when this CR actually
// managed it (status.appliedName, so a conflicting newcomer never drops
// another CR's namespace), and lets go at once when the cluster is gone.
// DROP NAMESPACE without CASCADE refuses while tables remain: the CR waits
// for them (their own CRs decide their fate) instead of destroying them.
func (r *KalamNamespaceReconciler) delete(ctx context.Context, kn *kalamv1.KalamNamespace) (ctrl.Result, error) {
	if !hasFinalizer(kn) {
		return ctrl.Result{}, nil
	}
	kc, err := getCluster(ctx, r.Client, kn.Namespace, kn.Spec.ClusterRef.Name)
	if err != nil || !kc.DeletionTimestamp.IsZero() || kn.Status.AppliedName == "" || kn.Spec.DeletionPolicy != kalamv1.DeletionDelete {
		if err != nil && !isWait(err) {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, setFinalizer(ctx, r.Client, kn, false)
	}
	dp, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		return ctrl.Result{}, err
	}
	name := kn.Status.AppliedName
	if _, err := dp.SQL(ctx, "DROP NAMESPACE IF EXISTS "+name); err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		var ae *dpclient.APIError
		if !asAPIError(err, &ae) || ae.HTTPStatus >= 500 {
			return ctrl.Result{}, fmt.Errorf("while dropping namespace %s: %w", name, err)
		}
		// Tables remain. One whose CR will drop it (deletionPolicy Delete)
		// is waited for; any other (Retain, or not managed by a CR) is
		// kept, and a namespace holding kept tables is kept with them.
		dropper, err := r.tableToDrop(ctx, kn, kc.Name, name)
		if err != nil {
			return ctrl.Result{}, err
		}
		if dropper != "" {
			return ctrl.Result{}, waitFor(kalamv1.ReasonDeleting, 10*time.Second, "waiting for KalamTable %s (deletionPolicy Delete) to drop its table before DROP NAMESPACE %s", dropper, name)
		}
		r.Recorder.Eventf(kn, nil, corev1.EventTypeWarning, "NamespaceKept", "Delete",
			"namespace %s is kept: it holds tables that are retained (DROP NAMESPACE: %s)", name, ae.Message)
		return ctrl.Result{}, setFinalizer(ctx, r.Client, kn, false)
	}
	r.Recorder.Eventf(kn, nil, corev1.EventTypeNormal, "Dropped", "Delete", "dropped namespace %s", name)
	return ctrl.Result{}, setFinalizer(ctx, r.Client, kn, false)
}

// tableToDrop returns the name of a KalamTable of namespace dbName in
// cluster that will drop its table when deleted (deletionPolicy Delete,
// finalizer set), or "".
func (r *KalamNamespaceReconciler) tableToDrop(ctx context.Context, kn *kalamv1.KalamNamespace, cluster, dbName string) (string, error) {
	var tables kalamv1.KalamTableList
	if err := r.List(ctx, &tables, client.InNamespace(kn.Namespace)); err != nil {
		return "", fmt.Errorf("while listing KalamTables: %w", err)
	}
	for i := range tables.Items {
		t := &tables.Items[i]
		if t.Spec.ClusterRef.Name == cluster && t.Spec.Namespace == dbName && t.Spec.DeletionPolicy == kalamv1.DeletionDelete && hasFinalizer(t) {
			return t.Name, nil
		}
	}
	return "", nil
}

// SetupWithManager registers the controller. Annotation changes (pause,
// unmanage) trigger a reconcile as well as spec changes.
func (r *KalamNamespaceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kalamv1.KalamNamespace{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&kalamv1.KalamCluster{}, enqueueNamespacesOf(r.Client)).
		Named("kalamnamespace").
		Complete(r)
}
