package controllers

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

func replicatedCluster() *kalamv1.KalamCluster {
	kc := builderCluster()
	kc.UID = "5f0c2a9e-8d3b-4e71-b6a4-1c9d7e2f3a58"
	kc.Spec.Replicas = 3
	return kc
}

// kubeletEnv resolves a container's env as the kubelet does for one pod: field
// references from the pod's name and IP, $(VAR) from earlier variables.
// Secret references are left out (the data plane's loader sees them as
// unset, which is fine for the [cluster] keys).
func kubeletEnv(t *testing.T, c corev1.Container, pod, ip string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				env[e.Name] = pod
			case "status.podIP":
				env[e.Name] = ip
			default:
				t.Fatalf("unexpected field ref %s", e.ValueFrom.FieldRef.FieldPath)
			}
		case e.ValueFrom == nil:
			v := e.Value
			for k, val := range env {
				v = strings.ReplaceAll(v, "$("+k+")", val)
			}
			if strings.Contains(v, "$(") {
				t.Fatalf("%s = %q refers to a variable not defined before it", e.Name, v)
			}
			env[e.Name] = v
		}
	}
	return env
}

// TestBuildReplicatedStatefulSet: the shape of a 3-replica data plane and
// the per-pod configuration each pod's data plane derives from it, checked
// with the data plane's own config loader: pod prod-1 is replica 2.
func TestBuildReplicatedStatefulSet(t *testing.T) {
	kc := replicatedCluster()
	toml, err := renderConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	sts := buildStatefulSet(kc, hashOf(toml), nil)
	if *sts.Spec.Replicas != 3 || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement ||
		sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType || sts.Spec.ServiceName != "prod-headless" {
		t.Fatalf("statefulset spec: replicas %d, policy %s, update %s, service %s", *sts.Spec.Replicas,
			sts.Spec.PodManagementPolicy, sts.Spec.UpdateStrategy.Type, sts.Spec.ServiceName)
	}
	c := sts.Spec.Template.Spec.Containers[0]
	ports := map[string]corev1.ContainerPort{}
	for _, p := range c.Ports {
		ports[p.Name] = p
	}
	if ports["raft"].ContainerPort != 9190 || ports["gossip"].ContainerPort != 9191 || ports["gossip-udp"].Protocol != corev1.ProtocolUDP || ports["http"].ContainerPort != 8080 {
		t.Errorf("ports %+v", c.Ports)
	}
	aff := sts.Spec.Template.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey != corev1.LabelHostname ||
		len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
		t.Errorf("default anti-affinity %+v", aff)
	}
	deployment := deploymentIDFor(kc)
	if deployment <= 0 || !strings.Contains(toml, "deployment_id = ") {
		t.Fatalf("deployment id %d, config:\n%s", deployment, toml)
	}
	for ordinal, ip := range []string{"10.0.0.7", "10.0.0.8", "10.0.0.9"} {
		pod := podName(kc, ordinal)
		env := kubeletEnv(t, c, pod, ip)
		// The config the pod loads: server.toml without the storages the
		// loader of this build checks separately, plus its environment.
		cfg, err := config.Parse("server.toml", []byte(strings.SplitN(toml, "[[storages]]", 2)[0]), func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		})
		if err != nil {
			t.Fatalf("pod %s: the data plane refuses its configuration: %v", pod, err)
		}
		cl := cfg.Cluster
		if cl.ReplicaID != ordinal+1 || cl.DeploymentID != deployment || len(cl.Members) != 3 ||
			cl.RaftAddress != pod+".prod-headless.db.svc:9190" || cl.GossipAddress != ip+":9191" ||
			cl.RaftListenAddress != ip+":9190" || cl.GossipListenAddress != ip+":9191" {
			t.Errorf("pod %s: cluster config %+v", pod, cl)
		}
		if want := fmt.Sprintf("%d=%s.prod-headless.db.svc:9191", ordinal+1, pod); cl.Members[ordinal] != want {
			t.Errorf("pod %s not among members %v", pod, cl.Members)
		}
	}
	// The user's own affinity is kept as it is.
	kc.Spec.Scheduling.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
	if a := buildStatefulSet(kc, "x", nil).Spec.Template.Spec.Affinity; a.PodAntiAffinity != nil || a.NodeAffinity == nil {
		t.Errorf("user affinity replaced: %+v", a)
	}
	svc := buildHeadlessService(kc)
	if !svc.Spec.PublishNotReadyAddresses || len(svc.Spec.Ports) != 4 || svc.Spec.Ports[1].Port != 9190 {
		t.Errorf("headless service %+v", svc.Spec)
	}
}

