// Package harness assembles the e2e environment: binaries built from this
// repository (statically, CGO_ENABLED=0, exactly as the Dockerfile builds
// them), the control plane, the node agent, MinIO and the operator process.
package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/e2e/controlplane"
)

// BuildTimeout bounds one Build (cold build cache, loaded machine).
const BuildTimeout = 18 * time.Minute

// Build compiles a main package of this module into dir (static, trimmed, as
// the Dockerfile does) and returns the binary path.
func Build(ctx context.Context, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = controlplane.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}
