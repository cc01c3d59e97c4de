package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
)

// createS3Secret stores MinIO's credentials the way a user would.
func createS3Secret(t *testing.T, name string) {
	t.Helper()
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		StringData: map[string]string{"access-key": s3test.AccessKey, "secret-key": s3test.SecretKey}})
}

func objectStoreFor(srv *s3test.Server, secret, prefix string) *kalamv1.ObjectStoreSpec {
	sel := func(key string) corev1.SecretKeySelector {
		return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}
	}
	return &kalamv1.ObjectStoreSpec{Endpoint: srv.Endpoint, Bucket: "kalam", Prefix: prefix, Region: "us-east-1", PathStyle: true, Insecure: true,
		Credentials: &kalamv1.S3Credentials{AccessKeyID: sel("access-key"), SecretAccessKey: sel("secret-key")}}
}

func startMinIO(t *testing.T) *s3test.Server {
	t.Helper()
	srv, err := s3test.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if _, err := srv.Store(tctx(t), "kalam", ""); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestClusterProducesObjects: applying a KalamCluster produces the
// ConfigMap, Secret, Services, PDB and StatefulSet; once its pod serves,
// the cluster is Ready with a reachable object store; an image change rolls
// the pod template, and the generated credentials are never regenerated.
func TestClusterProducesObjects(t *testing.T) {
	srv := startMinIO(t)
	createS3Secret(t, "minio-creds-a")
	kc := newCluster("objs")
	kc.Spec.ObjectStore = objectStoreFor(srv, "minio-creds-a", "clusters/objs")
	kc.Spec.Service = kalamv1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Annotations: map[string]string{"example.com/lb": "internal"}}
	create(t, kc)

	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name + "-config"}}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name + "-credentials"}}
	headless := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name + "-headless"}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	eventually(t, 30*time.Second, "owned objects", func() (bool, string) {
		return get(t, sts) && get(t, cm) && get(t, sec) && get(t, headless) && get(t, svc) && get(t, pdb), ""
	})
	for _, o := range []metav1.Object{sts, cm, sec, headless, svc, pdb} {
		if refs := o.GetOwnerReferences(); len(refs) != 1 || refs[0].Name != kc.Name || refs[0].Controller == nil || !*refs[0].Controller {
			t.Errorf("%s: owner references %+v", o.GetName(), refs)
		}
	}
	if len(sec.Data[secretRootPassword]) < 20 || len(sec.Data[secretJWTSecret]) < 32 {
		t.Fatalf("generated credentials too short: %d/%d", len(sec.Data[secretRootPassword]), len(sec.Data[secretJWTSecret]))
	}
	toml := cm.Data[configFile]
	for _, want := range []string{`data_path = "/var/lib/kalamdb"`, "[[storages]]", `id = "objstore"`, `endpoint = "` + srv.Endpoint + `"`,
		`base_directory = "clusters/objs"`, "tls = false", `access_key_id_env = "KALAMDB_S3_ACCESS_KEY_ID"`, "bcrypt_cost = 4"} {
		if !strings.Contains(toml, want) {
			t.Errorf("server.toml lacks %q:\n%s", want, toml)
		}
	}
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("headless service: %+v", headless.Spec)
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Annotations["example.com/lb"] != "internal" || svc.Spec.Ports[0].Port != 8080 {
		t.Errorf("client service: type %s annotations %v ports %+v", svc.Spec.Type, svc.Annotations, svc.Spec.Ports)
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if c.Name != "kalamdb" || !slices.Equal(c.Command, []string{"/kalamdb", "server", "--config", "/etc/kalamdb/server.toml"}) {
		t.Errorf("container %s command %v", c.Name, c.Command)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("probes or security context: %+v %+v %+v", c.ReadinessProbe, c.LivenessProbe, c.SecurityContext)
	}
	if sts.Spec.ServiceName != headless.Name || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("statefulset: serviceName %s claims %+v", sts.Spec.ServiceName, sts.Spec.VolumeClaimTemplates)
	}
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonClusterNotReady)
	// The Replicas column reads .status.readyReplicas: 0 must be written,
	// or kubectl prints a blank.
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(kalamv1.GroupVersion.WithKind("KalamCluster"))
	raw.SetNamespace(kc.Namespace)
	raw.SetName(kc.Name)
	eventually(t, 30*time.Second, "status.readyReplicas written as 0", func() (bool, string) {
		get(t, raw)
		v, found, err := unstructured.NestedInt64(raw.Object, "status", "readyReplicas")
		return found && err == nil && v == 0, fmt.Sprintf("found %v: %v %v", found, v, err)
	})
	if kc.Status.Phase != kalamv1.ClusterProvisioning {
		t.Fatalf("before the first pod serves: phase %s", kc.Status.Phase)
	}

	runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	waitCondition(t, kc, kalamv1.ConditionObjectStoreReachable, metav1.ConditionTrue, kalamv1.ReasonReachable)
	if kc.Status.Phase != kalamv1.ClusterReady || kc.Status.ReadyReplicas != 1 || kc.Status.CurrentImage != "kalamdb:test" ||
		kc.Status.Endpoint != fmt.Sprintf("http://%s.default.svc:8080", kc.Name) || kc.Status.ObservedGeneration != kc.Generation ||
		kc.Status.ServerVersion == "" {
		t.Fatalf("status: %+v", kc.Status)
	}

	// An image change rolls the pod template; the cluster reports the
	// rollout until the StatefulSet says every pod is updated.
	rootPW := string(sec.Data[secretRootPassword])
	update(t, kc, func() {
		kc.Spec.Image = "kalamdb:v2"
	})
	eventually(t, 30*time.Second, "rolled pod template", func() (bool, string) {
		get(t, sts)
		img := sts.Spec.Template.Spec.Containers[0].Image
		return img == "kalamdb:v2", img
	})
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonRolloutInProgress)
	if kc.Status.Phase != kalamv1.ClusterUpdating || kc.Status.CurrentImage != "kalamdb:test" {
		t.Fatalf("during rollout: phase %s image %s", kc.Status.Phase, kc.Status.CurrentImage)
	}
	// The StatefulSet controller deletes the only pod to replace it: no
	// pod is ready, and the cluster is still Updating (not Pending or
	// Provisioning).
	get(t, sts)
	sts.Status.ReadyReplicas, sts.Status.AvailableReplicas, sts.Status.UpdatedReplicas = 0, 0, 0
	if err := k8s.Status().Update(tctx(t), sts); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonClusterNotReady)
	if kc.Status.Phase != kalamv1.ClusterUpdating {
		t.Fatalf("while the replaced pod is down: phase %s", kc.Status.Phase)
	}
	markStatefulSetReady(t, sts)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	if kc.Status.CurrentImage != "kalamdb:v2" {
		t.Fatalf("current image after rollout: %s", kc.Status.CurrentImage)
	}

	// A config change rolls too (through the config hash annotation).
	hash := sts.Spec.Template.Annotations[annConfigHash]
	update(t, kc, func() {
		kc.Spec.Config = jsonMust(`{"auth": {"bcrypt_cost": 4}, "storage": {"block_cache_size_mb": 8, "memtable_size_mb": 8}, "limits": {"max_query_limit": 5000}}`)
	})
	eventually(t, 30*time.Second, "config rollout", func() (bool, string) {
		get(t, sts)
		get(t, cm)
		return sts.Spec.Template.Annotations[annConfigHash] != hash && strings.Contains(cm.Data[configFile], "max_query_limit = 5000"), ""
	})
	markStatefulSetReady(t, sts)

	// An override of an operator-owned key is refused, visibly; the pod
	// keeps serving its last applied config, so the phase stays Ready.
	update(t, kc, func() {
		kc.Spec.Config = jsonMust(`{"server": {"port": 9000}}`)
	})
	cond := waitCondition(t, kc, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonInvalidSpec)
	if !strings.Contains(cond.Message, "server.port") || kc.Status.Phase != kalamv1.ClusterReady {
		t.Fatalf("invalid config while serving: phase %s, %s", kc.Status.Phase, cond.Message)
	}
	// So is a typo, which the data plane's own parser refuses.
	update(t, kc, func() {
		kc.Spec.Config = jsonMust(`{"limits": {"max_query_limt": 10}}`)
	})
	eventually(t, 30*time.Second, "typo refused", func() (bool, string) {
		get(t, kc)
		c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionStalled)
		return c != nil && strings.Contains(c.Message, "max_query_limt") && kc.Status.Phase == kalamv1.ClusterReady, fmt.Sprintf("%s %+v", kc.Status.Phase, c)
	})
	// Nothing of the refusal is the operator's own path or filesystem.
	if c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionStalled); strings.Contains(c.Message, "/tmp") || strings.Contains(c.Message, "file system") {
		t.Fatalf("refusal blames the operator's filesystem: %s", c.Message)
	}

	// The credentials are generated once: deleting one key refills only it.
	update(t, sec, func() {
		delete(sec.Data, secretJWTSecret)
	})
	eventually(t, 30*time.Second, "refilled jwt-secret", func() (bool, string) {
		get(t, sec)
		return len(sec.Data[secretJWTSecret]) > 0, ""
	})
	if string(sec.Data[secretRootPassword]) != rootPW {
		t.Fatal("root password was regenerated")
	}
}

