package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// Pure builders of a replicated (replicas 3) data plane
// (docs/high-availability.md, "Operator"). A single-replica cluster is
// left exactly as it was: every function here is a no-op for it.
//
// Per-pod identity comes from the environment of one shared pod template:
//   - POD_NAME (downward API) names the pod, <cluster>-<ordinal>;
//   - the Raft address is the pod's stable DNS name in the headless
//     Service, <pod>.<cluster>-headless.<ns>.svc:9190, so a pod that comes
//     back on a new IP keeps its address;
//   - gossip advertises the pod IP (dragonboat's gossip accepts only an
//     IPv4 address there) and is seeded with every member's DNS name;
//   - both listen on the pod IP, not 0.0.0.0, so pods that share a network
//     namespace (the e2e node agent) do not collide;
//   - the replica id is ordinal + 1, resolved by the data plane from the
//     members list (KALAMDB_CLUSTER_MEMBERS: id=<pod DNS name>:9191) and
//     its own raft address (cluster.replica_id 0);
//   - deployment_id (status.deploymentID, from the cluster's UID) is in
//     server.toml, identical on every pod.

const (
	raftPort       = 9190
	gossipPort     = 9191
	raftPortName   = "raft"
	gossipPortName = "gossip"
	// gossipUDPPortName: gossip (memberlist) uses TCP and UDP on one port.
	gossipUDPPortName = "gossip-udp"
	envPodName        = "POD_NAME"
	// replicatedReplicas is the only replica count above 1 the CRD admits.
	replicatedReplicas = 3
)

// replicated reports whether kc asks for a Raft-replicated data plane.
func replicated(kc *kalamv1.KalamCluster) bool { return kc.Spec.Replicas > 1 }

// deploymentIDFor is the cluster's Raft deployment id: the one recorded in
// status, or one derived from the UID (stable, positive, never 0).
func deploymentIDFor(kc *kalamv1.KalamCluster) int64 {
	if kc.Status.DeploymentID != 0 {
		return kc.Status.DeploymentID
	}
	sum := sha256.Sum256([]byte(kc.UID))
	id := int64(binary.BigEndian.Uint64(sum[:8]) & 0x7fffffffffffffff)
	if id == 0 {
		id = 1
	}
	return id
}

// peerHost is the stable DNS name of pod ordinal in the headless Service.
func peerHost(kc *kalamv1.KalamCluster, ordinal int) string {
	return fmt.Sprintf("%s.%s.%s.svc", podName(kc, ordinal), headlessServiceName(kc), kc.Namespace)
}

// clusterMembers is cluster.members: replica id (ordinal + 1) = the pod's
// gossip seed address.
func clusterMembers(kc *kalamv1.KalamCluster) string {
	out := make([]string, 0, kc.Spec.Replicas)
	for i := range int(kc.Spec.Replicas) {
		out = append(out, fmt.Sprintf("%d=%s:%d", i+1, peerHost(kc, i), gossipPort))
	}
	return strings.Join(out, ",")
}

// replicaPod returns the pod of a replica id.
func replicaPod(kc *kalamv1.KalamCluster, replicaID uint64) string {
	return podName(kc, int(replicaID)-1)
}

// clusterEnv is the per-pod [cluster] configuration, resolved by the
// kubelet from the pod's name and IP. KALAMDB_SERVER_HOST (the pod IP)
// must come before it: $(VAR) refers only to earlier variables.
func clusterEnv(kc *kalamv1.KalamCluster) []corev1.EnvVar {
	dns := fmt.Sprintf("$(%s).%s.%s.svc", envPodName, headlessServiceName(kc), kc.Namespace)
	return []corev1.EnvVar{
		{Name: envPodName, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "KALAMDB_CLUSTER_RAFT_ADDRESS", Value: fmt.Sprintf("%s:%d", dns, raftPort)},
		{Name: "KALAMDB_CLUSTER_RAFT_LISTEN_ADDRESS", Value: fmt.Sprintf("$(KALAMDB_SERVER_HOST):%d", raftPort)},
		{Name: "KALAMDB_CLUSTER_GOSSIP_ADDRESS", Value: fmt.Sprintf("$(KALAMDB_SERVER_HOST):%d", gossipPort)},
		{Name: "KALAMDB_CLUSTER_GOSSIP_LISTEN_ADDRESS", Value: fmt.Sprintf("$(KALAMDB_SERVER_HOST):%d", gossipPort)},
		{Name: "KALAMDB_CLUSTER_MEMBERS", Value: clusterMembers(kc)},
	}
}

// clusterContainerPorts are the Raft and gossip ports of a replica.
func clusterContainerPorts() []corev1.ContainerPort {
	return []corev1.ContainerPort{
		{Name: raftPortName, ContainerPort: raftPort, Protocol: corev1.ProtocolTCP},
		{Name: gossipPortName, ContainerPort: gossipPort, Protocol: corev1.ProtocolTCP},
		{Name: gossipUDPPortName, ContainerPort: gossipPort, Protocol: corev1.ProtocolUDP},
	}
}

