package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kalamdb/kalamdb-k8s/internal/testenv"
)

// TestGeneratedFilesAreFresh fails when `make manifests generate` would
// change a committed file: the CRDs in config/crd/bases, the ClusterRole in
// config/rbac and the deepcopy functions are regenerated into a temporary
// directory with the pinned controller-gen and compared byte for byte.
func TestGeneratedFilesAreFresh(t *testing.T) {
	root := testenv.RepoRoot()
	install := exec.Command("bash", filepath.Join(root, "hack", "go-tools.sh"), "controller-gen")
	install.Stderr = os.Stderr
	if err := install.Run(); err != nil {
		t.Fatalf("hack/go-tools.sh controller-gen: %v", err)
	}
	tools := os.Getenv("KALAMDB_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "kalamdb-tools")
	}
	tmp := t.TempDir()
	gen := exec.Command(filepath.Join(tools, "bin", "controller-gen"),
		"rbac:roleName=manager-role", "crd", "object:headerFile=hack/boilerplate.go.txt",
		"paths=./api/...", "paths=./controllers/...",
		"output:crd:artifacts:config="+filepath.Join(tmp, "crd"),
		"output:rbac:artifacts:config="+filepath.Join(tmp, "rbac"),
		"output:object:dir="+filepath.Join(tmp, "object"))
	gen.Dir = root
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	compareDir(t, filepath.Join(tmp, "crd"), filepath.Join(root, "config", "crd", "bases"))
	compareDir(t, filepath.Join(tmp, "rbac"), filepath.Join(root, "config", "rbac"), "role.yaml")
	compareDir(t, filepath.Join(tmp, "object"), filepath.Join(root, "api", "v1alpha1"), "zz_generated.deepcopy.go")
}

// compareDir checks that every file generated into fresh equals the
// committed one (only the named files when names is not empty, since the
// committed directory may hold hand-written files too).
func compareDir(t *testing.T, fresh, committed string, names ...string) {
	t.Helper()
	if len(names) == 0 {
		entries, err := os.ReadDir(fresh)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if old, _ := os.ReadDir(committed); len(old) != len(entries) {
			t.Errorf("%s holds %d files, controller-gen generates %d: run make manifests", committed, len(old), len(entries))
		}
	}
	for _, n := range names {
		want, err := os.ReadFile(filepath.Join(fresh, n))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(committed, n))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make manifests generate", filepath.Join(committed, n))
		}
	}
}
