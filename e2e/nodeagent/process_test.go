package nodeagent

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyRootFilesystem runs the container mount script the way the
// agent does (unshare, the binary as fd 3): with readOnlyRoot the process
// writes to its declared volume and nowhere else, as under a container
// runtime enforcing securityContext.readOnlyRootFilesystem; without it the
// host directory stays writable.
func TestReadOnlyRootFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --mount (CI runs as root)")
	}
	dir := t.TempDir()
	vol, host := filepath.Join(dir, "vol-src"), filepath.Join(dir, "host")
	for _, d := range []string{vol, host} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(dir, "mnt", "data")
	run := func(readOnly bool, shell string) (string, error) {
		sh, err := os.Open("/bin/sh")
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close()
		script := mountScript([]mount{{src: vol, dst: dst}}, "", readOnly)
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "/bin/sh", "-c", shell)
		cmd.ExtraFiles = []*os.File{sh}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(true, "echo ok > "+dst+"/written"); err != nil {
		t.Fatalf("write to the declared volume: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(vol, "written")); err != nil || strings.TrimSpace(string(b)) != "ok" {
		t.Fatalf("volume content %q: %v", b, err)
	}
	out, err := run(true, "echo no > "+host+"/x")
	if err == nil || !strings.Contains(out, "Read-only file system") {
		t.Fatalf("write outside the volumes with a read-only root: err %v, output %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(host, "x")); err == nil {
		t.Fatal("the file outside the volumes was written")
	}
	if out, err := run(false, "echo yes > "+host+"/x"); err != nil {
		t.Fatalf("without readOnlyRoot the host directory is writable: %v\n%s", err, out)
	}
}
