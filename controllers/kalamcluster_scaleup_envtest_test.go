package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// TestClusterScaleUpReplicated: a single-node cluster with rows is scaled
// 1 -> 3 by the operator against real in-process data planes: pod 0 is
// restarted as replica 1 over its own data, pods 1 and 2 join, the
// operator adds replicas 2 and 3 until they vote, and every row written
// before the change is readable on all three; the cluster ends Ready.
func TestClusterScaleUpReplicated(t *testing.T) {
	srv := startMinIO(t)
	createS3Secret(t, "minio-creds-grow3")
	kc := newCluster("grow3")
	kc.Spec.ObjectStore = objectStoreFor(srv, "minio-creds-grow3", "clusters/grow3")
	kc.Spec.Config = jsonMust(`{"auth": {"bcrypt_cost": 4}, "storage": {"block_cache_size_mb": 8, "memtable_size_mb": 8},
		"cluster": {"user_groups": 1, "rtt_ms": 10, "election_ticks": 15, "proposal_timeout_ms": 3000}}`)
	create(t, kc)
	dp := runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	const rows = 50
	if _, err := dp.root.SQL(tctx(t), `CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, v TEXT) STORAGE objstore`); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if _, err := dp.root.SQL(tctx(t), fmt.Sprintf(`INSERT INTO app.items (id, v) VALUES (%d, 'row %d')`, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	p0 := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: podName(kc, 0)}}
	get(t, p0)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	get(t, sts)
	oldUID := sts.UID

	get(t, kc)
	update(t, kc, func() { kc.Spec.Replicas = 3 })
	// Step 0, with the test as the garbage collector (orphan finalizer).
	eventually(t, 60*time.Second, "the parallel statefulset", func() (bool, string) {
		if get(t, sts) && sts.UID == oldUID && !sts.DeletionTimestamp.IsZero() {
			sts.Finalizers = nil
			_ = k8s.Update(tctx(t), sts)
		}
		return get(t, sts) && sts.UID != oldUID, ""
	})
	get(t, kc)
	rp := newReplicaPods(t, kc)
	rp.dirs[0], rp.ips[0] = dp.dir, p0.Status.PodIP
	sts.Status = appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 1, ObservedGeneration: sts.Generation,
		CurrentRevision: "r0", UpdateRevision: "r1"}
	if err := k8s.Status().Update(tctx(t), sts); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the operator to restart pod 0", func() (bool, string) { return !get(t, p0), "" })
	dp.stop()
	rp.start("r1", 0)
	eventually(t, 60*time.Second, "replicas 3", func() (bool, string) {
		get(t, sts)
		return *sts.Spec.Replicas == 3, ""
	})
	// Pods 1 and 2 created but not ready yet.
	get(t, sts)
	sts.Status = appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 3,
		ObservedGeneration: sts.Generation, CurrentRevision: "r1", UpdateRevision: "r1"}
	if err := k8s.Status().Update(tctx(t), sts); err != nil {
		t.Fatal(err)
	}
	// Pods 1 and 2 join: their start returns once the operator added them
	// and they caught up.
	rp.start("r1", 1, 2)
	// Every replica votes, but the StatefulSet reports one ready pod: the
	// operator waits for the others, Ready=True (pod 0 serves) and
	// status.groups already shows the three members and a leader.
	eventually(t, 60*time.Second, "Ready=True while waiting for pods 1 and 2, with three members per group", func() (bool, string) {
		get(t, kc)
		ready := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady)
		rec := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReconciling)
		if ready == nil || ready.Status != metav1.ConditionTrue || rec == nil || rec.Reason != reasonScalingUp ||
			!strings.Contains(rec.Message, "every replica votes") || len(kc.Status.Groups) == 0 {
			return false, fmt.Sprintf("Ready %+v Reconciling %+v groups %d", ready, rec, len(kc.Status.Groups))
		}
		for _, g := range kc.Status.Groups {
			if !slices.Equal(g.Members, []int64{1, 2, 3}) || g.Leader == 0 {
				return false, fmt.Sprintf("group %s members %v leader %d", g.Name, g.Members, g.Leader)
			}
		}
		return true, ""
	})
	setRevisions(t, sts, "r1", "r1", 3)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	get(t, sts)
	if sts.Annotations[annScaleUp] != scaleUpDoneVal {
		t.Fatalf("statefulset annotations %v", sts.Annotations)
	}
	for o := range 3 {
		rp.mu.Lock()
		n := rp.nodes[o]
		rp.mu.Unlock()
		c := dpclient.New("http://" + n.Addr())
		if _, err := c.Login(tctx(t), "root", rp.password); err != nil {
			t.Fatal(err)
		}
		got, err := c.Rows(tctx(t), `SELECT count(*) FROM app.items`)
		if err != nil || len(got) != 1 || fmt.Sprint(got[0][0]) != fmt.Sprint(rows) {
			t.Fatalf("replica %d: count %v, %v", o+1, got, err)
		}
	}
}

// TestRestoreSourceWhileRecreating: while the 1 -> 3 migration has deleted
// the single-node StatefulSet (orphan policy) and not yet created the new
// one, the restore arguments come from the running pod 0, not from
// spec.bootstrap again: the KalamBackup it names is gone, which would
// otherwise hold the migration, and a pod that started without restore
// arguments must not get them.
func TestRestoreSourceWhileRecreating(t *testing.T) {
	r := &KalamClusterReconciler{Client: k8s}
	for _, tc := range []struct {
		name string
		pod  *restoreSource // pod 0's restore arguments; nil: none
	}{
		{"restored", &restoreSource{Target: "s3://objstore/backups/kept", BackupID: "BK7"}},
		{"plain", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kc := newCluster("rsorphan")
			kc.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{BackupName: "deleted-since"}}
			// No pod and no StatefulSet: the backup is resolved, and it is gone.
			if _, err := r.restoreSource(tctx(t), kc); err == nil {
				t.Fatal("restoreSource of a missing KalamBackup: want an error")
			}
			tmpl := buildStatefulSet(kc, "abc", tc.pod).Spec.Template
			// The StatefulSet controller adds the claim's volume.
			tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: podName(kc, 0), Labels: tmpl.Labels}, Spec: tmpl.Spec}
			create(t, pod)
			got, err := r.restoreSource(tctx(t), kc)
			if err != nil {
				t.Fatalf("restoreSource with the orphaned pod 0: %v", err)
			}
			if (got == nil) != (tc.pod == nil) || got != nil && *got != *tc.pod {
				t.Fatalf("restoreSource %+v, want pod 0's %+v", got, tc.pod)
			}
		})
	}
}
