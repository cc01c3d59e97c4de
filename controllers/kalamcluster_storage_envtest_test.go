package controllers

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// createBoundPVC plays the StatefulSet controller and the provisioner: it
// creates pod 0's data claim from the StatefulSet's template and binds it
// with the requested capacity.
func createBoundPVC(t *testing.T, kc *kalamv1.KalamCluster) *corev1.PersistentVolumeClaim {
	t.Helper()
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: statefulSetName(kc)}}
	eventually(t, 30*time.Second, "statefulset", func() (bool, string) { return get(t, sts), "" })
	tmpl := sts.Spec.VolumeClaimTemplates[0]
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: pvcName(kc, 0), Labels: tmpl.Labels},
		Spec: *tmpl.Spec.DeepCopy()}
	pvc.Spec.VolumeName = "pv-" + pvc.Name
	create(t, pvc)
	setPVCStatus(t, pvc, tmpl.Spec.Resources.Requests[corev1.ResourceStorage])
	return pvc
}

// setPVCStatus reports the claim bound with capacity, as the PV controller
// and the resizer would.
func setPVCStatus(t *testing.T, pvc *corev1.PersistentVolumeClaim, capacity resource.Quantity, conds ...corev1.PersistentVolumeClaimCondition) {
	t.Helper()
	get(t, pvc)
	pvc.Status.Phase = corev1.ClaimBound
	pvc.Status.AccessModes = pvc.Spec.AccessModes
	pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: capacity}
	pvc.Status.Conditions = conds
	if err := k8s.Status().Update(tctx(t), pvc); err != nil {
		t.Fatal(err)
	}
}

func createStorageClass(t *testing.T, name string, expandable bool) {
	t.Helper()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "example.com/csi", AllowVolumeExpansion: ptr.To(expandable)}
	if err := k8s.Create(tctx(t), sc); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// TestClusterSchedulingAndVolumeExpansion: placement and resources reach
