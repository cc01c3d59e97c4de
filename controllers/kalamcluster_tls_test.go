package controllers

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

func tlsCluster() *kalamv1.KalamCluster {
	kc := builderCluster()
	kc.Spec.TLS = &kalamv1.TLSSpec{Generate: true, DNSNames: []string{"db.example.com"}}
	return kc
}

// TestBuildStatefulSetTLS: the pod mounts the serving Secret read-only (no
// subPath, so rotation reaches it), probes over HTTPS, server.toml points
// at the mounted files, the Services announce https and the endpoint is
// https. Without spec.tls nothing of it appears.
func TestBuildStatefulSetTLS(t *testing.T) {
	kc := tlsCluster()
	tmpl := buildStatefulSet(kc, "h", nil).Spec.Template
	pod := tmpl.Spec
	if tmpl.Labels[labelTLS] != "true" {
		t.Errorf("pod labels %v", tmpl.Labels)
	}
	var vol *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == tlsVolume {
			vol = &pod.Volumes[i]
		}
	}
	if vol == nil || vol.Secret == nil || vol.Secret.SecretName != "prod-tls" || len(vol.Secret.Items) != 2 {
		t.Fatalf("tls volume %+v", vol)
	}
	c := pod.Containers[0]
	i := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == tlsVolume })
	if i < 0 || !c.VolumeMounts[i].ReadOnly || c.VolumeMounts[i].MountPath != tlsDir || c.VolumeMounts[i].SubPath != "" {
		t.Fatalf("tls mount %+v", c.VolumeMounts)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("probe %s: scheme %q", p.HTTPGet.Path, p.HTTPGet.Scheme)
		}
	}
	toml, err := renderConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`cert_file = "/etc/kalamdb-tls/tls.crt"`, `key_file = "/etc/kalamdb-tls/tls.key"`} {
		if !strings.Contains(toml, want) {
			t.Errorf("server.toml lacks %s:\n%s", want, toml)
		}
	}
	for _, svc := range []*corev1.Service{buildClientService(kc), buildHeadlessService(kc)} {
		if p := svc.Spec.Ports[0]; p.AppProtocol == nil || *p.AppProtocol != "https" {
			t.Errorf("%s port %+v", svc.Name, p)
		}
	}
	if got := clusterEndpoint(kc); got != "https://prod.db.svc:8080" {
		t.Errorf("endpoint %s", got)
	}
	kc.Spec.TLS.Generate, kc.Spec.TLS.SecretName = false, "from-cert-manager"
	if got := tlsSecretName(kc); got != "from-cert-manager" {
		t.Errorf("user secret name %s", got)
	}

	plain := builderCluster()
	pp := buildStatefulSet(plain, "h", nil).Spec.Template.Spec
	if slices.ContainsFunc(pp.Volumes, func(v corev1.Volume) bool { return v.Name == tlsVolume }) || pp.Containers[0].ReadinessProbe.HTTPGet.Scheme == corev1.URISchemeHTTPS {
		t.Error("TLS volume or HTTPS probe without spec.tls")
	}
	if toml, _ := renderConfig(plain); strings.Contains(toml, "cert_file") {
		t.Errorf("certificate configured without spec.tls:\n%s", toml)
	}
	if buildClientService(plain).Spec.Ports[0].AppProtocol != nil || !strings.HasPrefix(clusterEndpoint(plain), "http://") {
		t.Error("plain cluster announces https")
	}
}

// TestRenderConfigRefusesSecurityTLS: a certificate configured through
// spec.config would be neither mounted nor used by the probes and the
// operator; the error points at spec.tls.
func TestRenderConfigRefusesSecurityTLS(t *testing.T) {
	kc := builderCluster()
	kc.Spec.Config = jsonMust(`{"security": {"tls": {"cert_file": "/x/tls.crt", "key_file": "/x/tls.key"}}}`)
	_, err := renderConfig(kc)
	if err == nil || !strings.Contains(err.Error(), "use spec.tls") {
		t.Fatalf("err = %v", err)
	}
}

