package controllers

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/replication"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

func raftTLSCluster() *kalamv1.KalamCluster {
	kc := tlsCluster()
	kc.Spec.Replicas = 3
	kc.UID = "7a1f3c2e-9b4d-4e8a-a6c5-2d0e1f9b3c47"
	return kc
}

// TestBuildStatefulSetRaftTLS: a replicated cluster with spec.tls mounts
// the Raft peer Secret (CA, certificate, key) read-only and points
// cluster.tls at it through the env; without spec.tls, or with one
// replica, nothing of it appears.
func TestBuildStatefulSetRaftTLS(t *testing.T) {
	kc := raftTLSCluster()
	pod := buildStatefulSet(kc, "h", nil).Spec.Template.Spec
	i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == raftTLSVolume })
	if i < 0 || pod.Volumes[i].Secret == nil || pod.Volumes[i].Secret.SecretName != "prod-raft-tls" || len(pod.Volumes[i].Secret.Items) != 3 {
		t.Fatalf("raft tls volume %+v", pod.Volumes)
	}
	c := pod.Containers[0]
	j := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == raftTLSVolume })
	if j < 0 || !c.VolumeMounts[j].ReadOnly || c.VolumeMounts[j].MountPath != raftTLSDir {
		t.Fatalf("raft tls mount %+v", c.VolumeMounts)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for k, v := range map[string]string{
		"KALAMDB_CLUSTER_TLS_CA_FILE":   "/etc/kalamdb-raft-tls/ca.crt",
		"KALAMDB_CLUSTER_TLS_CERT_FILE": "/etc/kalamdb-raft-tls/tls.crt",
		"KALAMDB_CLUSTER_TLS_KEY_FILE":  "/etc/kalamdb-raft-tls/tls.key",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for name, off := range map[string]*kalamv1.KalamCluster{"no spec.tls": func() *kalamv1.KalamCluster {
		kc := raftTLSCluster()
		kc.Spec.TLS = nil
		return kc
	}(), "one replica": tlsCluster()} {
		pod := buildStatefulSet(off, "h", nil).Spec.Template.Spec
		if slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == raftTLSVolume }) ||
			slices.ContainsFunc(pod.Containers[0].Env, func(e corev1.EnvVar) bool { return strings.HasPrefix(e.Name, "KALAMDB_CLUSTER_TLS_") }) {
			t.Errorf("%s: Raft TLS wired: %+v", name, pod.Volumes)
		}
	}
	sts := buildStatefulSet(kc, "h", nil)
	annotateRaftCert(sts, "")
	if _, ok := sts.Spec.Template.Annotations[annRaftCert]; ok {
		t.Error("annotated without a certificate")
	}
	annotateRaftCert(sts, "abcd")
	if sts.Spec.Template.Annotations[annRaftCert] != "abcd" {
		t.Errorf("annotations %v", sts.Spec.Template.Annotations)
	}
}

// TestRaftTLSObjectsGolden pins the objects of a replicated cluster with
// spec.tls (KALAMDB_UPDATE_GOLDEN=1 rewrites the file).
func TestRaftTLSObjectsGolden(t *testing.T) {
	kc := raftTLSCluster()
	toml, err := renderConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "replicas3-tls-objects.json", "the objects of a replicated TLS cluster",
		map[string]any{"configMap": buildConfigMap(kc, toml), "statefulSet": buildStatefulSet(kc, hashOf(toml), nil)})
}

