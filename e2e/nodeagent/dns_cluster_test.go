package nodeagent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/e2e/nodeagent"
)

// TestPodDNSRaftPeers runs three kalamdb replicas as a plain StatefulSet
// (no operator) whose peers find each other only by the headless Service's
// pod names, <pod>.db-peers.<ns>.svc (resolved through the pod's
// resolv.conf search list and the agent's cluster DNS, as with kubelet and
// CoreDNS): the Raft cluster forms, a write through one pod is read
// through another, and a deleted pod comes back (re-created by the
// StatefulSet controller) and rejoins.
func TestPodDNSRaftPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	dir := t.TempDir()
	bin := buildKalamdb(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := "agentdns"
	cp, agent := startNode(ctx, t, dir, ns, nodeagent.Options{})
	c := cp.Client
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range []string{"db-0", "db-1", "db-2"} {
			if path, err := agent.LogPath(ns, p, "kalamdb"); err == nil {
				b, _ := os.ReadFile(path)
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("log of %s:\n%s", p, b)
			}
		}
	})
	// The table lives on the built-in node-local storage (no object store here;
	// the test checks DNS and replication, not the cold tier), which a
	// replicated cluster refuses unless allowed.
	createDBConfig(ctx, t, c, ns, "[auth]\nbcrypt_cost = 4\n[cluster]\nuser_groups = 2\ndeployment_id = 7\nallow_node_local_storage = true\n", "dns-root-pw")
	labels := map[string]string{"app": "db"}
	// The peers' Service publishes not-ready pods: a replica becomes Ready
	// only once a quorum has formed, so its peers must resolve it before.
	mustCreate(t, func() error {
		_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "db-peers"},
			Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, PublishNotReadyAddresses: true, Selector: labels,
				Ports: []corev1.ServicePort{{Name: "raft", Port: 9190}, {Name: "gossip", Port: 9191}}},
		}, metav1.CreateOptions{})
		return err
	})
	env := func(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	secretEnv := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-credentials"}, Key: key}}}
	}
	peer := func(i int, port int) string { return fmt.Sprintf("db-%d.db-peers.%s.svc:%d", i, ns, port) }
	members := fmt.Sprintf("1=%s,2=%s,3=%s", peer(0, 9191), peer(1, 9191), peer(2, 9191))
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](3), ServiceName: "db-peers", Selector: &metav1.LabelSelector{MatchLabels: labels},
			// Parallel: replica 0 cannot become Ready before a quorum exists.
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "kalamdb", Image: "kalamdb/kalamdb:dev",
						// The replica id is the pod's ordinal + 1 (a shell
						// does the arithmetic; the binary is the host's).
						Command: []string{"/bin/sh", "-c", `export KALAMDB_CLUSTER_REPLICA_ID=$(( ${POD_NAME##*-} + 1 )); exec "$0" server --config /etc/kalamdb/server.toml`, bin},
						Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env: []corev1.EnvVar{
							field("POD_NAME", "metadata.name"), field("POD_IP", "status.podIP"),
							env("KALAMDB_SERVER_HOST", "$(POD_IP)"),
							// Raft addresses by DNS name; gossip advertises the
							// IP (dragonboat accepts only an IPv4 there) and
							// finds its seeds by name.
							env("KALAMDB_CLUSTER_RAFT_ADDRESS", "$(POD_NAME).db-peers."+ns+".svc:9190"),
							env("KALAMDB_CLUSTER_RAFT_LISTEN_ADDRESS", "$(POD_IP):9190"),
							env("KALAMDB_CLUSTER_GOSSIP_ADDRESS", "$(POD_IP):9191"),
							env("KALAMDB_CLUSTER_MEMBERS", members),
							secretEnv("KALAMDB_ROOT_PASSWORD", "root-password"), secretEnv("KALAMDB_JWT_SECRET", "jwt-secret"),
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/kalamdb", ReadOnly: true},
							{Name: "data", MountPath: "/var/lib/kalamdb"},
						},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}},
							PeriodSeconds: 1, FailureThreshold: 3},
					}},
					Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
						ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db-config"}}}}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resourceGi}},
				},
			}},
		},
	}
	mustCreate(t, func() error {
		_, err := c.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
		return err
	})
	ips := map[string]string{}
	start := time.Now()
	for i := range 3 {
		name := fmt.Sprintf("db-%d", i)
		p := waitPod(ctx, t, c, ns, name, podReady)
		ips[name] = p.Status.PodIP
	}
	t.Logf("3 replicas Ready after %s: %v", time.Since(start).Round(time.Millisecond), ips)

	clientOn := func(pod string) *dpclient.Client {
		t.Helper()
		cl := dpclient.New("http://" + ips[pod] + ":8080")
		if _, err := cl.Login(ctx, "root", "dns-root-pw"); err != nil {
			t.Fatalf("login on %s: %v", pod, err)
		}
		return cl
	}
	// Every replica sees the same three members and one leader of meta.
	for pod := range ips {
		st := clusterStatus(ctx, t, clientOn(pod))
		if len(st.Shards) == 0 || len(st.Shards[0].Members) != 3 || st.Shards[0].Leader == 0 {
			t.Fatalf("%s: cluster status %+v", pod, st)
		}
	}
	w := clientOn("db-1")
	for _, q := range []string{"CREATE NAMESPACE dns", "CREATE TABLE dns.t (id BIGINT PRIMARY KEY, v TEXT) WITH (TYPE = 'SHARED')",
		"INSERT INTO dns.t (id, v) VALUES (1, 'through db-1')"} {
		if _, err := w.SQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if rows, err := clientOn("db-2").Rows(ctx, "SELECT v FROM dns.t WHERE id = 1"); err != nil || len(rows) != 1 {
		t.Fatalf("read through db-2: %v %v", rows, err)
	}

	// A deleted replica is re-created, resolves its peers again and
	// catches up with a write made while it was away.
	old := waitPod(ctx, t, c, ns, "db-2", podReady)
	if err := c.CoreV1().Pods(ns).Delete(ctx, "db-2", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](1)}); err != nil {
		t.Fatal(err)
	}
	// A write caught by the failover (db-2 may have led the group) fails
	// retryably with NO_QUORUM after proposal_timeout_ms and may still have
	// committed: retry, and take DUPLICATE_KEY as the earlier try's success.
	waitFor(ctx, t, "a write with db-2 deleted", func() bool {
		_, err := w.SQL(ctx, "INSERT INTO dns.t (id, v) VALUES (2, 'while db-2 was away')")
		if err != nil && !dpclient.IsCode(err, "DUPLICATE_KEY") {
			t.Logf("write with db-2 deleted: %v (retrying)", err)
			return false
		}
		return true
	})
	p := waitPod(ctx, t, c, ns, "db-2", func(p *corev1.Pod) bool { return p.UID != old.UID && podReady(p) })
	ips["db-2"] = p.Status.PodIP
	waitFor(ctx, t, "db-2 has the row written while it was away", func() bool {
		rows, err := clientOn("db-2").Rows(ctx, "SELECT v FROM dns.t WHERE id = 2")
		return err == nil && len(rows) == 1
	})
}

var resourceGi = resource.MustParse("1Gi")

type clusterStatusDoc struct {
	ReplicaID int `json:"replica_id"`
	Shards    []struct {
		Name    string            `json:"name"`
		Leader  int               `json:"leader"`
		Members map[string]string `json:"members"`
	} `json:"shards"`
}

func clusterStatus(ctx context.Context, t *testing.T, c *dpclient.Client) clusterStatusDoc {
	t.Helper()
	code, body, err := c.Do(ctx, http.MethodGet, "/v1/cluster/status", nil, true)
	if err != nil || code != http.StatusOK {
		t.Fatalf("cluster status: %d %s %v", code, body, err)
	}
	var st clusterStatusDoc
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("cluster status %s: %v", body, err)
	}
	return st
}