// TestDeploymentIDStable: derived from the UID once, then the recorded
// value wins (a restored or re-created object keeps its pods' id).
func TestDeploymentIDStable(t *testing.T) {
	a, b := replicatedCluster(), replicatedCluster()
	if deploymentIDFor(a) != deploymentIDFor(b) {
		t.Fatal("same UID, different deployment ids")
	}
	b.UID = "other"
	if deploymentIDFor(a) == deploymentIDFor(b) {
		t.Fatal("different UIDs, same deployment id")
	}
	b.Status.DeploymentID = 42
	if deploymentIDFor(b) != 42 {
		t.Fatal("the recorded deployment id is not used")
	}
}

// TestClusterConfigKeysOwned: the per-pod identity cannot be overridden
// through spec.config; Raft tuning can.
func TestClusterConfigKeysOwned(t *testing.T) {
	kc := replicatedCluster()
	for _, key := range []string{"members", "replica_id", "deployment_id", "raft_address", "gossip_address"} {
		kc.Spec.Config = &apiextensionsv1.JSON{Raw: []byte(`{"cluster":{"` + key + `":1}}`)}
		if _, err := renderConfig(kc); err == nil || !strings.Contains(err.Error(), "cluster."+key) {
			t.Errorf("cluster.%s override: %v", key, err)
		}
	}
	kc.Spec.Config = &apiextensionsv1.JSON{Raw: []byte(`{"cluster":{"proposal_timeout_ms":3000}}`)}
	toml, err := renderConfig(kc)
	if err != nil || !strings.Contains(toml, "proposal_timeout_ms = 3000") {
		t.Fatalf("Raft tuning refused: %v\n%s", err, toml)
	}
}

// TestStepDownPreStop: a replicated pod hands its Raft leaderships over
// before the kubelet stops it, whoever deletes it (kalamdb step-down as an
// exec preStop hook reading the server's own config, whose JWT secret env
// signs its token); the grace period covers the hook and the server's
// graceful shutdown. A single replica has no hook and keeps its 60 s.
func TestStepDownPreStop(t *testing.T) {
	sts := buildStatefulSet(replicatedCluster(), "x", nil)
	pod := sts.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
		t.Fatalf("replicated pod without an exec preStop hook: %+v", c.Lifecycle)
	}
	cmd := c.Lifecycle.PreStop.Exec.Command
	want := []string{"/kalamdb", "step-down", "--config", c.Command[3], "--timeout", "20s"}
	if c.Command[2] != "--config" || strings.Join(cmd, " ") != strings.Join(want, " ") {
		t.Fatalf("preStop %q, want %q (the server's own config)", cmd, want)
	}
	hasSecret := false
	for _, e := range c.Env {
		if e.Name == "KALAMDB_JWT_SECRET" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			hasSecret = true
		}
	}
	if !hasSecret {
		t.Fatal("the hook signs its token with KALAMDB_JWT_SECRET, which the container does not have")
	}
	shutdown := int64(config.Default().Server.ShutdownTimeoutSeconds)
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g < stepDownTimeout+shutdown+10 {
		t.Fatalf("grace period %v does not cover the hook (%d s) and the shutdown (%d s)", g, stepDownTimeout, shutdown)
	}
	single := buildStatefulSet(builderCluster(), "x", nil).Spec.Template.Spec
	if single.Containers[0].Lifecycle != nil || *single.TerminationGracePeriodSeconds != 60 {
		t.Fatalf("single replica: lifecycle %+v, grace %d", single.Containers[0].Lifecycle, *single.TerminationGracePeriodSeconds)
	}
}
