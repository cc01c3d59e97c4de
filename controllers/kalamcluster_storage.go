package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// Volume expansion. A StatefulSet's volumeClaimTemplates are immutable, so
// growing spec.storage.size patches each pod's PVC instead; the CSI driver
// grows the volume and the kubelet its filesystem. A PVC the StatefulSet
// creates later (a deleted claim, a new ordinal) starts at the template's
// size and is expanded by the next reconcile. The PVCs and StorageClasses
// are read by name with the uncached reader: the operator needs no
// cluster-wide informer on either (and a namespaced install cannot list
// StorageClasses at all).

// pvcName is the claim the StatefulSet controller creates for an ordinal.
func pvcName(kc *kalamv1.KalamCluster, ordinal int) string {
	return dataVolume + "-" + podName(kc, ordinal)
}

// pvcExpansion is what one reconcile found out about a cluster's PVCs.
type pvcExpansion struct {
	refused []string // a human must act
	pending []string // the volume or filesystem is growing
	checked int      // PVCs that exist and are provisioned
}

// reconcileStorage raises every data PVC's request to spec.storage.size and
// reports the StorageResized condition. It never touches Ready: a volume
// that cannot grow does not stop the pod serving. It reports whether a
// volume is still growing.
func (r *KalamClusterReconciler) reconcileStorage(ctx context.Context, kc *kalamv1.KalamCluster, replicas int32) (bool, error) {
	want := kc.Spec.Storage.Size
	var st pvcExpansion
	for i := 0; i < int(replicas); i++ {
		if err := r.expandPVC(ctx, kc, pvcName(kc, i), want, &st); err != nil {
			return false, err
		}
	}
	switch {
	case len(st.refused) > 0:
		kalamv1.SetCondition(kc, kalamv1.ConditionStorageResized, metav1.ConditionFalse, kalamv1.ReasonExpansionNotAllowed, strings.Join(st.refused, "; "))
	case len(st.pending) > 0:
		kalamv1.SetCondition(kc, kalamv1.ConditionStorageResized, metav1.ConditionFalse, kalamv1.ReasonResizing, strings.Join(st.pending, "; "))
	case st.checked > 0:
		kalamv1.SetCondition(kc, kalamv1.ConditionStorageResized, metav1.ConditionTrue, kalamv1.ReasonResized,
			fmt.Sprintf("every data volume has at least %s", want.String()))
	}
	return len(st.pending) > 0, nil
}

func (r *KalamClusterReconciler) expandPVC(ctx context.Context, kc *kalamv1.KalamCluster, name string, want resource.Quantity, st *pvcExpansion) error {
	var pvc corev1.PersistentVolumeClaim
	if err := r.reader().Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: name}, &pvc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil // not created yet by the StatefulSet controller
		}
		return fmt.Errorf("while reading PVC %s: %w", name, err)
	}
	if reason := infeasibleResize(&pvc); reason != "" {
		st.refused = append(st.refused, fmt.Sprintf("PVC %s: %s", name, reason))
		return nil
	}
	req := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if req.Cmp(want) < 0 {
		if msg := r.expansionRefused(ctx, &pvc); msg != "" {
			st.refused = append(st.refused, fmt.Sprintf("PVC %s cannot grow from %s to %s: %s", name, req.String(), want.String(), msg))
			return nil
		}
		patch := client.MergeFrom(pvc.DeepCopy())
		if pvc.Spec.Resources.Requests == nil {
			pvc.Spec.Resources.Requests = corev1.ResourceList{}
		}
		pvc.Spec.Resources.Requests[corev1.ResourceStorage] = want
		if err := r.Patch(ctx, &pvc, patch); err != nil {
			if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
				// The PersistentVolumeClaimResize admission plugin's
				// verdict, e.g. for a class this operator may not read.
				st.refused = append(st.refused, fmt.Sprintf("PVC %s cannot grow from %s to %s: %v", name, req.String(), want.String(), err))
				return nil
			}
			return fmt.Errorf("while expanding PVC %s: %w", name, err)
		}
		r.Recorder.Eventf(kc, &pvc, corev1.EventTypeNormal, "Resizing", "ExpandVolume", "raised PVC %s from %s to %s", name, req.String(), want.String())
	}
	capacity, provisioned := pvc.Status.Capacity[corev1.ResourceStorage]
	if !provisioned || pvc.Status.Phase != corev1.ClaimBound {
		return nil // not bound yet: it is provisioned at its request
	}
	st.checked++
	if capacity.Cmp(want) < 0 {
		st.pending = append(st.pending, fmt.Sprintf("PVC %s has %s of %s%s", name, capacity.String(), want.String(), resizeStage(&pvc)))
	}
	return nil
}

// expansionRefused checks the PVC's StorageClass before asking for more:
// the API server would refuse anyway, but this says why in the user's
// terms. A class the operator may not read is left to the API server.
func (r *KalamClusterReconciler) expansionRefused(ctx context.Context, pvc *corev1.PersistentVolumeClaim) string {
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	if class == "" {
		return "it has no StorageClass (a statically provisioned volume cannot be expanded)"
	}
	var sc storagev1.StorageClass
	err := r.reader().Get(ctx, types.NamespacedName{Name: class}, &sc)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("StorageClass %q does not exist", class)
	case err != nil:
		return ""
	case sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion:
		return fmt.Sprintf("StorageClass %q does not set allowVolumeExpansion: true (use a class that does, or migrate the data to a larger volume)", class)
	}
	return ""
}

// infeasibleResize is the resizer's final refusal of an expansion, if any.
func infeasibleResize(pvc *corev1.PersistentVolumeClaim) string {
	switch pvc.Status.AllocatedResourceStatuses[corev1.ResourceStorage] {
	case corev1.PersistentVolumeClaimControllerResizeInfeasible:
		return "the storage driver refused the expansion (ControllerResizeInfeasible); lower spec.storage.size back to what the driver accepts is not possible, fix the PVC by hand"
	case corev1.PersistentVolumeClaimNodeResizeInfeasible:
		return "the kubelet could not grow the filesystem (NodeResizeInfeasible)"
	}
	return ""
}

// resizeStage names the step an expansion waits on.
func resizeStage(pvc *corev1.PersistentVolumeClaim) string {
	for _, c := range pvc.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case corev1.PersistentVolumeClaimResizing:
			return " (the storage driver is expanding the volume)"
		case corev1.PersistentVolumeClaimFileSystemResizePending:
			return " (the volume is expanded; the kubelet grows the filesystem while the pod runs or when it restarts)"
		}
	}
	return ""
}

func (r *KalamClusterReconciler) reader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}
