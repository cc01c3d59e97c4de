package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// managedReconcile describes one data-plane object (KalamNamespace,
// KalamTable) to reconcileManaged. The hooks close over obj, so they see it
// as fetched; they exist because the fields they read (spec.deletionPolicy)
// are not reachable through statusObject.
type managedReconcile struct {
	kind string // metrics and events label, e.g. "KalamTable"
	noun string // what the Unmanaged message calls it, e.g. "table"
	obj  statusObject
	// keepFinalizer reports whether the finalizer is wanted (policy Delete).
	keepFinalizer func() bool
	// remove handles an object being deleted; apply converges a live one.
	remove, apply func(context.Context) (ctrl.Result, error)
}

// reconcileManaged is the shared Reconcile of data-plane objects: fetch,
// honour the unmanaged and paused annotations, run deletion, keep the
// finalizer in line with the deletion policy, then apply and finish. The
// order matters: an unmanaged object sheds its finalizer even while being
// deleted, so the operator never blocks a deletion it no longer manages.
func reconcileManaged(ctx context.Context, c client.Client, rec events.EventRecorder, req ctrl.Request, m managedReconcile) (ctrl.Result, error) {
	obj := m.obj
	if err := c.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	orig := obj.DeepCopyObject().(statusObject)
	switch {
	case unmanaged(obj):
		if err := setFinalizer(ctx, c, obj, false); err != nil {
			return ctrl.Result{}, err
		}
		if !obj.GetDeletionTimestamp().IsZero() {
			return ctrl.Result{}, nil
		}
		kalamv1.MarkUnknown(obj, kalamv1.ReasonUnmanaged, "kalamdb.io/managed is \"false\": the operator no longer manages this "+m.noun)
		return finish(ctx, c, rec, m.kind, orig, obj, ctrl.Result{}, nil)
	case paused(obj):
		kalamv1.MarkUnknown(obj, kalamv1.ReasonPaused, "reconciliation is paused by the kalamdb.io/reconcile annotation")
		return finish(ctx, c, rec, m.kind, orig, obj, ctrl.Result{}, nil)
	case !obj.GetDeletionTimestamp().IsZero():
		res, err := m.remove(ctx)
		if err == nil || apierrors.IsNotFound(err) {
			return res, client.IgnoreNotFound(err)
		}
		return finish(ctx, c, rec, m.kind, orig, obj, res, err)
	}
	if err := setFinalizer(ctx, c, obj, m.keepFinalizer()); err != nil {
		return ctrl.Result{}, err
	}
	res, err := m.apply(ctx)
	return finish(ctx, c, rec, m.kind, orig, obj, res, err)
}

// connectUnclaimed looks up the object's cluster, refuses (Conflict
// condition, permanent error) when an older CR of the same kind already
// claims the same data-plane object, and connects to the data plane.
// what names that object in messages, e.g. "table ns.t".
func connectUnclaimed(ctx context.Context, c client.Client, dpl *DataPlane, obj statusObject, clusterName, kind, what string,
	conflict func(context.Context) (string, error)) (*kalamv1.KalamCluster, *dpclient.Client, error) {
	kc, err := getCluster(ctx, c, obj.GetNamespace(), clusterName)
	if err != nil {
		return nil, nil, err
	}
	if other, err := conflict(ctx); err != nil {
		return nil, nil, err
	} else if other != "" {
		kalamv1.SetCondition(obj, kalamv1.ConditionConflict, metav1.ConditionTrue, kalamv1.ReasonConflict, what+" is already managed by "+kind+" "+other)
		return nil, nil, permanent(kalamv1.ReasonConflict, "%s is already managed by %s %s", what, kind, other)
	}
	kalamv1.SetCondition(obj, kalamv1.ConditionConflict, metav1.ConditionFalse, kalamv1.ReasonNoConflict, "")
	dp, err := dpl.Connect(ctx, kc)
	if err != nil {
		return nil, nil, err
	}
	return kc, dp, nil
}
