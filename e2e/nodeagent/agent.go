// Package nodeagent is a small stand-in for kubelet and the scheduler, for the
// e2e suite only (no container runtime runs here). It registers one Node,
// binds unscheduled pods to it through the pods/binding subresource, provides
// PersistentVolumes for pending claims, and runs every container of its pods
// as a local process:
//
//   - each pod gets its own loopback address (127.x.y.z) as status.podIP;
//   - container images are not pulled: Options.Binaries maps the path of the
//     image's binary (command[0]) to a host binary built from this repo;
//   - env is resolved like kubelet does (value, $(VAR) expansion,
//     secretKeyRef, configMapKeyRef, fieldRef, envFrom);
//   - ConfigMap, Secret, PVC and emptyDir volumes are materialised as host
//     directories and bind-mounted at the container paths inside a private
//     mount namespace per process (unshare --mount), so the process sees
//     /etc/kalamdb and /var/lib/kalamdb exactly as in a container; a PVC's
//     directory survives container restarts and pod re-creation;
//   - HTTP/TCP readiness, liveness and startup probes run against the pod IP;
//     an exited or liveness-failed process is restarted (restartCount grows);
//   - container logs are served at the Node's kubelet endpoint, so pods/log
//     (`kubectl logs`) works;
//   - pod status (phase, podIP, conditions, containerStatuses) is reported
//     through the pods/status subresource, and deleting pods are stopped
//     (SIGTERM, SIGKILL after the grace period) and then removed.
//
// Known differences from kubelet (deliberate, documented in e2e/README.md):
// securityContext (except readOnlyRootFilesystem), resources, image pull,
// exec probes and projected volumes are ignored (the service-account token
// is mounted by the agent itself, see Options.APIServer); the restart back-off is 1 s doubling to 8 s (kubelet: 10 s to
// 5 min); probes run at most every 500 ms regardless of periodSeconds for
// readiness.
package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Options configures an Agent.
type Options struct {
	Client kubernetes.Interface
	// NodeName of the Node the agent registers (default "e2e-node").
	NodeName string
	// Dir holds pod directories, volumes and container logs (required).
	Dir string
	// IPPrefix is the first three octets of pod IPs, e.g. "127.31.7."; pods
	// get .2 to .254. Default: derived from the process id.
	IPPrefix string
	// Binaries maps an image binary path (a container's command[0], e.g.
	// "/kalamdb") to the host binary standing in for the image.
	Binaries map[string]string
	// Entrypoints gives the command of containers that set none (the image
	// ENTRYPOINT), by image reference.
	Entrypoints map[string][]string
	// Logf receives agent events; default discards.
	Logf func(format string, args ...any)
	// APIServer (https://host:port) and CAData (its CA bundle, PEM) make
	// pods run "in cluster" as under kubelet: every container gets the
	// KUBERNETES_SERVICE_HOST/PORT variables, and pods that automount a
	// service-account token get one (TokenRequest, bound to the pod) with
	// ca.crt and namespace at /var/run/secrets/kubernetes.io/serviceaccount.
	// Empty: neither.
	APIServer string
	CAData    []byte
	// DNSPort is the port of the cluster DNS server (default 53, the only
	// port a resolv.conf can name; tests of the server alone use others).
	// It listens on <IPPrefix>1, the one address of the prefix pods never
	// get, and pods with dnsPolicy ClusterFirst get a resolv.conf naming it.
	DNSPort int
}

// Agent is a running node agent. Create with Start, end with Stop.
type Agent struct {
	opts      Options
	client    kubernetes.Interface
	inCluster *inCluster

	pods     corelisters.PodLister
	pvcs     corelisters.PersistentVolumeClaimLister
	pvs      corelisters.PersistentVolumeLister
	cms      corelisters.ConfigMapLister
	secrets  corelisters.SecretLister
	services corelisters.ServiceLister

	dnsIP string
	dns   *dnsServer

	mu      sync.Mutex
	runs    map[types.UID]*podRun
	ips     map[string]types.UID
	waiting map[types.UID]string // why a bound pod has not started yet

	logs   *logServer
	cancel context.CancelFunc
	done   chan struct{}
	bg     sync.WaitGroup // pod terminations in flight; awaited by Stop
}

