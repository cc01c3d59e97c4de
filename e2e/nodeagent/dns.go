package nodeagent

// Cluster DNS, as CoreDNS and kubelet provide it together in a real cluster.
//
// Invariants:
//   - Records are computed from the API server's view (the agent's informer
//     caches) at the moment of each query, so a pod that comes back on a new
//     IP resolves to it as soon as its status is reported; nothing is cached
//     and no file has to be rewritten in a running pod.
//   - Names follow the EndpointSlice controller + CoreDNS rules for headless
//     Services: a pod is published when the Service selects it and it is
//     Ready (or the Service has publishNotReadyAddresses); a published pod
//     whose spec.hostname is set and whose spec.subdomain names the Service
//     gets <hostname>.<service>.<ns>.svc.<domain>. A Service that does not
//     publish not-ready pods therefore has no name for them here either, as
//     in a real cluster (a StatefulSet whose peers wait for each other before
//     becoming Ready needs publishNotReadyAddresses).
//   - Names outside the cluster domain are relayed to the host's resolvers.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ClusterDomain is the cluster's DNS domain (kubelet's --cluster-domain).
const ClusterDomain = "cluster.local"

// dnsRecords computes the A records of the cluster domain for headless
// Services: the Service name (every published pod) and each published pod's
// hostname under it. Keys are lower-case FQDNs without the trailing dot;
// values are sorted, without duplicates.
func dnsRecords(domain string, svcs []*corev1.Service, pods []*corev1.Pod) map[string][]string {
	out := map[string][]string{}
	add := func(name, ip string) {
		name = strings.ToLower(name)
		if !slices.Contains(out[name], ip) {
			out[name] = append(out[name], ip)
			slices.Sort(out[name])
		}
	}
	for _, svc := range svcs {
		if svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.Spec.Selector) == 0 {
			// ClusterIP Services: there is no kube-proxy here to route a
			// cluster IP, so they get no name (see e2e/README.md).
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		base := svc.Name + "." + svc.Namespace + ".svc." + domain
		for _, p := range pods {
			if p.Namespace != svc.Namespace || !sel.Matches(labels.Set(p.Labels)) || p.Status.PodIP == "" ||
				p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			// The EndpointSlice controller: ready = publishNotReadyAddresses
			// || (pod Ready && not terminating); CoreDNS serves ready ones.
			if !svc.Spec.PublishNotReadyAddresses && (p.DeletionTimestamp != nil || !isPodReady(p)) {
				continue
			}
			add(base, p.Status.PodIP)
			if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name {
				add(p.Spec.Hostname+"."+base, p.Status.PodIP)
			}
		}
	}
	return out
}

func isPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podHostname is the pod's hostname as kubelet sets it.
func podHostname(pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

// usesClusterDNS tells whether the pod's dnsPolicy points it at the cluster
// DNS (ClusterFirst, the default, and ClusterFirstWithHostNet); "Default"
// keeps the host's resolv.conf; "None" uses only spec.dnsConfig.
func usesClusterDNS(pod *corev1.Pod) bool {
	switch pod.Spec.DNSPolicy {
	case "", corev1.DNSClusterFirst:
		return !pod.Spec.HostNetwork
	case corev1.DNSClusterFirstWithHostNet:
		return true
	}
	return false
}

// resolvConf is the pod's /etc/resolv.conf as kubelet writes it for
// ClusterFirst (and None, from spec.dnsConfig alone); "" when the pod keeps
// the host's.
func resolvConf(pod *corev1.Pod, domain, nameserver string) string {
	var servers, search, opts []string
	switch {
	case usesClusterDNS(pod):
		servers = []string{nameserver}
		search = []string{pod.Namespace + ".svc." + domain, "svc." + domain, domain}
		opts = []string{"ndots:5"}
	case pod.Spec.DNSPolicy != corev1.DNSNone:
		return ""
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		servers = append(servers, dc.Nameservers...)
		search = append(search, dc.Searches...)
		for _, o := range dc.Options {
			if o.Value != nil {
				opts = append(opts, o.Name+":"+*o.Value)
			} else {
				opts = append(opts, o.Name)
			}
		}
	}
	var b strings.Builder
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(opts) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(opts, " "))
	}
	return b.String()
}

