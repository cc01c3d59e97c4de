package packaging

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/controllers"
	"github.com/kalamdb/kalamdb-k8s/internal/testenv"
)

// decode converts one rendered object into its typed form.
func decode(t *testing.T, obj map[string]any, into any) {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

// TestChartNamespacedInstall renders the chart with watchNamespace and runs
// the operator with exactly the rendered permissions: its ServiceAccount
// (impersonated) bound to the rendered Role in the watched namespace and
// nothing cluster-wide, against a real kube-apiserver with RBAC (envtest).
// The operator reconciles a KalamCluster there and leaves one in another
// namespace alone.
func TestChartNamespacedInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds helm and starts kube-apiserver")
	}
	helm := tool(t, "helm")
	out := run(t, helm, "template", "kdb", "charts/kalamdb-operator", "--namespace", "kalamdb-system", "--set", "watchNamespace=apps")
	docs := splitDocs(t, out)
	for k := range docs {
		if strings.HasPrefix(k, "ClusterRole") {
			t.Errorf("namespaced install renders %s", k)
		}
	}
	roleDoc, bindingDoc := docs["Role/kdb-kalamdb-operator"], docs["RoleBinding/kdb-kalamdb-operator"]
	if roleDoc == nil || bindingDoc == nil {
		t.Fatalf("no Role/RoleBinding for the watched namespace: %v", keys(docs))
	}
	var role rbacv1.Role
	var binding rbacv1.RoleBinding
	decode(t, roleDoc, &role)
	decode(t, bindingDoc, &binding)
	if role.Namespace != "apps" || binding.Namespace != "apps" || binding.Subjects[0].Namespace != "kalamdb-system" {
		t.Fatalf("role in %q, binding in %q for %+v", role.Namespace, binding.Namespace, binding.Subjects)
	}
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") && slices.Contains(r.Verbs, "delete") {
			t.Errorf("the operator may delete Secrets: %+v", r)
		}
		if slices.Contains(r.APIGroups, "storage.k8s.io") {
			t.Errorf("a cluster-scoped rule in the Role: %+v", r)
		}
	}
	var dep appsv1.Deployment
	decode(t, docs["Deployment/kdb-kalamdb-operator"], &dep)
	if !slices.Contains(dep.Spec.Template.Spec.Containers[0].Args, "--watch-namespace=apps") {
		t.Errorf("manager args %v", dep.Spec.Template.Spec.Containers[0].Args)
	}

	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = kalamv1.AddToScheme(scheme)
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, ns := range []string{"apps", "other", "kalamdb-system"} {
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []client.Object{&role, &binding} {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	// The operator as its ServiceAccount, with the rendered Role only.
	saCfg := rest.CopyConfig(cfg)
	saCfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:kalamdb-system:" + binding.Subjects[0].Name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kalamdb-system", "system:authenticated"}}
	mgr, err := ctrl.NewManager(saCfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: controllers.CacheOptions("apps"), Client: controllers.ClientOptions()})
	if err != nil {
		t.Fatal(err)
	}
	if err := controllers.Setup(mgr, controllers.Options{Resync: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	newKC := func(ns string) *kalamv1.KalamCluster {
		return &kalamv1.KalamCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kalam"},
			Spec: kalamv1.KalamClusterSpec{Image: "kalamdb:test", Storage: kalamv1.StorageSpec{Size: resource.MustParse("1Gi")}}}
	}
	for _, ns := range []string{"apps", "other"} {
		if err := admin.Create(ctx, newKC(ns)); err != nil {
			t.Fatal(err)
		}
	}
	var sts appsv1.StatefulSet
	var sec corev1.Secret
	var kc kalamv1.KalamCluster
	deadline := time.Now().Add(90 * time.Second)
	for {
		errSts := admin.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "kalam"}, &sts)
		errSec := admin.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "kalam-credentials"}, &sec)
		_ = admin.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "kalam"}, &kc)
		if errSts == nil && errSec == nil && len(kc.Status.Conditions) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the namespaced operator did not reconcile apps/kalam: statefulset %v, secret %v, status %+v", errSts, errSec, kc.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sec.Labels[controllers.LabelManagedBy] != "kalamdb-operator" {
		t.Errorf("the credentials Secret lacks the label the Secret cache selects on: %v", sec.Labels)
	}
	// It keeps working with its own Secret through the filtered cache: a
	// deleted key is refilled (the Secret watch fires).
	delete(sec.Data, "jwt-secret")
	if err := admin.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(&sec), &sec); err == nil && len(sec.Data["jwt-secret"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the operator did not refill its credentials Secret")
		}
	}
	var otherKC kalamv1.KalamCluster
	if err := admin.Get(ctx, client.ObjectKey{Namespace: "other", Name: "kalam"}, &otherKC); err != nil {
		t.Fatal(err)
	}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: "other", Name: "kalam"}, &appsv1.StatefulSet{}); err == nil || len(otherKC.Status.Conditions) > 0 {
		t.Errorf("the namespaced operator reconciled other/kalam: %+v", otherKC.Status)
	}
}