// Start registers the Node, starts the informers and the sync loop, and
// returns once the caches are synced.
func Start(ctx context.Context, opts Options) (*Agent, error) {
	if opts.Dir == "" || opts.Client == nil {
		return nil, errors.New("nodeagent: Options.Dir and Options.Client are required")
	}
	if opts.NodeName == "" {
		opts.NodeName = "e2e-node"
	}
	if opts.IPPrefix == "" {
		pid := os.Getpid()
		opts.IPPrefix = fmt.Sprintf("127.%d.%d.", 100+pid%150, (pid/150)%250+1)
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, err
	}
	// Every container runs in its own mount namespace: fail early and
	// clearly where that is impossible (not root, or no CAP_SYS_ADMIN).
	if out, err := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nodeagent: `unshare --mount` does not work here (the agent needs root to give each pod process its own mount namespace): %v: %s", err, out)
	}
	ic, err := newInCluster(opts.APIServer, opts.CAData)
	if err != nil {
		return nil, err
	}
	a := &Agent{opts: opts, client: opts.Client, inCluster: ic, runs: map[types.UID]*podRun{}, ips: map[string]types.UID{}, done: make(chan struct{})}
	if opts.DNSPort == 0 {
		opts.DNSPort = 53
	}
	a.dnsIP = opts.IPPrefix + "1"
	a.dns, err = startDNS(net.JoinHostPort(a.dnsIP, strconv.Itoa(opts.DNSPort)), ClusterDomain, hostNameservers("/etc/resolv.conf"), a.records)
	if err != nil {
		return nil, err
	}
	if a.logs, err = a.startLogServer(); err != nil {
		a.dns.Close()
		return nil, err
	}
	if err := a.registerNode(ctx); err != nil {
		a.logs.stop()
		a.dns.Close()
		return nil, err
	}
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f := informers.NewSharedInformerFactory(opts.Client, 0)
	a.pods = f.Core().V1().Pods().Lister()
	a.pvcs = f.Core().V1().PersistentVolumeClaims().Lister()
	a.pvs = f.Core().V1().PersistentVolumes().Lister()
	a.cms = f.Core().V1().ConfigMaps().Lister()
	a.secrets = f.Core().V1().Secrets().Lister()
	a.services = f.Core().V1().Services().Lister()
	// kick wakes the sync loop on any change, so binding and starting react at
	// once instead of on the next tick.
	kick := make(chan struct{}, 1)
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { nudge(kick) },
		UpdateFunc: func(any, any) { nudge(kick) },
		DeleteFunc: func(any) { nudge(kick) },
	}
	for _, inf := range []cache.SharedIndexInformer{
		f.Core().V1().Pods().Informer(), f.Core().V1().PersistentVolumeClaims().Informer(),
		f.Core().V1().PersistentVolumes().Informer(), f.Core().V1().ConfigMaps().Informer(),
		f.Core().V1().Secrets().Informer(), f.Core().V1().Services().Informer(),
	} {
		if _, err := inf.AddEventHandler(h); err != nil {
			a.logs.stop()
			a.cancel()
			return nil, err
		}
	}
	f.Start(ctx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			a.logs.stop()
			a.dns.Close()
			a.cancel()
			f.Shutdown()
			return nil, fmt.Errorf("nodeagent: cache for %v did not sync", typ)
		}
	}
	go func() { // owned by the Agent: ends when Stop cancels ctx
		defer close(a.done)
		defer f.Shutdown()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			a.sync(ctx)
			select {
			case <-ctx.Done():
				a.stopAll()
				return
			case <-t.C:
			case <-kick:
			}
		}
	}()
	return a, nil
}

func nudge(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Stop ends the sync loop and kills every process the agent runs.
func (a *Agent) Stop() {
	a.cancel()
	<-a.done
	a.bg.Wait()
	a.logs.stop()
	a.dns.Close()
}

// NodeName is the registered Node.
func (a *Agent) NodeName() string { return a.opts.NodeName }

func (a *Agent) registerNode(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: a.opts.NodeName, Labels: map[string]string{
			"kubernetes.io/hostname": a.opts.NodeName, "kubernetes.io/os": "linux", "kalamdb.io/e2e-agent": "true",
		}},
	}
	created, err := a.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = a.client.CoreV1().Nodes().Get(ctx, a.opts.NodeName, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("nodeagent: register node: %w", err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	created.Status = corev1.NodeStatus{
		Capacity: capacity, Allocatable: capacity, Phase: corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "kalamdb e2e node agent", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: a.opts.NodeName},
		},
		NodeInfo: corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64", KubeletVersion: "v1.37.1-e2e"},
		// The API server reaches "kubelet" here for pods/log (InternalIP:
		// see --kubelet-preferred-address-types in package controlplane).
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: a.logs.port()}},
	}
	if _, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("nodeagent: node status: %w", err)
	}
	return nil
}

