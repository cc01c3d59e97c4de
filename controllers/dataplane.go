package controllers

import (
	"context"
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
}

type session struct {
	addr, password string
	client         *dpclient.Client
	loggedIn       time.Time
}

// sessionTTL is well under the server's default token lifetime (24 h).
const sessionTTL = 30 * time.Minute

// Connect returns a logged-in client for kc. A cluster without a ready pod
// is a waiting condition (ClusterNotReady), not an error.
func (d *DataPlane) Connect(ctx context.Context, kc *kalamv1.KalamCluster) (*dpclient.Client, error) {
	var pod corev1.Pod
	key := types.NamespacedName{Namespace: kc.Namespace, Name: podName(kc, 0)}
	if err := d.Client.Get(ctx, key, &pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "pod %s does not exist yet", key.Name)
		}
		return nil, fmt.Errorf("while reading pod %s: %w", key.Name, err)
	}
	if pod.Status.PodIP == "" || !podReady(&pod) {
		return nil, waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "pod %s is not ready", key.Name)
	}
	var sec corev1.Secret
	if err := d.Client.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: credentialsSecretName(kc)}, &sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "secret %s does not exist yet", credentialsSecretName(kc))
		}
		return nil, fmt.Errorf("while reading the credentials secret: %w", err)
	}
	password := string(sec.Data[secretRootPassword])
	addr := net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(httpPort))
	id := types.NamespacedName{Namespace: kc.Namespace, Name: kc.Name}

	d.mu.Lock()
	s := d.sessions[id]
	d.mu.Unlock()
	if s != nil && s.addr == addr && s.password == password && time.Since(s.loggedIn) < sessionTTL {
		return s.client, nil
	}
	c := dpclient.New("http://" + addr)
	timeout := d.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	}
	c.HTTP = &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}}
	if _, err := c.Login(ctx, "root", password); err != nil {
		return nil, fmt.Errorf("while logging in to %s as root: %w", addr, err)
	}
	d.mu.Lock()
	if d.sessions == nil {
		d.sessions = map[types.NamespacedName]*session{}
	}
	d.sessions[id] = &session{addr: addr, password: password, client: c, loggedIn: time.Now()}
	d.mu.Unlock()
	return c, nil
}

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