// writeRaftFiles writes a Raft peer Secret's files into a temporary
// directory, as the pod mounts them, and names them for the data plane.
func writeRaftFiles(t *testing.T, sec *corev1.Secret) replication.TLSFiles {
	t.Helper()
	dir := t.TempDir()
	files := replication.TLSFiles{CAFile: filepath.Join(dir, keyCACert), CertFile: filepath.Join(dir, corev1.TLSCertKey), KeyFile: filepath.Join(dir, corev1.TLSPrivateKeyKey)}
	for k, path := range map[string]string{keyCACert: files.CAFile, corev1.TLSCertKey: files.CertFile, corev1.TLSPrivateKeyKey: files.KeyFile} {
		if err := os.WriteFile(path, sec.Data[k], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestRaftPeerCertificate: the issued certificate passes the data plane's
// own start-up check (replication.TLSFiles.Check: chains to the CA, server
// and client auth, names the raft_address host) for every pod's Raft
// address, and is renewed when it nears expiry, lacks client auth (a
// server certificate), or comes from another CA.
func TestRaftPeerCertificate(t *testing.T) {
	kc := raftTLSCluster()
	now := time.Now()
	ca, err := pki.NewCA("raft ca", now, generatedCAValidity)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := issueRaftCert(kc, ca, now)
	if err != nil {
		t.Fatal(err)
	}
	sec := buildServerCertSecret(kc, kp, ca.CertPEM)
	files := writeRaftFiles(t, sec)
	for i := range replicatedReplicas {
		if err := files.Check(peerHost(kc, i) + ":9190"); err != nil {
			t.Errorf("pod %d: %v", i, err)
		}
	}
	if err := files.Check("prod-0.elsewhere.db.svc:9190"); err == nil || !strings.Contains(err.Error(), "does not name") {
		t.Errorf("foreign host: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	if _, err := kp.Cert.Verify(x509.VerifyOptions{DNSName: "prod-2.prod-headless.db.svc.cluster.local", Roots: pool, KeyUsages: raftUsages}); err != nil {
		t.Errorf("cluster.local name: %v", err)
	}
	if why := raftRenewalReason(kc, sec, ca, now.Add(200*24*time.Hour)); why != "" {
		t.Errorf("renewed a fresh certificate: %s", why)
	}
	if why := raftRenewalReason(kc, sec, ca, now.Add(300*24*time.Hour)); !strings.Contains(why, "expires") {
		t.Errorf("near expiry: %q", why)
	}
	other, _ := pki.NewCA("other", now, time.Hour)
	if why := raftRenewalReason(kc, sec, other, now); !strings.Contains(why, "not signed") {
		t.Errorf("another CA: %q", why)
	}
	server, _ := ca.IssueServer("x", raftDNSNames(kc), nil, now, time.Hour*24*365)
	if why := raftRenewalReason(kc, buildServerCertSecret(kc, server, ca.CertPEM), ca, now); !strings.Contains(why, "key usage") {
		t.Errorf("server-only certificate: %q", why)
	}
	if a, b := raftCertFingerprint(sec), raftCertFingerprint(buildServerCertSecret(kc, server, ca.CertPEM)); a == b || len(a) != 16 {
		t.Errorf("fingerprints %q %q", a, b)
	}
}

// TestRenderConfigRefusesClusterTLS: cluster.tls is the operator's.
func TestRenderConfigRefusesClusterTLS(t *testing.T) {
	kc := raftTLSCluster()
	kc.Spec.Config = jsonMust(`{"cluster": {"tls": {"ca_file": "/x"}}}`)
	if _, err := renderConfig(kc); err == nil || !strings.Contains(err.Error(), "cluster.tls") {
		t.Fatalf("got %v", err)
	}
}

// TestRaftTransportOutdated: after spec.tls is added to (or removed from)
// a replicated cluster, the pods still on the other Raft transport are the
// ones to restart together; pods already switched, pods being deleted,
// pods beyond replicas and a single node being scaled up are left alone.
func TestRaftTransportOutdated(t *testing.T) {
	plain, secure := raftTLSCluster(), raftTLSCluster()
	plain.Spec.TLS = nil
	pod := func(kc *kalamv1.KalamCluster, name string) corev1.Pod {
		tmpl := buildStatefulSet(kc, "h", nil).Spec.Template
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tmpl.Spec}
	}
	single := pod(tlsCluster(), "prod-0") // no [cluster] env yet
	deleting := pod(plain, "prod-2")
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	pods := []corev1.Pod{pod(plain, "prod-0"), pod(secure, "prod-1"), deleting, pod(plain, "prod-3"), pod(plain, "other-0")}
	names := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(raftTransportOutdated(secure, pods)); !slices.Equal(got, []string{"prod-0"}) {
		t.Errorf("to mutual TLS: %v", got)
	}
	if got := names(raftTransportOutdated(plain, pods)); !slices.Equal(got, []string{"prod-1"}) {
		t.Errorf("to plaintext: %v", got)
	}
	if got := raftTransportOutdated(secure, []corev1.Pod{single}); len(got) != 0 {
		t.Errorf("single node being scaled up: %v", names(got))
	}
	if got := raftTransportOutdated(secure, []corev1.Pod{pod(secure, "prod-0"), pod(secure, "prod-1"), pod(secure, "prod-2")}); len(got) != 0 {
		t.Errorf("nothing to switch: %v", names(got))
	}
}
