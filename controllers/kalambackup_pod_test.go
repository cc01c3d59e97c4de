package controllers

import (
	"slices"
	"testing"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// TestBackupPods: one replica backs up on its pod; a replicated cluster
// on the meta leader first, then the most caught-up replicas; with no
// status yet, by ordinal.
func TestBackupPods(t *testing.T) {
	kc := builderCluster()
	if got := backupPods(kc); !slices.Equal(got, []string{"prod-0"}) {
		t.Fatalf("single: %v", got)
	}
	kc.Spec.Replicas = 3
	if got := backupPods(kc); !slices.Equal(got, []string{"prod-0", "prod-1", "prod-2"}) {
		t.Fatalf("no status: %v", got)
	}
	kc.Status.Groups = []kalamv1.GroupStatus{
		{Name: "meta", Leader: 3, Replicas: []kalamv1.GroupReplicaStatus{{ReplicaID: 1, Pod: "prod-0", Lag: 40}, {ReplicaID: 2, Pod: "prod-1"}, {ReplicaID: 3, Pod: "prod-2"}}},
		{Name: "shared", Leader: 1, Replicas: []kalamv1.GroupReplicaStatus{{ReplicaID: 1, Pod: "prod-0"}, {ReplicaID: 2, Pod: "prod-1", Lag: 2}, {ReplicaID: 3, Pod: "prod-2", Lag: 900}}},
	}
	if got := backupPods(kc); !slices.Equal(got, []string{"prod-2", "prod-1", "prod-0"}) {
		t.Fatalf("meta leader, then by lag: %v", got)
	}
	kc.Status.Groups[0].Leader = 0 // no leader known: by lag only
	if got := backupPods(kc); !slices.Equal(got, []string{"prod-1", "prod-0", "prod-2"}) {
		t.Fatalf("no meta leader: %v", got)
	}
}