// TestRestoreFailureReason: a cluster whose bootstrap restore keeps failing
// says why in its conditions, with the data plane's own words (the
// container's termination message), not only "0/1 pods ready".
func TestRestoreFailureReason(t *testing.T) {
	kc := newCluster("badrestore")
	kc.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{Path: "s3://objstore/backups/nothing-here"}}
	create(t, kc)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: kc.Name}}
	eventually(t, 30*time.Second, "statefulset", func() (bool, string) { return get(t, sts), "" })
	if c := sts.Spec.Template.Spec.Containers[0]; c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
		t.Fatalf("termination message policy %q", c.TerminationMessagePolicy)
	}
	const why = "bootstrap restore from s3://objstore/backups/nothing-here is incomplete (retried at the next start; marker kept): no completed backup at the target"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: podName(kc, 0), Labels: sts.Spec.Template.Labels},
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	// The StatefulSet controller adds a volume per claim template (envtest
	// runs none); without it the pod's data mount names no volume.
	for _, vct := range sts.Spec.VolumeClaimTemplates {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: vct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: vct.Name + "-" + pod.Name}}})
	}
	create(t, pod)
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: containerName, Image: kc.Spec.Image, RestartCount: 3,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "level=INFO msg=starting\n" + why}},
	}}}
	if err := k8s.Status().Update(tctx(t), pod); err != nil {
		t.Fatal(err)
	}
	// Nudge a reconcile (the pod is not watched; the resync would do it too).
	update(t, kc, func() { kc.Annotations = map[string]string{"test/nudge": "1"} })
	cond := waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonRestoreFailed)
	if !strings.Contains(cond.Message, why) || !strings.Contains(cond.Message, "exit code 1") {
		t.Fatalf("condition message: %s", cond.Message)
	}
}

