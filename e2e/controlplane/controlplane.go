// Package controlplane runs a real Kubernetes control plane for the e2e suite
// from binaries built by hack/ (no Docker, no kind): etcd, kube-apiserver
// (serving certificates, service-account signing keys, RBAC) and
// kube-controller-manager, so the real StatefulSet, EndpointSlice, garbage
// collector, namespace and persistent-volume controllers run.
//
// Everything listens on 127.0.0.1 on free ports; every process is owned by the
// ControlPlane and ended by Stop (SIGTERM, then SIGKILL after a grace period;
// Pdeathsig kills them if the test binary dies first). There is no scheduler
// and no kubelet: the node agent (package nodeagent) plays both for the suite.
package controlplane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// Options configures Start. Zero values pick defaults.
type Options struct {
	// Dir holds certificates, etcd data and process logs (required).
	Dir string
	// BinDir holds etcd, kube-apiserver and kube-controller-manager; default
	// ${KALAMDB_TOOLS:-~/.cache/kalamdb-tools}/bin, built by hack/ on demand.
	BinDir string
	// Controllers passed to kube-controller-manager --controllers.
	Controllers []string
}

// DefaultControllers are the kube-controller-manager controllers a
// StatefulSet-based data plane needs when pods are run by a node agent:
// no node lifecycle (it would taint the agent's node), no scheduler-related
// or cloud controllers. The EndpointSlice controllers are left out because
// the API server rejects loopback pod IPs in EndpointSlices (see
// harness.ServiceEndpoints).
var DefaultControllers = []string{
	"statefulset-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"persistentvolume-binder-controller",
	"persistentvolume-protection-controller",
	"persistentvolumeclaim-protection-controller",
	"replicaset-controller",
	"deployment-controller",
	"job-controller",
	// Creates each namespace's "default" ServiceAccount, whose token the
	// node agent mounts into pods as kubelet would.
	"serviceaccount-controller",
}

// ControlPlane is one running etcd + kube-apiserver + kube-controller-manager.
type ControlPlane struct {
	// Kubeconfig is a file with cluster-admin (system:masters) credentials.
	Kubeconfig string
	// Config is the same credentials for Go clients.
	Config *rest.Config
	// Client is a clientset built from Config.
	Client *kubernetes.Clientset
	// APIServerURL is https://127.0.0.1:port.
	APIServerURL string
	// CACert is the PEM CA bundle that verifies the API server (what a pod
	// finds in its service-account volume's ca.crt).
	CACert []byte

	dir   string
	mu    sync.Mutex
	procs []*proc // start order; stopped in reverse
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// BinDir returns the tools directory and makes sure the control-plane binaries
// exist there, running hack/etcd.sh and hack/kube.sh (idempotent, minutes on
// a fresh machine, instant when cached).
func BinDir() (string, error) { return binDirOnce() }

var binDirOnce = sync.OnceValues(func() (string, error) {
	bin, err := testtools.BinDir()
	if err != nil {
		return "", err
	}
	for _, script := range []string{"etcd.sh", "kube.sh"} {
		if err := testtools.RunHack(script, []string{"KUBE_BINS=kube-apiserver kube-controller-manager kubectl"}, bin); err != nil {
			return "", err
		}
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			return "", fmt.Errorf("%s missing after hack scripts: %w", b, err)
		}
	}
	return bin, nil
})

// RepoRoot is the module root.
func RepoRoot() string { return testtools.RepoRoot() }

// FreePort returns a currently free TCP port on 127.0.0.1.
func FreePort() (int, error) { return testtools.FreePort() }

