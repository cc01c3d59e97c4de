package controllers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	"github.com/kalamdb/kalamdb-k8s/internal/testenv"
)

// The controller tests run the real operator (all five controllers in a
// manager) against a real kube-apiserver and etcd (envtest), and real
// data-plane servers started in-process from the server.toml the operator
// rendered. envtest has no kubelet and no StatefulSet controller, so the
// tests play those parts: runDataPlane starts the server the StatefulSet
// describes, creates its Pod with a made-up pod IP and marks the
// StatefulSet ready. The operator reaches the pod IP through the injected
// dialer, which routes that IP to the in-process server's loopback port.

var (
	k8s      client.Client
	routes   sync.Map // "podIP:8080" -> "127.0.0.1:port"
	podIPSeq atomic.Int32
)

// routeDial is the operator's dialer in tests: pod IPs are routed to the
// loopback servers, and anything else is refused (never dialed).
func routeDial(ctx context.Context, network, addr string) (net.Conn, error) {
	to, ok := routes.Load(addr)
	if !ok {
		return nil, fmt.Errorf("test dialer: no route to %s", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to.(string))
}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := kalamv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		// As cmd/manager: only the operator's Secrets are cached, every
		// Secret read is a GET by name.
		Cache: CacheOptions(""), Client: ClientOptions(),
	})
	if err != nil {
		panic(err)
	}
	if err := Setup(mgr, Options{Dial: routeDial, Resync: 2 * time.Second, BackupPoll: 200 * time.Millisecond}); err != nil {
		panic(err)
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, last)
}

// get re-reads obj.
func get(t *testing.T, obj client.Object) bool {
	t.Helper()
	err := k8s.Get(tctx(t), client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// update applies mutate to the latest version of obj and writes it, retrying
// on conflicts: the controllers write status (and finalizers) concurrently, so
// the resourceVersion read by a test can be stale by the time it updates.
func update(t *testing.T, obj client.Object, mutate func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !get(t, obj) {
			return fmt.Errorf("%s/%s not found", obj.GetNamespace(), obj.GetName())
		}
		mutate()
		return k8s.Update(tctx(t), obj)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(tctx(t), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// waitCondition waits until obj's condition typ has status and, if reason
// is not empty, that reason.
func waitCondition(t *testing.T, obj statusObject, typ string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	eventually(t, 60*time.Second, fmt.Sprintf("%s %s=%s %s", obj.GetName(), typ, status, reason), func() (bool, string) {
		if !get(t, obj) {
			return false, "not found"
		}
		got = meta.FindStatusCondition(*obj.GetConditions(), typ)
		if got == nil {
			return false, fmt.Sprintf("no %s condition in %+v", typ, *obj.GetConditions())
		}
		return got.Status == status && (reason == "" || got.Reason == reason), fmt.Sprintf("%s=%s %s: %s", typ, got.Status, got.Reason, got.Message)
	})
	return got
}

var clusterSeq atomic.Int32

// newCluster returns a KalamCluster spec with a unique name whose server
// config keeps tests fast (small caches, cheap bcrypt).
func newCluster(prefix string) *kalamv1.KalamCluster {
	kc := &kalamv1.KalamCluster{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, clusterSeq.Add(1)), Namespace: "default"},
		Spec: kalamv1.KalamClusterSpec{
			Image:   "kalamdb:test",
			Storage: kalamv1.StorageSpec{Size: resourceMust("1Gi")},
		},
	}
	kc.Spec.Config = jsonMust(`{"auth": {"bcrypt_cost": 4}, "storage": {"block_cache_size_mb": 8, "memtable_size_mb": 8}}`)
	return kc
}

// dataPlane is a running in-process server standing in for pod <cluster>-0.
type dataPlane struct {
	node *node.Node
	root *dpclient.Client
	// dir is the pod's directory (volumes materialised under it).
	dir  string
	once sync.Once
}

// runDataPlane plays kubelet and StatefulSet controller for kc: it waits
// for the operator's StatefulSet, ConfigMap and Secret, starts a server
// from the rendered server.toml with the environment the pod template
// declares, creates the Pod with a pod IP and marks the StatefulSet ready.
func runDataPlane(t *testing.T, kc *kalamv1.KalamCluster, opts ...node.StartOption) *dataPlane {
	t.Helper()
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: statefulSetName(kc)}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: configMapName(kc)}}
	eventually(t, 30*time.Second, "statefulset and configmap", func() (bool, string) { return get(t, sts) && get(t, cm), "" })
	env := podEnv(t, kc, sts)
	dir := t.TempDir()
	toml, rootHTTP := podTLS(t, kc, sts, dir, cm.Data[configFile])
	cfg := loadPodConfig(t, dir, toml, env)
	if cfg.Storage.DataPath != dataDir || cfg.Server.Port != httpPort {
		t.Fatalf("rendered config: data_path %q port %d", cfg.Storage.DataPath, cfg.Server.Port)
	}
	cfg.Server.Host, cfg.Server.Port, cfg.Storage.DataPath = "127.0.0.1", 0, filepath.Join(dir, "data")
	// The server's own command line: --restore-from on bootstrap (C2).
	if rs := restoreFromArgs(sts.Spec.Template.Spec.Containers); rs != nil {
		opts = append(opts, node.WithRestoreFrom(rs.Target, rs.BackupID))
	}
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	if err != nil {
		t.Fatalf("start data plane: %v", err)
	}
	dp := &dataPlane{node: n, dir: dir}
	t.Cleanup(dp.stop)
	ip := fmt.Sprintf("10.244.0.%d", podIPSeq.Add(1))
	routes.Store(net.JoinHostPort(ip, "8080"), n.Addr())
	t.Cleanup(func() { routes.Delete(net.JoinHostPort(ip, "8080")) })

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: podName(kc, 0), Labels: sts.Spec.Template.Labels},
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	// The StatefulSet controller adds the claim's volume to each pod.
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: dataVolume,
		VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: dataVolume + "-" + pod.Name}}})
	create(t, pod)
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}}
	if err := k8s.Status().Update(tctx(t), pod); err != nil {
		t.Fatal(err)
	}
	markStatefulSetReady(t, sts)
	root := dpclient.New(endpointScheme(kc) + "://" + n.Addr())
	if rootHTTP != nil {
		root.HTTP = rootHTTP
	}
	if _, err := root.Login(tctx(t), "root", env["KALAMDB_ROOT_PASSWORD"]); err != nil {
		t.Fatalf("root login with the Secret's password: %v", err)
	}
	dp.root = root
	return dp
}

