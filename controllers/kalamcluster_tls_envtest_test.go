package controllers

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// podTLS plays the kubelet for the TLS volume of sts: it writes the
// Secret's files under dir and points server.toml at them. It returns the
// config to load and, with TLS, an HTTP client trusting the Secret's
// ca.crt for the test's own root session.
func podTLS(t *testing.T, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet, dir, toml string) (string, *http.Client) {
	t.Helper()
	if syncTLSVolume(t, kc, sts, dir) == nil {
		return toml, nil
	}
	toml = strings.ReplaceAll(toml, tlsDir+"/", filepath.Join(dir, tlsVolume)+"/")
	var sec corev1.Secret
	if err := k8s.Get(tctx(t), types.NamespacedName{Namespace: kc.Namespace, Name: tlsSecretName(kc)}, &sec); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(sec.Data[keyCACert]) {
		t.Fatalf("secret %s has no ca.crt", sec.Name)
	}
	return toml, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: tlsServerName(kc)}}}
}

// syncTLSVolume writes the items of the pod's TLS Secret volume into
// dir/tls, each file replaced by a rename as a Secret volume update does.
// It returns nil when the pod has no TLS volume.
func syncTLSVolume(t *testing.T, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet, dir string) *corev1.SecretVolumeSource {
	t.Helper()
	var src *corev1.SecretVolumeSource
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name == tlsVolume {
			src = v.Secret
		}
	}
	if src == nil {
		return nil
	}
	var sec corev1.Secret
	eventually(t, 30*time.Second, "TLS secret "+src.SecretName, func() (bool, string) {
		err := k8s.Get(tctx(t), types.NamespacedName{Namespace: kc.Namespace, Name: src.SecretName}, &sec)
		return err == nil, fmt.Sprint(err)
	})
	vol := filepath.Join(dir, tlsVolume)
	if err := os.MkdirAll(vol, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, it := range src.Items {
		p := filepath.Join(vol, it.Path)
		if err := os.WriteFile(p+".tmp", sec.Data[it.Key], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// servedCert returns the certificate the data plane presents to a new
// connection that trusts pool and expects serverName.
func servedCert(t *testing.T, dp *dataPlane, pool *x509.CertPool, serverName string) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", dp.node.Addr(), &tls.Config{RootCAs: pool, ServerName: serverName})
	if err != nil {
		t.Fatalf("TLS handshake with the data plane: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// TestClusterTLSGenerated: spec.tls.generate makes the operator create a
// CA Secret and a kubernetes.io/tls server Secret for the Service names;
// the pod mounts it read-only, probes over HTTPS and serves TLS only; the
// operator's own client verifies the CA (the cluster turns Ready through
// it) and the endpoint is https. Deleting the server Secret makes the
// operator issue a new certificate from the same CA, which the running
// server picks up without a restart while the cluster stays Ready.
func TestClusterTLSGenerated(t *testing.T) {
	kc := newCluster("tlsgen")
	kc.Spec.TLS = &kalamv1.TLSSpec{Generate: true, DNSNames: []string{"kalam.example.com"}}
	create(t, kc)

	caSec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name + "-ca"}}
	srvSec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name + "-tls"}}
	eventually(t, 30*time.Second, "CA and server secrets", func() (bool, string) { return get(t, caSec) && get(t, srvSec), "" })
	for _, s := range []*corev1.Secret{caSec, srvSec} {
		if refs := s.OwnerReferences; len(refs) != 1 || refs[0].Name != kc.Name || s.Labels[LabelManagedBy] != managedByValue {
			t.Errorf("secret %s: owners %+v labels %v", s.Name, refs, s.Labels)
		}
	}
	if srvSec.Type != corev1.SecretTypeTLS || string(srvSec.Data[keyCACert]) != string(caSec.Data[keyCACert]) {
		t.Fatalf("server secret: type %s, ca.crt equal to the CA's: %v", srvSec.Type, string(srvSec.Data[keyCACert]) == string(caSec.Data[keyCACert]))
	}
	cond := waitCondition(t, kc, kalamv1.ConditionTLSReady, metav1.ConditionTrue, kalamv1.ReasonCertificateValid)
	if !strings.Contains(cond.Message, srvSec.Name) || !strings.Contains(cond.Message, "expires at") {
		t.Errorf("TLSReady message: %s", cond.Message)
	}

	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name + "-config"}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name}}
	eventually(t, 30*time.Second, "statefulset, configmap, service", func() (bool, string) { return get(t, sts) && get(t, cm) && get(t, svc), "" })
	c := sts.Spec.Template.Spec.Containers[0]
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("probe %s scheme %q", p.HTTPGet.Path, p.HTTPGet.Scheme)
		}
	}
	if !strings.Contains(cm.Data[configFile], `cert_file = "/etc/kalamdb-tls/tls.crt"`) {
		t.Errorf("server.toml has no certificate:\n%s", cm.Data[configFile])
	}
	if p := svc.Spec.Ports[0]; p.AppProtocol == nil || *p.AppProtocol != "https" {
		t.Errorf("service port %+v", p)
	}

	dp := runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
	if want := "https://" + kc.Name + ".default.svc:8080"; kc.Status.Endpoint != want {
		t.Errorf("endpoint %q, want %q", kc.Status.Endpoint, want)
	}
	// TLS is required: plain HTTP to the same listener is refused.
	plain := dpclient.New("http://" + dp.node.Addr())
	if _, err := plain.Login(tctx(t), "root", "whatever"); err == nil {
		t.Fatal("plain HTTP accepted by a TLS cluster")
	}
	code, body, err := plain.Do(tctx(t), http.MethodGet, "/healthz", nil, false)
	if err != nil || code != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
		t.Errorf("plain HTTP: %d %q %v, want 400 naming HTTPS", code, body, err)
	}

	caPool := x509.NewCertPool()
	caPool.AppendCertsFromPEM(caSec.Data[keyCACert])
	before := servedCert(t, dp, caPool, "kalam.example.com")
	// Rotation: a deleted server Secret is issued again from the same CA.
	if err := k8s.Delete(tctx(t), srvSec); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a new server certificate", func() (bool, string) {
		if !get(t, srvSec) {
			return false, "not re-created yet"
		}
		kp, err := pki.ParsePair(srvSec.Data[corev1.TLSCertKey], srvSec.Data[corev1.TLSPrivateKeyKey])
		return err == nil && kp.Cert.SerialNumber.Cmp(before.SerialNumber) != 0, fmt.Sprint(err)
	})
	syncTLSVolume(t, kc, sts, dp.dir)
	after := servedCert(t, dp, caPool, tlsServerName(kc))
	if after.SerialNumber.Cmp(before.SerialNumber) == 0 {
		t.Fatal("the server still presents the old certificate after the Secret volume changed")
	}
	if get(t, caSec); string(srvSec.Data[keyCACert]) != string(caSec.Data[keyCACert]) {
		t.Fatal("the CA changed on a server certificate renewal")
	}
	// The session opened before the rotation (same process, same
	// keep-alive connection) still works.
	mustSQLOn(t, dp.root, "SELECT 1")
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
}