// the StatefulSet and a change of them rolls the pod template; growing
// spec.storage.size expands the PVC through its request (the claim
// template stays as it is) and StorageResized follows the resize to True;
// shrinking is refused at admission.
func TestClusterSchedulingAndVolumeExpansion(t *testing.T) {
	createStorageClass(t, "expandable", true)
	// The Priority admission plugin resolves the class of the Pod that
	// runDataPlane creates from the template.
	if err := k8s.Create(tctx(t), &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "kalam-db"}, Value: 1000}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	kc := newCluster("sched")
	kc.Spec.Storage.StorageClassName = ptr.To("expandable")
	kc.Spec.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
	kc.Spec.PodLabels = map[string]string{"team": "data"}
	kc.Spec.Scheduling = kalamv1.SchedulingSpec{
		NodeSelector: map[string]string{"pool": "db"},
		Tolerations:  []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}},
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway}},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64", "arm64"}}}}}}}},
		PriorityClassName: "kalam-db",
	}
	create(t, kc)
	runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)

	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	get(t, sts)
	pod := sts.Spec.Template
	if pod.Labels["team"] != "data" || !reflect.DeepEqual(pod.Spec.NodeSelector, map[string]string{"pool": "db"}) ||
		len(pod.Spec.Tolerations) != 1 || pod.Spec.Tolerations[0].Value != "db" || pod.Spec.PriorityClassName != "kalam-db" ||
		pod.Spec.Affinity == nil || pod.Spec.Affinity.NodeAffinity == nil {
		t.Fatalf("placement in the pod template: labels %v %+v", pod.Labels, pod.Spec)
	}
	if tsc := pod.Spec.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].LabelSelector == nil || tsc[0].LabelSelector.MatchLabels[kalamv1.LabelCluster] != kc.Name {
		t.Fatalf("topology spread %+v", tsc)
	}
	if r := pod.Spec.Containers[0].Resources; r.Requests.Memory().String() != "512Mi" || r.Limits.Memory().String() != "1Gi" || r.Requests.Cpu().String() != "250m" {
		t.Fatalf("resources %+v", r)
	}

	// A placement change rolls the pod template.
	update(t, kc, func() { kc.Spec.Scheduling.NodeSelector = map[string]string{"pool": "db-large"} })
	eventually(t, 30*time.Second, "new node selector", func() (bool, string) {
		get(t, sts)
		return sts.Spec.Template.Spec.NodeSelector["pool"] == "db-large", ""
	})
	markStatefulSetReady(t, sts)

	// Volume expansion: the claim is bound at 1Gi; 2Gi raises its request.
	pvc := createBoundPVC(t, kc)
	waitCondition(t, kc, kalamv1.ConditionStorageResized, metav1.ConditionTrue, kalamv1.ReasonResized)
	update(t, kc, func() { kc.Spec.Storage.Size = resource.MustParse("2Gi") })
	eventually(t, 30*time.Second, "PVC request raised", func() (bool, string) {
		get(t, pvc)
		q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		return q.String() == "2Gi", q.String()
	})
	setPVCStatus(t, pvc, resource.MustParse("1Gi"), corev1.PersistentVolumeClaimCondition{Type: corev1.PersistentVolumeClaimFileSystemResizePending, Status: corev1.ConditionTrue})
	// The condition is already Resizing (the request was raised before the
	// claim's status changed) and PVCs are not watched: the stage appears at
	// the controller's next resizing requeue, so wait for the message itself.
	eventually(t, 60*time.Second, "resizing message names the filesystem stage", func() (bool, string) {
		get(t, kc)
		c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionStorageResized)
		if c == nil {
			return false, "no StorageResized condition"
		}
		return c.Status == metav1.ConditionFalse && c.Reason == kalamv1.ReasonResizing &&
			strings.Contains(c.Message, "has 1Gi of 2Gi") && strings.Contains(c.Message, "kubelet grows the filesystem"), c.Message
	})
	// Ready is untouched while the volume grows.
	if c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready during a resize: %+v", c)
	}
	setPVCStatus(t, pvc, resource.MustParse("2Gi"))
	waitCondition(t, kc, kalamv1.ConditionStorageResized, metav1.ConditionTrue, kalamv1.ReasonResized)
	get(t, sts)
	if q := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "1Gi" {
		t.Fatalf("the claim template changed: %s", q.String())
	}

	// Shrinking and changing the class are refused before they are stored.
	for name, mutate := range map[string]func(*kalamv1.KalamCluster){
		"cannot shrink":            func(c *kalamv1.KalamCluster) { c.Spec.Storage.Size = resource.MustParse("1Gi") },
		"storageClassName is immu": func(c *kalamv1.KalamCluster) { c.Spec.Storage.StorageClassName = ptr.To("other") },
	} {
		get(t, kc)
		c := kc.DeepCopy()
		mutate(c)
		err := k8s.Update(tctx(t), c)
		if err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: update error %v", name, err)
		}
	}
}

// TestClusterVolumeExpansionNotAllowed: a class without
// allowVolumeExpansion leaves the PVC alone and says so in StorageResized,
// while the cluster keeps serving (Ready stays True).
func TestClusterVolumeExpansionNotAllowed(t *testing.T) {
	createStorageClass(t, "fixed", false)
	kc := newCluster("fixed")
	kc.Spec.Storage.StorageClassName = ptr.To("fixed")
	create(t, kc)
	runDataPlane(t, kc)
	pvc := createBoundPVC(t, kc)
	waitCondition(t, kc, kalamv1.ConditionStorageResized, metav1.ConditionTrue, kalamv1.ReasonResized)
	update(t, kc, func() { kc.Spec.Storage.Size = resource.MustParse("5Gi") })
	cond := waitCondition(t, kc, kalamv1.ConditionStorageResized, metav1.ConditionFalse, kalamv1.ReasonExpansionNotAllowed)
	if !strings.Contains(cond.Message, `StorageClass "fixed" does not set allowVolumeExpansion`) || !strings.Contains(cond.Message, "from 1Gi to 5Gi") {
		t.Fatalf("message: %s", cond.Message)
	}
	if c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || kc.Status.Phase != kalamv1.ClusterReady {
		t.Fatalf("a refused expansion changed Ready: %+v phase %s", c, kc.Status.Phase)
	}
	get(t, pvc)
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "1Gi" {
		t.Fatalf("PVC request changed to %s", q.String())
	}
	// The API server agrees: the same patch by hand is refused by admission.
	pvc.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("5Gi")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k8s.Update(ctx, pvc); err == nil {
		t.Fatal("the API server accepted a PVC expansion of a class without allowVolumeExpansion")
	}
}
