package harness

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/objstore/s3test"
	"github.com/kalamdb/kalamdb-k8s/e2e/controlplane"
	"github.com/kalamdb/kalamdb-k8s/e2e/nodeagent"
)

// Bucket is the MinIO bucket the samples' object store points at.
const Bucket = "kalamdb"

// Env is the whole e2e environment: control plane, node agent, MinIO and the
// operator process. Everything is stopped by t.Cleanup.
type Env struct {
	Dir   string
	CP    *controlplane.ControlPlane
	Agent *nodeagent.Agent
	MinIO *s3test.Server
	S3    *minio.Client
	// Client reads and writes kalamdb.io objects (typed, controller-runtime).
	Client client.Client
	// Kubectl is the kubectl v1.37.1 binary built by hack/kube.sh.
	Kubectl string
	// Helm is the helm binary installed by hack/go-tools.sh.
	Helm string

	operator    *exec.Cmd
	operatorLog string
	operatorErr chan error
}

// Options selects how Start runs the operator.
type Options struct {
	// OperatorProcess runs the manager as a host process with the admin
	// kubeconfig and the CRDs applied with kubectl from config/crd, instead
	// of the default: `helm install` of charts/kalamdb-operator, the manager
	// running as the chart's pod (its ServiceAccount token, RBAC,
	// securityContext with a read-only root filesystem, resources).
	OperatorProcess bool
	// SkipOperator installs neither: the test installs the operator itself
	// (TestInstallGuide runs the guide's `helm install`). The CRDs come with
	// that install.
	SkipOperator bool
}

// Start brings the environment up with the operator installed from the Helm
// chart (see Options). It builds kalamdb and manager from this repository
// (CGO_ENABLED=0, as the Dockerfile); the node agent runs the chart's
// /manager and the data plane's /kalamdb from those binaries.
func Start(ctx context.Context, t testing.TB) *Env { return StartWith(ctx, t, Options{}) }

// StartWith is Start with options.
func StartWith(ctx context.Context, t testing.TB, opts Options) *Env {
	t.Helper()
	dir := t.TempDir()
	if keep := os.Getenv("KALAMDB_E2E_KEEP"); keep != "" {
		dir = keep
		_ = os.MkdirAll(dir, 0o750)
	}
	e := &Env{Dir: dir}
	t.Logf("e2e: working directory %s", dir)
	began := time.Now()

	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		t.Fatal(err)
	}
	// Compiling is not part of the scenario's time budget: on a cold build
	// cache and a busy machine it can take many minutes (`make test-e2e`
	// warms the cache first; see e2e-bins in the Makefile).
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), BuildTimeout)
	defer bcancel()
	kalamdb, err := Build(bctx, binDir, "./cmd/kalamdb")
	if err != nil {
		t.Fatal(err)
	}
	manager, err := Build(bctx, binDir, "./cmd/manager")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("e2e: binaries built in %s", time.Since(began).Round(time.Millisecond))

	tools, err := controlplane.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	e.Kubectl = filepath.Join(tools, "kubectl")
	if !opts.OperatorProcess {
		if e.Helm, err = Helm(); err != nil {
			t.Fatal(err)
		}
	}
	mark := time.Now()
	e.CP, err = controlplane.Start(ctx, controlplane.Options{Dir: filepath.Join(dir, "controlplane"), BinDir: tools})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.CP.Stop)
	t.Logf("e2e: control plane up in %s (%s)", time.Since(mark).Round(time.Millisecond), e.CP.APIServerURL)

	agentLog, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentLog.Close() })
	e.Agent, err = nodeagent.Start(ctx, nodeagent.Options{
		Client: e.CP.Client, Dir: filepath.Join(dir, "node"),
		Binaries: map[string]string{"/kalamdb": kalamdb, "/manager": manager},
		Logf: func(format string, args ...any) {
			fmt.Fprintf(agentLog, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
		},
		APIServer: e.CP.APIServerURL, CAData: e.CP.CACert,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Agent.Stop)

	e.MinIO, err = s3test.Start(filepath.Join(dir, "minio"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.MinIO.Stop)
	e.S3, err = minio.New(e.MinIO.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3test.AccessKey, s3test.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.S3.MakeBucket(ctx, Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}

	// The typed client logs through controller-runtime's logger; the suite
	// reports through t instead.
	ctrllog.SetLogger(logr.Discard())
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := kalamv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	e.Client, err = client.New(e.CP.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() {
		if t.Failed() {
			e.dumpLogs(t)
		}
	})
	switch {
	case opts.SkipOperator:
	case opts.OperatorProcess:
		// CRDs exactly as a user installs them with kustomize/kubectl.
		if out, err := e.KubectlRun(ctx, nil, "apply", "--server-side", "-f", filepath.Join(controlplane.RepoRoot(), "config", "crd", "bases")); err != nil {
			t.Fatalf("kubectl apply CRDs: %v\n%s", err, out)
		}
		if out, err := e.KubectlRun(ctx, nil, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"); err != nil {
			t.Fatalf("CRDs not established: %v\n%s", err, out)
		}
		e.startOperator(t, manager)
	default:
		e.installOperatorChart(ctx, t)
	}
	t.Logf("e2e: environment ready in %s", time.Since(began).Round(time.Millisecond))
	return e
}

func (e *Env) startOperator(t testing.TB, manager string) {
	t.Helper()
	mport, err := controlplane.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	hport, err := controlplane.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e.operatorLog = filepath.Join(e.Dir, "operator.log")
	logf, err := os.OpenFile(e.operatorLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(manager,
		"--metrics-bind-address=127.0.0.1:"+strconv.Itoa(mport),
		"--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(hport),
		"--resync=10s",
	)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.CP.Kubeconfig)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start operator: %v", err)
	}
	e.operator = cmd
	e.operatorErr = make(chan error, 1)
	go func() { e.operatorErr <- cmd.Wait() }() // owned by Env: the cleanup below always reaps it
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-e.operatorErr:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-e.operatorErr
		}
	})
	// Ready when its health endpoint answers.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(hport) + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-e.operatorErr:
			e.operatorErr <- err
			b, _ := os.ReadFile(e.operatorLog)
			t.Fatalf("operator exited: %v\n%s", err, b)
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("operator did not become ready")
}