// sync is one pass: volumes for claims, binding, starting, status, deletion.
func (a *Agent) sync(ctx context.Context) {
	a.syncVolumes(ctx)
	pods, err := a.pods.List(labels.Everything())
	if err != nil {
		a.opts.Logf("nodeagent: list pods: %v", err)
		return
	}
	seen := map[types.UID]bool{}
	for _, pod := range pods {
		seen[pod.UID] = true
		switch {
		case pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil:
			a.bind(ctx, pod)
		case pod.Spec.NodeName != a.opts.NodeName:
		case pod.DeletionTimestamp != nil:
			a.terminate(ctx, pod)
		default:
			a.ensureRunning(ctx, pod)
			a.reportStatus(ctx, pod)
		}
	}
	// Pods removed behind our back (force delete): stop their processes.
	a.mu.Lock()
	var gone []*podRun
	for uid, r := range a.runs {
		if !seen[uid] {
			gone = append(gone, r)
		}
	}
	a.mu.Unlock()
	for _, r := range gone {
		r.stop(0)
		a.forget(r)
	}
}

func (a *Agent) bind(ctx context.Context, pod *corev1.Pod) {
	if pod.Spec.SchedulerName != "" && pod.Spec.SchedulerName != corev1.DefaultSchedulerName {
		return
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: a.opts.NodeName},
	}
	if err := a.client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		// Conflict: already bound (our informer lags behind our own write).
		if !apierrors.IsConflict(err) {
			a.opts.Logf("nodeagent: bind %s/%s: %v", pod.Namespace, pod.Name, err)
		}
		return
	}
	a.opts.Logf("nodeagent: bound %s/%s to %s", pod.Namespace, pod.Name, a.opts.NodeName)
}

// terminate stops a deleting pod's processes (grace period, then SIGKILL) and
// removes the pod object, as kubelet does, without blocking the sync loop.
func (a *Agent) terminate(ctx context.Context, pod *corev1.Pod) {
	a.mu.Lock()
	r := a.runs[pod.UID]
	a.mu.Unlock()
	grace := 30 * time.Second
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	del := func() {
		zero := int64(0)
		uid := pod.UID
		err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			a.opts.Logf("nodeagent: delete %s/%s: %v", pod.Namespace, pod.Name, err)
		}
	}
	if r == nil {
		del()
		return
	}
	if !r.beginTerminate() {
		return
	}
	a.bg.Add(1)
	go func() { // owned by the Agent (bg): bounded by the grace period
		defer a.bg.Done()
		r.stop(grace)
		del()
	}()
}

func (a *Agent) forget(r *podRun) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.runs, r.uid)
	if a.ips[r.ip] == r.uid {
		delete(a.ips, r.ip)
	}
	a.opts.Logf("nodeagent: forgot pod %s/%s (%s)", r.ns, r.name, r.ip)
}

func (a *Agent) stopAll() {
	a.mu.Lock()
	runs := make([]*podRun, 0, len(a.runs))
	for _, r := range a.runs {
		runs = append(runs, r)
	}
	a.mu.Unlock()
	for _, r := range runs {
		r.stop(0)
	}
}

// allocIP hands out the lowest free pod address.
func (a *Agent) allocIP(uid types.UID) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 2; i < 255; i++ {
		ip := fmt.Sprintf("%s%d", a.opts.IPPrefix, i)
		if _, used := a.ips[ip]; !used {
			a.ips[ip] = uid
			return ip, nil
		}
	}
	return "", errors.New("nodeagent: pod IP pool exhausted")
}

func (a *Agent) podDir(pod *corev1.Pod) string {
	return filepath.Join(a.opts.Dir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID))
}

// LogPath is the log file of one container of a pod the agent runs (all
// restarts append to it).
func (a *Agent) LogPath(namespace, pod, container string) (string, error) {
	r, err := a.run(namespace, pod)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.dir, container+".log"), nil
}

// PID returns the host process id of a running container.
func (a *Agent) PID(namespace, pod, container string) (int, error) {
	r, err := a.run(namespace, pod)
	if err != nil {
		return 0, err
	}
	c := r.container(container)
	if c == nil {
		return 0, fmt.Errorf("nodeagent: pod %s/%s has no container %q", namespace, pod, container)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pid == 0 {
		return 0, fmt.Errorf("nodeagent: container %s/%s/%s is not running", namespace, pod, container)
	}
	return c.pid, nil
}

// Kill sends sig to a running container's process (the suite's "kill -9").
func (a *Agent) Kill(namespace, pod, container string, sig syscall.Signal) error {
	pid, err := a.PID(namespace, pod, container)
	if err != nil {
		return err
	}
	return syscall.Kill(pid, sig)
}

func (a *Agent) run(namespace, pod string) (*podRun, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.runs {
		if r.ns == namespace && r.name == pod && !r.isTerminating() {
			return r, nil
		}
	}
	return nil, fmt.Errorf("nodeagent: pod %s/%s is not running here", namespace, pod)
}
