package node

import (
	"testing"
	"testing/fstest"
)

func TestCgroupMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  int64
		ok    bool
	}{
		{"v2 own cgroup", fstest.MapFS{
			"proc/self/cgroup":                          {Data: []byte("0::/kubepods/pod1/c1\n")},
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max": {Data: []byte("1073741824\n")},
			"sys/fs/cgroup/memory.max":                  {Data: []byte("max\n")},
		}, 1 << 30, true},
		{"v2 namespaced root", fstest.MapFS{
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("536870912\n")},
		}, 512 << 20, true},
		{"v2 unlimited", fstest.MapFS{"sys/fs/cgroup/memory.max": {Data: []byte("max\n")}}, 0, false},
		{"v1", fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("268435456\n")}}, 256 << 20, true},
		{"v1 unlimited", fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")}}, 0, false},
		{"none", fstest.MapFS{}, 0, false},
	} {
		got, ok := cgroupMemoryLimit(tc.files)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSoftMemLimit(t *testing.T) {
	for _, tc := range []struct{ cgroup, want int64 }{
		{4 << 30, 3865470566},  // 90% (409.6 MiB headroom > 64 MiB)
		{512 << 20, 448 << 20}, // limit - 64 MiB (< 90%)
		{100 << 20, 50 << 20},  // never below half
	} {
		if got := softMemLimit(tc.cgroup); got != tc.want {
			t.Errorf("softMemLimit(%d) = %d, want %d", tc.cgroup, got, tc.want)
		}
	}
}
