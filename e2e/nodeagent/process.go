package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podRun is one pod the agent runs. Its goroutines (one per container, plus
// the init sequence) are owned by it and end when stop cancels its context.
type podRun struct {
	uid      types.UID
	ns, name string
	ip, dir  string
	start    time.Time
	volSync  time.Time // last volume refresh; touched by the sync loop only

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	terminating bool
	grace       time.Duration
	initDone    bool
	inits       []*containerRun
	containers  []*containerRun
}

// containerRun is the supervised process of one container.
type containerRun struct {
	spec   corev1.Container
	argv   []string
	env    []string
	mounts []mount
	log    string
	ip     string
	init   bool

	mu        sync.Mutex
	pid       int
	running   bool
	ready     bool
	started   bool
	startedAt time.Time
	restarts  int32
	lastTerm  *corev1.ContainerStateTerminated
	waiting   string // reason while not running
	waitMsg   string
	completed bool // init container finished successfully
}

func (r *podRun) beginTerminate() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.terminating {
		return false
	}
	r.terminating = true
	return true
}

func (r *podRun) isTerminating() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.terminating
}

func (r *podRun) container(name string) *containerRun {
	for _, c := range r.containers {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

// stop ends every process of the pod: SIGTERM, then SIGKILL after grace
// (grace 0: SIGKILL at once), and waits for the supervisors to return.
func (r *podRun) stop(grace time.Duration) {
	r.mu.Lock()
	r.terminating = true
	r.grace = grace
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// ensureRunning starts a bound pod's processes once its volumes and env can
// be resolved; until then the reason is kept for the pod status.
func (a *Agent) ensureRunning(ctx context.Context, pod *corev1.Pod) {
	a.mu.Lock()
	r, ok := a.runs[pod.UID]
	a.mu.Unlock()
	if ok {
		// Like kubelet, keep ConfigMap and Secret volumes current (files are
		// rewritten atomically, only when their content changed).
		if time.Since(r.volSync) > 2*time.Second {
			r.volSync = time.Now()
			if _, err := a.volumes(pod, r.dir); err != nil {
				a.opts.Logf("nodeagent: refresh volumes of %s/%s: %v", pod.Namespace, pod.Name, err)
			}
		}
		return
	}
	r, err := a.prepare(ctx, pod)
	if err != nil {
		a.setWaiting(pod.UID, err.Error())
		return
	}
	a.setWaiting(pod.UID, "")
	a.mu.Lock()
	a.runs[pod.UID] = r
	a.mu.Unlock()
	a.opts.Logf("nodeagent: starting pod %s/%s on %s", pod.Namespace, pod.Name, r.ip)
	r.wg.Add(1)
	go func() { // owned by r: ends when r.ctx is cancelled
		defer r.wg.Done()
		for _, c := range r.inits {
			if !a.supervise(r, c) {
				return
			}
		}
		r.mu.Lock()
		r.initDone = true
		r.mu.Unlock()
		var wg sync.WaitGroup
		for _, c := range r.containers {
			wg.Add(1)
			go func() { // owned by r via wg
				defer wg.Done()
				a.supervise(r, c)
			}()
		}
		wg.Wait()
	}()
}

func (a *Agent) setWaiting(uid types.UID, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.waiting == nil {
		a.waiting = map[types.UID]string{}
	}
	if msg == "" {
		delete(a.waiting, uid)
	} else {
		a.waiting[uid] = msg
	}
}

func (a *Agent) prepare(ctx context.Context, pod *corev1.Pod) (*podRun, error) {
	dir := a.podDir(pod)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	vols, err := a.volumes(pod, dir)
	if err != nil {
		return nil, err
	}
	saDir, err := a.serviceAccountVolume(ctx, pod, dir)
	if err != nil {
		return nil, err
	}
	ip, err := a.allocIP(pod.UID)
	if err != nil {
		return nil, err
	}
	resolv, hosts, err := a.writeDNSFiles(pod, dir, ip)
	if err != nil {
		a.freeIP(ip, pod.UID)
		return nil, err
	}
	r := &podRun{uid: pod.UID, ns: pod.Namespace, name: pod.Name, ip: ip, dir: dir, start: time.Now().Truncate(time.Second)}
	build := func(c corev1.Container, init bool) (*containerRun, error) {
		env, err := a.env(pod, &c, ip)
		if err != nil {
			return nil, fmt.Errorf("container %q: %w", c.Name, err)
		}
		ms, err := mounts(&c, vols)
		if err != nil {
			return nil, err
		}
		ms = withDNS(withServiceAccount(ms, saDir), resolv, hosts)
		argv, err := a.command(&c, env)
		if err != nil {
			return nil, err
		}
		return &containerRun{spec: c, argv: argv, env: env, mounts: ms, log: filepath.Join(dir, c.Name+".log"), ip: ip, init: init, waiting: "ContainerCreating"}, nil
	}
	for _, c := range pod.Spec.InitContainers {
		cr, err := build(c, true)
		if err != nil {
			a.freeIP(ip, pod.UID)
			return nil, err
		}
		r.inits = append(r.inits, cr)
	}
	for _, c := range pod.Spec.Containers {
		cr, err := build(c, false)
		if err != nil {
			a.freeIP(ip, pod.UID)
			return nil, err
		}
		r.containers = append(r.containers, cr)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

func (a *Agent) freeIP(ip string, uid types.UID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ips[ip] == uid {
		delete(a.ips, ip)
	}
}

// command maps the container's command (or the image entrypoint) to host
// binaries and expands $(VAR) references.
func (a *Agent) command(c *corev1.Container, env []string) ([]string, error) {
	vals := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	cmd := c.Command
	if len(cmd) == 0 {
		cmd = a.opts.Entrypoints[c.Image]
	}
	if len(cmd) == 0 {
		return nil, fmt.Errorf("container %q sets no command and image %q has no entrypoint in Options.Entrypoints", c.Name, c.Image)
	}
	argv := make([]string, 0, len(cmd)+len(c.Args))
	for _, s := range append(append([]string{}, cmd...), c.Args...) {
		argv = append(argv, expand(s, vals))
	}
	if host, ok := a.opts.Binaries[argv[0]]; ok {
		argv[0] = host
	} else if !filepath.IsAbs(argv[0]) {
		return nil, fmt.Errorf("container %q: command %q is not mapped to a host binary", c.Name, argv[0])
	}
	return argv, nil
}

// supervise runs one container until the pod stops: restarts it when it exits
// (restartPolicy Always for app containers; init containers until success)
// with a 1 s back-off doubling to 8 s. It returns false when the pod stopped
// before an init container completed.
func (a *Agent) supervise(r *podRun, c *containerRun) bool {
	backoff := time.Second
	for {
		if r.ctx.Err() != nil {
			return false
		}
		began := time.Now()
		exit, err := a.runOnce(r, c)
		if err != nil {
			a.opts.Logf("nodeagent: %s/%s/%s: %v", r.ns, r.name, c.spec.Name, err)
		}
		if r.ctx.Err() != nil {
			return false
		}
		if c.init && exit == 0 && err == nil {
			c.mu.Lock()
			c.completed = true
			c.mu.Unlock()
			return true
		}
		c.mu.Lock()
		c.restarts++
		c.waiting, c.waitMsg = "CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container", backoff)
		c.mu.Unlock()
		a.opts.Logf("nodeagent: %s/%s/%s exited (code %d), restart #%d in %s", r.ns, r.name, c.spec.Name, exit, c.restarts, backoff)
		if time.Since(began) > 30*time.Second {
			backoff = time.Second
		}
		select {
		case <-r.ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 8*time.Second)
	}
}

// runOnce starts the container process in its own mount namespace, runs its
// probes, and waits for it to exit or for the pod to stop.
func (a *Agent) runOnce(r *podRun, c *containerRun) (int, error) {
	logf, err := os.OpenFile(c.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return -1, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== nodeagent: starting %s (restart %d) at %s\n", c.spec.Name, c.restarts, time.Now().Format(time.RFC3339Nano))
	logStart, _ := logf.Seek(0, io.SeekEnd)
	// The binary is opened before the mounts and executed as fd 3: a volume
	// mounted over a directory holding it (an emptyDir at /tmp, say) would
	// otherwise hide it inside the namespace.
	bin, err := os.Open(c.argv[0])
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", c.argv[0], err)
	}
	defer bin.Close()
	readOnlyRoot := c.spec.SecurityContext != nil && c.spec.SecurityContext.ReadOnlyRootFilesystem != nil && *c.spec.SecurityContext.ReadOnlyRootFilesystem
	args := append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", mountScript(c.mounts, c.spec.WorkingDir, readOnlyRoot), c.argv[0]}, c.argv[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{bin}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.mu.Lock()
		c.waiting, c.waitMsg = "RunContainerError", err.Error()
		c.mu.Unlock()
		return -1, fmt.Errorf("start: %w", err)
	}
	now := time.Now()
	c.mu.Lock()
	c.pid, c.running, c.startedAt, c.ready, c.waiting, c.waitMsg = cmd.Process.Pid, true, now.Truncate(time.Second), false, "", ""
	c.started = c.spec.StartupProbe == nil
	c.mu.Unlock()

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // owned here: we always receive from exited below
	probeCtx, stopProbes := context.WithCancel(r.ctx)
	probesDone := make(chan struct{})
	if !c.init {
		go func() { // owned here: stopped by stopProbes, awaited via probesDone
			defer close(probesDone)
			a.probeLoop(probeCtx, c, cmd.Process.Pid)
		}()
	} else {
		close(probesDone)
	}
	var werr error
	select {
	case werr = <-exited:
	case <-r.ctx.Done():
		r.mu.Lock()
		grace := r.grace
		r.mu.Unlock()
		pgid := cmd.Process.Pid
		if grace > 0 {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case werr = <-exited:
			case <-time.After(grace):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				werr = <-exited
			}
		} else {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			werr = <-exited
		}
	}
	stopProbes()
	<-probesDone
	code := 0
	reason := "Completed"
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
		reason = "Error"
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
			if ws.Signal() == syscall.SIGKILL {
				reason = "Killed"
			}
		}
	} else if werr != nil {
		code = -1
		reason = "Error"
	}
	tail := ""
	if code != 0 && c.spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
		tail = logTail(c.log, logStart, 80, 2048)
	}
	fmt.Fprintf(logf, "=== nodeagent: %s exited with code %d (%s) at %s\n", c.spec.Name, code, reason, time.Now().Format(time.RFC3339Nano))
	c.mu.Lock()
	c.pid, c.running, c.ready = 0, false, false
	c.lastTerm = &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: reason}
	if code != 0 && c.spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
		// As kubelet: the container's last log lines (at most 80 lines,
		// 2 KiB) become the termination message.
		c.lastTerm.Message = tail
	}
	c.lastTerm.StartedAt.Time = c.startedAt
	c.lastTerm.FinishedAt.Time = time.Now().Truncate(time.Second)
	c.mu.Unlock()
	return code, nil
}