// Start brings the control plane up and waits until the apiserver answers
// /readyz and the controller manager is running. On error everything already
// started is stopped.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, err error) {
	if opts.Dir == "" {
		return nil, errors.New("controlplane: Options.Dir is required")
	}
	if opts.BinDir == "" {
		if opts.BinDir, err = BinDir(); err != nil {
			return nil, err
		}
	}
	if len(opts.Controllers) == 0 {
		opts.Controllers = DefaultControllers
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, err
	}
	cp := &ControlPlane{dir: opts.Dir}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()
	p, err := newPKI(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("controlplane: pki: %w", err)
	}
	cp.CACert = p.caPEM

	// etcd.
	clientPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	if err := cp.spawn("etcd", filepath.Join(opts.BinDir, "etcd"),
		"--name=e2e", "--data-dir="+filepath.Join(opts.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=e2e="+peerURL, "--unsafe-no-fsync=true",
		"--listen-metrics-urls=http://127.0.0.1:0",
	); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, http.DefaultClient, etcdURL+"/health", 60*time.Second, cp.exited("etcd")); err != nil {
		return nil, fmt.Errorf("controlplane: etcd: %w\n%s", err, cp.tail("etcd"))
	}

	// kube-apiserver.
	apiPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	cp.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	if err := cp.spawn("kube-apiserver", filepath.Join(opts.BinDir, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--cert-dir="+filepath.Join(opts.Dir, "apiserver-certs"),
		"--tls-cert-file="+p.servingCert, "--tls-private-key-file="+p.servingKey,
		"--client-ca-file="+p.caCertFile,
		"--service-account-issuer="+cp.APIServerURL,
		"--service-account-key-file="+p.saPubFile,
		"--service-account-signing-key-file="+p.saPrivFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// No kubelet mounts projected volumes here: the node agent requests
		// each pod's service-account token itself (TokenRequest) and mounts
		// it where kubelet would, so the admission plugin that adds the
		// projected volume to pod specs is off.
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		// pods/log goes to the node agent's log endpoint on the Node's
		// InternalIP (its Hostname does not resolve).
		"--kubelet-preferred-address-types=InternalIP",
	); err != nil {
		return nil, err
	}
	cp.Kubeconfig = filepath.Join(opts.Dir, "admin.kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, []byte(kubeconfig(cp.APIServerURL, p)), 0o600); err != nil {
		return nil, err
	}
	cp.Config, err = clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("controlplane: kubeconfig: %w", err)
	}
	cp.Config.QPS, cp.Config.Burst = 200, 400
	httpClient, err := rest.HTTPClientFor(cp.Config)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, httpClient, cp.APIServerURL+"/readyz", 120*time.Second, cp.exited("kube-apiserver")); err != nil {
		return nil, fmt.Errorf("controlplane: kube-apiserver: %w\n%s", err, cp.tail("kube-apiserver"))
	}
	if cp.Client, err = kubernetes.NewForConfig(cp.Config); err != nil {
		return nil, err
	}

	// kube-controller-manager. --secure-port=0 turns its own HTTPS endpoint off
	// (nothing scrapes it here, and it would need delegated authn).
	ctrls := ""
	for i, c := range opts.Controllers {
		if i > 0 {
			ctrls += ","
		}
		ctrls += c
	}
	if err := cp.spawn("kube-controller-manager", filepath.Join(opts.BinDir, "kube-controller-manager"),
		"--kubeconfig="+cp.Kubeconfig,
		"--controllers="+ctrls,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--root-ca-file="+p.caCertFile,
		"--cluster-signing-cert-file=", "--cluster-signing-key-file=",
		"--concurrent-statefulset-syncs=2",
	); err != nil {
		return nil, err
	}
	// The controller manager has no health endpoint without its secure port:
	// give it a moment and make sure it did not exit on a flag error.
	select {
	case <-cp.exited("kube-controller-manager"):
		return nil, fmt.Errorf("controlplane: kube-controller-manager exited\n%s", cp.tail("kube-controller-manager"))
	case <-time.After(time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return cp, nil
}

func kubeconfig(server string, p *pki) string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: e2e
  context:
    cluster: e2e
    user: admin
    namespace: default
current-context: e2e
`, server, b64(p.caPEM), b64(p.adminCertPEM), b64(p.adminKeyPEM))
}

// LogFile returns the log path of one control-plane process.
func (cp *ControlPlane) LogFile(name string) string { return filepath.Join(cp.dir, name+".log") }

func (cp *ControlPlane) spawn(name, bin string, args ...string) error {
	logf, err := os.OpenFile(cp.LogFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("controlplane: start %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { // owned by pr: ends when the process exits (Stop guarantees that)
		pr.err = cmd.Wait()
		close(pr.done)
	}()
	cp.mu.Lock()
	cp.procs = append(cp.procs, pr)
	cp.mu.Unlock()
	return nil
}

func (cp *ControlPlane) exited(name string) <-chan struct{} {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, p := range cp.procs {
		if p.name == name {
			return p.done
		}
	}
	return nil
}

func (cp *ControlPlane) tail(name string) string {
	b, _ := os.ReadFile(cp.LogFile(name))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop ends every process in reverse start order: SIGTERM, then SIGKILL after
// 5 s (kube-apiserver has been seen ignoring SIGTERM). Safe to call twice.
func (cp *ControlPlane) Stop() {
	cp.mu.Lock()
	procs := cp.procs
	cp.procs = nil
	cp.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

// waitHTTP polls url until it answers 200, the deadline passes, the process
// exits or ctx ends.
func waitHTTP(ctx context.Context, c *http.Client, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited while waiting for %s", url)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out after %s: %v", timeout, last)
}