// KubectlRun runs kubectl against the control plane with stdin.
func (e *Env) KubectlRun(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.Kubectl, append([]string{"--kubeconfig", e.CP.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ApplySample applies config/samples/<file> into namespace with kubectl,
// after replacing each old string of replace with the next one (e.g. the
// sample's object-store endpoint with MinIO's loopback address).
func (e *Env) ApplySample(ctx context.Context, t testing.TB, namespace, file string, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(controlplane.RepoRoot(), "config", "samples", file))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(replace...).Replace(string(b))
	if out, err := e.KubectlRun(ctx, []byte(s), "apply", "-n", namespace, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply %s: %v\n%s", file, err, out)
	}
}

// CopySamples copies config/samples into dir with the one edit the samples
// ask of a user: the object-store endpoint is MinIO's.
func (e *Env) CopySamples(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(controlplane.RepoRoot(), "config", "samples", "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		edited := strings.ReplaceAll(string(b), "minio.minio.svc:9000", e.MinIO.Endpoint)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(edited), 0o640); err != nil {
			return err
		}
	}
	return nil
}

// OperatorLog is the operator's log file.
func (e *Env) OperatorLog() string { return e.operatorLog }

func (e *Env) dumpLogs(t testing.TB) {
	tail := func(path string, n int) string {
		b, _ := os.ReadFile(path)
		if len(b) > n {
			b = b[len(b)-n:]
		}
		return string(b)
	}
	if e.operatorLog != "" {
		t.Logf("=== operator log (tail)\n%s", tail(e.operatorLog, 12000))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Logf("=== pods\n%s", e.PodStatuses(ctx, ""))
	t.Logf("=== node agent log (tail)\n%s", tail(filepath.Join(e.Dir, "agent.log"), 6000))
	logs, _ := filepath.Glob(filepath.Join(e.Dir, "node", "pods", "*", "*.log"))
	for _, l := range logs {
		t.Logf("=== %s (tail)\n%s", l, tail(l, 4000))
	}
}
