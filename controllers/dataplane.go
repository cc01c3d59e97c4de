package controllers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// DialFunc dials the data plane. Production dials the pod IP directly (C4:
// no Service DNS, since e2e runs without kube-proxy and DNS); tests inject
// a dialer that reaches an in-process server.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// DataPlane opens authenticated clients to a cluster's data plane. It logs
// in as root with the password of the cluster's credentials Secret and
// caches the session per cluster, because a login costs one bcrypt check on
// the server.
type DataPlane struct {
	// Client reads pods and Secrets.
	Client client.Client
	// Dial overrides the dialer (tests); nil uses net.Dialer.
	Dial DialFunc
	// Timeout bounds each HTTP request (default 30 s).
	Timeout time.Duration

	mu       sync.Mutex
	sessions map[types.NamespacedName]*session
	// rotationFailed is when a root login last failed per cluster.
	rotationFailed map[types.NamespacedName]time.Time
	// loginMu serialises logins and rotations.
	loginMu sync.Mutex
	// podClients are the per-pod clients of replicated clusters, by pod
	// address and trust (PodClient).
	podClients map[string]*dpclient.Client
}

type session struct {
	// tlsID identifies the trust the client was built with ("" for plain
	// HTTP): a rotated CA makes a new client.
	addr, password, tlsID string
	client                *dpclient.Client
	loggedIn              time.Time
}

// sessionTTL is well under the server's default token lifetime (24 h).
const sessionTTL = 30 * time.Minute

// Connect returns a logged-in client for kc. A cluster without a ready pod
// is a waiting condition (ClusterNotReady), not an error.
func (d *DataPlane) Connect(ctx context.Context, kc *kalamv1.KalamCluster) (*dpclient.Client, error) {
	pod, err := d.servingPod(ctx, kc)
	if err != nil {
		return nil, err
	}
	var sec corev1.Secret
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: credentialsSecretName(kc)}, &sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "secret %s does not exist yet", credentialsSecretName(kc))
		}
		return nil, fmt.Errorf("while reading the credentials secret: %w", err)
	}
	password := string(sec.Data[secretRootPassword])
	applied := string(sec.Data[secretRootPasswordApplied])
	id := types.NamespacedName{Namespace: kc.Namespace, Name: kc.Name}
	addr, ct, tlsID, err := d.podEndpoint(ctx, kc, pod)
	if err != nil {
		return nil, err
	}

	d.mu.Lock()
	s := d.sessions[id]
	failedAt := d.rotationFailed[id]
	d.mu.Unlock()
	if s != nil && s.addr == addr && s.password == password && s.tlsID == tlsID && time.Since(s.loggedIn) < sessionTTL {
		return s.client, nil
	}
	if !failedAt.IsZero() && time.Since(failedAt) < rotationBackoff {
		// Every failed login counts towards the server's lockout: after a
		// failed rotation the operator waits instead of retrying.
		return nil, waitFor(ReasonRootPasswordRotationFailed, rotationBackoff-time.Since(failedAt),
			"the root password in secret %s was not accepted and the rotation failed; retrying at %s", sec.Name, failedAt.Add(rotationBackoff).UTC().Format(time.RFC3339))
	}
	// One login (and rotation) at a time: two reconcilers rotating the
	// same password at once would have the second ALTER USER refused,
	// since the first revokes the tokens issued under the old password.
	d.loginMu.Lock()
	defer d.loginMu.Unlock()
	d.mu.Lock()
	s = d.sessions[id]
	failedAt = d.rotationFailed[id]
	d.mu.Unlock()
	if s != nil && s.addr == addr && s.password == password && s.tlsID == tlsID && time.Since(s.loggedIn) < sessionTTL {
		return s.client, nil
	}
	if !failedAt.IsZero() && time.Since(failedAt) < rotationBackoff {
		return nil, waitFor(ReasonRootPasswordRotationFailed, rotationBackoff-time.Since(failedAt), "a root login to %s just failed; retrying at %s", addr, failedAt.Add(rotationBackoff).UTC().Format(time.RFC3339))
	}
	c := d.newClient(addr, ct)
	if applied == "" || applied == password {
		if _, err := c.Login(ctx, "root", password); err != nil {
			d.noteAuthFailure(id, err)
			return nil, fmt.Errorf("while logging in to %s as root: %w", addr, err)
		}
	} else if err := d.rotate(ctx, c, id, applied, password); err != nil {
		return nil, err
	}
	if applied != password {
		// Record the password the server now has, so that the next
		// rotation can log in with it.
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		sec.Data[secretRootPasswordApplied] = []byte(password)
		if err := d.Client.Update(ctx, &sec); err != nil {
			return nil, fmt.Errorf("while recording the applied root password: %w", err)
		}
	}
	d.mu.Lock()
	if d.sessions == nil {
		d.sessions = map[types.NamespacedName]*session{}
	}
	d.sessions[id] = &session{addr: addr, password: password, tlsID: tlsID, client: c, loggedIn: time.Now()}
	delete(d.rotationFailed, id)
	d.mu.Unlock()
	return c, nil
}