// TestRootPasswordRotation: a new root password in the credentials Secret
// is applied on the server first (ALTER USER with the old credential), then
// used by the operator; when neither password works the rotation fails in a
// condition and the operator stops trying, so root is never locked out.
func TestRootPasswordRotation(t *testing.T) {
	kc := newCluster("rotate")
	kc.Spec.Config = jsonMust(`{"auth": {"bcrypt_cost": 4, "lockout_max_attempts": 3, "lockout_window_seconds": 600, "lockout_duration_seconds": 600}, "storage": {"block_cache_size_mb": 8, "memtable_size_mb": 8}}`)
	create(t, kc)
	dp := runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: credentialsSecretName(kc)}}
	get(t, sec)
	if string(sec.Data[secretRootPasswordApplied]) != string(sec.Data[secretRootPassword]) {
		t.Fatal("the generated secret does not record the applied root password")
	}
	login := func(pw string) error {
		_, err := dpclient.New("http://"+dp.node.Addr()).Login(tctx(t), "root", pw)
		return err
	}

	update(t, sec, func() { sec.Data[secretRootPassword] = []byte("rotated-password-1") })
	eventually(t, 60*time.Second, "rotation applied", func() (bool, string) {
		get(t, sec)
		return string(sec.Data[secretRootPasswordApplied]) == "rotated-password-1", string(sec.Data[secretRootPasswordApplied])
	})
	if err := login("rotated-password-1"); err != nil {
		t.Fatalf("the server does not take the rotated password: %v", err)
	}
	// The operator keeps working with it (a table change needs a session).
	update(t, kc, func() { kc.Annotations = map[string]string{"test/nudge": "rotated"} })
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)

	// Out of band, root gets a password the Secret does not know; then the
	// Secret changes again. Neither the applied nor the new one works: the
	// rotation fails visibly and stops, and root is not locked out.
	root := dpclient.New("http://" + dp.node.Addr())
	if _, err := root.Login(tctx(t), "root", "rotated-password-1"); err != nil {
		t.Fatal(err)
	}
	mustSQL(t, root, "ALTER USER root SET PASSWORD 'out-of-band-pw'")
	update(t, sec, func() { sec.Data[secretRootPassword] = []byte("rotated-password-2") })
	eventually(t, 60*time.Second, "rotation failure reported", func() (bool, string) {
		get(t, kc)
		for _, c := range kc.Status.Conditions {
			if c.Type == kalamv1.ConditionReady && c.Reason == ReasonRootPasswordRotationFailed {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", kc.Status.Conditions)
	})
	time.Sleep(8 * time.Second) // several resyncs (2 s in tests)
	if err := login("out-of-band-pw"); err != nil {
		t.Fatalf("root locked out after a failed rotation: %v", err)
	}
}
