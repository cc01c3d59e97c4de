package controllers

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// TLS of a KalamCluster (spec.tls): the Secrets the operator generates,
// what the pod mounts, and how the operator's own client verifies the
// server. Builders and checks here are pure (the clock is a parameter);
// reconcileTLS applies them.

const (
	tlsDir    = "/etc/kalamdb-tls"
	tlsVolume = "tls"
	// Keys of the CA Secret (<cluster>-ca). ca.crt is also copied into the
	// server Secret, as cert-manager does.
	keyCACert = "ca.crt"
	keyCAKey  = "ca.key"
	// generatedCAValidity is long: clients pin the CA, and replacing it
	// means redistributing it.
	generatedCAValidity = 10 * 365 * 24 * time.Hour
	// generatedCertValidity is a year; the server certificate is renewed
	// once less than a third of it remains (cert-manager's default ratio),
	// and the server picks the new files up without a restart.
	generatedCertValidity = 365 * 24 * time.Hour
	renewBefore           = generatedCertValidity / 3
	// tlsMissingWait is how often a cluster waiting for its TLS Secret
	// (cert-manager still issuing) looks again.
	tlsMissingWait = 15 * time.Second
)

func caSecretName(kc *kalamv1.KalamCluster) string { return kc.Name + "-ca" }

// tlsSecretName is the Secret the pods mount: the user's, or the one the
// operator generates.
func tlsSecretName(kc *kalamv1.KalamCluster) string {
	if kc.Spec.TLS != nil && kc.Spec.TLS.SecretName != "" {
		return kc.Spec.TLS.SecretName
	}
	return kc.Name + "-tls"
}

func tlsEnabled(kc *kalamv1.KalamCluster) bool { return kc.Spec.TLS != nil }

// tlsServerName is the name the operator verifies the server certificate
// against (it dials pod IPs, so the name is not in the address).
func tlsServerName(kc *kalamv1.KalamCluster) string {
	return clientServiceName(kc) + "." + kc.Namespace + ".svc"
}

// serverDNSNames are the names of a generated certificate: the client
// Service and every pod behind the headless Service, in each of their
// short and qualified forms, then spec.tls.dnsNames.
func serverDNSNames(kc *kalamv1.KalamCluster) []string {
	var names []string
	for _, svc := range []string{clientServiceName(kc), headlessServiceName(kc)} {
		for _, suffix := range []string{"", "." + kc.Namespace, "." + kc.Namespace + ".svc", "." + kc.Namespace + ".svc.cluster.local"} {
			names = append(names, svc+suffix)
			if svc == headlessServiceName(kc) {
				names = append(names, "*."+svc+suffix)
			}
		}
	}
	if kc.Spec.TLS != nil {
		for _, n := range kc.Spec.TLS.DNSNames {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// buildCASecret holds a generated CA and its key. Clients trust ca.crt.
func buildCASecret(kc *kalamv1.KalamCluster, ca *pki.KeyPair) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(kc, caSecretName(kc)),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{keyCACert: ca.CertPEM, keyCAKey: ca.KeyPEM},
	}
}

// buildServerCertSecret is a kubernetes.io/tls Secret in cert-manager's
// shape: tls.crt, tls.key and the issuing CA as ca.crt.
func buildServerCertSecret(kc *kalamv1.KalamCluster, cert *pki.KeyPair, caPEM []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(kc, tlsSecretName(kc)),
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: cert.CertPEM, corev1.TLSPrivateKeyKey: cert.KeyPEM, keyCACert: caPEM},
	}
}

// issueServerCert signs a server certificate for kc's names with ca.
func issueServerCert(kc *kalamv1.KalamCluster, ca *pki.KeyPair, now time.Time) (*pki.KeyPair, error) {
	return ca.IssueServer(tlsServerName(kc), serverDNSNames(kc), nil, now, generatedCertValidity)
}

// renewalReason says why a generated server certificate must be issued
// again ("" when it is fine): it does not parse, is not signed by ca,
// misses one of kc's names, or is in the last third of its life.
func renewalReason(kc *kalamv1.KalamCluster, sec *corev1.Secret, ca *pki.KeyPair, now time.Time) string {
	return certRenewalReason(sec, ca, caSecretName(kc), serverDNSNames(kc), nil, now)
}

