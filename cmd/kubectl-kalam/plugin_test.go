package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/dataplane/node"
	"github.com/kalamdb/kalamdb-k8s/internal/testenv"
)

// The plugin's tests run the whole command line (kubeconfig loading
// included) against a real kube-apiserver with the kalamdb.io CRDs
// (envtest). No operator runs: the tests write the statuses the operator
// would, so each command's reading and writing of the API is what is
// checked. `sql` talks to a real in-process data plane through --endpoint.

var (
	k8s        client.Client
	kubeconfig string
)

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

func runSuite(m *testing.M) int {
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = kalamv1.AddToScheme(scheme)
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-kalam-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(cfg, kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// writeKubeconfig writes envtest's admin credentials the way a user's
// kubeconfig holds them, with a context defaulting to namespace "default".
func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "envtest"
	return clientcmd.WriteToFile(*kc, path)
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// kalam runs the plugin's command line and returns stdout.
func kalam(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(tctx(t), append(args, "--kubeconfig", kubeconfig), strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(tctx(t), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

func setStatus(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Status().Update(tctx(t), obj); err != nil {
		t.Fatalf("status of %s: %v", obj.GetName(), err)
	}
}

func newCluster(name string) *kalamv1.KalamCluster {
	return &kalamv1.KalamCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: kalamv1.KalamClusterSpec{Image: "kalamdb:test", Replicas: 1,
			Storage:     kalamv1.StorageSpec{Size: resource.MustParse("10Gi")},
			Resources:   corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
			Scheduling:  kalamv1.SchedulingSpec{NodeSelector: map[string]string{"pool": "db"}},
			ObjectStore: &kalamv1.ObjectStoreSpec{Endpoint: "minio.db:9000", Bucket: "kalam", Prefix: "prod", Region: "us-east-1"}},
	}
}

func newTable(name, cluster string) *kalamv1.KalamTable {
	return &kalamv1.KalamTable{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: kalamv1.KalamTableSpec{ClusterRef: kalamv1.ClusterReference{Name: cluster}, Namespace: "app", Name: strings.ReplaceAll(name, "-", "_"),
			Type: kalamv1.TableShared, Columns: []kalamv1.ColumnSpec{{Name: "id", Type: "BIGINT", PrimaryKey: true}, {Name: "body", Type: "TEXT"}}},
	}
}

func readyCondition(msg string) metav1.Condition {
	return metav1.Condition{Type: kalamv1.ConditionReady, Status: metav1.ConditionTrue, Reason: kalamv1.ReasonAvailable, Message: msg, LastTransitionTime: metav1.Now()}
}

// TestStatus: the report names the cluster's state, its pods, its tables
// with the pending plan and how to approve it, its newest backups (and
// not another cluster's) and its schedules.
// TestStatusGroups: a replicated cluster's status.groups is printed with
// each group's leader pod, members and replicas' applied index and lag.
func TestStatusGroups(t *testing.T) {
	kc := newCluster("stg")
	kc.Spec.Replicas = 3
	kc.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "minio:9000", Bucket: "kalam"}
	mustCreate(t, kc)
	kc.Status = kalamv1.KalamClusterStatus{Phase: kalamv1.ClusterReady, ReadyReplicas: 3, Groups: []kalamv1.GroupStatus{
		{Name: "meta", Leader: 2, Members: []int64{1, 2, 3}, Replicas: []kalamv1.GroupReplicaStatus{
			{ReplicaID: 1, Pod: "stg-0", Applied: 120, Lag: 0}, {ReplicaID: 2, Pod: "stg-1", Applied: 120}, {ReplicaID: 3, Pod: "stg-2", Applied: 117, Lag: 3}}},
		{Name: "shared", Members: []int64{1, 2, 3}},
	}}
	setStatus(t, kc)
	out, err := kalam(t, "", "status", "stg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Raft groups", "3/3 ready", "stg-1", "1,2,3", "stg-2=117 (3)", "shared", "none"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

func TestStatus(t *testing.T) {
	kc := newCluster("st")
	mustCreate(t, kc)
	kc.Status = kalamv1.KalamClusterStatus{Phase: kalamv1.ClusterReady, ReadyReplicas: 1, Endpoint: "http://st.default.svc:8080",
		CurrentImage: "kalamdb:test", ServerVersion: "0.9.1", Conditions: []metav1.Condition{readyCondition("1/1 pods ready")}}
	setStatus(t, kc)

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "st-0", Labels: map[string]string{kalamv1.LabelCluster: "st"}},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "kalamdb", Image: "kalamdb:test"}}}}
	mustCreate(t, pod)
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.1.2.3",
		ContainerStatuses: []corev1.ContainerStatus{{Name: "kalamdb", Ready: true, RestartCount: 2}}}
	setStatus(t, pod)
	mustCreate(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "other-0", Labels: map[string]string{kalamv1.LabelCluster: "other"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "kalamdb", Image: "x"}}}})

	inSync := newTable("st-rooms", "st")
	mustCreate(t, inSync)
	inSync.Status = kalamv1.KalamTableStatus{SchemaVersion: 3, Conditions: []metav1.Condition{readyCondition("in sync")}}
	setStatus(t, inSync)
	planned := newTable("st-msgs", "st")
	mustCreate(t, planned)
	planned.Status = kalamv1.KalamTableStatus{SchemaVersion: 1, PendingPlan: &kalamv1.SchemaPlan{Hash: "abc123",
		Statements: []string{"ALTER TABLE app.st_msgs DROP COLUMN body"}, Destructive: []string{"drop column body"}}}
	setStatus(t, planned)

	for i := range 7 {
		b := &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("st-b%d", i),
			Labels: map[string]string{kalamv1.LabelScheduledBackup: "st-nightly"}},
			Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: "st"}}}
		mustCreate(t, b)
		started := metav1.NewTime(time.Now().Add(-time.Hour))
		stopped := metav1.NewTime(started.Add(90 * time.Second))
		b.Status = kalamv1.KalamBackupStatus{Phase: kalamv1.BackupCompleted, BackupID: fmt.Sprintf("BK%d", i), StartedAt: &started, StoppedAt: &stopped, SizeBytes: 3 << 20}
		if i == 6 {
			b.Status.Phase, b.Status.Error, b.Status.BackupID = kalamv1.BackupFailed, "object store unreachable", ""
		}
		setStatus(t, b)
	}
	mustCreate(t, &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "other-b"},
		Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: "other"}}})
	sched := &kalamv1.KalamScheduledBackup{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "st-nightly"},
		Spec: kalamv1.KalamScheduledBackupSpec{Cluster: kalamv1.ClusterReference{Name: "st"}, Schedule: "0 0 3 * * *"}}
	mustCreate(t, sched)
	// Whole seconds, 30 s short of 5 h: the API stores seconds, so "in 4h59m…" holds
	// whatever fraction of a second the test starts at.
	next := metav1.NewTime(time.Now().Truncate(time.Second).Add(5*time.Hour - 30*time.Second))
	sched.Status = kalamv1.KalamScheduledBackupStatus{LastBackupName: "st-b6", NextScheduleTime: &next}
	setStatus(t, sched)

	out, err := kalam(t, "", "status", "st")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Cluster default/st", "Phase:", "Ready", "True (Available) 1/1 pods ready", "0.9.1", "http://st.default.svc:8080", "1/1 ready", "10Gi (default class)",
		"st-0", "node-a", "10.1.2.3", "Running",
		"st-rooms", "app.st_rooms", "SHARED", "pending abc123",
		"destructive: drop column body", "ALTER TABLE app.st_msgs DROP COLUMN body", "kubectl kalam approve st-msgs -n default --hash abc123",
		"object store unreachable", "(2 older)", "1m30s", "3.0 MiB", "st-nightly", "0 0 3 * * *", "in 4h59m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"other-0", "other-b"} {
		if strings.Contains(out, not) {
			t.Errorf("status shows another cluster's %s:\n%s", not, out)
		}
	}
	if _, err := kalam(t, "", "status", "missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("status of a missing cluster: %v", err)
	}
	if _, err := kalam(t, "", "status"); err == nil || !strings.Contains(err.Error(), "expected one KalamCluster name") {
		t.Errorf("status without a name: %v", err)
	}
}

