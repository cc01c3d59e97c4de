package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// reasonScalingUp is the Reconciling reason while the operator migrates a
// single node to three replicas (kalamcluster_scaleup.go).
const reasonScalingUp = "ScalingUp"

// memberCallTimeout bounds one POST/GET /v1/cluster/members; the
// migration polls (rolloutPoll) rather than waiting inside a reconcile.
const memberCallTimeout = 10 * time.Second

// observeScaleUp reads what the migration planner needs: the StatefulSet,
// pod 0 and, once the StatefulSet runs more than one pod, which replicas
// vote (asked of pod 0). keepJoin reports a template that already carries
// the join env.
func (r *KalamClusterReconciler) observeScaleUp(ctx context.Context, kc *kalamv1.KalamCluster) (scaleUpStep, bool, error) {
	o := scaleUpObservation{Want: kc.Spec.Replicas}
	var sts appsv1.StatefulSet
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: statefulSetName(kc)}, &sts)
	switch {
	case apierrors.IsNotFound(err):
		if o.Want > 1 {
			pod0, err := r.pod0(ctx, kc)
			if err != nil {
				return scaleUpStep{}, false, err
			}
			o.OrphanPod0 = pod0 != nil
			o.Pod0Ready = pod0 != nil && podReady(pod0)
		}
		return planScaleUp(o), false, nil
	case err != nil:
		return scaleUpStep{}, false, fmt.Errorf("while reading the statefulset: %w", err)
	}
	observeScaleUpSts(&o, &sts)
	if o.Want <= 1 || o.Done || (!o.Migrating && o.Replicas > 1) {
		return planScaleUp(o), o.Migrating, nil
	}
	pod0, err := r.pod0(ctx, kc)
	if err != nil {
		return scaleUpStep{}, false, err
	}
	if pod0 != nil {
		o.Pod0Updated = sts.Status.UpdateRevision != "" && sts.Status.ObservedGeneration >= sts.Generation &&
			pod0.Labels[labelRevision] == sts.Status.UpdateRevision
		o.Pod0Ready = podReady(pod0)
	}
	if o.Replicas > 1 && pod0 != nil && o.Pod0Ready {
		o.Voters = map[uint64]bool{1: true}
		base, err := r.DataPlane.Connect(ctx, kc)
		if err != nil {
			return scaleUpStep{}, false, err
		}
		c, err := r.DataPlane.PodClient(ctx, kc, base, pod0)
		if err != nil {
			return scaleUpStep{}, false, err
		}
		for id := uint64(2); id <= uint64(o.Want); id++ {
			cctx, cancel := context.WithTimeout(ctx, memberCallTimeout)
			m, err := c.ClusterMemberState(cctx, id)
			cancel()
			if err == nil && m.Voter() {
				o.Voters[id] = true
			}
		}
	}
	return planScaleUp(o), o.Migrating, nil
}

// pod0 returns pod 0, or nil while it does not exist or is going away.
func (r *KalamClusterReconciler) pod0(ctx context.Context, kc *kalamv1.KalamCluster) (*corev1.Pod, error) {
	var p corev1.Pod
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: podName(kc, 0)}, &p)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("while reading pod %s: %w", podName(kc, 0), err)
	}
	if !p.DeletionTimestamp.IsZero() {
		return nil, nil
	}
	return &p, nil
}

// recreateForScaleUp deletes the single-node StatefulSet with the orphan
// policy (step 0): pod 0 and its volume keep running, and the next
// reconcile creates the Parallel StatefulSet, which adopts pod 0.
func (r *KalamClusterReconciler) recreateForScaleUp(ctx context.Context, kc *kalamv1.KalamCluster, step scaleUpStep) (ctrl.Result, error) {
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: statefulSetName(kc)}}
	if err := r.Delete(ctx, sts, client.PropagationPolicy(metav1.DeletePropagationOrphan)); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("while deleting the single-node statefulset (orphaning its pod): %w", err)
	}
	r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "ScalingUp", "ScaleUp", "%s", step.Msg)
	return r.scaleUpProgress(kc, step), nil
}