// hostsFile is the pod's /etc/hosts as kubelet manages it: localhost, the
// pod's own hostname (and FQDN under its subdomain) and spec.hostAliases.
func hostsFile(pod *corev1.Pod, domain, ip string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file (kalamdb e2e node agent).\n")
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	h := podHostname(pod)
	if pod.Spec.Subdomain != "" {
		fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, h, pod.Spec.Subdomain, pod.Namespace, domain, h)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", ip, h)
	}
	for _, ha := range pod.Spec.HostAliases {
		if len(ha.Hostnames) > 0 {
			fmt.Fprintf(&b, "%s\t%s\n", ha.IP, strings.Join(ha.Hostnames, "\t"))
		}
	}
	return b.String()
}

// dnsServer answers DNS queries over UDP and TCP for the cluster domain
// from lookup, and relays other names to upstream resolvers. Its
// goroutines are owned by it and end in Close.
type dnsServer struct {
	domain   string
	lookup   func() map[string][]string
	upstream []string // host:port

	udp    net.PacketConn
	tcp    net.Listener
	wg     sync.WaitGroup
	ctx    context.Context // cancelled by Close: ends open TCP connections
	cancel context.CancelFunc
}

// startDNS listens on addr (ip:port; port 0 picks one) for both UDP and TCP.
// With port 0 the UDP port the kernel picks may be taken for TCP by another
// process (a shared machine), so a few ports are tried.
func startDNS(addr, domain string, upstream []string, lookup func() map[string][]string) (*dnsServer, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("nodeagent: cluster DNS address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 20
	}
	var udp net.PacketConn
	var tcp net.Listener
	for i := range tries {
		if udp, err = net.ListenPacket("udp", addr); err != nil {
			return nil, fmt.Errorf("nodeagent: cluster DNS on udp %s: %w", addr, err)
		}
		if tcp, err = net.Listen("tcp", udp.LocalAddr().String()); err == nil {
			break
		}
		udp.Close()
		if i == tries-1 {
			return nil, fmt.Errorf("nodeagent: cluster DNS on tcp %s: %w", addr, err)
		}
	}
	s := &dnsServer{domain: strings.ToLower(domain), lookup: lookup, upstream: upstream, udp: udp, tcp: tcp}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

// Addr is the address the server listens on (ip:port).
func (s *dnsServer) Addr() string { return s.udp.LocalAddr().String() }

// Close stops the server and waits for its goroutines.
func (s *dnsServer) Close() {
	s.cancel()
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

func (s *dnsServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		q := append([]byte(nil), buf[:n]...)
		s.wg.Add(1)
		go func() { // owned by s (wg): bounded by the upstream timeout
			defer s.wg.Done()
			if resp := s.answer(q, "udp"); resp != nil {
				_, _ = s.udp.WriteTo(resp, from)
			}
		}()
	}
}

func (s *dnsServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.wg.Add(1)
		go func() { // owned by s (wg): ends when the client closes, idles 10 s or s closes
			defer s.wg.Done()
			defer c.Close()
			stop := context.AfterFunc(s.ctx, func() { c.Close() })
			defer stop()
			for {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, int(l[0])<<8|int(l[1]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				resp := s.answer(q, "tcp")
				if resp == nil {
					return
				}
				if _, err := c.Write(append([]byte{byte(len(resp) >> 8), byte(len(resp))}, resp...)); err != nil {
					return
				}
			}
		}()
	}
}

// answer builds the response to one query message; nil drops it.
func (s *dnsServer) answer(q []byte, network string) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) != 1 {
		return reply(h, qs, dnsmessage.RCodeFormatError, nil)
	}
	name := strings.ToLower(strings.TrimSuffix(qs[0].Name.String(), "."))
	if name != s.domain && !strings.HasSuffix(name, "."+s.domain) {
		return s.relay(q, h, qs, network)
	}
	ips, ok := s.lookup()[name]
	if !ok {
		return reply(h, qs, dnsmessage.RCodeNameError, nil)
	}
	var ans []dnsmessage.Resource
	if qs[0].Type == dnsmessage.TypeA || qs[0].Type == dnsmessage.TypeALL {
		for _, ip := range ips {
			a := net.ParseIP(ip).To4()
			if a == nil {
				continue
			}
			ans = append(ans, dnsmessage.Resource{
				Header: dnsmessage.ResourceHeader{Name: qs[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5},
				Body:   &dnsmessage.AResource{A: [4]byte(a)},
			})
		}
	}
	// Other types of an existing name: NOERROR without answers (NODATA).
	return reply(h, qs, dnsmessage.RCodeSuccess, ans)
}

