package nodeagent

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeLoop runs the container's startup, readiness and liveness probes
// against the pod IP until ctx ends. Readiness is checked every 500 ms (or
// its period, if shorter) and startup every 500 ms, so the suite does not
// wait out 10 s periods; liveness honours periodSeconds and failureThreshold.
// A failed liveness or startup probe kills the process (the supervisor
// restarts it).
func (a *Agent) probeLoop(ctx context.Context, c *containerRun, pid int) {
	rp, lp, sp := c.spec.ReadinessProbe, c.spec.LivenessProbe, c.spec.StartupProbe
	c.mu.Lock()
	start := c.startedAt
	if rp == nil {
		c.ready = c.started
	}
	c.mu.Unlock()
	var readyFails, liveFails int32
	var lastLive, lastStart time.Time
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastReady time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		elapsed := time.Since(start)
		c.mu.Lock()
		started := c.started
		c.mu.Unlock()
		if !started {
			// Sampled every tick rather than every periodSeconds: the verdict
			// is the same as kubelet's (fail once delay + period x threshold
			// has passed without a success), only found sooner.
			if elapsed < delay(sp) || time.Since(lastStart) < min(period(sp), 500*time.Millisecond) {
				continue
			}
			lastStart = time.Now()
			if a.probe(ctx, c, sp) == nil {
				c.mu.Lock()
				c.started = true
				if rp == nil {
					c.ready = true
				}
				c.mu.Unlock()
				continue
			}
			if elapsed > delay(sp)+period(sp)*time.Duration(threshold(sp)) {
				a.opts.Logf("nodeagent: startup probe failed for %s, killing pid %d", elapsed, pid)
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				return
			}
			continue
		}
		if rp != nil && elapsed >= delay(rp) && time.Since(lastReady) >= min(period(rp), 500*time.Millisecond) {
			lastReady = time.Now()
			err := a.probe(ctx, c, rp)
			c.mu.Lock()
			if err == nil {
				readyFails = 0
				c.ready = true
			} else if readyFails++; readyFails >= threshold(rp) {
				c.ready = false
			}
			c.mu.Unlock()
		}
		if lp != nil && elapsed >= delay(lp) && time.Since(lastLive) >= period(lp) {
			lastLive = time.Now()
			if err := a.probe(ctx, c, lp); err == nil {
				liveFails = 0
			} else if liveFails++; liveFails >= threshold(lp) {
				a.opts.Logf("nodeagent: liveness probe failed %d times (%v), killing pid %d", liveFails, err, pid)
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				return
			}
		}
	}
}

func delay(p *corev1.Probe) time.Duration {
	return time.Duration(p.InitialDelaySeconds) * time.Second
}

func period(p *corev1.Probe) time.Duration {
	if p.PeriodSeconds <= 0 {
		return 10 * time.Second
	}
	return time.Duration(p.PeriodSeconds) * time.Second
}

func threshold(p *corev1.Probe) int32 {
	if p.FailureThreshold <= 0 {
		return 3
	}
	return p.FailureThreshold
}

// probe performs one HTTP GET or TCP connect against the pod IP. Exec and
// gRPC probes cannot run without a container runtime and count as success.
func (a *Agent) probe(ctx context.Context, c *containerRun, p *corev1.Probe) error {
	timeout := time.Second
	if p.TimeoutSeconds > 0 {
		timeout = time.Duration(p.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		port, err := resolvePort(p.HTTPGet.Port, &c.spec)
		if err != nil {
			return err
		}
		host := p.HTTPGet.Host
		if host == "" {
			host = c.ip
		}
		scheme, hc := "http", http.DefaultClient
		if p.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			// As the kubelet: an HTTPS probe does not verify the
			// certificate (it checks that the server answers, not who it is).
			scheme = "https"
			hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}} //nolint:gosec // kubelet semantics
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, strconv.Itoa(port))+p.HTTPGet.Path, nil)
		if err != nil {
			return err
		}
		for _, h := range p.HTTPGet.HTTPHeaders {
			req.Header.Set(h.Name, h.Value)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		port, err := resolvePort(p.TCPSocket.Port, &c.spec)
		if err != nil {
			return err
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.ip, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	return nil
}

func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("container %q has no port named %q", c.Name, p.StrVal)
}
