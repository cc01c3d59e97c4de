package controllers

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// schedulingCluster sets every placement and resource field a production
// cluster uses.
func schedulingCluster() *kalamv1.KalamCluster {
	kc := builderCluster()
	kc.Spec.PodLabels = map[string]string{"team": "data", "app.kubernetes.io/instance": "hijack"}
	kc.Spec.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
	}
	kc.Spec.Scheduling = kalamv1.SchedulingSpec{
		NodeSelector: map[string]string{"node-role/db": "true"},
		Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{
				TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kalamdb.io/cluster": "prod"}}}}}}},
		Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}},
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway},
			{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "data"}}},
		},
		PriorityClassName: "db-critical",
	}
	return kc
}

func TestBuildStatefulSetScheduling(t *testing.T) {
	kc := schedulingCluster()
	sts := buildStatefulSet(kc, "abc", nil)
	pod := sts.Spec.Template
	if pod.Labels["team"] != "data" || pod.Labels["app.kubernetes.io/instance"] != "prod" {
		t.Errorf("pod labels %v: the user's label is added, the selector label is the operator's", pod.Labels)
	}
	for k, v := range sts.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod labels %v", k, v, pod.Labels)
		}
	}
	if pod.Annotations["prometheus.io/scrape"] != "true" || pod.Annotations[annConfigHash] != "abc" {
		t.Errorf("pod annotations %v", pod.Annotations)
	}
	spec := pod.Spec
	if !reflect.DeepEqual(spec.NodeSelector, kc.Spec.Scheduling.NodeSelector) ||
		!reflect.DeepEqual(spec.Affinity, kc.Spec.Scheduling.Affinity) ||
		!reflect.DeepEqual(spec.Tolerations, kc.Spec.Scheduling.Tolerations) ||
		spec.PriorityClassName != "db-critical" {
		t.Errorf("placement not carried: %+v %+v %+v %q", spec.NodeSelector, spec.Affinity, spec.Tolerations, spec.PriorityClassName)
	}
	tsc := spec.TopologySpreadConstraints
	if len(tsc) != 2 || !reflect.DeepEqual(tsc[0].LabelSelector.MatchLabels, selectorLabels(kc)) ||
		!reflect.DeepEqual(tsc[1].LabelSelector.MatchLabels, map[string]string{"team": "data"}) || tsc[0].TopologyKey != "topology.kubernetes.io/zone" {
		t.Errorf("topology spread %+v", tsc)
	}
	if kc.Spec.Scheduling.TopologySpreadConstraints[0].LabelSelector != nil {
		t.Error("the builder filled the selector into the cluster's own spec")
	}
	if got := spec.Containers[0].Resources; !reflect.DeepEqual(got, kc.Spec.Resources) {
		t.Errorf("resources %+v", got)
	}

	// The template never aliases the spec: the controller's later edits of
	// one must not leak into the other (the spec comes from the cache).
	spec.NodeSelector["x"] = "y"
	spec.Tolerations[0].Value = "other"
	spec.Affinity.PodAntiAffinity = nil
	pod.Labels["team"] = "other"
	if _, ok := kc.Spec.Scheduling.NodeSelector["x"]; ok || kc.Spec.Scheduling.Tolerations[0].Value != "db" ||
		kc.Spec.Scheduling.Affinity.PodAntiAffinity == nil || kc.Spec.PodLabels["team"] != "data" {
		t.Error("the StatefulSet aliases the KalamCluster's spec")
	}
}

// TestBuildStatefulSetNoScheduling: without spec.scheduling the pod
// template has no placement at all (the scheduler's defaults).
func TestBuildStatefulSetNoScheduling(t *testing.T) {
	spec := buildStatefulSet(builderCluster(), "abc", nil).Spec.Template.Spec
	if spec.NodeSelector != nil || spec.Affinity != nil || spec.Tolerations != nil || spec.TopologySpreadConstraints != nil || spec.PriorityClassName != "" {
		t.Errorf("unexpected placement %+v", spec)
	}
}
