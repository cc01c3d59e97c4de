package node

import (
	"bufio"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Container-aware memory limit (docs/operations.md, "Memory").
//
// The Go runtime does not know the pod's memory limit: its heap may grow
// until the kernel's OOM killer ends the process. ApplyMemoryLimit reads
// the cgroup limit and sets the runtime's soft limit (GOMEMLIMIT) below
// it, so the garbage collector works harder before the pod is killed.
// The headroom covers what the soft limit does not count: Pebble's block
// cache and memtables are Go heap, but goroutine stacks in flight, the
// kernel's socket buffers charged to the cgroup and page cache are not
// all under the runtime's control.

// memLimitFraction and memLimitHeadroom: the soft limit is the smaller of
// 90% of the cgroup limit and the limit minus 64 MiB, never below half
// the limit.
const (
	memLimitFraction = 0.9
	memLimitHeadroom = 64 << 20
)

// softMemLimit returns the Go soft memory limit for a cgroup limit.
func softMemLimit(cgroup int64) int64 {
	l := min(int64(float64(cgroup)*memLimitFraction), cgroup-memLimitHeadroom)
	return max(l, cgroup/2)
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup from
// root (the filesystem root, "/" in production): cgroup v2's memory.max,
// else cgroup v1's memory.limit_in_bytes. ok is false when there is none
// ("max", an absurdly large v1 value, or no cgroup files).
func cgroupMemoryLimit(root fs.FS) (limit int64, ok bool) {
	// cgroup v2: the process's own cgroup, from /proc/self/cgroup ("0::/path").
	paths := []string{"sys/fs/cgroup/memory.max"}
	if f, err := root.Open("proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "0::"); ok && rest != "/" && rest != "" {
				paths = append([]string{"sys/fs/cgroup" + rest + "/memory.max"}, paths...)
			}
		}
		f.Close()
	}
	paths = append(paths, "sys/fs/cgroup/memory/memory.limit_in_bytes")
	for _, p := range paths {
		b, err := fs.ReadFile(root, p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		v, err := strconv.ParseInt(s, 10, 64)
		// cgroup v1 reports "no limit" as a page-rounded huge number.
		if err != nil || v <= 0 || v >= math.MaxInt64/2 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// ApplyMemoryLimit sets the Go soft memory limit from the cgroup limit
// unless GOMEMLIMIT is set (the operator's explicit choice wins). It
// returns the limit set (0: none) and logs what it did.
func ApplyMemoryLimit(log *slog.Logger) int64 {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory: GOMEMLIMIT set explicitly", "GOMEMLIMIT", v)
		return 0
	}
	cg, ok := cgroupMemoryLimit(os.DirFS("/"))
	if !ok {
		log.Info("memory: no cgroup memory limit; the Go runtime's soft limit stays unset")
		return 0
	}
	soft := softMemLimit(cg)
	debug.SetMemoryLimit(soft)
	log.Info("memory: Go soft memory limit set below the cgroup limit", "cgroup_limit_bytes", cg, "soft_limit_bytes", soft,
		"note", fmt.Sprintf("%.0f%% or limit - %d MiB", memLimitFraction*100, memLimitHeadroom>>20))
	return soft
}
