// Package testenv starts a real kube-apiserver and etcd (envtest) with the
// kalamdb.io CRDs installed, for the operator's integration tests. The
// binaries are built from the Go module proxy by hack/envtest.sh on first
// use, so `go test` works on a fresh machine without `make`.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kalamdb/kalamdb-k8s/internal/testtools"
)

// RepoRoot is the module root.
func RepoRoot() string { return testtools.RepoRoot() }

// Assets returns the KUBEBUILDER_ASSETS directory: the environment's when
// set, else the one hack/envtest.sh builds (idempotent, fast when built).
func Assets() (string, error) {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d, nil
	}
	cmd := exec.Command("bash", filepath.Join(RepoRoot(), "hack", "envtest.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/envtest.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start starts etcd and kube-apiserver with the CRDs of config/crd/bases.
// The caller must call env.Stop() (also after an error, which Start
// handles itself: a failed start must not leave the processes running).
func Start() (*envtest.Environment, *rest.Config, error) {
	assets, err := Assets()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, nil, fmt.Errorf("envtest: %w", err)
	}
	return env, cfg, nil
}
