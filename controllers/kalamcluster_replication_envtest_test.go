package controllers

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// A replicated cluster against a real kube-apiserver and three real
// in-process data-plane replicas (dataplane/node with Raft on loopback).
// The test plays the kubelet and the StatefulSet controller: it starts a
// replica for each pod from the env and server.toml the operator rendered,
// and recreates a deleted pod from the current template.

// replicaPods is the test's kubelet for the three pods of one cluster.
type replicaPods struct {
	t     *testing.T
	kc    *kalamv1.KalamCluster
	dirs  [3]string
	ips   [3]string
	raft  [3]int
	gssp  [3]int
	mu    sync.Mutex
	nodes [3]*node.Node
	// password is root's, from the credentials Secret.
	password string
}

// loopbackPort is a port free for TCP and UDP on 127.0.0.1 a moment ago.
func loopbackPort(t *testing.T) int {
	t.Helper()
	port, err := testtools.FreeTCPUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func newReplicaPods(t *testing.T, kc *kalamv1.KalamCluster) *replicaPods {
	rp := &replicaPods{t: t, kc: kc}
	for i := range 3 {
		rp.dirs[i] = t.TempDir()
		rp.ips[i] = fmt.Sprintf("10.244.0.%d", podIPSeq.Add(1))
		rp.raft[i], rp.gssp[i] = loopbackPort(t), loopbackPort(t)
	}
	t.Cleanup(func() {
		for i := range 3 {
			rp.stop(i)
		}
	})
	return rp
}

// config is what pod ordinal's data plane loads: the operator's
// server.toml and the pod template's env resolved for that pod. The
// [cluster] identity it derives is checked, then its addresses are moved
// to loopback ports (the pods' DNS names do not resolve here).
func (rp *replicaPods) config(ordinal int, sts *appsv1.StatefulSet, toml string) config.Config {
	t := rp.t
	env := podEnv(t, rp.kc, sts)
	rp.password = env["KALAMDB_ROOT_PASSWORD"]
	for k, v := range kubeletEnv(t, sts.Spec.Template.Spec.Containers[0], podName(rp.kc, ordinal), rp.ips[ordinal]) {
		env[k] = v
	}
	cfg := loadPodConfig(t, rp.dirs[ordinal], toml, env)
	if cfg.Cluster.ReplicaID != ordinal+1 || cfg.Cluster.DeploymentID != deploymentIDFor(rp.kc) || len(cfg.Cluster.Members) != 3 {
		t.Fatalf("pod %d: [cluster] %+v", ordinal, cfg.Cluster)
	}
	var members []string
	for i := range 3 {
		members = append(members, fmt.Sprintf("%d=127.0.0.1:%d", i+1, rp.gssp[i]))
	}
	cfg.Cluster.Members = members
	cfg.Cluster.RaftAddress = fmt.Sprintf("127.0.0.1:%d", rp.raft[ordinal])
	cfg.Cluster.GossipAddress = fmt.Sprintf("127.0.0.1:%d", rp.gssp[ordinal])
	cfg.Cluster.RaftListenAddress, cfg.Cluster.GossipListenAddress = "", ""
	cfg.Server.Host, cfg.Server.Port, cfg.Storage.DataPath = "127.0.0.1", 0, filepath.Join(rp.dirs[ordinal], "data")
	return cfg
}

// start runs the data plane of pods (in parallel: each waits for a quorum
// of its peers) and creates their Pod objects, ready, at revision rev.
func (rp *replicaPods) start(rev string, ordinals ...int) {
	t := rp.t
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: rp.kc.Namespace, Name: statefulSetName(rp.kc)}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: rp.kc.Namespace, Name: configMapName(rp.kc)}}
	if !get(t, sts) || !get(t, cm) {
		t.Fatal("statefulset or configmap missing")
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for _, o := range ordinals {
		cfg := rp.config(o, sts, cm.Data[configFile])
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				errs[o] = err
				return
			}
			rp.mu.Lock()
			rp.nodes[o] = n
			rp.mu.Unlock()
			routes.Store(net.JoinHostPort(rp.ips[o], "8080"), n.Addr())
		}()
	}
	wg.Wait()
	for _, o := range ordinals {
		if errs[o] != nil {
			t.Fatalf("start replica %d: %v", o+1, errs[o])
		}
		labels := map[string]string{labelRevision: rev}
		for k, v := range sts.Spec.Template.Labels {
			labels[k] = v
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: rp.kc.Namespace, Name: podName(rp.kc, o), Labels: labels},
			Spec:       *sts.Spec.Template.Spec.DeepCopy(),
		}
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: dataVolume,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: dataVolume + "-" + pod.Name}}})
		create(t, pod)
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: rp.ips[o], PodIPs: []corev1.PodIP{{IP: rp.ips[o]}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}}
		if err := k8s.Status().Update(tctx(t), pod); err != nil {
			t.Fatal(err)
		}
	}
}