// certRenewalReason is renewalReason for any generated certificate: one
// signed by ca (kept in secret caName) for names, with every extended key
// usage of usages.
func certRenewalReason(sec *corev1.Secret, ca *pki.KeyPair, caName string, names []string, usages []x509.ExtKeyUsage, now time.Time) string {
	kp, err := pki.ParsePair(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return "it does not parse: " + err.Error()
	}
	if err := kp.Cert.CheckSignatureFrom(ca.Cert); err != nil {
		return "it is not signed by the CA in secret " + caName
	}
	for _, u := range usages {
		if !slices.Contains(kp.Cert.ExtKeyUsage, u) {
			return fmt.Sprintf("it lacks the extended key usage %d", u)
		}
	}
	for _, n := range names {
		if !slices.Contains(kp.Cert.DNSNames, n) {
			return "it does not carry the name " + n
		}
	}
	if now.After(kp.Cert.NotAfter.Add(-renewBefore)) {
		return "it expires at " + kp.Cert.NotAfter.UTC().Format(time.RFC3339)
	}
	if string(sec.Data[keyCACert]) != string(ca.CertPEM) {
		return "its ca.crt is not the CA's"
	}
	return ""
}

// checkServingSecret validates a Secret the pods will serve: tls.crt and
// tls.key present, matching, not expired, and verified by ca.crt when
// there is one. It returns the leaf certificate.
func checkServingSecret(sec *corev1.Secret, now time.Time) (*x509.Certificate, error) {
	crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("secret %s has no %s and %s (a kubernetes.io/tls Secret is needed)", sec.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	kp, err := pki.ParsePair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %s and %s are not a usable pair: %w", sec.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey, err)
	}
	if now.After(kp.Cert.NotAfter) {
		return nil, fmt.Errorf("secret %s: the certificate expired at %s", sec.Name, kp.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if ca := sec.Data[keyCACert]; len(ca) > 0 {
		roots, err := certPool(ca)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %s: %w", sec.Name, keyCACert, err)
		}
		chain, _ := pki.ParseCerts(crt)
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now}); err != nil {
			return nil, fmt.Errorf("secret %s: the certificate is not verified by its %s: %w", sec.Name, keyCACert, err)
		}
	}
	return kp.Cert, nil
}

func certPool(bundle []byte) (*x509.CertPool, error) {
	certs, err := pki.ParseCerts(bundle)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// clientTLS is how the operator's client verifies one cluster's server,
// with a fingerprint that changes when the trust does (a new session).
type clientTLS struct {
	config      *tls.Config
	fingerprint string
}

// buildClientTLS verifies the server with the Secret's ca.crt (or the
// certificate itself, see pki.ClientTLS) as tlsServerName: the operator
// dials pod IPs, and a user's certificate may be issued for other names
// only, in which case its own first name is used.
func buildClientTLS(kc *kalamv1.KalamCluster, sec *corev1.Secret) (*clientTLS, error) {
	cfg, err := pki.ClientTLS(sec.Data[corev1.TLSCertKey], sec.Data[keyCACert], tlsServerName(kc))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", sec.Name, err)
	}
	trust := sec.Data[keyCACert]
	if len(trust) == 0 {
		trust = sec.Data[corev1.TLSCertKey]
	}
	sum := sha256.Sum256(append([]byte(cfg.ServerName+"\x00"), trust...))
	return &clientTLS{config: cfg, fingerprint: hex.EncodeToString(sum[:8])}, nil
}

// labelTLS marks pods that serve TLS only, so a PodMonitor scrapes them
// over https (config/prometheus/dataplane-podmonitor.yaml).
const labelTLS = "kalamdb.io/tls"

// applyTLSToPod mounts the serving Secret read-only at tlsDir, switches
// the probes to HTTPS (the kubelet does not verify the certificate) and
// labels the pod.
func applyTLSToPod(kc *kalamv1.KalamCluster, tmpl *corev1.PodTemplateSpec) {
	if !tlsEnabled(kc) {
		return
	}
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[labelTLS] = "true"
	pod := &tmpl.Spec
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: tlsVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: tlsSecretName(kc), DefaultMode: ptrInt32(0o440),
		Items: []corev1.KeyToPath{{Key: corev1.TLSCertKey, Path: corev1.TLSCertKey}, {Key: corev1.TLSPrivateKeyKey, Path: corev1.TLSPrivateKeyKey}},
	}}})
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.Name != containerName {
			continue
		}
		// No subPath: a Secret volume mounted whole is updated in place on
		// rotation, and the server reloads the files.
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: tlsVolume, MountPath: tlsDir, ReadOnly: true})
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil && p.HTTPGet != nil {
				p.HTTPGet.Scheme = corev1.URISchemeHTTPS
			}
		}
	}
}

