package hot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNodeID: the data directory keeps its node id across starts; a
// different configured id is refused, unless it is a cluster node's
// derived id (ReplaceNodeID), which replaces the stored one durably.
func TestNodeID(t *testing.T) {
	dir := t.TempDir()
	read := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "NODE_ID"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if id, err := loadOrCreateNodeID(dir, 0, false, nil); err != nil || id != 1 || read() != "1" {
		t.Fatalf("new dir: %d %v (file %q), want 1", id, err, read())
	}
	if id, err := loadOrCreateNodeID(dir, 0, false, nil); err != nil || id != 1 {
		t.Fatalf("restart: %d %v", id, err)
	}
	if _, err := loadOrCreateNodeID(dir, 2, false, nil); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("configured 2 over stored 1: %v, want refused", err)
	}
	if id, err := loadOrCreateNodeID(dir, 2, true, nil); err != nil || id != 2 || read() != "2" {
		t.Fatalf("replace 1 by 2: %d %v (file %q)", id, err, read())
	}
	if id, err := loadOrCreateNodeID(dir, 0, false, nil); err != nil || id != 2 {
		t.Fatalf("after the replacement: %d %v, want 2", id, err)
	}
	fresh := t.TempDir()
	if id, err := loadOrCreateNodeID(fresh, 3, true, nil); err != nil || id != 3 {
		t.Fatalf("new dir, cluster replica 3: %d %v", id, err)
	}
}