// servingPod is the pod the operator's session talks to: pod 0 of a single
// node; the first ready pod of a replicated cluster (any replica serves
// every request, and pod 0 may be the one a rolling update restarts).
func (d *DataPlane) servingPod(ctx context.Context, kc *kalamv1.KalamCluster) (*corev1.Pod, error) {
	var last error
	for ordinal := range max(int(kc.Spec.Replicas), 1) {
		var pod corev1.Pod
		key := types.NamespacedName{Namespace: kc.Namespace, Name: podName(kc, ordinal)}
		if err := d.Client.Get(ctx, key, &pod); err != nil {
			if !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("while reading pod %s: %w", key.Name, err)
			}
			last = waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "pod %s does not exist yet", key.Name)
			continue
		}
		if pod.Status.PodIP == "" || !podReady(&pod) {
			last = waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "pod %s is not ready", key.Name)
			continue
		}
		return &pod, nil
	}
	return nil, last
}

// PodClient returns a client of one pod of kc that uses the session of
// base: every replica shares the JWT secret, so the token base logged in
// with is valid on each of them.
func (d *DataPlane) PodClient(ctx context.Context, kc *kalamv1.KalamCluster, base *dpclient.Client, pod *corev1.Pod) (*dpclient.Client, error) {
	if pod.Status.PodIP == "" {
		return nil, fmt.Errorf("pod %s has no IP yet", pod.Name)
	}
	addr, ct, tlsID, err := d.podEndpoint(ctx, kc, pod)
	if err != nil {
		return nil, err
	}
	key := addr + "|" + tlsID
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.podClients[key]
	if c == nil {
		// One client (and connection pool) per pod address, reused by
		// every reconcile instead of a new transport each time.
		c = d.newClient(addr, ct)
		if d.podClients == nil {
			d.podClients = map[string]*dpclient.Client{}
		}
		d.podClients[key] = c
	}
	return &dpclient.Client{BaseURL: c.BaseURL, HTTP: c.HTTP, Token: base.Token}, nil
}

// podEndpoint is where and how to reach a pod's API: its address, the
// TLS trust (nil without spec.tls) and that trust's fingerprint ("" for
// plain HTTP), which keys cached clients so a rotated CA makes new ones.
func (d *DataPlane) podEndpoint(ctx context.Context, kc *kalamv1.KalamCluster, pod *corev1.Pod) (string, *clientTLS, string, error) {
	ct, err := d.clientTLS(ctx, kc)
	if err != nil {
		return "", nil, "", err
	}
	tlsID := ""
	if ct != nil {
		tlsID = ct.fingerprint
	}
	return net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(httpPort)), ct, tlsID, nil
}