// clusterServicePorts are published by the headless Service, which gives
// every pod its DNS name and lists not-ready pods too: a pod waiting for a
// quorum must be reachable by its peers before it is ready.
func clusterServicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: raftPortName, Port: raftPort, TargetPort: intstr.FromString(raftPortName), Protocol: corev1.ProtocolTCP},
		{Name: gossipPortName, Port: gossipPort, TargetPort: intstr.FromString(gossipPortName), Protocol: corev1.ProtocolTCP},
		{Name: gossipUDPPortName, Port: gossipPort, TargetPort: intstr.FromString(gossipUDPPortName), Protocol: corev1.ProtocolUDP},
	}
}

// clusterConfigKeys are the [cluster] keys the operator owns: identity
// and addresses come from the pod, the deployment id from the status.
var clusterConfigKeys = []string{
	"cluster.members", "cluster.replica_id", "cluster.deployment_id", "cluster.raft_address",
	"cluster.raft_listen_address", "cluster.gossip_address", "cluster.gossip_listen_address",
	"cluster.tls",
}

// stepDownTimeout bounds the preStop hook's wait for the pod's Raft
// leaderships to move (kalamdb step-down; a transfer takes tens of ms on a
// healthy cluster, the rest is for a loaded one).
const stepDownTimeout = 20

// replicatedGracePeriodSeconds covers the preStop hook (stepDownTimeout)
// plus the server's graceful shutdown (server.shutdown_timeout_seconds,
// 30 by default) with room to spare: the 60 s of one replica + the hook.
const replicatedGracePeriodSeconds int64 = 60 + stepDownTimeout

// stepDownHook is a replicated pod's preStop hook: before the kubelet
// sends SIGTERM — whoever deletes the pod (a node drain, an eviction, not
// only the operator's rolling update, which moves leadership itself) —
// the server hands every Raft group it leads to another replica, so the
// groups do not wait an election timeout for a leader that is stopping.
// It reads the pod's own server.toml and env (the JWT secret signs its
// token), writes nothing, and exits 0 when the pod leads nothing.
func stepDownHook() *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{
		"/kalamdb", "step-down", "--config", configDir + "/" + configFile, "--timeout", fmt.Sprintf("%ds", stepDownTimeout)}}}
}

// applyReplication turns the single-node StatefulSet into a replicated one:
// pods start in parallel (each waits for a quorum of its peers before it is
// ready, so OrderedReady would never start the second), updates are driven
// by the operator (OnDelete: it moves leadership away and deletes one pod
// at a time, rollout.go), the Raft/gossip ports and env are added, and
// without an affinity of the user's the pods prefer distinct nodes.
func applyReplication(kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet) {
	if !replicated(kc) {
		return
	}
	sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	pod := &sts.Spec.Template.Spec
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.Name != containerName {
			continue
		}
		c.Env = append(c.Env, clusterEnv(kc)...)
		c.Ports = append(c.Ports, clusterContainerPorts()...)
		c.Lifecycle = &corev1.Lifecycle{PreStop: stepDownHook()}
	}
	pod.TerminationGracePeriodSeconds = ptr.To(replicatedGracePeriodSeconds)
	if pod.Affinity == nil {
		pod.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100,
				PodAffinityTerm: corev1.PodAffinityTerm{
					TopologyKey:   corev1.LabelHostname,
					LabelSelector: &metav1.LabelSelector{MatchLabels: selectorLabels(kc)},
				},
			}},
		}}
	}
}

// gateReplicaChange holds a change of replicas the operator cannot drive:
// 3 -> 1 would remove Raft members, which is not supported, and so would
// going back to 1 once a 1 -> 3 migration has restarted pod 0 as a Raft
// replica (its template carries the join env). The pods keep serving as
// they are (Ready, Stalled with the reason) until replicas is set back.
// 1 -> 3 is driven (kalamcluster_scaleup.go).
func (r *KalamClusterReconciler) gateReplicaChange(ctx context.Context, kc *kalamv1.KalamCluster) error {
	var sts appsv1.StatefulSet
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: statefulSetName(kc)}, &sts)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("while reading the statefulset: %w", err)
	}
	running := int32(1)
	if sts.Spec.Replicas != nil {
		running = *sts.Spec.Replicas
	}
	want := max(kc.Spec.Replicas, 1)
	if want == 1 && (running > 1 || templateMigrating(&sts)) {
		return permanent(kalamv1.ReasonScaleDownNotSupported,
			"replicas 3 -> 1 would remove Raft members, which is not supported (a 1 -> 3 scale-up, once started, counts): the %d pod(s) keep serving; set replicas back to %d, or back up and restore into a new single-replica cluster",
			running, replicatedReplicas)
	}
	return nil
}
