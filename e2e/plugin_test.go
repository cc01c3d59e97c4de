package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/e2e/harness"
)

// stepPlugin runs the kubectl plugin (`make plugin`'s ./cmd/kubectl-kalam)
// against the control plane: `sql` on the path that needs no port-forward
// (--endpoint: the Service's pod, as the suite reaches every pod), as root
// and as alice, and `logs` through the API server's pods/log (served by the
// node agent), including --previous of the container step 6 killed.
func (s *scenario) stepPlugin(ctx context.Context, t *testing.T) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), harness.BuildTimeout)
	defer cancel()
	plugin, err := harness.Build(bctx, filepath.Join(s.env.Dir, "bin"), "./cmd/kubectl-kalam")
	if err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) string {
		t.Helper()
		// The command first, then the global flags (as `kubectl kalam CMD -n NS`).
		argv := append([]string{args[0], "--kubeconfig", s.env.CP.Kubeconfig, "-n", ns}, args[1:]...)
		cmd := exec.CommandContext(ctx, plugin, argv...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl-kalam %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	base := s.serviceURL(ctx, t, "kalam")
	out := run(nil, "sql", "kalam", "--endpoint", base, "SELECT user_id FROM system.users WHERE user_id = 'alice'")
	if !strings.Contains(out, "alice") {
		t.Fatalf("kubectl kalam sql as root: %q", out)
	}
	out = run([]string{"KALAM_PASSWORD=alice-pw-e2e"}, "sql", "kalam", "--endpoint", base, "--user", "alice", "SELECT id FROM app.messages WHERE id = 2")
	if !strings.Contains(out, "2") {
		t.Fatalf("kubectl kalam sql as alice: %q", out)
	}

	logPath, err := s.env.Agent.LogPath(ns, "kalam-0", "kalamdb")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"logs", "kalam", "--tail", "20"}, {"logs", "kalam", "--previous", "--tail", "5"}} {
		out := strings.TrimSpace(run(nil, args...))
		if out == "" {
			t.Fatalf("kubectl kalam %s printed nothing", strings.Join(args, " "))
		}
		for _, line := range strings.Split(out, "\n") {
			if !strings.Contains(string(file), line) {
				t.Fatalf("kubectl kalam %s printed %q, which is not in kalam-0's log", strings.Join(args, " "), line)
			}
		}
		t.Logf("kubectl kalam %s: %d lines", strings.Join(args, " "), strings.Count(out, "\n")+1)
	}
}
