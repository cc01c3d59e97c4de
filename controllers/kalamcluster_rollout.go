package controllers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// The replicated cluster's observation (status.groups, QuorumLost,
// Degraded) and its operator-driven rolling update. The StatefulSet of a
// replicated cluster uses OnDelete: the operator, not the StatefulSet
// controller, decides when a pod restarts (docs/high-availability.md,
// "Operator"):
//
//  1. every pod is Ready (= caught up with its leaders, the data plane's
//     /readyz), every group has a leader and no replica lags;
//  2. the next outdated pod is the highest ordinal among those leading no
//     group, else the highest ordinal (followers before the leader);
//  3. if it leads groups, each is asked to hand its leadership to another
//     replica (an updated one when there is one), asked again every
//     rolloutPoll until it leads none or drainTimeout passed since the
//     pod's kalamdb.io/drain-started annotation (then a Warning event and
//     the pod is restarted anyway: its groups elect a new leader within an
//     election timeout);
//  4. the pod is deleted; the StatefulSet controller recreates it from the
//     new template, and step 1 waits for it before the next.

const (
	// annDrainStarted marks a pod whose leadership is being moved away
	// before the rolling update deletes it (RFC 3339 time).
	annDrainStarted = "kalamdb.io/drain-started"
	// drainTimeout bounds the wait for a pod to lead no group.
	drainTimeout = 2 * time.Minute
	// rolloutPoll is the requeue interval while a rollout is under way.
	rolloutPoll = 2 * time.Second
	// statusTimeout bounds one pod's GET /v1/cluster/status.
	statusTimeout = 5 * time.Second
	// labelRevision is the StatefulSet controller's pod revision label.
	labelRevision = appsv1.ControllerRevisionHashLabelKey
)

// replicaSet is what one observation of a replicated cluster found.
type replicaSet struct {
	pods    map[int]*corev1.Pod
	clients map[int]*dpclient.Client
	reports map[int]*dpclient.ClusterStatus
	health  groupHealth
}

// observeReplicas reads every pod's cluster status through base's session
// and writes status.groups, QuorumLost and Degraded (with an event when
// either changes).
func (r *KalamClusterReconciler) observeReplicas(ctx context.Context, kc *kalamv1.KalamCluster, base *dpclient.Client) (*replicaSet, error) {
	rs, err := r.collectReplicas(ctx, kc, base)
	if err != nil {
		return nil, err
	}
	kc.Status.Groups, rs.health = summarizeGroups(kc, rs.reports)
	r.setReplicaConditions(kc, rs.health)
	return rs, nil
}

// collectReplicas lists the data-plane pods and asks each running one for
// its cluster status; a pod that does not answer has no report.
func (r *KalamClusterReconciler) collectReplicas(ctx context.Context, kc *kalamv1.KalamCluster, base *dpclient.Client) (*replicaSet, error) {
	var list corev1.PodList
	if err := r.List(ctx, &list, client.InNamespace(kc.Namespace), client.MatchingLabels(selectorLabels(kc))); err != nil {
		return nil, fmt.Errorf("while listing the data-plane pods: %w", err)
	}
	rs := &replicaSet{pods: map[int]*corev1.Pod{}, clients: map[int]*dpclient.Client{}, reports: map[int]*dpclient.ClusterStatus{}}
	for i := range list.Items {
		p := &list.Items[i]
		ordinal, ok := podOrdinal(kc, p.Name)
		if !ok || ordinal >= int(kc.Spec.Replicas) {
			continue
		}
		rs.pods[ordinal] = p
		if p.Status.PodIP == "" || !p.DeletionTimestamp.IsZero() {
			continue
		}
		c, err := r.DataPlane.PodClient(ctx, kc, base, p)
		if err != nil {
			return nil, err
		}
		rs.clients[ordinal] = c
		sctx, cancel := context.WithTimeout(ctx, statusTimeout)
		st, err := c.ClusterStatus(sctx)
		cancel()
		if err != nil {
			log.FromContext(ctx).V(1).Info("cluster status unavailable", "pod", p.Name, "error", err.Error())
			continue
		}
		rs.reports[ordinal] = st
	}
	return rs, nil
}

// setReplicaConditions writes QuorumLost and Degraded, with a Warning
// event when one becomes True and a Normal one when it clears.
func (r *KalamClusterReconciler) setReplicaConditions(kc *kalamv1.KalamCluster, h groupHealth) {
	for _, c := range []struct {
		typ, reason, msg, raised, cleared string
		on                                bool
	}{
		{kalamv1.ConditionQuorumLost, h.QuorumReason, h.QuorumMsg, "QuorumLost", "QuorumRestored", h.QuorumLost},
		{kalamv1.ConditionDegraded, h.DegradedReason, h.DegradedMsg, "Degraded", "FullyReplicated", h.Degraded},
	} {
		was := meta.IsStatusConditionTrue(kc.Status.Conditions, c.typ)
		status := metav1.ConditionFalse
		if c.on {
			status = metav1.ConditionTrue
		}
		kalamv1.SetCondition(kc, c.typ, status, c.reason, c.msg)
		switch {
		case c.on && !was:
			r.Recorder.Eventf(kc, nil, corev1.EventTypeWarning, c.raised, "Observe", "%s", c.msg)
		case !c.on && was:
			r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, c.cleared, "Observe", "%s", c.msg)
		}
	}
}