func reply(h dnsmessage.Header, qs []dnsmessage.Question, rc dnsmessage.RCode, ans []dnsmessage.Resource) []byte {
	m := dnsmessage.Message{
		Header: dnsmessage.Header{ID: h.ID, Response: true, OpCode: h.OpCode, Authoritative: rc != dnsmessage.RCodeServerFailure,
			RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: rc},
		Questions: qs, Answers: ans,
	}
	b, err := m.Pack()
	if err != nil {
		return nil
	}
	return b
}

// relay forwards a query outside the cluster domain to the first upstream
// that answers (2 s each); SERVFAIL when none does.
func (s *dnsServer) relay(q []byte, h dnsmessage.Header, qs []dnsmessage.Question, network string) []byte {
	for _, up := range s.upstream {
		c, err := net.DialTimeout(network, up, 2*time.Second)
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		var resp []byte
		if network == "tcp" {
			if _, err = c.Write(append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)); err == nil {
				var l [2]byte
				if _, err = io.ReadFull(c, l[:]); err == nil {
					resp = make([]byte, int(l[0])<<8|int(l[1]))
					_, err = io.ReadFull(c, resp)
				}
			}
		} else if _, err = c.Write(q); err == nil {
			buf := make([]byte, 65535)
			var n int
			n, err = c.Read(buf)
			resp = buf[:n]
		}
		c.Close()
		if err == nil && len(resp) > 0 {
			return resp
		}
	}
	return reply(h, qs, dnsmessage.RCodeServerFailure, nil)
}

// hostNameservers reads the nameservers of the host's resolv.conf (as
// ip:53), the upstreams of names outside the cluster domain.
func hostNameservers(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && net.ParseIP(f[1]) != nil {
			out = append(out, net.JoinHostPort(f[1], "53"))
		}
	}
	return out
}

// withDNS adds the pod's resolv.conf and hosts files (written in the pod
// directory by writeDNSFiles) unless the container mounts those paths
// itself. They go first: a volume mounted over a host directory holding
// the pod directory (an emptyDir at /tmp) would otherwise hide them.
func withDNS(ms []mount, resolv, hosts string) []mount {
	var add []mount
	for _, f := range []struct{ src, dst string }{{resolv, "/etc/resolv.conf"}, {hosts, "/etc/hosts"}} {
		if f.src == "" || slices.ContainsFunc(ms, func(m mount) bool { return m.dst == f.dst }) {
			continue
		}
		add = append(add, mount{src: f.src, dst: f.dst, file: true})
	}
	return append(add, ms...)
}

// writeDNSFiles writes the pod's resolv.conf (when its dnsPolicy asks for
// one) and hosts file into dir and returns their paths ("" for none).
func (a *Agent) writeDNSFiles(pod *corev1.Pod, dir, ip string) (resolv, hosts string, err error) {
	if pod.Spec.HostNetwork {
		return "", "", nil // kubelet leaves a host-network pod the node's files
	}
	hosts = filepath.Join(dir, "etc-hosts")
	if err := os.WriteFile(hosts, []byte(hostsFile(pod, ClusterDomain, ip)), 0o644); err != nil {
		return "", "", err
	}
	if rc := resolvConf(pod, ClusterDomain, a.dnsIP); rc != "" {
		resolv = filepath.Join(dir, "resolv.conf")
		if err := os.WriteFile(resolv, []byte(rc), 0o644); err != nil {
			return "", "", err
		}
	}
	return resolv, hosts, nil
}

// records is the cluster DNS zone computed from the informer caches.
func (a *Agent) records() map[string][]string {
	svcs, err := a.services.List(labels.Everything())
	if err != nil {
		return nil
	}
	pods, err := a.pods.List(labels.Everything())
	if err != nil {
		return nil
	}
	return dnsRecords(ClusterDomain, svcs, pods)
}
