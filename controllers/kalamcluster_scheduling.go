package controllers

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// Pure builders of the pod template's placement: spec.podLabels and
// spec.scheduling, copied so the StatefulSet never aliases the cached
// KalamCluster.

// podLabels are the user's spec.podLabels under the operator's labels: the
// operator's win, since the StatefulSet's selector and the Services match
// on them.
func podLabels(kc *kalamv1.KalamCluster) map[string]string {
	l := copyMap(kc.Spec.PodLabels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, objectLabels(kc))
	return l
}

// topologySpread copies spec.scheduling.topologySpreadConstraints and fills
// an empty labelSelector with the cluster's pod selector: a constraint
// without a selector counts no pods and spreads nothing, which is never
// what the user meant.
func topologySpread(kc *kalamv1.KalamCluster) []corev1.TopologySpreadConstraint {
	in := kc.Spec.Scheduling.TopologySpreadConstraints
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.TopologySpreadConstraint, len(in))
	for i := range in {
		out[i] = *in[i].DeepCopy()
		if out[i].LabelSelector == nil {
			out[i].LabelSelector = &metav1.LabelSelector{MatchLabels: selectorLabels(kc)}
		}
	}
	return out
}

func copyTolerations(in []corev1.Toleration) []corev1.Toleration {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.Toleration, len(in))
	for i := range in {
		out[i] = *in[i].DeepCopy()
	}
	return out
}

func copyMap(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	return maps.Clone(in)
}
