package controllers

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// Finalizer is set on KalamNamespace and KalamTable only while their
// deletionPolicy is Delete, so a Retain object (the default) never blocks
// the deletion of its Kubernetes namespace when the operator is gone.
const Finalizer = "kalamdb.io/finalizer"

// Timing defaults; reconcilers copy them so tests can shorten them.
const (
	defaultResync      = 2 * time.Minute
	defaultWait        = 10 * time.Second
	permanentRetry     = 2 * time.Minute
	backupPollInterval = 2 * time.Second
)

// statusObject is a kind the shared plumbing can finish a reconcile for.
type statusObject interface {
	client.Object
	kalamv1.ConditionedObject
	SetObservedGeneration(int64)
}

// paused reports whether the object carries kalamdb.io/reconcile: paused.
func paused(o client.Object) bool {
	return o.GetAnnotations()[kalamv1.AnnotationReconcile] == kalamv1.ReconcilePaused
}

// unmanaged reports whether the object carries kalamdb.io/managed: "false".
func unmanaged(o client.Object) bool {
	return o.GetAnnotations()[kalamv1.AnnotationManaged] == "false"
}

// finish turns the outcome of an inner reconcile into conditions, an event,
// metrics and one status patch, then into the controller-runtime result:
// waiting and permanent outcomes requeue slowly with no error (no hot loop),
// transient ones are returned for controller-runtime's backoff.
func finish(ctx context.Context, c client.Client, rec events.EventRecorder, kind string,
	orig, obj statusObject, res ctrl.Result, err error) (ctrl.Result, error) {
	var we *waitError
	var pe *permanentError
	switch {
	case err == nil:
	case errors.As(err, &we):
		kalamv1.MarkProgressing(obj, we.Reason, we.Msg)
		res, err = ctrl.Result{RequeueAfter: we.After}, nil
	case errors.As(err, &pe):
		kalamv1.MarkStalled(obj, pe.Reason, pe.Msg)
		reconcileErrors.WithLabelValues(kind, pe.Reason).Inc()
		if rec != nil {
			rec.Eventf(obj, nil, corev1.EventTypeWarning, pe.Reason, "Reconcile", "%s", pe.Msg)
		}
		res, err = ctrl.Result{RequeueAfter: permanentRetry}, nil
	default:
		kalamv1.MarkProgressing(obj, kalamv1.ReasonDataPlaneError, err.Error())
		reconcileErrors.WithLabelValues(kind, kalamv1.ReasonDataPlaneError).Inc()
		if rec != nil {
			rec.Eventf(obj, nil, corev1.EventTypeWarning, kalamv1.ReasonDataPlaneError, "Reconcile", "%s", err.Error())
		}
		log.FromContext(ctx).Error(err, "reconcile failed", "kind", kind)
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	if perr := patchStatus(ctx, c, orig, obj); perr != nil {
		if apierrors.IsNotFound(perr) {
			return ctrl.Result{}, nil
		}
		if err == nil {
			return ctrl.Result{}, perr
		}
	}
	return res, err
}

// patchStatus writes obj's status when it differs from orig's.
func patchStatus(ctx context.Context, c client.Client, orig, obj statusObject) error {
	if equality.Semantic.DeepEqual(statusOf(orig), statusOf(obj)) {
		return nil
	}
	base := orig.DeepCopyObject().(client.Object)
	if kc, ok := base.(*kalamv1.KalamCluster); ok {
		// A merge patch leaves out fields equal in both versions, so a 0
		// that was never written (the field absent) would stay absent and
		// the Replicas column blank: the base differs, so it is written.
		kc.Status.ReadyReplicas = -1
	}
	return c.Status().Patch(ctx, obj, client.MergeFrom(base))
}

func statusOf(o client.Object) any {
	switch v := o.(type) {
	case *kalamv1.KalamCluster:
		return v.Status
	case *kalamv1.KalamNamespace:
		return v.Status
	case *kalamv1.KalamTable:
		return v.Status
	case *kalamv1.KalamBackup:
		return v.Status
	case *kalamv1.KalamScheduledBackup:
		return v.Status
	case *kalamv1.KalamUser:
		return v.Status
	}
	return nil
}

// setFinalizer adds or removes the finalizer so that it is present exactly
// when want is true; it writes only on a change.
func setFinalizer(ctx context.Context, c client.Client, obj client.Object, want bool) error {
	has := controllerutil.ContainsFinalizer(obj, Finalizer)
	if has == want {
		return nil
	}
	if want {
		controllerutil.AddFinalizer(obj, Finalizer)
	} else {
		controllerutil.RemoveFinalizer(obj, Finalizer)
	}
	return c.Update(ctx, obj)
}

// getCluster fetches the referenced KalamCluster; a missing one is a
// waiting condition, not an error.
func getCluster(ctx context.Context, c client.Client, namespace, name string) (*kalamv1.KalamCluster, error) {
	var kc kalamv1.KalamCluster
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &kc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(kalamv1.ReasonClusterNotFound, 30*time.Second, "KalamCluster %q not found", name)
		}
		return nil, err
	}
	return &kc, nil
}

// olderThan orders CRs competing for one database object: the oldest
// creationTimestamp wins, the name breaks ties (Strimzi's rule).
func olderThan(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return a.GetName() < b.GetName()
}

// olderClaimant returns the name of an item other than self that claims the
// same database object (same reports it) and is older than self, or "": the
// newcomer of two claimants gets the Conflict condition.
func olderClaimant[E any, P interface {
	*E
	client.Object
}](items []E, self client.Object, same func(P) bool) string {
	for i := range items {
		o := P(&items[i])
		if o.GetUID() != self.GetUID() && same(o) && olderThan(o, self) {
			return o.GetName()
		}
	}
	return ""
}

func hasFinalizer(o client.Object) bool { return controllerutil.ContainsFinalizer(o, Finalizer) }

func isWait(err error) bool {
	var we *waitError
	return errors.As(err, &we)
}

func resyncOr(d time.Duration) time.Duration {
	if d == 0 {
		return defaultResync
	}
	return d
}

// reader returns api when set, else c.
func reader(api client.Reader, c client.Client) client.Reader {
	if api != nil {
		return api
	}
	return c
}
