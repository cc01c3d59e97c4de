package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// TestScheduledBackupToMinIO: a KalamScheduledBackup with immediate: true
// produces a Completed KalamBackup whose objects are in MinIO; the schedule
// keeps running one backup at a time and prunes by retention only the
// backups it created (DELETE BACKUP by id), deleting the pruned
// KalamBackups, never a manual one, even in its own target; a backup
// deleted out of band turns BackupMissing; a new KalamCluster bootstraps
// from the kept backup.
func TestScheduledBackupToMinIO(t *testing.T) {
	srv := startMinIO(t)
	createS3Secret(t, "minio-creds-b")
	kc := newCluster("bk")
	kc.Spec.ObjectStore = objectStoreFor(srv, "minio-creds-b", "clusters/bk")
	create(t, kc)
	dp := runDataPlane(t, kc)
	waitCondition(t, kc, kalamv1.ConditionObjectStoreReachable, metav1.ConditionTrue, "")
	create(t, newNamespace("bk-ns", kc.Name, "sales", kalamv1.DeletionRetain))
	kt := newTable("bk-t", kc.Name, "sales", "orders", kalamv1.DeletionRetain)
	create(t, kt)
	waitCondition(t, kt, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	for i := 1; i <= 50; i++ {
		mustSQL(t, dp.root, fmt.Sprintf("INSERT INTO sales.orders (id, note) VALUES (%d, 'row %d')", i, i))
	}

	// Two manual backups before the schedule: one at its own default
	// prefix, one written on purpose into the schedule's target. The
	// schedule's retention (keepLast 1) must delete neither.
	target := kalamv1.ScheduledBackupTarget(kc.Name, "nightly")
	manual := &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: "by-hand", Namespace: "default"},
		Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: kc.Name}}}
	shared := &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: "by-hand-shared", Namespace: "default"},
		Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: kc.Name}, Target: target}}
	for _, b := range []*kalamv1.KalamBackup{manual, shared} {
		create(t, b)
		waitCondition(t, b, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonBackupCompleted)
	}
	if manual.Status.Target != kalamv1.ManualBackupTarget(kc.Name, manual.Name) || manual.Status.Target != "s3://objstore/backups/"+kc.Name+"/manual/by-hand" {
		t.Fatalf("manual backup target %s", manual.Status.Target)
	}

	sb := &kalamv1.KalamScheduledBackup{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "default"},
		Spec: kalamv1.KalamScheduledBackupSpec{
			Cluster: kalamv1.ClusterReference{Name: kc.Name}, Schedule: "@every 3s", Immediate: true,
			Retention: &kalamv1.BackupRetention{KeepLast: 1}, BackupOwnerReference: kalamv1.OwnerSelf,
		},
	}
	create(t, sb)
	var first kalamv1.KalamBackup
	eventually(t, 60*time.Second, "immediate backup Completed", func() (bool, string) {
		var list kalamv1.KalamBackupList
		if err := k8s.List(tctx(t), &list, client.MatchingLabels{kalamv1.LabelImmediate: "true", kalamv1.LabelScheduledBackup: sb.Name}); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 {
			return false, fmt.Sprintf("%d immediate backups", len(list.Items))
		}
		first = list.Items[0]
		if first.Status.Phase == kalamv1.BackupFailed {
			t.Fatalf("immediate backup failed: %s", first.Status.Error)
		}
		return first.Status.Phase == kalamv1.BackupCompleted, string(first.Status.Phase)
	})
	// SizeBytes is what the job wrote: objects are content-addressed and
	// by-hand-shared already uploaded the same data into this target, so the
	// schedule's first backup may write 0 bytes; the first write into the
	// target (by-hand-shared) must have written some.
	if first.Status.BackupID == "" || first.Status.Target != target || first.Status.StartedAt == nil || first.Status.StoppedAt == nil || first.Status.SizeBytes < 0 || shared.Status.SizeBytes <= 0 {
		t.Fatalf("completed backup status %+v", first.Status)
	}
	if !strings.HasPrefix(first.Name, "nightly-") || len(first.Name) != len("nightly-")+14 || first.OwnerReferences[0].Name != sb.Name {
		t.Fatalf("child name %s owners %+v", first.Name, first.OwnerReferences)
	}
	store, err := srv.Store(tctx(t), "kalam", "clusters/bk/backups/"+kc.Name+"/scheduled/nightly")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := store.List(tctx(t), "")
	if err != nil || len(objs) == 0 {
		t.Fatalf("no backup objects in MinIO under clusters/bk/backups/%s/scheduled/nightly: %v", kc.Name, err)
	}
	var m dto.Metric
	if err := backupLastSuccess.WithLabelValues("default", kc.Name).Write(&m); err != nil {
		t.Fatal(err)
	}
	if v := m.GetGauge().GetValue(); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("kalamdb_backup_last_success_timestamp_seconds = %v", v)
	}

	// The schedule goes on; retention prunes the first backup in the data
	// plane and its KalamBackup goes with it.
	eventually(t, 60*time.Second, "first backup pruned", func() (bool, string) {
		get(t, sb)
		gone := !get(t, first.DeepCopy())
		return gone && slices.Contains(sb.Status.LastPrunedBackupIDs, first.Status.BackupID),
			fmt.Sprintf("pruned %v, last %s", sb.Status.LastPrunedBackupIDs, sb.Status.LastBackupName)
	})
	update(t, sb, func() {
		sb.Spec.Suspend = true
	})
	waitCondition(t, sb, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonSuspended)
	var kept kalamv1.KalamBackup
	eventually(t, 60*time.Second, "backups settled", func() (bool, string) {
		var list kalamv1.KalamBackupList
		if err := k8s.List(tctx(t), &list, client.MatchingLabels{kalamv1.LabelScheduledBackup: sb.Name}); err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, b := range list.Items {
			if !b.Done() {
				running++
			}
			if b.Status.Phase == kalamv1.BackupCompleted && b.Name > kept.Name {
				kept = b
			}
		}
		if running > 1 {
			t.Fatalf("%d backups of one cluster unfinished at once", running)
		}
		return running == 0 && kept.Name != "", fmt.Sprintf("%d unfinished", running)
	})
	shown, err := dp.root.ShowBackups(tctx(t), target)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, b := range shown {
		listed[b.BackupID] = true
	}
	if listed[first.Status.BackupID] {
		t.Fatalf("pruned backup %s still listed", first.Status.BackupID)
	}
	if !listed[shared.Status.BackupID] || !listed[kept.Status.BackupID] {
		t.Fatalf("retention deleted a backup the schedule did not create (or its newest): listed %v, want %s and %s", listed, shared.Status.BackupID, kept.Status.BackupID)
	}
	for _, b := range []*kalamv1.KalamBackup{manual, shared} {
		waitCondition(t, b, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonBackupCompleted)
	}

	// A backup deleted out of band turns Ready=False/BackupMissing, and a
	// cluster cannot bootstrap from it.
	mustSQL(t, dp.root, fmt.Sprintf("DELETE BACKUP '%s' IN '%s'", manual.Status.BackupID, manual.Status.Target))
	waitCondition(t, manual, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonBackupMissing)
	fromGone := newCluster("fromgone")
	fromGone.Spec.ObjectStore = objectStoreFor(srv, "minio-creds-b", "clusters/bk")
	fromGone.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{BackupName: manual.Name}}
	create(t, fromGone)
	waitCondition(t, fromGone, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonBackupMissing)

	// A backup the data plane refuses fails visibly, once.
	bad := &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: "bad-target", Namespace: "default"},
		Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: kc.Name}, Target: "s3://nosuchstorage/x"}}
	create(t, bad)
	waitCondition(t, bad, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonBackupFailed)
	if bad.Status.Phase != kalamv1.BackupFailed || bad.Status.Error == "" {
		t.Fatalf("refused backup: %+v", bad.Status)
	}

	// A namespace-scoped manual backup.
	nsb := &kalamv1.KalamBackup{ObjectMeta: metav1.ObjectMeta{Name: "sales-only", Namespace: "default"},
		Spec: kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: kc.Name}, Scope: kalamv1.ScopeNamespace, Namespace: "sales", Target: target + "-sales"}}
	create(t, nsb)
	waitCondition(t, nsb, kalamv1.ConditionReady, metav1.ConditionTrue, kalamv1.ReasonBackupCompleted)

	// Bootstrap a new cluster from the kept KalamBackup.
	restored := newCluster("restored")
	restored.Spec.ObjectStore = objectStoreFor(srv, "minio-creds-b", "clusters/bk")
	restored.Spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{BackupName: kept.Name}}
	create(t, restored)
	dp2 := runDataPlane(t, restored)
	waitCondition(t, restored, kalamv1.ConditionReady, metav1.ConditionTrue, "")
	rows, err := dp2.root.Rows(tctx(t), "SELECT COUNT(*) FROM sales.orders")
	if err != nil || len(rows) != 1 || fmt.Sprint(rows[0][0]) != "50" {
		t.Fatalf("restored rows %v: %v", rows, err)
	}
}
