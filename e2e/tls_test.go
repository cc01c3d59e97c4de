package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

const tlsNS = "kalam-tls"

// tlsClusterYAML is the docs' TLS example (docs/operator.md, "TLS"): a
// cluster whose certificate the operator generates.
const tlsClusterYAML = `apiVersion: kalamdb.io/v1alpha1
kind: KalamCluster
metadata:
  name: secure
spec:
  image: ghcr.io/kalamdb/kalamdb:latest
  storage:
    size: 1Gi
  tls:
    generate: true
  config:
    auth:
      bcrypt_cost: 4
`

// TestTLS: a KalamCluster with spec.tls.generate becomes Ready through
// the operator's CA-verifying client; a client trusting the CA from the
// <cluster>-ca Secret logs in over HTTPS through the Service; plain HTTP
// to the same port is refused; a client that does not trust the CA is
// refused; replacing the server certificate (its Secret deleted and issued
// again) reaches the running server without a pod restart.
func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a control plane and the operator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := harness.Start(ctx, t)
	if out, err := env.KubectlRun(ctx, nil, "create", "namespace", tlsNS); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	if out, err := env.KubectlRun(ctx, []byte(tlsClusterYAML), "apply", "-n", tlsNS, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	s := &scenario{env: env, ns: tlsNS}
	kc := &kalamv1.KalamCluster{}
	s.waitReady(ctx, t, kc, "secure", 3*time.Minute)
	if kc.Status.Endpoint != "https://secure."+tlsNS+".svc:8080" {
		t.Errorf("endpoint %q", kc.Status.Endpoint)
	}
	if c := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionTLSReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("TLSReady: %+v", c)
	}

	// What a user does: take ca.crt from the CA Secret and the Service's
	// address, and verify the server as secure.<namespace>.svc.
	var caSec, creds corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: tlsNS, Name: "secure-ca"}, &caSec); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: tlsNS, Name: "secure-credentials"}, &creds); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caSec.Data["ca.crt"]) {
		t.Fatal("secure-ca has no ca.crt")
	}
	var addr string
	s.eventually(ctx, t, "endpoints of service secure", time.Minute, func() (bool, string) {
		eps, err := harness.ServiceEndpoints(ctx, env.CP.Client, tlsNS, "secure", "http")
		if err == nil {
			addr = eps[0]
		}
		return err == nil, fmt.Sprint(err)
	})
	verifying := &tls.Config{RootCAs: pool, ServerName: "secure." + tlsNS + ".svc"}
	root := dpclient.New("https://" + addr)
	root.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: verifying}}
	if _, err := root.Login(ctx, "root", string(creds.Data["root-password"])); err != nil {
		t.Fatalf("root login over HTTPS verifying the CA: %v", err)
	}
	if rows, err := root.Rows(ctx, "SELECT 1 AS one"); err != nil || len(rows) != 1 {
		t.Fatalf("SELECT over HTTPS: %v %v", rows, err)
	}

	// Plain HTTP is refused on the TLS port.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("plain HTTP: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
		t.Fatalf("plain HTTP answered %d %q, want 400 naming HTTPS", resp.StatusCode, body)
	}
	// A client that does not trust the cluster's CA is refused.
	if _, err := (&http.Client{Timeout: 10 * time.Second}).Get("https://" + addr + "/healthz"); err == nil {
		t.Fatal("a client without the cluster's CA connected")
	}

	// Rotation without restart.
	served := func() string {
		c, err := tls.Dial("tcp", addr, verifying)
		if err != nil {
			return "handshake: " + err.Error()
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := served()
	var pod corev1.Pod
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: tlsNS, Name: "secure-0"}, &pod); err != nil {
		t.Fatal(err)
	}
	restarts := restartCount(&pod)
	if err := env.Client.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tlsNS, Name: "secure-tls"}}); err != nil {
		t.Fatal(err)
	}
	s.eventually(ctx, t, "the new certificate served", 2*time.Minute, func() (bool, string) {
		now := served()
		return now != before && !strings.HasPrefix(now, "handshake"), "serving " + now
	})
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: tlsNS, Name: "secure-0"}, &pod); err != nil {
		t.Fatal(err)
	}
	if restartCount(&pod) != restarts {
		t.Fatalf("the pod restarted during the rotation: %d -> %d", restarts, restartCount(&pod))
	}
	if _, err := root.SQL(ctx, "SELECT 2"); err != nil {
		t.Fatalf("the session opened before the rotation: %v", err)
	}
	s.waitReady(ctx, t, kc, "secure", time.Minute)
}

// namespace is the namespace the scenario's objects live in.
func (s *scenario) namespace() string {
	if s.ns != "" {
		return s.ns
	}
	return ns
}
