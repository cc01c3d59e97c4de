package controllers

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	dpclient "github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// Which pod of a replicated cluster runs a KalamBackup.
//
// Any replica takes a cluster-consistent backup: before pinning its
// snapshot it runs a ReadIndex barrier on every Raft group and waits until
// it has applied every write acknowledged before (docs/backup.md,
// "Replicated clusters"). The operator still prefers the leader of the meta
// group: the cold tier's orphan janitor runs there only, and a backup
// pauses the janitor of the node it runs on — on a follower, the leader's
// janitor could delete a segment the backup is still copying once a
// compaction superseded it (the backup would then fail, never be wrong).
// After it, replicas by their largest lag in status.groups (caught-up
// first), then ordinal; pods that are not ready are skipped.

// backupPods is the order in which kc's pods are tried for a backup.
func backupPods(kc *kalamv1.KalamCluster) []string {
	n := max(int(kc.Spec.Replicas), 1)
	if !replicated(kc) {
		return []string{podName(kc, 0)}
	}
	lag := map[string]int64{}
	leader := ""
	for _, g := range kc.Status.Groups {
		if g.Name == "meta" && g.Leader > 0 {
			leader = replicaPod(kc, uint64(g.Leader))
		}
		for _, r := range g.Replicas {
			lag[r.Pod] = max(lag[r.Pod], r.Lag)
		}
	}
	pods := make([]string, 0, n)
	for i := range n {
		pods = append(pods, podName(kc, i))
	}
	slices.SortStableFunc(pods, func(a, b string) int {
		switch {
		case a == leader:
			return -1
		case b == leader:
			return 1
		}
		return int(lag[a] - lag[b])
	})
	return pods
}

// backupClient returns a client of the first ready pod in backupPods
// order, sharing base's session, and that pod's name; base itself (the
// serving pod) when no other is usable.
func (r *KalamBackupReconciler) backupClient(ctx context.Context, kc *kalamv1.KalamCluster, base *dpclient.Client) (*dpclient.Client, string) {
	if !replicated(kc) {
		return base, podName(kc, 0)
	}
	for _, name := range backupPods(kc) {
		var pod corev1.Pod
		if err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: name}, &pod); err != nil {
			continue
		}
		if pod.Status.PodIP == "" || !podReady(&pod) || !pod.DeletionTimestamp.IsZero() {
			continue
		}
		if c, err := r.DataPlane.PodClient(ctx, kc, base, &pod); err == nil {
			return c, name
		}
	}
	return base, "the serving pod"
}
