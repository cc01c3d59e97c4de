package nodeagent_test

import (
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/kalamdb/kalamdb-k8s/e2e/nodeagent"
)

// probeScript reports what a container sees, one key=value per line on
// stdout (the container log): the in-cluster variables and files client-go
// reads, and whether writes outside its volumes are refused. The /tmp
// probe is what the operator's old config validation did (os.MkdirTemp),
// which failed in the chart's pod.
const probeScript = `
sa=/var/run/secrets/kubernetes.io/serviceaccount
echo "host=$KUBERNETES_SERVICE_HOST"
echo "port=$KUBERNETES_SERVICE_PORT"
echo "namespace=$(cat $sa/namespace 2>/dev/null)"
echo "token=$(cat $sa/token 2>/dev/null)"
echo "ca=$(base64 -w0 $sa/ca.crt 2>/dev/null)"
if mkdir /tmp/kalamdb-config-probe 2>/dev/null; then echo tmp=writable; rmdir /tmp/kalamdb-config-probe; else echo tmp=refused; fi
if (: > $sa/probe) 2>/dev/null; then echo sa=writable; else echo sa=refused; fi
if (: > /scratch/probe) 2>/dev/null; then echo scratch=writable; else echo scratch=refused; fi
echo "dns=$(grep -m1 nameserver /etc/resolv.conf)"
echo end=1
exec sleep 3600
`

// TestPodRunsInCluster runs pods the way the chart's operator pod runs: a
// ServiceAccount token the API server accepts, the CA bundle and the
// KUBERNETES_SERVICE_* variables (so client-go's in-cluster configuration
// works), and securityContext.readOnlyRootFilesystem enforced: a write to
// /tmp (not a volume of the pod) fails, a write to its emptyDir succeeds.
// A pod with automountServiceAccountToken: false gets no token.
func TestPodRunsInCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := "incluster"
	cp, agent := startNode(ctx, t, dir, ns, nodeagent.Options{})
	c := cp.Client
	mustCreate(t, func() error {
		_, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "probe-sa"}}, metav1.CreateOptions{})
		return err
	})
	pod := func(name, sa string, automount *bool) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{
				ServiceAccountName: sa, AutomountServiceAccountToken: automount,
				Containers: []corev1.Container{{
					Name: "probe", Image: "busybox", Command: []string{"/bin/sh", "-c", probeScript},
					SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: ptr.To(true)},
					VolumeMounts:    []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}},
				}},
				Volumes: []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			},
		}
	}
	// default-sa also mounts an emptyDir over /tmp, as the data plane's pod
	// does: the token must still be there (the agent's pod directory may be
	// under the host's /tmp), and /tmp is then writable (it is a volume).
	withTmp := pod("default-sa", "", nil)
	withTmp.Spec.Volumes = append(withTmp.Spec.Volumes, corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	withTmp.Spec.Containers[0].VolumeMounts = append(withTmp.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	for _, p := range []*corev1.Pod{pod("with-token", "probe-sa", nil), pod("no-token", "", ptr.To(false)), withTmp} {
		mustCreate(t, func() error {
			_, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
			return err
		})
	}

	got := probeOutput(ctx, t, agent, c, ns, "with-token")
	want := map[string]string{"host": "127.0.0.1", "namespace": ns, "tmp": "refused", "sa": "refused", "scratch": "writable"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (output %v)", k, got[k], v, got)
		}
	}
	if !strings.HasSuffix(cp.APIServerURL, ":"+got["port"]) {
		t.Errorf("KUBERNETES_SERVICE_PORT %q does not match %s", got["port"], cp.APIServerURL)
	}
	// The token authenticates as the pod's ServiceAccount, over TLS verified
	// with the mounted CA (what rest.InClusterConfig does).
	ca, err := base64.StdEncoding.DecodeString(got["ca"])
	if err != nil || len(ca) == 0 {
		t.Fatalf("ca.crt: %v", err)
	}
	cfg := &rest.Config{Host: "https://" + got["host"] + ":" + got["port"], BearerToken: got["token"], TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	as, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := as.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the mounted token is not accepted: %v", err)
	}
	if u := review.Status.UserInfo.Username; u != "system:serviceaccount:"+ns+":probe-sa" {
		t.Fatalf("token authenticates as %q", u)
	}

	// pods/log (kubectl logs) reaches the agent's log endpoint through the
	// API server: the whole current run, and its last line.
	all, err := c.CoreV1().Pods(ns).GetLogs("with-token", &corev1.PodLogOptions{Container: "probe"}).DoRaw(ctx)
	if err != nil || !strings.HasPrefix(string(all), "host=127.0.0.1\n") || strings.Contains(string(all), "=== nodeagent") {
		t.Fatalf("pods/log: %v\n%s", err, all)
	}
	last, err := c.CoreV1().Pods(ns).GetLogs("with-token", &corev1.PodLogOptions{Container: "probe", TailLines: ptr.To(int64(1))}).DoRaw(ctx)
	if err != nil || string(last) != "end=1\n" {
		t.Fatalf("pods/log tailLines=1: %v %q", err, last)
	}
	if _, err := c.CoreV1().Pods(ns).GetLogs("with-token", &corev1.PodLogOptions{Container: "probe", Previous: true}).DoRaw(ctx); err == nil {
		t.Fatal("pods/log previous of a container that never restarted answered")
	}

	// A pod naming no ServiceAccount runs as "default" (created by the
	// serviceaccount controller), as the admission plugin would set it.
	got = probeOutput(ctx, t, agent, c, ns, "default-sa")
	if got["token"] == "" || got["namespace"] != ns || got["tmp"] != "writable" {
		t.Fatalf("pod without serviceAccountName, emptyDir at /tmp: %v", got)
	}
	// Its resolv.conf names the agent's cluster DNS even with a volume over
	// the host directory holding the pod's files (/tmp here).
	if !strings.HasPrefix(got["dns"], "nameserver 127.") || !strings.HasSuffix(got["dns"], ".1") {
		t.Fatalf("resolv.conf of a pod with an emptyDir at /tmp: %q", got["dns"])
	}
	cfg.BearerToken = got["token"]
	if as, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if review, err = as.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the default token is not accepted: %v", err)
	}
	if u := review.Status.UserInfo.Username; u != "system:serviceaccount:"+ns+":default" {
		t.Fatalf("default token authenticates as %q", u)
	}

	got = probeOutput(ctx, t, agent, c, ns, "no-token")
	if got["token"] != "" || got["namespace"] != "" || got["host"] != "127.0.0.1" {
		t.Fatalf("automountServiceAccountToken: false: %v", got)
	}
	if got["tmp"] != "refused" {
		t.Fatalf("read-only root not enforced without a token: %v", got)
	}
}

// probeOutput waits until the pod's probe script has printed end=1 and
// returns its key=value lines.
func probeOutput(ctx context.Context, t *testing.T, agent *nodeagent.Agent, c kubernetes.Interface, ns, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if path, err := agent.LogPath(ns, name, "probe"); err == nil {
			b, _ := os.ReadFile(path)
			for _, line := range strings.Split(string(b), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					out[k] = v
				}
			}
			if out["end"] == "1" {
				return out
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("pod %s: %v", name, err)
	}
	var log []byte
	if path, err := agent.LogPath(ns, name, "probe"); err == nil {
		log, _ = os.ReadFile(path)
		if len(log) > 3000 {
			log = log[len(log)-3000:]
		}
	}
	t.Fatalf("pod %s printed no probe output: %+v\n%s", name, p.Status.ContainerStatuses, log)
	return nil
}