// stop shuts the server down once (a test may stop it before its cleanup,
// to restart the pod as something else over the same directory).
func (d *dataPlane) stop() {
	d.once.Do(func() { _ = d.node.Close() })
}

// loadPodConfig writes toml as the pod's server.toml in dir and loads it
// with the pod's environment env, as the server in the pod would.
func loadPodConfig(t *testing.T, dir, toml string, env map[string]string) config.Config {
	t.Helper()
	path := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if k == envS3AccessKey || k == envS3SecretKey {
			// The server reads the credentials named by [[storages]] from
			// its process environment.
			t.Setenv(k, v)
		}
	}
	cfg, err := config.LoadWithEnv(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the operator's server.toml does not load: %v\n%s", err, toml)
	}
	return cfg
}

// markStatefulSetReady sets the status the StatefulSet controller would
// report once every pod of the current template is ready.
func markStatefulSetReady(t *testing.T, sts *appsv1.StatefulSet) {
	t.Helper()
	get(t, sts)
	sts.Status = appsv1.StatefulSetStatus{Replicas: *sts.Spec.Replicas, ReadyReplicas: *sts.Spec.Replicas,
		UpdatedReplicas: *sts.Spec.Replicas, CurrentReplicas: *sts.Spec.Replicas, AvailableReplicas: *sts.Spec.Replicas,
		ObservedGeneration: sts.Generation, CurrentRevision: fmt.Sprintf("r%d", sts.Generation), UpdateRevision: fmt.Sprintf("r%d", sts.Generation)}
	if err := k8s.Status().Update(tctx(t), sts); err != nil {
		t.Fatal(err)
	}
}

// podEnv resolves the container's environment as the kubelet would.
func podEnv(t *testing.T, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range sts.Spec.Template.Spec.Containers[0].Env {
		switch {
		case e.ValueFrom == nil:
			out[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			var sec corev1.Secret
			eventually(t, 30*time.Second, "secret "+ref.Name, func() (bool, string) {
				err := k8s.Get(tctx(t), types.NamespacedName{Namespace: kc.Namespace, Name: ref.Name}, &sec)
				return err == nil, fmt.Sprint(err)
			})
			v, ok := sec.Data[ref.Key]
			if !ok {
				t.Fatalf("secret %s has no key %s", ref.Name, ref.Key)
			}
			out[e.Name] = string(v)
		}
	}
	return out
}