// logTail returns the last lines (at most maxLines and maxBytes) written
// to the log file at path from offset from on.
func logTail(path string, from int64, maxLines, maxBytes int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, from, 1<<30))
	if err != nil && len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > maxBytes {
		out = out[len(out)-maxBytes:]
	}
	return out
}

// mountScript is the shell run inside the new mount namespace: bind each
// volume at its container path, then exec the container binary (open as fd 3)
// with the container's arguments. The mount
// points are created on the host filesystem if missing (empty directories,
// e.g. /etc/kalamdb); the binds themselves are private to the process.
//
// With readOnlyRoot (securityContext.readOnlyRootFilesystem) every other
// mount the process sees (the host's root and its submounts, except /proc,
// /sys and /dev) is remounted read-only inside its namespace, as a container
// runtime mounts the image's root: the process can write only to the
// volumes its pod declares.
func mountScript(ms []mount, workDir string, readOnlyRoot bool) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, m := range ms {
		if m.file {
			fmt.Fprintf(&b, "/bin/mkdir -p %s; [ -e %s ] || : > %s\n", shq(filepath.Dir(m.dst)), shq(m.dst), shq(m.dst))
		} else {
			fmt.Fprintf(&b, "/bin/mkdir -p %s\n", shq(m.dst))
		}
		fmt.Fprintf(&b, "/bin/mount --bind %s %s\n", shq(m.src), shq(m.dst))
		if m.readOnly {
			fmt.Fprintf(&b, "/bin/mount -o remount,bind,ro %s\n", shq(m.dst))
		}
	}
	if readOnlyRoot {
		vols := " "
		for _, m := range ms {
			vols += m.dst + " "
		}
		fmt.Fprintf(&b, "vols=%s\n", shq(vols))
		b.WriteString("while read -r _ _ _ _ mp _; do\n")
		b.WriteString("  case \"$mp\" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;; esac\n")
		b.WriteString("  case \"$vols\" in *\" $mp \"*) continue ;; esac\n")
		b.WriteString("  /bin/mount -o remount,bind,ro \"$mp\" 2>/dev/null || true\n")
		b.WriteString("done < /proc/self/mountinfo\n")
	}
	if workDir != "" {
		fmt.Fprintf(&b, "cd %s\n", shq(workDir))
	}
	b.WriteString("exec /proc/self/fd/3 \"$@\"\n")
	return b.String()
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
