package controllers

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

func builderCluster() *kalamv1.KalamCluster {
	return &kalamv1.KalamCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "prod", Namespace: "db"},
		Spec: kalamv1.KalamClusterSpec{
			Image: "kalamdb:1.0", Replicas: 1, Storage: kalamv1.StorageSpec{Size: resourceMust("10Gi"), StorageClassName: ptr.To("fast")},
			ObjectStore: &kalamv1.ObjectStoreSpec{Endpoint: "minio.db:9000", Bucket: "kalam", Prefix: "prod", PathStyle: true,
				Credentials: &kalamv1.S3Credentials{
					AccessKeyID:     corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s3"}, Key: "id"},
					SecretAccessKey: corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s3"}, Key: "secret"}},
				CA: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "ca"}, Key: "ca.crt"}},
			PodAnnotations: map[string]string{"prometheus.io/scrape": "true"},
		},
	}
}

func TestBuildStatefulSet(t *testing.T) {
	kc := builderCluster()
	sts := buildStatefulSet(kc, "abc", &restoreSource{Target: "s3://objstore/backups/old", BackupID: "BK1"})
	pod := sts.Spec.Template.Spec
	c := pod.Containers[0]
	wantCmd := []string{"/kalamdb", "server", "--config", "/etc/kalamdb/server.toml", "--restore-from", "s3://objstore/backups/old", "--restore-backup-id", "BK1"}
	if !slices.Equal(c.Command, wantCmd) {
		t.Errorf("command %v", c.Command)
	}
	if rs := restoreFromArgs(pod.Containers); rs == nil || rs.Target != "s3://objstore/backups/old" || rs.BackupID != "BK1" {
		t.Errorf("restoreFromArgs %+v", rs)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e := env["KALAMDB_SERVER_HOST"]; e.ValueFrom == nil || e.ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("server host env %+v", e)
	}
	if e := env["KALAMDB_ROOT_PASSWORD"]; e.ValueFrom.SecretKeyRef.Name != "prod-credentials" || e.ValueFrom.SecretKeyRef.Key != "root-password" {
		t.Errorf("root password env %+v", e)
	}
	if e := env["KALAMDB_JWT_SECRET"]; e.ValueFrom.SecretKeyRef.Key != "jwt-secret" {
		t.Errorf("jwt env %+v", e)
	}
	if e := env[envS3AccessKey]; e.ValueFrom.SecretKeyRef.Name != "s3" || e.ValueFrom.SecretKeyRef.Key != "id" {
		t.Errorf("s3 env %+v", e)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if mounts["config"] != "/etc/kalamdb" || mounts["data"] != "/var/lib/kalamdb" || mounts["objstore-ca"] != caDir || mounts["tmp"] != "/tmp" {
		t.Errorf("mounts %v", mounts)
	}
	sc := c.SecurityContext
	if !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context %+v", sc)
	}
	if psc := pod.SecurityContext; *psc.RunAsUser != runAsUser || *psc.FSGroup != runAsUser || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", psc)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.StartupProbe.FailureThreshold*c.StartupProbe.PeriodSeconds < 3600 ||
		c.ReadinessProbe.HTTPGet.Port.StrVal != "http" || c.Ports[0].ContainerPort != 8080 || c.Ports[0].Name != "http" {
		t.Errorf("probes/ports %+v %+v %+v %+v", c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Ports)
	}
	vct := sts.Spec.VolumeClaimTemplates[0]
	if q := vct.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "10Gi" || *vct.Spec.StorageClassName != "fast" || vct.Name != "data" {
		t.Errorf("claim template %+v", vct)
	}
	ann := sts.Spec.Template.Annotations
	if ann[annConfigHash] != "abc" || ann["prometheus.io/scrape"] != "true" {
		t.Errorf("pod annotations %v", ann)
	}
	if sts.Spec.ServiceName != "prod-headless" || *sts.Spec.Replicas != 1 || sts.Spec.Selector.MatchLabels[kalamv1.LabelCluster] != "prod" {
		t.Errorf("statefulset spec %+v", sts.Spec)
	}
	for k, v := range sts.Spec.Selector.MatchLabels {
		if sts.Spec.Template.Labels[k] != v {
			t.Errorf("template labels do not match the selector on %s", k)
		}
	}
	if got := buildStatefulSet(kc, "abc", nil).Spec.Template.Spec.Containers[0].Command; len(got) != 4 {
		t.Errorf("command without restore %v", got)
	}
}