// TestApprove: approval writes the plan's hash into the annotation the
// KalamTable controller acts on, and only for the plan the user reviewed.
func TestApprove(t *testing.T) {
	mustCreate(t, newCluster("ap"))
	tab := newTable("ap-msgs", "ap")
	mustCreate(t, tab)
	if _, err := kalam(t, "", "approve", "ap-msgs"); err == nil || !strings.Contains(err.Error(), "no pending plan") {
		t.Fatalf("approve without a plan: %v", err)
	}
	tab.Status.PendingPlan = &kalamv1.SchemaPlan{Hash: "h1", Statements: []string{"ALTER TABLE app.ap_msgs DROP COLUMN body"}, Destructive: []string{"drop column body"}}
	setStatus(t, tab)
	if _, err := kalam(t, "", "approve", "ap-msgs", "--hash", "old"); err == nil || !strings.Contains(err.Error(), "it changed since you reviewed it") {
		t.Fatalf("approve of a stale hash: %v", err)
	}
	if err := k8s.Get(tctx(t), client.ObjectKeyFromObject(tab), tab); err != nil || tab.Annotations[kalamv1.AnnotationApprovePlan] != "" {
		t.Fatalf("a refused approval wrote the annotation: %v %v", tab.Annotations, err)
	}
	out, err := kalam(t, "", "approve", "-n", "default", "ap-msgs", "--hash", "h1")
	if err != nil || !strings.Contains(out, "plan h1 approved") || !strings.Contains(out, "DROP COLUMN body") {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	if err := k8s.Get(tctx(t), client.ObjectKeyFromObject(tab), tab); err != nil || tab.Annotations[kalamv1.AnnotationApprovePlan] != "h1" {
		t.Fatalf("annotation after approval: %v %v", tab.Annotations, err)
	}
	tab.Status.PendingPlan = &kalamv1.SchemaPlan{Hash: "h2", Statements: []string{}, Unsupported: []string{"primary key change"}}
	setStatus(t, tab)
	if _, err := kalam(t, "", "approve", "ap-msgs"); err == nil || !strings.Contains(err.Error(), "primary key change") {
		t.Fatalf("approve of an unsupported plan: %v", err)
	}
}

// TestBackupAndRestore: `backup` creates a KalamBackup the operator runs
// and --wait reports its outcome; `restore` creates a new cluster with the
// source's spec bootstrapped from a completed backup, and refuses any other.
func TestBackupAndRestore(t *testing.T) {
	mustCreate(t, newCluster("bk"))
	out, err := kalam(t, "", "backup", "bk", "--name", "bk-manual", "--scope", "Namespace", "--kalam-namespace", "app")
	if err != nil || !strings.Contains(out, "kalambackup.kalamdb.io/bk-manual created") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	var b kalamv1.KalamBackup
	if err := k8s.Get(tctx(t), client.ObjectKey{Namespace: "default", Name: "bk-manual"}, &b); err != nil {
		t.Fatal(err)
	}
	if b.Spec.Cluster.Name != "bk" || b.Spec.Scope != kalamv1.ScopeNamespace || b.Spec.Namespace != "app" || b.Labels[kalamv1.LabelCluster] != "bk" {
		t.Fatalf("backup spec %+v labels %v", b.Spec, b.Labels)
	}
	if _, err := kalam(t, "", "backup", "bk", "--scope", "Namespace"); err == nil || !strings.Contains(err.Error(), "namespace is required") {
		t.Fatalf("a backup the API refuses: %v", err)
	}
	if _, err := kalam(t, "", "backup", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("backup of a missing cluster: %v", err)
	}

	// --wait follows the phase the operator writes.
	complete := func(name string, phase kalamv1.BackupPhase, msg string) {
		eventuallyGet(t, name, func(b *kalamv1.KalamBackup) {
			b.Status = kalamv1.KalamBackupStatus{Phase: phase, BackupID: "BK-" + name, Target: "s3://objstore/backups/bk", Error: msg}
			setStatus(t, b)
		})
	}
	go complete("bk-waited", kalamv1.BackupCompleted, "")
	out, err = kalam(t, "", "backup", "bk", "--name", "bk-waited", "--wait", "30s")
	if err != nil || !strings.Contains(out, "backup bk-waited completed: id BK-bk-waited") {
		t.Fatalf("backup --wait: %v\n%s", err, out)
	}
	go complete("bk-failed", kalamv1.BackupFailed, "bucket gone")
	if _, err = kalam(t, "", "backup", "bk", "--name", "bk-failed", "--wait", "30s"); err == nil || !strings.Contains(err.Error(), "bucket gone") {
		t.Fatalf("backup --wait of a failing backup: %v", err)
	}

	if _, err := kalam(t, "", "restore", "bk", "--backup", "bk-manual", "--to", "bk-restored"); err == nil || !strings.Contains(err.Error(), "not Completed") {
		t.Fatalf("restore of a pending backup: %v", err)
	}
	if _, err := kalam(t, "", "restore", "bk", "--backup", "bk-waited"); err == nil || !strings.Contains(err.Error(), "--backup and --to") {
		t.Fatalf("restore without --to: %v", err)
	}
	out, err = kalam(t, "", "restore", "bk", "--backup", "bk-waited", "--to", "bk-restored")
	if err != nil || !strings.Contains(out, "kalamcluster.kalamdb.io/bk-restored created from backup bk-waited") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	var kc kalamv1.KalamCluster
	if err := k8s.Get(tctx(t), client.ObjectKey{Namespace: "default", Name: "bk-restored"}, &kc); err != nil {
		t.Fatal(err)
	}
	if kc.Spec.Bootstrap == nil || kc.Spec.Bootstrap.FromBackup.BackupName != "bk-waited" || kc.Spec.Image != "kalamdb:test" ||
		kc.Spec.Scheduling.NodeSelector["pool"] != "db" || kc.Spec.ObjectStore == nil || kc.Spec.Resources.Requests.Memory().String() != "1Gi" {
		t.Fatalf("restored cluster spec %+v", kc.Spec)
	}
}

func eventuallyGet(t *testing.T, name string, then func(*kalamv1.KalamBackup)) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var b kalamv1.KalamBackup
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "default", Name: name}, &b); err == nil {
			then(&b)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("KalamBackup %s never appeared", name)
}