func (rp *replicaPods) stop(ordinal int) {
	rp.mu.Lock()
	n := rp.nodes[ordinal]
	rp.nodes[ordinal] = nil
	rp.mu.Unlock()
	if n != nil {
		_ = n.Close()
	}
	routes.Delete(net.JoinHostPort(rp.ips[ordinal], "8080"))
}

// setRevisions writes the StatefulSet status its controller would report
// with updated of 3 pods at update and the rest at current.
func setRevisions(t *testing.T, sts *appsv1.StatefulSet, current, update string, updated int32) {
	t.Helper()
	get(t, sts)
	sts.Status = appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: updated,
		CurrentReplicas: 3 - updated, ObservedGeneration: sts.Generation, CurrentRevision: current, UpdateRevision: update}
	if err := k8s.Status().Update(tctx(t), sts); err != nil {
		t.Fatal(err)
	}
}

// TestClusterReplicated: a replicas 3 KalamCluster gets a Parallel/OnDelete
// StatefulSet whose env makes each pod its own Raft replica, a PDB and the
// Raft/gossip ports; with three real replicas running it reports every
// group in status.groups with its leader and members; an image change is
// rolled out by the operator one pod at a time, followers first, moving
// leadership off each pod before deleting it; 3 -> 1 is held (Stalled).
func TestClusterReplicated(t *testing.T) {
	srv := startMinIO(t)
	createS3Secret(t, "minio-creds-ha")
	kc := newCluster("ha")
	kc.Spec.Replicas = 3
	kc.Spec.ObjectStore = objectStoreFor(srv, "minio-creds-ha", "clusters/ha")
	kc.Spec.Config = jsonMust(`{"auth": {"bcrypt_cost": 4}, "storage": {"block_cache_size_mb": 8, "memtable_size_mb": 8},
		"cluster": {"user_groups": 1, "rtt_ms": 10, "election_ticks": 15, "proposal_timeout_ms": 3000}}`)
	create(t, kc)

	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	headless := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name + "-headless"}}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	eventually(t, 30*time.Second, "owned objects", func() (bool, string) { return get(t, sts) && get(t, headless) && get(t, pdb), "" })
	if *sts.Spec.Replicas != 3 || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement || sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		t.Fatalf("statefulset: replicas %d policy %s update %s", *sts.Spec.Replicas, sts.Spec.PodManagementPolicy, sts.Spec.UpdateStrategy.Type)
	}
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Fatalf("pdb %+v", pdb.Spec)
	}
	var ports []string
	for _, p := range headless.Spec.Ports {
		ports = append(ports, fmt.Sprintf("%s/%d/%s", p.Name, p.Port, p.Protocol))
	}
	if got := strings.Join(ports, ","); got != "http/8080/TCP,raft/9190/TCP,gossip/9191/TCP,gossip-udp/9191/UDP" || !headless.Spec.PublishNotReadyAddresses {
		t.Fatalf("headless service ports %s, publishNotReady %v", got, headless.Spec.PublishNotReadyAddresses)
	}
	eventually(t, 30*time.Second, "status.deploymentID", func() (bool, string) {
		get(t, kc)
		return kc.Status.DeploymentID != 0 && kc.Status.DeploymentID == deploymentIDFor(kc), fmt.Sprint(kc.Status.DeploymentID)
	})

	rp := newReplicaPods(t, kc)
	rp.start("r1", 0, 1, 2)
	setRevisions(t, sts, "r1", "r1", 3)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	waitCondition(t, kc, kalamv1.ConditionQuorumLost, metav1.ConditionFalse, kalamv1.ReasonQuorumPresent)
	waitCondition(t, kc, kalamv1.ConditionDegraded, metav1.ConditionFalse, kalamv1.ReasonFullyReplicated)
	if len(kc.Status.Groups) != 3 { // meta, shared, u0
		t.Fatalf("status.groups %+v", kc.Status.Groups)
	}
	for _, g := range kc.Status.Groups {
		if g.Leader < 1 || g.Leader > 3 || len(g.Members) != 3 || len(g.Replicas) != 3 {
			t.Fatalf("group %+v", g)
		}
	}

	// A pod that does not answer: Degraded, quorum kept. The kubelet marks
	// it not ready once its readiness probe fails.
	rp.stop(0)
	p0 := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: podName(kc, 0)}}
	get(t, p0)
	p0.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.Now()}}
	if err := k8s.Status().Update(tctx(t), p0); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, kc, kalamv1.ConditionDegraded, metav1.ConditionTrue, kalamv1.ReasonReplicaUnreachable)
	waitCondition(t, kc, kalamv1.ConditionQuorumLost, metav1.ConditionFalse, kalamv1.ReasonQuorumPresent)
	// Pod 0's object still exists, so "restart" it in place.
	if err := k8s.Delete(tctx(t), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: podName(kc, 0)}}); err != nil {
		t.Fatal(err)
	}
	rp.start("r1", 0)
	waitCondition(t, kc, kalamv1.ConditionDegraded, metav1.ConditionFalse, kalamv1.ReasonFullyReplicated)

	// Rolling update: the test is the StatefulSet controller (OnDelete:
	// it only recreates what the operator deletes).
	update(t, kc, func() { kc.Spec.Image = "kalamdb:v2" })
	eventually(t, 30*time.Second, "new template", func() (bool, string) {
		get(t, sts)
		return sts.Spec.Template.Spec.Containers[0].Image == "kalamdb:v2", ""
	})
	setRevisions(t, sts, "r1", "r2", 0)
	var order []int
	for updated := int32(1); updated <= 3; updated++ {
		var gone int
		eventually(t, 3*time.Minute, fmt.Sprintf("the operator to delete pod %d of 3", updated), func() (bool, string) {
			for o := range 3 {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: podName(kc, o)}}
				if !get(t, p) {
					gone = o
					return true, ""
				}
			}
			get(t, kc)
			return false, fmt.Sprint(kc.Status.Conditions)
		})
		// Leadership left the pod before it was deleted.
		rp.mu.Lock()
		n := rp.nodes[gone]
		rp.mu.Unlock()
		if led := rp.ledBy(n); len(led) > 0 {
			t.Errorf("pod %d was deleted while leading %v", gone, led)
		}
		order = append(order, gone)
		rp.stop(gone)
		rp.start("r2", gone)
		setRevisions(t, sts, "r1", "r2", updated)
	}
	setRevisions(t, sts, "r2", "r2", 3)
	if order[0] == order[1] || order[1] == order[2] || order[0] == order[2] {
		t.Fatalf("pods restarted in order %v: each once", order)
	}
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	t.Logf("rolling update restarted pods in order %v", order)

	// A KalamBackup runs on the meta leader (kalambackup_pod.go).
	get(t, kc)
	metaLeader := ""
	for _, g := range kc.Status.Groups {
		if g.Name == "meta" && g.Leader > 0 {
			metaLeader = replicaPod(kc, uint64(g.Leader))
		}
	}
	bk := &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: kc.Name + "-bk", Namespace: kc.Namespace},
		Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: kc.Name}}}
	create(t, bk)
	waitCondition(t, bk, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonBackupCompleted)
	eventually(t, 30*time.Second, "the backup's Started event naming the meta leader "+metaLeader, func() (bool, string) {
		var evs eventsv1.EventList
		if err := k8s.List(tctx(t), &evs, client.InNamespace(kc.Namespace)); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == bk.Name && e.Reason == "Started" {
				return metaLeader != "" && strings.Contains(e.Note, " on "+metaLeader+" "), e.Note
			}
		}
		return false, "no Started event"
	})

	// 3 -> 1 is held: the three pods keep serving, the StatefulSet keeps
	// its 3 replicas.
	update(t, kc, func() { kc.Spec.Replicas = 1 })
	waitCondition(t, kc, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonScaleDownNotSupported)
	get(t, sts)
	if *sts.Spec.Replicas != 3 {
		t.Fatalf("3 -> 1 shrank the statefulset to %d", *sts.Spec.Replicas)
	}
}

