package controllers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// TestSingleReplicaObjectsUnchanged: a replicas 1 cluster gets exactly the
// objects it got before replication existed. The golden file was written
// by this test run against main before the replication builders were
// added (KALAMDB_UPDATE_GOLDEN=1 rewrites it; do that only for an intended
// change of the single-node objects).
func TestSingleReplicaObjectsUnchanged(t *testing.T) {
	minimal := &kalamv1.KalamCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "solo", Namespace: "db", UID: "0b7d4c1e-2f6a-4c59-9a51-6f2e0d3c8b17"},
		Spec:       kalamv1.KalamClusterSpec{Image: "kalamdb:1.0", Replicas: 1, Storage: kalamv1.StorageSpec{Size: resource.MustParse("1Gi")}},
	}
	full := builderCluster()
	full.UID = "5f0c2a9e-8d3b-4e71-b6a4-1c9d7e2f3a58"
	got := map[string]any{}
	for name, kc := range map[string]*kalamv1.KalamCluster{"minimal": minimal, "full": full} {
		toml, err := renderConfig(kc)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = map[string]any{
			"configMap":       buildConfigMap(kc, toml),
			"headlessService": buildHeadlessService(kc),
			"clientService":   buildClientService(kc),
			"pdb":             buildPDB(kc),
			"statefulSet":     buildStatefulSet(kc, hashOf(toml), nil),
		}
	}
	checkGolden(t, "replicas1-objects.json", "the objects of a replicas 1 cluster", got)
}

// checkGolden compares objects, as indented JSON, with testdata/name
// (KALAMDB_UPDATE_GOLDEN=1 rewrites the file).
func checkGolden(t *testing.T, name, what string, objects any) {
	t.Helper()
	data, err := json.MarshalIndent(objects, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if os.Getenv("KALAMDB_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(data)+"\n" {
		t.Fatalf("%s changed; diff %s against:\n%s", what, path, data)
	}
}