// TestSQL: `sql` logs in as root with the password of the cluster's
// credentials Secret and prints each statement's result.
func TestSQL(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 0
	cfg.Storage.DataPath = t.TempDir()
	cfg.Storage.BlockCacheSizeMB, cfg.Storage.MemtableSizeMB = 8, 8
	cfg.Auth.RootPassword = "plugin-root-password"
	cfg.Auth.BcryptCost = 4
	n, err := node.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	endpoint := "http://" + n.Addr()

	mustCreate(t, newCluster("sq"))
	if _, err := kalam(t, "", "sql", "sq", "--endpoint", endpoint, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "sq-credentials") {
		t.Fatalf("sql without the credentials Secret: %v", err)
	}
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "sq-credentials"},
		StringData: map[string]string{"root-password": "plugin-root-password", "jwt-secret": "x"}})
	out, err := kalam(t, "", "sql", "sq", "--endpoint", endpoint,
		"CREATE NAMESPACE plug; CREATE SHARED TABLE plug.notes (id BIGINT PRIMARY KEY, body TEXT); INSERT INTO plug.notes (id, body) VALUES (1, 'hello'), (2, NULL)")
	if err != nil {
		t.Fatalf("sql: %v\n%s", err, out)
	}
	out, err = kalam(t, "SELECT id, body FROM notes ORDER BY id", "sql", "sq", "--endpoint", endpoint, "--kalam-namespace", "plug")
	if err != nil {
		t.Fatalf("sql from stdin: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || strings.Fields(lines[0])[0] != "id" || strings.Join(strings.Fields(lines[1]), " ") != "1 hello" ||
		strings.Join(strings.Fields(lines[2]), " ") != "2 NULL" || lines[3] != "(2 rows)" {
		t.Fatalf("select output:\n%s", out)
	}
	if _, err := kalam(t, "", "sql", "sq", "--endpoint", endpoint, "SELECT * FROM plug.missing"); err == nil || !strings.Contains(err.Error(), "kalamdb:") {
		t.Fatalf("a failing statement: %v", err)
	}
	// Without --endpoint the plugin port-forwards to a ready pod; with none
	// it says so.
	if _, err := kalam(t, "", "sql", "sq", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "no ready pod") {
		t.Fatalf("sql without a ready pod: %v", err)
	}
}

// TestUsage: mistakes on the command line are usage errors.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"status", "a", "b"}, {"approve"}, {"status", "--bogus"}} {
		if _, err := kalam(t, "", args...); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%v: %v", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "kubectl kalam approve") {
		t.Errorf("help: %v %s", err, out.String())
	}
}
