package harness

import (
	"context"
	_ "embed" // operator-values.yaml
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kalamdb/kalamdb-k8s/e2e/controlplane"
	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// OperatorNamespace and OperatorRelease are where and under which name the
// suite installs the chart (as docs/operator-install.md does).
const (
	OperatorNamespace = "kalamdb-system"
	OperatorRelease   = "kalamdb-operator"
)

// OperatorValues is the values file the suite adds to `helm install`
// (e2e/harness/operator-values.yaml: listen on the pod IP, short resync).
//
//go:embed operator-values.yaml
var OperatorValues []byte

// Helm returns the helm binary, installing it with hack/go-tools.sh (instant
// when cached).
func Helm() (string, error) {
	bin, err := testtools.BinDir()
	if err != nil {
		return "", err
	}
	if err := testtools.RunHack("go-tools.sh", nil, "helm"); err != nil {
		return "", err
	}
	return filepath.Join(bin, "helm"), nil
}

// HelmRun runs helm against the control plane with its own (per-run) cache,
// config and data directories.
func (e *Env) HelmRun(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.Helm, append([]string{"--kubeconfig", e.CP.Kubeconfig}, args...)...)
	cmd.Dir = controlplane.RepoRoot()
	home := filepath.Join(e.Dir, "helm")
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// OperatorValuesFile writes OperatorValues into the working directory and
// returns its path.
func (e *Env) OperatorValuesFile() (string, error) {
	p := filepath.Join(e.Dir, "operator-values.yaml")
	return p, os.WriteFile(p, OperatorValues, 0o640)
}

// installOperatorChart installs charts/kalamdb-operator with helm (CRDs
// from the chart's crds/, the Deployment, ServiceAccount, RBAC) and waits
// for the manager pod, run by the node agent with the chart's
// securityContext and an in-cluster service-account token, to be Ready.
func (e *Env) installOperatorChart(ctx context.Context, t testing.TB) {
	t.Helper()
	values, err := e.OperatorValuesFile()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e.HelmRun(ctx, "install", OperatorRelease, "charts/kalamdb-operator",
		"--namespace", OperatorNamespace, "--create-namespace", "-f", values); err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	if out, err := e.KubectlRun(ctx, nil, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"); err != nil {
		t.Fatalf("CRDs not established: %v\n%s", err, out)
	}
	if err := e.WaitOperator(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.checkOperatorPod(ctx); err != nil {
		t.Fatal(err)
	}
}

// checkOperatorPod makes sure the suite runs the operator as shipped: the
// chart's ServiceAccount (its token is the only credential the pod gets),
// a read-only root filesystem, resources, and no kubeconfig.
func (e *Env) checkOperatorPod(ctx context.Context) error {
	var pods corev1.PodList
	if err := e.Client.List(ctx, &pods, client.InNamespace(OperatorNamespace), client.MatchingLabels{"control-plane": "controller-manager"}); err != nil {
		return err
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		c := p.Spec.Containers[0]
		switch {
		case p.Spec.ServiceAccountName != OperatorRelease:
			return fmt.Errorf("operator pod %s runs as ServiceAccount %q, not the chart's", p.Name, p.Spec.ServiceAccountName)
		case c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem:
			return fmt.Errorf("operator pod %s has no read-only root filesystem", p.Name)
		case c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero():
			return fmt.Errorf("operator pod %s has no memory request and limit", p.Name)
		case len(p.Spec.Volumes) != 0:
			return fmt.Errorf("operator pod %s declares volumes %v: the chart's declares none", p.Name, p.Spec.Volumes)
		}
		for _, env := range c.Env {
			if env.Name == "KUBECONFIG" {
				return fmt.Errorf("operator pod %s sets KUBECONFIG", p.Name)
			}
		}
		return nil
	}
	return fmt.Errorf("no operator pod in %s", OperatorNamespace)
}

// WaitOperator waits until the chart's Deployment has an available, updated
// replica, and points OperatorLog at its pod's log.
func (e *Env) WaitOperator(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var dep appsv1.Deployment
		err := e.Client.Get(ctx, client.ObjectKey{Namespace: OperatorNamespace, Name: OperatorRelease}, &dep)
		switch {
		case err != nil:
			last = err.Error()
		case dep.Status.ObservedGeneration >= dep.Generation && dep.Status.AvailableReplicas >= 1 && dep.Status.UpdatedReplicas >= 1:
			var pods corev1.PodList
			if err := e.Client.List(ctx, &pods, client.InNamespace(OperatorNamespace), client.MatchingLabels{"control-plane": "controller-manager"}); err == nil {
				for _, p := range pods.Items {
					if p.DeletionTimestamp == nil {
						if l, err := e.Agent.LogPath(OperatorNamespace, p.Name, "manager"); err == nil {
							e.operatorLog = l
						}
					}
				}
			}
			return nil
		default:
			last = fmt.Sprintf("available=%d updated=%d", dep.Status.AvailableReplicas, dep.Status.UpdatedReplicas)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("operator Deployment %s/%s not available after %s: %s\n%s", OperatorNamespace, OperatorRelease, timeout, last, e.operatorPods(ctx))
}

// PodStatuses describes the pods of namespace ("" for all): phase and each
// container's state (a waiting container's message says why the node agent
// has not started it), for failure messages.
func (e *Env) PodStatuses(ctx context.Context, namespace string) string {
	var b strings.Builder
	var pods corev1.PodList
	if err := e.Client.List(ctx, &pods, client.InNamespace(namespace)); err != nil {
		return err.Error()
	}
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "pod %s/%s phase=%s\n", p.Namespace, p.Name, p.Status.Phase)
		for _, cs := range p.Status.ContainerStatuses {
			fmt.Fprintf(&b, "  %s ready=%v restarts=%d state=%+v last=%+v\n", cs.Name, cs.Ready, cs.RestartCount, cs.State, cs.LastTerminationState)
		}
	}
	return b.String()
}

// operatorPods describes the operator's pods and the tail of their logs,
// for failure messages.
func (e *Env) operatorPods(ctx context.Context) string {
	var b strings.Builder
	b.WriteString(e.PodStatuses(ctx, OperatorNamespace))
	logs, _ := filepath.Glob(filepath.Join(e.Dir, "node", "pods", OperatorNamespace+"_*", "*.log"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		if len(data) > 6000 {
			data = data[len(data)-6000:]
		}
		fmt.Fprintf(&b, "=== %s\n%s\n", l, data)
	}
	return b.String()
}
