package harness

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// ServiceEndpoints resolves a Service port to the host:port of its ready
// backends, computing what the EndpointSlice controller publishes (selector,
// Ready pods with an IP, targetPort by name or number).
//
// Why not read the EndpointSlice: pod IPs here are loopback addresses
// (127.x.y.z, the only addresses a test may bind), and the API server rejects
// loopback addresses in EndpointSlices and Endpoints ("may not be in the
// loopback range"), so the real controller cannot store them. There is no
// kube-proxy either; a client reaches a Service by this same resolution.
func ServiceEndpoints(ctx context.Context, c kubernetes.Interface, namespace, service, port string) ([]string, error) {
	svc, err := c.CoreV1().Services(namespace).Get(ctx, service, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", namespace, service, err)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.Name == port || strconv.Itoa(int(p.Port)) == port || (port == "" && len(svc.Spec.Ports) == 1) {
			sp = p
			break
		}
	}
	if sp == nil {
		return nil, fmt.Errorf("service %s/%s has no port %q", namespace, service, port)
	}
	if len(svc.Spec.Selector) == 0 {
		return nil, fmt.Errorf("service %s/%s has no selector", namespace, service)
	}
	pods, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.PodIP == "" || !isReady(&p) {
			continue
		}
		target := sp.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(sp.Port)
		}
		n, ok := containerPort(&p, target)
		if !ok {
			continue
		}
		out = append(out, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(n)))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("service %s/%s has no ready endpoints", namespace, service)
	}
	return out, nil
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func containerPort(p *corev1.Pod, target intstr.IntOrString) (int, bool) {
	if target.Type == intstr.Int {
		return target.IntValue(), true
	}
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == target.StrVal {
				return int(cp.ContainerPort), true
			}
		}
	}
	return 0, false
}