func ptrInt32(v int32) *int32 { return &v }

// tlsConfigKeys are the server.toml keys spec.tls sets.
func tlsConfigKeys(doc map[string]any) {
	t := section(section(doc, "security"), "tls")
	t["cert_file"] = tlsDir + "/" + corev1.TLSCertKey
	t["key_file"] = tlsDir + "/" + corev1.TLSPrivateKeyKey
}

// servicePort is the API port of both Services; appProtocol tells
// ingresses and meshes to speak TLS to it.
func servicePort(kc *kalamv1.KalamCluster) corev1.ServicePort {
	p := httpServicePort
	if tlsEnabled(kc) {
		p.AppProtocol = ptrString("https")
	}
	return p
}

func ptrString(s string) *string { return &s }

// endpointScheme is https with spec.tls.
func endpointScheme(kc *kalamv1.KalamCluster) string {
	if tlsEnabled(kc) {
		return "https"
	}
	return "http"
}

// reconcileTLS makes sure the Secret the pods mount exists and holds a
// valid certificate, generating the CA and the server certificate when
// spec.tls.generate asks for it, and reports the TLSReady condition. A
// missing user Secret is waited for (cert-manager may still be issuing
// it); an unusable one needs a human.
func (r *KalamClusterReconciler) reconcileTLS(ctx context.Context, kc *kalamv1.KalamCluster, now time.Time) error {
	if !tlsEnabled(kc) {
		meta.RemoveStatusCondition(&kc.Status.Conditions, kalamv1.ConditionTLSReady)
		return nil
	}
	var sec *corev1.Secret
	var err error
	if kc.Spec.TLS.Generate {
		sec, err = r.ensureGeneratedTLS(ctx, kc, now)
	} else {
		sec, err = r.readTLSSecret(ctx, kc)
	}
	if err == nil {
		var leaf *x509.Certificate
		if leaf, err = checkServingSecret(sec, now); err == nil {
			reason, msg := certificateStatus(sec.Name, leaf, now)
			// One Warning event when the certificate starts to near its
			// expiry, not one per reconcile.
			if prev := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionTLSReady); reason == kalamv1.ReasonCertificateExpiringSoon && (prev == nil || prev.Reason != reason) {
				r.Recorder.Eventf(kc, nil, corev1.EventTypeWarning, reason, "TLS", "%s", msg)
			}
			kalamv1.SetCondition(kc, kalamv1.ConditionTLSReady, metav1.ConditionTrue, reason, msg)
			return nil
		}
		err = permanent(kalamv1.ReasonTLSSecretInvalid, "%v", err)
	}
	var we *waitError
	var pe *permanentError
	switch {
	case errors.As(err, &we):
		kalamv1.SetCondition(kc, kalamv1.ConditionTLSReady, metav1.ConditionFalse, we.Reason, we.Msg)
	case errors.As(err, &pe):
		kalamv1.SetCondition(kc, kalamv1.ConditionTLSReady, metav1.ConditionFalse, pe.Reason, pe.Msg)
	}
	return err
}

// expiringSoon is when a certificate the operator does not renew (a
// user's Secret) is reported as about to expire.
const expiringSoon = 14 * 24 * time.Hour

// certificateStatus is the TLSReady reason and message of a valid
// certificate: CertificateExpiringSoon within expiringSoon of its expiry
// (a generated one is renewed long before), CertificateValid otherwise.
func certificateStatus(secret string, leaf *x509.Certificate, now time.Time) (string, string) {
	msg := fmt.Sprintf("secret %s: certificate for %s expires at %s", secret, certNames(leaf), leaf.NotAfter.UTC().Format(time.RFC3339))
	if leaf.NotAfter.Sub(now) < expiringSoon {
		return kalamv1.ReasonCertificateExpiringSoon, msg + fmt.Sprintf(" (in %s): renew it; the pods pick the renewed Secret up without a restart", leaf.NotAfter.Sub(now).Round(time.Hour))
	}
	return kalamv1.ReasonCertificateValid, msg
}

func certNames(c *x509.Certificate) string {
	if len(c.DNSNames) > 3 {
		return strings.Join(c.DNSNames[:3], ", ") + fmt.Sprintf(" (+%d names)", len(c.DNSNames)-3)
	}
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ", ")
	}
	return c.Subject.CommonName
}