// TestGeneratedServerCertificate: the certificate the operator issues
// verifies against its CA for the client Service, every pod of the
// headless Service and spec.tls.dnsNames; renewalReason keeps it while
// fresh and renews it when it nears expiry, when another CA signed it,
// when a name was added, or when it does not parse.
func TestGeneratedServerCertificate(t *testing.T) {
	kc := tlsCluster()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := pki.NewCA("ca", now, generatedCAValidity)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := issueServerCert(kc, ca, now)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, name := range []string{"prod", "prod.db.svc", "prod.db.svc.cluster.local", "prod-0.prod-headless.db.svc", "prod-0.prod-headless.db.svc.cluster.local", "db.example.com"} {
		if _, err := kp.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	sec := buildServerCertSecret(kc, kp, ca.CertPEM)
	if sec.Type != corev1.SecretTypeTLS || sec.Name != "prod-tls" {
		t.Fatalf("secret %s type %s", sec.Name, sec.Type)
	}
	if why := renewalReason(kc, sec, ca, now.Add(200*24*time.Hour)); why != "" {
		t.Errorf("renewed a fresh certificate: %s", why)
	}
	if why := renewalReason(kc, sec, ca, now.Add(300*24*time.Hour)); !strings.Contains(why, "expires") {
		t.Errorf("near expiry: %q", why)
	}
	other, _ := pki.NewCA("other", now, time.Hour)
	if why := renewalReason(kc, sec, other, now); !strings.Contains(why, "not signed") {
		t.Errorf("another CA: %q", why)
	}
	kc.Spec.TLS.DNSNames = append(kc.Spec.TLS.DNSNames, "new.example.com")
	if why := renewalReason(kc, sec, ca, now); !strings.Contains(why, "new.example.com") {
		t.Errorf("added name: %q", why)
	}
	broken := sec.DeepCopy()
	broken.Data[corev1.TLSPrivateKeyKey] = []byte("junk")
	if why := renewalReason(kc, broken, ca, now); !strings.Contains(why, "does not parse") {
		t.Errorf("broken: %q", why)
	}
}

// TestCheckServingSecret refuses each way a user's Secret can be unusable,
// with a message naming the Secret, and accepts cert-manager's shape.
func TestCheckServingSecret(t *testing.T) {
	now := time.Now()
	ca, _ := pki.NewCA("ca", now, 24*time.Hour)
	a, _ := ca.IssueServer("a", []string{"a"}, nil, now, time.Hour)
	b, _ := ca.IssueServer("b", []string{"b"}, nil, now, time.Hour)
	other, _ := pki.NewCA("other", now, time.Hour)
	secret := func(crt, key, caPEM []byte) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "web-tls"}, Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}
		if caPEM != nil {
			s.Data[keyCACert] = caPEM
		}
		return s
	}
	for name, c := range map[string]struct {
		sec  *corev1.Secret
		now  time.Time
		want string
	}{
		"no key":         {secret(a.CertPEM, nil, nil), now, "has no tls.crt and tls.key"},
		"mismatched key": {secret(a.CertPEM, b.KeyPEM, nil), now, "not a usable pair"},
		"expired":        {secret(a.CertPEM, a.KeyPEM, nil), now.Add(2 * time.Hour), "expired"},
		"foreign ca.crt": {secret(a.CertPEM, a.KeyPEM, other.CertPEM), now, "not verified by its ca.crt"},
		"junk ca.crt":    {secret(a.CertPEM, a.KeyPEM, []byte("junk")), now, "ca.crt"},
	} {
		_, err := checkServingSecret(c.sec, c.now)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "web-tls") {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if _, err := checkServingSecret(secret(a.CertPEM, a.KeyPEM, ca.CertPEM), now); err != nil {
		t.Errorf("valid secret: %v", err)
	}
	if _, err := checkServingSecret(secret(a.CertPEM, a.KeyPEM, nil), now); err != nil {
		t.Errorf("valid secret without ca.crt: %v", err)
	}
}

// TestBuildClientTLS connects the operator's client configuration to a
// real TLS server dialed by IP (as the operator dials pod IPs): with
// ca.crt it verifies the Service name; without ca.crt it trusts the
// certificate itself under its own first name; a server presenting a
// certificate from another CA is refused.
func TestBuildClientTLS(t *testing.T) {
	kc := tlsCluster()
	now := time.Now()
	ca, _ := pki.NewCA("ca", now, 24*time.Hour)
	svcCert, _ := issueServerCert(kc, ca, now)
	userCert, _ := ca.IssueServer("public", []string{"db.example.com"}, nil, now, time.Hour)
	other, _ := pki.NewCA("other", now, time.Hour)
	rogue, _ := other.IssueServer("rogue", serverDNSNames(kc), nil, now, time.Hour)

	serve := func(kp *pki.KeyPair) string {
		pair, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	get := func(ct *clientTLS, addr string) error {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ct.config}}
		resp, err := hc.Get("https://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	withCA := buildServerCertSecret(kc, svcCert, ca.CertPEM)
	ct, err := buildClientTLS(kc, withCA)
	if err != nil {
		t.Fatal(err)
	}
	if ct.config.ServerName != "prod.db.svc" {
		t.Errorf("server name %s", ct.config.ServerName)
	}
	if err := get(ct, serve(svcCert)); err != nil {
		t.Errorf("CA-verified connection: %v", err)
	}
	if err := get(ct, serve(rogue)); err == nil {
		t.Error("a certificate from another CA was accepted")
	}

	noCA := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "public"}, Data: map[string][]byte{corev1.TLSCertKey: userCert.CertPEM, corev1.TLSPrivateKeyKey: userCert.KeyPEM}}
	ct2, err := buildClientTLS(kc, noCA)
	if err != nil {
		t.Fatal(err)
	}
	if ct2.config.ServerName != "db.example.com" || ct2.fingerprint == ct.fingerprint {
		t.Errorf("server name %s, fingerprint %s vs %s", ct2.config.ServerName, ct2.fingerprint, ct.fingerprint)
	}
	if err := get(ct2, serve(userCert)); err != nil {
		t.Errorf("pinned certificate: %v", err)
	}
	if _, err := buildClientTLS(kc, &corev1.Secret{Data: map[string][]byte{corev1.TLSCertKey: []byte("junk")}}); err == nil {
		t.Error("junk certificate accepted")
	}
}

// TestCertificateStatus: a valid certificate is CertificateValid with its
// expiry in the message, and CertificateExpiringSoon in its last 14 days.
func TestCertificateStatus(t *testing.T) {
	now := time.Now()
	ca, _ := pki.NewCA("ca", now, 365*24*time.Hour)
	kp, _ := ca.IssueServer("s", []string{"s.db.svc"}, nil, now, 30*24*time.Hour)
	reason, msg := certificateStatus("s-tls", kp.Cert, now)
	if reason != kalamv1.ReasonCertificateValid || !strings.Contains(msg, "s-tls") || !strings.Contains(msg, "s.db.svc") || !strings.Contains(msg, "expires at") {
		t.Errorf("fresh: %s %q", reason, msg)
	}
	reason, msg = certificateStatus("s-tls", kp.Cert, now.Add(20*24*time.Hour))
	if reason != kalamv1.ReasonCertificateExpiringSoon || !strings.Contains(msg, "renew") {
		t.Errorf("10 days left: %s %q", reason, msg)
	}
}