func TestBuildServicesAndPDB(t *testing.T) {
	kc := builderCluster()
	kc.Spec.Service = kalamv1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Annotations: map[string]string{"a": "b"}}
	h, c, p := buildHeadlessService(kc), buildClientService(kc), buildPDB(kc)
	if h.Name != "prod-headless" || h.Spec.ClusterIP != "None" || !h.Spec.PublishNotReadyAddresses {
		t.Errorf("headless %+v", h)
	}
	if c.Name != "prod" || c.Spec.Type != corev1.ServiceTypeLoadBalancer || c.Annotations["a"] != "b" || c.Spec.Ports[0].TargetPort.StrVal != "http" {
		t.Errorf("client %+v", c)
	}
	if p.Spec.MaxUnavailable.IntVal != 1 || p.Spec.Selector.MatchLabels[kalamv1.LabelCluster] != "prod" {
		t.Errorf("pdb %+v", p.Spec)
	}
	if clusterEndpoint(kc) != "http://prod.db.svc:8080" {
		t.Errorf("endpoint %s", clusterEndpoint(kc))
	}
	// mergeService keeps allocated node ports and the cluster IP.
	existing := c.DeepCopy()
	existing.Spec.ClusterIP, existing.Spec.Ports[0].NodePort = "10.0.0.9", 31000
	mergeService(existing, buildClientService(kc))
	if existing.Spec.ClusterIP != "10.0.0.9" || existing.Spec.Ports[0].NodePort != 31000 {
		t.Errorf("merge lost allocations: %+v", existing.Spec)
	}
}

func TestBuildCredentialsSecret(t *testing.T) {
	pw, jwt, err := generateCredentials()
	if err != nil || len(pw) < 30 || len(jwt) != 64 {
		t.Fatalf("credentials %q %q %v", pw, jwt, err)
	}
	pw2, _, _ := generateCredentials()
	if pw == pw2 {
		t.Fatal("two generated passwords are equal")
	}
	s := buildCredentialsSecret(builderCluster(), pw, jwt)
	if s.Name != "prod-credentials" || string(s.Data["root-password"]) != pw || string(s.Data["jwt-secret"]) != jwt {
		t.Fatalf("secret %+v", s)
	}
}

// TestRenderConfig: the rendered server.toml loads through the data
// plane's own config loader, C1 storage included.
func TestRenderConfig(t *testing.T) {
	kc := builderCluster()
	kc.Spec.Config = jsonMust(`{"limits": {"max_query_limit": 5000}, "logging": {"format": "json"}, "security": {"trusted_proxy_ranges": ["10.0.0.0/8"]}}`)
	out, err := renderConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadWithEnv(p, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cfg.Limits.MaxQueryLimit != 5000 || cfg.Logging.Format != "json" || cfg.Storage.DataPath != dataDir || cfg.Server.Port != 8080 ||
		len(cfg.Security.TrustedProxyRanges) != 1 {
		t.Fatalf("loaded config %+v", cfg)
	}
	if len(cfg.Storages) != 1 {
		t.Fatalf("storages %+v", cfg.Storages)
	}
	st := cfg.Storages[0]
	if st.ID != "objstore" || st.Type != "s3" || st.Bucket != "kalam" || st.BaseDirectory != "prod" || st.Endpoint != "minio.db:9000" ||
		!st.PathStyle || !st.TLS || st.Region != "us-east-1" || st.CABundleFile != caDir+"/ca.crt" || st.AccessKeyIDEnv != envS3AccessKey || st.SecretAccessKeyEnv != envS3SecretKey {
		t.Fatalf("storage %+v", st)
	}
	again, _ := renderConfig(kc)
	if again != out {
		t.Fatal("rendering is not deterministic")
	}
}

func TestRenderConfigRefuses(t *testing.T) {
	for in, want := range map[string]string{
		`{"server": {"port": 1}}`:                 "server.port",
		`{"storage": {"data_path": "/x"}}`:        "storage.data_path",
		`{"auth": {"root_password": "x"}}`:        "auth.root_password",
		`{"storages": []}`:                        "storages",
		`{"limits": {"max_query_limt": 10}}`:      "max_query_limt",
		`{"limits": {"max_query_limit": "many"}}`: "refused",
		`[1, 2]`: "not an object",
	} {
		kc := builderCluster()
		kc.Spec.Config = jsonMust(in)
		_, err := renderConfig(kc)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

// TestRenderConfigNeedsNoFilesystem: the shipped operator runs with a
// read-only root filesystem and no writable volume, so rendering and
// validating server.toml must not write anywhere (an unusable TMPDIR stands
// in for it), and files named by the config exist only in the data-plane
// pod, never in the operator's.
func TestRenderConfigNeedsNoFilesystem(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing", "tmp"))
	kc := builderCluster()
	kc.Spec.Config = jsonMust(`{"limits": {"max_query_limit": 5000}}`)
	kc.Spec.TLS = &kalamv1.TLSSpec{Generate: true}
	out, err := renderConfig(kc)
	if err != nil {
		t.Fatalf("renderConfig: %v", err)
	}
	if !strings.Contains(out, `cert_file = "/etc/kalamdb-tls/tls.crt"`) {
		t.Fatalf("server.toml:\n%s", out)
	}
}