// runScaleUp performs one step on the StatefulSet applyStatefulSet just
// rendered for it, and says what the migration waits for.
func (r *KalamClusterReconciler) runScaleUp(ctx context.Context, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet, step scaleUpStep) (ctrl.Result, error) {
	kc.Status.ReadyReplicas = sts.Status.ReadyReplicas
	kc.Status.Endpoint = clusterEndpoint(kc)
	if err := r.observeScalingGroups(ctx, kc, step); err != nil {
		// Status only: the migration does not wait for it.
		log.FromContext(ctx).Info("reading the groups while scaling up failed", "error", err.Error())
	}
	switch step.Action {
	case scaleUpRollPod0:
		pod0, err := r.pod0(ctx, kc)
		if err != nil || pod0 == nil {
			return r.scaleUpProgress(kc, step), err
		}
		// Only once the StatefulSet controller has seen the new template:
		// the pod it recreates must carry the [cluster] env.
		if sts.Status.UpdateRevision == "" || sts.Status.ObservedGeneration < sts.Generation ||
			!templateMigrating(sts) || pod0.Labels[labelRevision] == sts.Status.UpdateRevision {
			return r.scaleUpProgress(kc, step), nil
		}
		if err := r.Delete(ctx, pod0, client.Preconditions{UID: &pod0.UID}); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("while restarting pod %s with the [cluster] configuration: %w", pod0.Name, err)
		}
		r.Recorder.Eventf(kc, pod0, corev1.EventTypeNormal, "ScalingUp", "ScaleUp", "%s", step.Msg)
	case scaleUpScaleOut:
		r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "ScalingUp", "ScaleUp", "%s", step.Msg)
	case scaleUpAddMember:
		pod0, err := r.pod0(ctx, kc)
		if err != nil || pod0 == nil {
			return r.scaleUpProgress(kc, step), err
		}
		base, err := r.DataPlane.Connect(ctx, kc)
		if err != nil {
			return ctrl.Result{}, err
		}
		c, err := r.DataPlane.PodClient(ctx, kc, base, pod0)
		if err != nil {
			return ctrl.Result{}, err
		}
		cctx, cancel := context.WithTimeout(ctx, memberCallTimeout)
		m, err := c.AddClusterMember(cctx, step.Member, 0)
		cancel()
		if err != nil {
			// Retryable (NO_QUORUM, the new pod not up yet): poll.
			log.FromContext(ctx).Info("adding a replica failed; retrying", "replica", step.Member, "error", err.Error())
		} else if m.Voter() {
			r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "ReplicaAdded", "ScaleUp", "replica %d votes in every Raft group", step.Member)
		}
	case scaleUpFinish:
		patch := client.MergeFrom(sts.DeepCopy())
		if sts.Annotations == nil {
			sts.Annotations = map[string]string{}
		}
		sts.Annotations[annScaleUp] = scaleUpDoneVal
		if err := r.Patch(ctx, sts, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("while recording the finished scale-up: %w", err)
		}
		r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "ScaledUp", "ScaleUp", "%s", step.Msg)
		// The normal observation takes over: Ready once every pod is.
		return ctrl.Result{RequeueAfter: rolloutPoll}, nil
	}
	return r.scaleUpProgress(kc, step), nil
}

// scaleUpProgress records a step under way: phase Updating,
// Reconciling=True/ScalingUp, and Ready=True while pod 0 serves (every
// step but its restart), as a rolling update of a serving cluster would
// not be called down.
func (r *KalamClusterReconciler) scaleUpProgress(kc *kalamv1.KalamCluster, step scaleUpStep) ctrl.Result {
	kc.Status.Phase = kalamv1.ClusterUpdating
	if step.Serving {
		kalamv1.MarkServingProgressing(kc, reasonScalingUp, step.Msg)
	} else {
		kalamv1.MarkProgressing(kc, reasonScalingUp, step.Msg)
	}
	return ctrl.Result{RequeueAfter: rolloutPoll}
}

// observeScalingGroups refreshes status.groups while pod 0 serves as a
// Raft replica (from the scale-out on: its one-member groups, then the
// replicas being added and promoted). QuorumLost and Degraded are left
// alone: judged against three pods they would report a planned scale-up
// as a failure.
func (r *KalamClusterReconciler) observeScalingGroups(ctx context.Context, kc *kalamv1.KalamCluster, step scaleUpStep) error {
	if !step.Serving || step.Action < scaleUpScaleOut {
		return nil
	}
	base, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		return err
	}
	rs, err := r.collectReplicas(ctx, kc, base)
	if err != nil {
		return err
	}
	if len(rs.reports) > 0 {
		kc.Status.Groups, _ = summarizeGroups(kc, rs.reports)
	}
	return nil
}