func mustSQLOn(t *testing.T, c *dpclient.Client, sql string) {
	t.Helper()
	if _, err := c.SQL(tctx(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestClusterTLSUserSecret: spec.tls.secretName names a Secret the user
// (or cert-manager) provides. While it is missing the cluster says so in
// TLSReady=False/TLSSecretMissing and creates no StatefulSet (its pods
// could not mount it); a Secret whose key does not match its certificate
// is TLSSecretInvalid; a valid one (cert-manager's shape, with ca.crt)
// lets the cluster start and the operator connect verifying that CA.
func TestClusterTLSUserSecret(t *testing.T) {
	kc := newCluster("tlsuser")
	kc.Spec.TLS = &kalamv1.TLSSpec{SecretName: kc.Name + "-cert"}
	create(t, kc)
	cond := waitCondition(t, kc, kalamv1.ConditionTLSReady, metav1.ConditionFalse, kalamv1.ReasonTLSSecretMissing)
	if !strings.Contains(cond.Message, kc.Name+"-cert") {
		t.Errorf("TLSReady message: %s", cond.Message)
	}
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonTLSSecretMissing)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name}}
	if get(t, sts) {
		t.Fatal("a StatefulSet was created while its TLS Secret is missing")
	}

	now := time.Now()
	ca, err := pki.NewCA("user CA", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := ca.IssueServer("kalam", []string{kc.Name + ".default.svc"}, nil, now, 24*time.Hour)
	other, _ := ca.IssueServer("other", []string{"other"}, nil, now, 24*time.Hour)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name + "-cert"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: good.CertPEM, corev1.TLSPrivateKeyKey: other.KeyPEM, keyCACert: ca.CertPEM}}
	create(t, sec)
	waitCondition(t, kc, kalamv1.ConditionTLSReady, metav1.ConditionFalse, kalamv1.ReasonTLSSecretInvalid)
	waitCondition(t, kc, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonTLSSecretInvalid)

	update(t, sec, func() { sec.Data[corev1.TLSPrivateKeyKey] = good.KeyPEM })
	// A stalled cluster is retried every 2 minutes; touching it (as the
	// docs say) has the fixed Secret read at once.
	update(t, kc, func() { kc.Annotations = map[string]string{"example.com/touched": "1"} })
	// The certificate is valid for a day: usable, and reported as about to
	// expire (the operator cannot renew a user's certificate).
	cond = waitCondition(t, kc, kalamv1.ConditionTLSReady, metav1.ConditionTrue, kalamv1.ReasonCertificateExpiringSoon)
	if !strings.Contains(cond.Message, "renew") {
		t.Errorf("TLSReady message: %s", cond.Message)
	}
	eventually(t, 30*time.Second, "statefulset", func() (bool, string) { return get(t, sts), "" })
	if v := sts.Spec.Template.Spec.Volumes; v[len(v)-1].Secret == nil || v[len(v)-1].Secret.SecretName != sec.Name {
		t.Fatalf("the pod does not mount the user's secret: %+v", v)
	}
	runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonAvailable)
}
