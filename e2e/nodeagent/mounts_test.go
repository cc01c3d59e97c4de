package nodeagent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestMountsShadowLast: an emptyDir at /tmp is bound after the volumes
// whose host directories live under /tmp, or it would hide their sources
// (the data plane's TLS Secret at /etc/kalamdb-tls failed to mount so).
func TestMountsShadowLast(t *testing.T) {
	pod := "/tmp/e2e/pods/p"
	c := &corev1.Container{Name: "c", VolumeMounts: []corev1.VolumeMount{
		{Name: "config", MountPath: "/etc/kalamdb"},
		{Name: "tmp", MountPath: "/tmp"},
		{Name: "tls", MountPath: "/etc/kalamdb-tls", ReadOnly: true},
	}}
	ms, err := mounts(c, map[string]string{"config": pod + "/volumes/config", "tmp": pod + "/volumes/tmp", "tls": pod + "/volumes/tls"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.dst)
	}
	if len(got) != 3 || got[0] != "/etc/kalamdb" || got[1] != "/etc/kalamdb-tls" || got[2] != "/tmp" {
		t.Fatalf("mount order %v, want /tmp last", got)
	}
}