// podOrdinal parses <statefulset>-<ordinal>.
func podOrdinal(kc *kalamv1.KalamCluster, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, statefulSetName(kc)+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// rollReplicas advances the rolling update of a replicated cluster by at
// most one pod and says what it waits for.
func (r *KalamClusterReconciler) rollReplicas(ctx context.Context, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet, rs *replicaSet, now time.Time) (ctrl.Result, error) {
	want := int(kc.Spec.Replicas)
	rev := sts.Status.UpdateRevision
	progress := func(format string, args ...any) (ctrl.Result, error) {
		kc.Status.Phase = kalamv1.ClusterUpdating
		kalamv1.MarkProgressing(kc, kalamv1.ReasonRolloutInProgress, fmt.Sprintf(format, args...))
		return ctrl.Result{RequeueAfter: rolloutPoll}, nil
	}
	if rev == "" || sts.Status.ObservedGeneration < sts.Generation {
		return progress("rolling out: waiting for the StatefulSet controller to observe the new template")
	}
	var outdated []int
	for o := range want {
		p := rs.pods[o]
		if p == nil || !p.DeletionTimestamp.IsZero() {
			return progress("rolling out: waiting for pod %s to be recreated", podName(kc, o))
		}
		if !podReady(p) {
			return progress("rolling out: waiting for pod %s to be ready (caught up with its Raft leaders) before restarting another", p.Name)
		}
		if p.Labels[labelRevision] != rev {
			outdated = append(outdated, o)
		}
	}
	if len(outdated) == 0 {
		return progress("rolling out: every pod runs the new template; waiting for the StatefulSet status")
	}
	if rs.health.QuorumLost {
		return progress("rolling out %d pod(s) paused: %s", len(outdated), rs.health.QuorumMsg)
	}
	if rs.health.Degraded {
		return progress("rolling out %d pod(s) paused: %s", len(outdated), rs.health.DegradedMsg)
	}
	leads := func(o int) []string { return rs.health.Leads[uint64(o+1)] }
	sort.Slice(outdated, func(i, j int) bool {
		li, lj := len(leads(outdated[i])) > 0, len(leads(outdated[j])) > 0
		if li != lj {
			return !li
		}
		return outdated[i] > outdated[j]
	})
	victim := rs.pods[outdated[0]]
	if led := leads(outdated[0]); len(led) > 0 {
		started, err := r.drainStarted(ctx, victim, now)
		if err != nil {
			return ctrl.Result{}, err
		}
		if now.Sub(started) < drainTimeout {
			target := transferTarget(outdated, outdated[0], want)
			c := rs.clients[outdated[0]]
			for _, g := range led {
				if c == nil {
					break
				}
				if err := c.TransferLeader(ctx, g, uint64(target+1)); err != nil {
					log.FromContext(ctx).Info("leader transfer request failed", "group", g, "pod", victim.Name, "error", err.Error())
				}
			}
			return progress("rolling out: moving the leadership of %d group(s) (%s) from pod %s to %s before restarting it",
				len(led), strings.Join(first(led, 4), ", "), victim.Name, podName(kc, target))
		}
		r.Recorder.Eventf(kc, victim, corev1.EventTypeWarning, "LeaderTransferTimedOut", "Update",
			"pod %s still leads %d group(s) (%s) after %s; restarting it anyway: the groups elect a new leader within an election timeout",
			victim.Name, len(led), strings.Join(first(led, 4), ", "), drainTimeout)
	}
	if err := r.Delete(ctx, victim, client.Preconditions{UID: &victim.UID}); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("while deleting pod %s for the rolling update: %w", victim.Name, err)
	}
	r.Recorder.Eventf(kc, victim, corev1.EventTypeNormal, "RestartingPod", "Update",
		"deleted pod %s (replica %d) for the rolling update; %d outdated pod(s) left after it", victim.Name, outdated[0]+1, len(outdated)-1)
	return progress("rolling out: restarting pod %s (%d/%d pods updated)", victim.Name, want-len(outdated), want)
}

// transferTarget picks the replica that takes over a draining pod's
// groups: an updated pod (it will not restart again in this rollout),
// else the lowest other ordinal.
func transferTarget(outdated []int, victim, want int) int {
	isOutdated := map[int]bool{}
	for _, o := range outdated {
		isOutdated[o] = true
	}
	fallback := -1
	for o := range want {
		if o == victim {
			continue
		}
		if !isOutdated[o] {
			return o
		}
		if fallback < 0 {
			fallback = o
		}
	}
	return fallback
}

// drainStarted returns when the pod's drain began, marking it now on the
// first call (an annotation, so an operator restart keeps the deadline).
func (r *KalamClusterReconciler) drainStarted(ctx context.Context, p *corev1.Pod, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, p.Annotations[annDrainStarted]); err == nil {
		return t, nil
	}
	patch := client.MergeFrom(p.DeepCopy())
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[annDrainStarted] = now.UTC().Format(time.RFC3339)
	if err := r.Patch(ctx, p, patch); err != nil {
		return now, fmt.Errorf("while marking pod %s as draining: %w", p.Name, err)
	}
	return now, nil
}
