package nodeagent

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func dnsPod(ns, name, ip string, ready bool, lbl map[string]string, hostname, subdomain string) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbl},
		Spec:       corev1.PodSpec{Hostname: hostname, Subdomain: subdomain},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

// TestDNSRecords: the names CoreDNS serves for headless Services, computed
// as the EndpointSlice controller publishes endpoints.
func TestDNSRecords(t *testing.T) {
	db := map[string]string{"app": "db"}
	peers := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "db-peers"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: db, PublishNotReadyAddresses: true}}
	readyOnly := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "db-ready"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: db}}
	clusterIP := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "db"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.9", Selector: db}}
	terminating := dnsPod("a", "db-2", "127.9.9.4", true, db, "db-2", "db-peers")
	terminating.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	failed := dnsPod("a", "db-3", "127.9.9.5", false, db, "db-3", "db-peers")
	failed.Status.Phase = corev1.PodFailed
	pods := []*corev1.Pod{
		dnsPod("a", "db-0", "127.9.9.2", true, db, "db-0", "db-peers"),
		dnsPod("a", "db-1", "127.9.9.3", false, db, "db-1", "db-peers"), // not Ready yet
		terminating,
		failed,
		dnsPod("a", "db-4", "", false, db, "db-4", "db-peers"),         // no IP yet
		dnsPod("b", "db-0", "127.9.9.6", true, db, "db-0", "db-peers"), // other namespace
		dnsPod("a", "other", "127.9.9.7", true, map[string]string{"app": "x"}, "other", "db-peers"),
		dnsPod("a", "nohost", "127.9.9.8", true, db, "", "db-peers"),      // no spec.hostname
		dnsPod("a", "elsewhere", "127.9.9.9", true, db, "elsewhere", "x"), // subdomain of another Service
	}
	got := dnsRecords("cluster.local", []*corev1.Service{peers, readyOnly, clusterIP}, pods)
	want := map[string][]string{
		// publishNotReadyAddresses: every running pod with an IP, terminating too.
		"db-peers.a.svc.cluster.local":      {"127.9.9.2", "127.9.9.3", "127.9.9.4", "127.9.9.8", "127.9.9.9"},
		"db-0.db-peers.a.svc.cluster.local": {"127.9.9.2"},
		"db-1.db-peers.a.svc.cluster.local": {"127.9.9.3"},
		"db-2.db-peers.a.svc.cluster.local": {"127.9.9.4"},
		// Ready and not terminating only; no hostnames (subdomain differs).
		"db-ready.a.svc.cluster.local": {"127.9.9.2", "127.9.9.8", "127.9.9.9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records:\n got %v\nwant %v", got, want)
	}
}

func TestResolvConfAndHosts(t *testing.T) {
	pod := dnsPod("a", "db-1", "127.9.9.3", true, nil, "db-1", "db-peers")
	if got, want := resolvConf(pod, "cluster.local", "127.9.9.1"),
		"search a.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.9.9.1\noptions ndots:5\n"; got != want {
		t.Fatalf("ClusterFirst resolv.conf:\n%s\nwant\n%s", got, want)
	}
	pod.Spec.DNSPolicy = corev1.DNSDefault
	if got := resolvConf(pod, "cluster.local", "127.9.9.1"); got != "" {
		t.Fatalf("dnsPolicy Default must keep the host's resolv.conf, got %q", got)
	}
	pod.Spec.DNSPolicy = corev1.DNSNone
	pod.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"127.0.0.53"}, Searches: []string{"example.test"},
		Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {Name: "edns0"}}}
	if got, want := resolvConf(pod, "cluster.local", "127.9.9.1"),
		"search example.test\nnameserver 127.0.0.53\noptions ndots:2 edns0\n"; got != want {
		t.Fatalf("dnsPolicy None resolv.conf:\n%s\nwant\n%s", got, want)
	}
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "127.0.0.9", Hostnames: []string{"minio", "s3"}}}
	h := hostsFile(pod, "cluster.local", "127.9.9.3")
	for _, line := range []string{"127.0.0.1\tlocalhost\n", "127.9.9.3\tdb-1.db-peers.a.svc.cluster.local\tdb-1\n", "127.0.0.9\tminio\ts3\n"} {
		if !strings.Contains(h, line) {
			t.Fatalf("hosts file lacks %q:\n%s", line, h)
		}
	}
}

// TestDNSServer queries the server with Go's own resolver (what the data
// plane uses, CGO_ENABLED=0) over UDP and TCP: names of the cluster domain
// are answered from the current records (a changed pod IP at once, nothing
// cached), unknown ones are NXDOMAIN, and other names are relayed upstream.
func TestDNSServer(t *testing.T) {
	var mu sync.Mutex
	zone := map[string][]string{"db-0.db-peers.a.svc.cluster.local": {"127.9.9.2"}}
	lookup := func() map[string][]string {
		mu.Lock()
		defer mu.Unlock()
		return zone
	}
	upstream, err := startDNS("127.0.0.1:0", "example.test", nil, func() map[string][]string {
		return map[string][]string{"minio.example.test": {"127.0.0.77"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer upstream.Close()
	s, err := startDNS("127.0.0.1:0", "cluster.local", []string{upstream.Addr()}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, network := range []string{"udp", "tcp"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.Addr())
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := r.LookupHost(ctx, "db-0.db-peers.a.svc.cluster.local.")
		if err != nil || !reflect.DeepEqual(got, []string{"127.9.9.2"}) {
			t.Fatalf("%s: lookup db-0 = %v, %v", network, got, err)
		}
		_, err = r.LookupHost(ctx, "db-9.db-peers.a.svc.cluster.local.")
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Fatalf("%s: unknown name: want not found, got %v", network, err)
		}
		got, err = r.LookupHost(ctx, "minio.example.test.")
		if err != nil || !reflect.DeepEqual(got, []string{"127.0.0.77"}) {
			t.Fatalf("%s: relayed lookup = %v, %v", network, got, err)
		}
		cancel()
	}
	// The pod came back on another IP: the next query answers it.
	mu.Lock()
	zone = map[string][]string{"db-0.db-peers.a.svc.cluster.local": {"127.9.9.5"}}
	mu.Unlock()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.Addr())
	}}
	got, err := r.LookupHost(context.Background(), "db-0.db-peers.a.svc.cluster.local.")
	if err != nil || !reflect.DeepEqual(got, []string{"127.9.9.5"}) {
		t.Fatalf("after the IP change: %v, %v", got, err)
	}
}