// ledBy lists the groups n's replica leads, from its own cluster status.
func (rp *replicaPods) ledBy(n *node.Node) []string {
	t := rp.t
	t.Helper()
	if n == nil {
		return nil
	}
	c := dpclient.New("http://" + n.Addr())
	if _, err := c.Login(tctx(t), "root", rp.password); err != nil {
		t.Fatal(err)
	}
	st, err := c.ClusterStatus(tctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return st.Led()
}

// TestClusterScaleUpSteps: replicas 1 -> 3 on a running single-node
// cluster is driven step by step on the API objects (the test plays the
// garbage collector, the StatefulSet controller and the kubelet; no data
// plane runs, so the steps that need one — adding replicas 2 and 3 — are
// not reached here): the OrderedReady StatefulSet is deleted with the
// orphan policy, pod 0 kept; a Parallel one is created with replicas 1 and
// the join env; pod 0 is restarted into it; once it is Ready the
// StatefulSet goes to 3. Setting replicas back to 1 once the migration
// started is held (Stalled/ScaleDownNotSupported).
func TestClusterScaleUpSteps(t *testing.T) {
	kc := newCluster("grow")
	kc.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "127.0.0.1:1", Bucket: "kalam", Insecure: true}
	create(t, kc)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	eventually(t, 30*time.Second, "statefulset", func() (bool, string) { return get(t, sts), "" })
	if sts.Spec.PodManagementPolicy == appsv1.ParallelPodManagement {
		t.Fatal("a single-node statefulset is Parallel")
	}
	// The running single node, pod 0 at revision r0.
	startPod := func(rev string, ready bool) {
		get(t, sts)
		labels := map[string]string{labelRevision: rev}
		for k, v := range sts.Spec.Template.Labels {
			labels[k] = v
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: podName(kc, 0), Labels: labels},
			Spec: *sts.Spec.Template.Spec.DeepCopy()}
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: dataVolume,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: dataVolume + "-" + pod.Name}}})
		create(t, pod)
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.9.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.Now()}}}
		if err := k8s.Status().Update(tctx(t), pod); err != nil {
			t.Fatal(err)
		}
	}
	startPod("r0", true)
	oldUID := sts.UID

	update(t, kc, func() { kc.Spec.Replicas = 3 })
	// Step 0: orphan deletion. envtest runs no garbage collector: drop its
	// orphan finalizer as it would once the pod's owner reference is gone.
	eventually(t, 30*time.Second, "the single-node statefulset to be deleted", func() (bool, string) {
		if !get(t, sts) {
			return true, ""
		}
		if sts.UID == oldUID && !sts.DeletionTimestamp.IsZero() {
			sts.Finalizers = nil
			if err := k8s.Update(tctx(t), sts); err != nil {
				return false, err.Error()
			}
		}
		return sts.UID != oldUID, ""
	})
	p0 := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: podName(kc, 0)}}
	if !get(t, p0) {
		t.Fatal("pod 0 went with its statefulset")
	}
	// Step 1: the Parallel StatefulSet, replicas 1, join env for replicas > 1.
	eventually(t, 30*time.Second, "the parallel statefulset", func() (bool, string) {
		return get(t, sts) && sts.UID != oldUID, ""
	})
	if *sts.Spec.Replicas != 1 || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement ||
		sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType || !templateMigrating(sts) {
		t.Fatalf("recreated statefulset: replicas %d policy %s update %s migrating %v", *sts.Spec.Replicas,
			sts.Spec.PodManagementPolicy, sts.Spec.UpdateStrategy.Type, templateMigrating(sts))
	}
	c := waitCondition(t, kc, kalamv1.ConditionReconciling, metav1.ConditionTrue, reasonScalingUp)
	t.Logf("condition: %s", c.Message)
	// The StatefulSet controller reports the new revision; the operator
	// restarts pod 0 into it.
	get(t, sts)
	sts.Status = appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 1, ObservedGeneration: sts.Generation,
		CurrentRevision: "r0", UpdateRevision: "r1"}
	if err := k8s.Status().Update(tctx(t), sts); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the operator to restart pod 0", func() (bool, string) { return !get(t, p0), "" })
	startPod("r1", false)
	time.Sleep(time.Second) // not ready yet: replicas stay 1
	get(t, sts)
	if *sts.Spec.Replicas != 1 {
		t.Fatalf("scaled out to %d before pod 0 was ready", *sts.Spec.Replicas)
	}
	get(t, p0)
	p0.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if err := k8s.Status().Update(tctx(t), p0); err != nil {
		t.Fatal(err)
	}
	// Step 2: scale out.
	eventually(t, 30*time.Second, "replicas 3", func() (bool, string) {
		get(t, sts)
		return *sts.Spec.Replicas == 3 && templateMigrating(sts), fmt.Sprint(*sts.Spec.Replicas)
	})
	// Back to 1 once pod 0 runs as a Raft replica: held.
	update(t, kc, func() { kc.Spec.Replicas = 1 })
	waitCondition(t, kc, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonScaleDownNotSupported)
	get(t, sts)
	if *sts.Spec.Replicas != 3 || !templateMigrating(sts) {
		t.Fatalf("going back to 1 changed the statefulset: replicas %d", *sts.Spec.Replicas)
	}
}