// rotate changes root's password from old (what the server has) to next
// (what the Secret now says) on the server first, with ALTER USER under
// the old credential, and only then logs in with the new one. When the
// server already has the new password (its pod restarted and took it from
// the Secret, or a previous rotation's last step failed) the old login
// fails once and the new one is used. At most two failed logins happen per
// attempt, and a failed attempt is not retried before rotationBackoff, so
// a rotation never trips the server's lockout.
func (d *DataPlane) rotate(ctx context.Context, c *dpclient.Client, id types.NamespacedName, old, next string) error {
	if _, err := c.Login(ctx, "root", old); err == nil {
		if _, err := c.SQL(ctx, "ALTER USER root SET PASSWORD "+dpclient.Quote(next)); err != nil {
			d.noteRotationFailure(id)
			return permanent(ReasonRootPasswordRotationFailed, "ALTER USER root SET PASSWORD was refused: %v", err)
		}
	} else if !isUnauthorized(err) {
		return fmt.Errorf("while logging in as root with the previous password: %w", err)
	}
	if _, err := c.Login(ctx, "root", next); err != nil {
		if isUnauthorized(err) {
			d.noteRotationFailure(id)
			return permanent(ReasonRootPasswordRotationFailed, "neither the previous nor the new root password is accepted by the data plane: %v", err)
		}
		return fmt.Errorf("while logging in as root with the rotated password: %w", err)
	}
	return nil
}

// clientTLS reads the Secret the pods serve and returns how to verify
// them (nil without spec.tls).
func (d *DataPlane) clientTLS(ctx context.Context, kc *kalamv1.KalamCluster) (*clientTLS, error) {
	if !tlsEnabled(kc) {
		return nil, nil
	}
	var sec corev1.Secret
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: tlsSecretName(kc)}, &sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(kalamv1.ReasonTLSSecretMissing, tlsMissingWait, "TLS secret %s does not exist (yet)", tlsSecretName(kc))
		}
		return nil, fmt.Errorf("while reading the TLS secret: %w", err)
	}
	ct, err := buildClientTLS(kc, &sec)
	if err != nil {
		return nil, permanent(kalamv1.ReasonTLSSecretInvalid, "%v", err)
	}
	return ct, nil
}

func (d *DataPlane) newClient(addr string, ct *clientTLS) *dpclient.Client {
	scheme := "http://"
	var tc *tls.Config
	if ct != nil {
		scheme, tc = "https://", ct.config
	}
	c := dpclient.New(scheme + addr)
	timeout := d.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	}
	c.HTTP = &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: dial, TLSClientConfig: tc, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}}
	return c
}

// noteAuthFailure starts the back-off after a refused login.
func (d *DataPlane) noteAuthFailure(id types.NamespacedName, err error) {
	if isUnauthorized(err) {
		d.noteRotationFailure(id)
	}
}

func (d *DataPlane) noteRotationFailure(id types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rotationFailed == nil {
		d.rotationFailed = map[types.NamespacedName]time.Time{}
	}
	d.rotationFailed[id] = time.Now()
}

// isUnauthorized reports a refused credential (401) or a locked account.
func isUnauthorized(err error) bool {
	var ae *dpclient.APIError
	return errors.As(err, &ae) && (ae.HTTPStatus == http.StatusUnauthorized || ae.Code == "ACCOUNT_LOCKED")
}

// ReasonRootPasswordRotationFailed is the condition reason of a cluster
// whose root password (credentials Secret) could not be applied.
const ReasonRootPasswordRotationFailed = "RootPasswordRotationFailed"

// rotationBackoff spaces login attempts after a refused root password:
// well over the default lockout window, so retries never lock root out.
const rotationBackoff = 5 * time.Minute

// Forget drops the cached session of a cluster, after an authentication
// failure or when the cluster is deleted.
func (d *DataPlane) Forget(namespace, name string) {
	d.mu.Lock()
	delete(d.sessions, types.NamespacedName{Namespace: namespace, Name: name})
	d.mu.Unlock()
}

// forgetOnAuth drops the session when err says the token is no longer
// accepted, so the next reconcile logs in again.
func (d *DataPlane) forgetOnAuth(kc *kalamv1.KalamCluster, err error) {
	var ae *dpclient.APIError
	if errors.As(err, &ae) && ae.HTTPStatus == http.StatusUnauthorized {
		d.Forget(kc.Namespace, kc.Name)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