func (r *KalamClusterReconciler) readTLSSecret(ctx context.Context, kc *kalamv1.KalamCluster) (*corev1.Secret, error) {
	var sec corev1.Secret
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: tlsSecretName(kc)}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, waitFor(kalamv1.ReasonTLSSecretMissing, tlsMissingWait, "spec.tls.secretName: secret %s does not exist (yet); the pods cannot serve TLS without it", tlsSecretName(kc))
	}
	if err != nil {
		return nil, fmt.Errorf("while reading the TLS secret %s: %w", tlsSecretName(kc), err)
	}
	return &sec, nil
}

// ensureGeneratedTLS creates the CA Secret once (a CA that no longer
// parses is replaced), then issues the server certificate Secret, and
// issues it again when renewalReason says so. Both Secrets are owned by
// the cluster and labelled as the operator's (the Secret cache holds them).
func (r *KalamClusterReconciler) ensureGeneratedTLS(ctx context.Context, kc *kalamv1.KalamCluster, now time.Time) (*corev1.Secret, error) {
	return r.ensureGeneratedCert(ctx, kc, generatedCert{
		caSecret: caSecretName(kc), caName: kc.Name + "." + kc.Namespace + " KalamDB CA",
		secret: tlsSecretName(kc), what: "server certificate",
		renewal: func(sec *corev1.Secret, ca *pki.KeyPair) string { return renewalReason(kc, sec, ca, now) },
		issue:   func(ca *pki.KeyPair) (*pki.KeyPair, error) { return issueServerCert(kc, ca, now) },
	}, now)
}

// generatedCert describes a certificate the operator issues from a CA it
// generated: the TLS server certificate, or the Raft peer certificate.
type generatedCert struct {
	caSecret, caName string
	secret, what     string
	renewal          func(sec *corev1.Secret, ca *pki.KeyPair) string
	issue            func(ca *pki.KeyPair) (*pki.KeyPair, error)
}

// ensureGeneratedCert creates g's CA Secret once (a CA that no longer
// parses or nears its expiry is replaced), then issues g's certificate
// Secret, and issues it again when g.renewal says so.
func (r *KalamClusterReconciler) ensureGeneratedCert(ctx context.Context, kc *kalamv1.KalamCluster, g generatedCert, now time.Time) (*corev1.Secret, error) {
	var caSec corev1.Secret
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: g.caSecret}, &caSec)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading the CA secret %s: %w", g.caSecret, err)
	}
	ca, perr := pki.ParsePair(caSec.Data[keyCACert], caSec.Data[keyCAKey])
	if err != nil || perr != nil || !ca.Cert.IsCA || now.After(ca.Cert.NotAfter.Add(-renewBefore)) {
		if ca, err = pki.NewCA(g.caName, now, generatedCAValidity); err != nil {
			return nil, err
		}
		caObj := buildCASecret(kc, ca)
		caObj.Name = g.caSecret
		if err := r.putSecret(ctx, kc, caObj); err != nil {
			return nil, err
		}
		r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "CAGenerated", "TLS", "generated the self-signed CA in secret %s", g.caSecret)
	}
	var sec corev1.Secret
	err = r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: g.secret}, &sec)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading the secret %s: %w", g.secret, err)
	}
	why := "it does not exist"
	if err == nil {
		if why = g.renewal(&sec, ca); why == "" {
			return &sec, nil
		}
	}
	cert, err := g.issue(ca)
	if err != nil {
		return nil, err
	}
	want := buildServerCertSecret(kc, cert, ca.CertPEM)
	want.Name = g.secret
	if err := r.putSecret(ctx, kc, want); err != nil {
		return nil, err
	}
	r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "CertificateIssued", "TLS", "issued the %s in secret %s: %s", g.what, want.Name, why)
	return want, nil
}

// putSecret creates desired or replaces the data of the existing Secret
// (same type: a Secret's type is immutable).
func (r *KalamClusterReconciler) putSecret(ctx context.Context, kc *kalamv1.KalamCluster, desired *corev1.Secret) error {
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: desired.Name, Namespace: desired.Namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, existing, func() error {
		if existing.ResourceVersion == "" {
			existing.Type = desired.Type
		}
		existing.Data = desired.Data
		l := existing.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range desired.Labels {
			l[k] = v
		}
		existing.SetLabels(l)
		return controllerutil.SetControllerReference(kc, existing, r.Scheme)
	})
	if err != nil {
		return fmt.Errorf("while writing secret %s: %w", desired.Name, err)
	}
	return nil
}
