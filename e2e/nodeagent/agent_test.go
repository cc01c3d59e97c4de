package nodeagent_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/kalamdb/kalamdb-k8s/e2e/controlplane"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
	"github.com/kalamdb/kalamdb-k8s/e2e/nodeagent"
)

// TestStatefulSetRunsOnAgent drives a plain StatefulSet (no operator) through
// the real StatefulSet controller and the agent: the pod is bound, its PVC
// gets a volume, the kalamdb server runs with the pod IP, ConfigMap and
// Secret env, the readiness probe makes it Ready and the EndpointSlice
// controller publishes it; a SIGKILL restarts it with its data kept; deleting
// the StatefulSet stops it.
func TestStatefulSetRunsOnAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	dir := t.TempDir()
	bin := buildKalamdb(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cp, agent := startNode(ctx, t, dir, "agent", nodeagent.Options{Binaries: map[string]string{"/kalamdb": bin}})
	c := cp.Client
	ns := "agent"
	createDBConfig(ctx, t, c, ns, "", "agent-root-pw")
	labels := map[string]string{"app": "db"}
	mustCreate(t, func() error {
		_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "db"},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromString("http")}}},
		}, metav1.CreateOptions{})
		return err
	})
	secretEnv := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "db-credentials"}, Key: key}}}
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
			PeriodSeconds: 2, FailureThreshold: 3}
	}
	one := int32(1)
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &one, ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "kalamdb", Image: "kalamdb/kalamdb:dev",
						Command: []string{"/kalamdb", "server", "--config", "/etc/kalamdb/server.toml"},
						Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env: []corev1.EnvVar{
							{Name: "KALAMDB_SERVER_HOST", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
							secretEnv("KALAMDB_ROOT_PASSWORD", "root-password"), secretEnv("KALAMDB_JWT_SECRET", "jwt-secret"),
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/kalamdb", ReadOnly: true},
							{Name: "data", MountPath: "/var/lib/kalamdb"},
						},
						ReadinessProbe: probe("/readyz"), LivenessProbe: probe("/healthz"),
					}},
					Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
						ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db-config"}}}}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	mustCreate(t, func() error {
		_, err := c.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{})
		return err
	})

	start := time.Now()
	pod := waitPod(ctx, t, c, ns, "db-0", func(p *corev1.Pod) bool { return podReady(p) })
	t.Logf("db-0 ready on %s after %s", pod.Status.PodIP, time.Since(start))
	if !strings.HasPrefix(pod.Status.PodIP, "127.") {
		t.Fatalf("pod IP %q is not loopback", pod.Status.PodIP)
	}
	base := "http://" + pod.Status.PodIP + ":8080"
	if code := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	// The root password from the Secret works (env resolved from secretKeyRef).
	if code := login(t, base, "agent-root-pw"); code != http.StatusOK {
		t.Fatalf("login with the Secret's password = %d", code)
	}
	// The Service resolves to the ready pod (see harness.ServiceEndpoints for
	// why EndpointSlices cannot carry loopback pod IPs).
	eps, err := harness.ServiceEndpoints(ctx, c, ns, "db", "http")
	if err != nil || len(eps) != 1 || eps[0] != pod.Status.PodIP+":8080" {
		t.Fatalf("service endpoints = %v, %v", eps, err)
	}
	// The claim is bound to an agent volume holding the data dir.
	pvc, err := c.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-0", metav1.GetOptions{})
	if err != nil || pvc.Status.Phase != corev1.ClaimBound {
		t.Fatalf("pvc data-db-0: %v %v", err, pvc.Status.Phase)
	}
	pv, err := c.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(pv.Spec.HostPath.Path)
	if len(entries) == 0 {
		t.Fatalf("data dir %s is empty: the server did not write through the bind mount", pv.Spec.HostPath.Path)
	}

	// SIGKILL: the agent restarts the process, restartCount becomes 1.
	if err := agent.Kill(ns, "db-0", "kalamdb", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	pod = waitPod(ctx, t, c, ns, "db-0", func(p *corev1.Pod) bool {
		return podReady(p) && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount == 1
	})
	if lt := pod.Status.ContainerStatuses[0].LastTerminationState.Terminated; lt == nil || lt.ExitCode != 137 {
		t.Fatalf("last termination = %+v, want exit 137", lt)
	}
	if code := login(t, base, "agent-root-pw"); code != http.StatusOK {
		t.Fatalf("login after restart = %d", code)
	}

	// Deleting the StatefulSet: the garbage collector deletes the pod, the
	// agent stops the process and removes the pod.
	if err := c.AppsV1().StatefulSets(ns).Delete(ctx, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "pod db-0 gone", func() bool {
		_, err := c.CoreV1().Pods(ns).Get(ctx, "db-0", metav1.GetOptions{})
		return err != nil
	})
	if code := get(t, base+"/healthz"); code != 0 {
		t.Fatalf("server still answers after pod deletion: %d", code)
	}
}

// startNode starts a control plane and a node agent in dir (both stopped
// by t.Cleanup) and creates namespace ns. opts' Client, Dir, Logf,
// APIServer and CAData are set here (pods run in cluster, as under kubelet).
func startNode(ctx context.Context, t *testing.T, dir, ns string, opts nodeagent.Options) (*controlplane.ControlPlane, *nodeagent.Agent) {
	t.Helper()
	cp, err := controlplane.Start(ctx, controlplane.Options{Dir: filepath.Join(dir, "cp")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(cp.LogFile("kube-controller-manager"))
			t.Logf("kube-controller-manager log:\n%s", b)
		}
	})
	opts.Client, opts.Dir, opts.Logf = cp.Client, filepath.Join(dir, "node"), t.Logf
	opts.APIServer, opts.CAData = cp.APIServerURL, cp.CACert
	agent, err := nodeagent.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	mustCreate(t, func() error {
		_, err := cp.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	return cp, agent
}

// buildKalamdb builds the data plane's binary into dir.
func buildKalamdb(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), harness.BuildTimeout)
	defer cancel()
	bin, err := harness.Build(ctx, dir, "./cmd/kalamdb")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// createDBConfig creates ConfigMap db-config (server.toml: port 8080, data
// in /var/lib/kalamdb, then extra) and Secret db-credentials (root
// password, a JWT secret) in ns.
func createDBConfig(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, extra, rootPassword string) {
	t.Helper()
	mustCreate(t, func() error {
		_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "db-config"},
			Data:       map[string]string{"server.toml": "[server]\nport = 8080\n[storage]\ndata_path = \"/var/lib/kalamdb\"\n" + extra},
		}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db-credentials"},
			StringData: map[string]string{"root-password": rootPassword, "jwt-secret": strings.Repeat("j", 40)},
		}, metav1.CreateOptions{})
		return err
	})
}

func mustCreate(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func waitPod(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, name string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	waitFor(ctx, t, "pod "+name, func() bool {
		p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		last = p
		return ok(p)
	})
	return last
}

func waitFor(ctx context.Context, t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if ok() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func get(t *testing.T, url string) int {
	t.Helper()
	cl := &http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func login(t *testing.T, base, password string) int {
	t.Helper()
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Post(base+"/v1/api/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"user":"root","password":%q}`, password)))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
