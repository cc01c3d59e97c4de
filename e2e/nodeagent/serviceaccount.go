package nodeagent

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceAccountMountPath is where kubelet mounts a pod's service-account
// token, CA bundle and namespace; rest.InClusterConfig reads them there.
const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// tokenSeconds is the lifetime the agent asks for. Kubelet asks for an hour
// and refreshes at 80 %; the agent does not refresh, so it asks for longer
// than any e2e run.
const tokenSeconds = 6 * 3600

// inCluster is what the agent gives every container so that client-go's
// in-cluster configuration works as in a pod: the API server's address (the
// KUBERNETES_SERVICE_* variables kubelet derives from the `kubernetes`
// Service) and, unless automounting is off, a bound service-account token.
type inCluster struct {
	host, port string
	ca         []byte
}

func newInCluster(apiServer string, ca []byte) (*inCluster, error) {
	if apiServer == "" {
		return nil, nil
	}
	u, err := url.Parse(apiServer)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: APIServer %q: %w", apiServer, err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: APIServer %q needs host:port: %w", apiServer, err)
	}
	if len(ca) == 0 {
		return nil, fmt.Errorf("nodeagent: APIServer is set but CAData is empty")
	}
	return &inCluster{host: host, port: port, ca: ca}, nil
}

// env is the variables kubelet sets for the `kubernetes` Service.
func (ic *inCluster) env() [][2]string {
	if ic == nil {
		return nil
	}
	return [][2]string{
		{"KUBERNETES_SERVICE_HOST", ic.host},
		{"KUBERNETES_SERVICE_PORT", ic.port},
		{"KUBERNETES_SERVICE_PORT_HTTPS", ic.port},
		{"KUBERNETES_PORT", "tcp://" + net.JoinHostPort(ic.host, ic.port)},
	}
}

// automount reports whether the pod gets a token: the pod's
// automountServiceAccountToken wins, then the ServiceAccount's, default true
// (as the ServiceAccount admission plugin decides).
func automount(pod *corev1.Pod, sa *corev1.ServiceAccount) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// serviceAccountVolume requests a token bound to the pod for its
// ServiceAccount (TokenRequest API, as kubelet's projected token volume does)
// and writes token, ca.crt and namespace into a directory of the pod. It
// returns "" when the pod gets no token. A missing ServiceAccount is an error
// the caller retries: the admission plugin would not have admitted the pod.
func (a *Agent) serviceAccountVolume(ctx context.Context, pod *corev1.Pod, podDir string) (string, error) {
	if a.inCluster == nil || (pod.Spec.AutomountServiceAccountToken != nil && !*pod.Spec.AutomountServiceAccountToken) {
		return "", nil
	}
	name := pod.Spec.ServiceAccountName
	if name == "" {
		name = "default"
	}
	sa, err := a.client.CoreV1().ServiceAccounts(pod.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("service account %q: %w", name, err)
	}
	if !automount(pod, sa) {
		return "", nil
	}
	exp := int64(tokenSeconds)
	spec := authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}
	if pod.Spec.ServiceAccountName != "" {
		// Bound to the pod, as kubelet's token is. The API server refuses to
		// bind to a pod whose spec names another account, and without the
		// admission plugin an unnamed one stays "" instead of "default": such
		// a pod gets an unbound token of "default".
		spec.BoundObjectRef = &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}
	}
	tr, err := a.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for service account %q: %w", name, err)
	}
	dir := filepath.Join(podDir, "serviceaccount")
	files := map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": a.inCluster.ca, "namespace": []byte(pod.Namespace)}
	if err := writeFiles(dir, files, nil); err != nil {
		return "", fmt.Errorf("service account volume: %w", err)
	}
	return dir, nil
}

// withServiceAccount adds the token directory as a read-only mount at
// ServiceAccountMountPath unless the container mounts something there itself.
// It goes first: the pod's directory (the mount's source) may live under a
// path a later volume covers (an emptyDir at /tmp), and a bind mount
// resolves its source when it is made.
func withServiceAccount(ms []mount, dir string) []mount {
	if dir == "" {
		return ms
	}
	for _, m := range ms {
		if m.dst == ServiceAccountMountPath {
			return ms
		}
	}
	return append([]mount{{src: dir, dst: ServiceAccountMountPath, readOnly: true}}, ms...)
}
