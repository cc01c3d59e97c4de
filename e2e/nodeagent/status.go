package nodeagent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reportStatus writes the pod's observed state through pods/status when it
// differs from what the API server has.
func (a *Agent) reportStatus(ctx context.Context, pod *corev1.Pod) {
	a.mu.Lock()
	r := a.runs[pod.UID]
	waitMsg := a.waiting[pod.UID]
	a.mu.Unlock()
	if r != nil && r.isTerminating() {
		return
	}
	st := pod.Status.DeepCopy()
	st.HostIP = "127.0.0.1"
	st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	allReady, anyStarted := false, false
	initDone := false
	if r == nil {
		st.Phase = corev1.PodPending
		st.ContainerStatuses = nil
		for _, c := range pod.Spec.Containers {
			st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
				Name: c.Name, Image: c.Image,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating", Message: waitMsg}},
			})
		}
	} else {
		if st.StartTime == nil {
			t := metav1.NewTime(r.start)
			st.StartTime = &t
		}
		st.PodIP = r.ip
		st.PodIPs = []corev1.PodIP{{IP: r.ip}}
		r.mu.Lock()
		initDone = r.initDone
		r.mu.Unlock()
		st.InitContainerStatuses = nil
		for _, c := range r.inits {
			st.InitContainerStatuses = append(st.InitContainerStatuses, containerStatus(r, c))
		}
		st.ContainerStatuses = nil
		allReady = initDone
		for _, c := range r.containers {
			cs := containerStatus(r, c)
			if cs.State.Running != nil || cs.RestartCount > 0 {
				anyStarted = true
			}
			allReady = allReady && cs.Ready
			st.ContainerStatuses = append(st.ContainerStatuses, cs)
		}
		st.Phase = corev1.PodPending
		if anyStarted {
			st.Phase = corev1.PodRunning
		}
	}
	setCond(st, corev1.PodScheduled, true, "")
	setCond(st, corev1.PodReadyToStartContainers, r != nil, "")
	setCond(st, corev1.PodInitialized, r != nil && initDone, "")
	reason := ""
	if !allReady {
		reason = "ContainersNotReady"
	}
	setCond(st, corev1.ContainersReady, allReady, reason)
	setCond(st, corev1.PodReady, allReady, reason)

	oldJSON, _ := json.Marshal(pod.Status)
	newJSON, _ := json.Marshal(st)
	if bytes.Equal(oldJSON, newJSON) {
		return
	}
	upd := pod.DeepCopy()
	upd.Status = *st
	if _, err := a.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil &&
		!apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		a.opts.Logf("nodeagent: status %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func containerStatus(r *podRun, c *containerRun) corev1.ContainerStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	started := c.running && c.started
	cs := corev1.ContainerStatus{
		Name: c.spec.Name, Image: c.spec.Image, ImageID: "e2e://" + c.spec.Image,
		ContainerID:  fmt.Sprintf("e2e://%s/%s/%d", r.uid, c.spec.Name, c.restarts),
		RestartCount: c.restarts, Ready: c.running && c.ready, Started: &started,
	}
	switch {
	case c.running:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.startedAt)}
	case c.init && c.completed && c.lastTerm != nil:
		cs.State.Terminated = c.lastTerm.DeepCopy()
		cs.Ready = true
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waiting, Message: c.waitMsg}
	}
	if c.lastTerm != nil && !(c.init && c.completed) {
		cs.LastTerminationState.Terminated = c.lastTerm.DeepCopy()
	}
	return cs
}

// setCond sets a pod condition, keeping its transition time when the status
// did not change.
func setCond(st *corev1.PodStatus, typ corev1.PodConditionType, ok bool, reason string) {
	s := corev1.ConditionFalse
	if ok {
		s = corev1.ConditionTrue
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type == typ {
			if c.Status != s {
				c.Status = s
				c.LastTransitionTime = metav1.NewTime(time.Now().Truncate(time.Second))
			}
			c.Reason = reason
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{
		Type: typ, Status: s, Reason: reason, LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second)),
	})
}
