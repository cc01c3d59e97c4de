package nodeagent

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpand(t *testing.T) {
	vals := map[string]string{"A": "x", "POD_IP": "127.1.2.3"}
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"$(A)", "x"},
		{"--host=$(POD_IP):8080", "--host=127.1.2.3:8080"},
		{"$(MISSING)", "$(MISSING)"},
		{"$$(A)", "$(A)"},
		{"cost $5", "cost $5"},
		{"$(A", "$(A"},
		{"end$", "end$"},
	} {
		if got := expand(tc.in, vals); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFieldRef(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kalam-0", Namespace: "ns", UID: "u1",
		Labels: map[string]string{"app": "db"}, Annotations: map[string]string{"a": "b"}},
		Spec: corev1.PodSpec{NodeName: "e2e-node"}}
	for _, tc := range []struct{ path, want string }{
		{"metadata.name", "kalam-0"},
		{"metadata.namespace", "ns"},
		{"metadata.uid", "u1"},
		{"spec.nodeName", "e2e-node"},
		{"status.podIP", "127.9.9.2"},
		{"status.hostIP", "127.0.0.1"},
		{"metadata.labels['app']", "db"},
		{"metadata.annotations['a']", "b"},
	} {
		got, err := fieldRef(pod, tc.path, "127.9.9.2")
		if err != nil || got != tc.want {
			t.Errorf("fieldRef(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	if _, err := fieldRef(pod, "status.phase", ""); err == nil {
		t.Error("unsupported fieldRef accepted")
	}
}

func TestMountScript(t *testing.T) {
	s := mountScript([]mount{
		{src: "/h/config", dst: "/etc/kalamdb", readOnly: true},
		{src: "/h/data", dst: "/var/lib/kalamdb"},
		{src: "/h/x/f'1", dst: "/etc/app/f.conf", file: true},
	}, "/work", false)
	for _, want := range []string{
		"/bin/mkdir -p '/etc/kalamdb'\n/bin/mount --bind '/h/config' '/etc/kalamdb'\n/bin/mount -o remount,bind,ro '/etc/kalamdb'\n",
		"/bin/mount --bind '/h/data' '/var/lib/kalamdb'\n",
		`'/h/x/f'\''1'`,
		"[ -e '/etc/app/f.conf' ] || : > '/etc/app/f.conf'",
		"cd '/work'\n",
		"exec /proc/self/fd/3 \"$@\"\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("mount script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "remount,bind,ro '/var/lib/kalamdb'") {
		t.Error("read-write mount remounted read-only")
	}
}
