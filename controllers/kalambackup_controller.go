package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// KalamBackupReconciler runs one backup on the data plane (C2: BACKUP ...
// TO, then polls system.jobs) and records the result. At most one backup
// runs per cluster: the others stay Pending until it finishes.
type KalamBackupReconciler struct {
	client.Client
	// APIReader reads around the cache where a stale read could start two
	// backups of one cluster at once; nil uses Client.
	APIReader client.Reader
	Recorder  events.EventRecorder
	DataPlane *DataPlane
	// PollInterval is how often a running job is polled (default 2 s).
	PollInterval time.Duration
	// Resync is how often a Completed backup is checked to still exist at
	// its target (default 2 min).
	Resync time.Duration
}

// +kubebuilder:rbac:groups=kalamdb.io,resources=kalambackups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalambackups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalambackups/finalizers,verbs=update

// Reconcile implements reconcile.Reconciler.
func (r *KalamBackupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var b kalamv1.KalamBackup
	if err := r.Get(ctx, req.NamespacedName, &b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if b.Status.Phase == kalamv1.BackupFailed || !b.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	orig := b.DeepCopy()
	if b.Status.Phase == kalamv1.BackupCompleted {
		res, err := r.verify(ctx, &b)
		return finish(ctx, r.Client, r.Recorder, "KalamBackup", orig, &b, res, err)
	}
	if paused(&b) {
		kalamv1.MarkUnknown(&b, kalamv1.ReasonPaused, "reconciliation is paused by the kalamdb.io/reconcile annotation")
		return finish(ctx, r.Client, r.Recorder, "KalamBackup", orig, &b, ctrl.Result{}, nil)
	}
	if b.Status.Phase == "" {
		b.Status.Phase = kalamv1.BackupPending
	}
	res, err := r.reconcile(ctx, &b)
	if pe, ok := err.(*permanentError); ok {
		// A refused backup is a Failed backup: it is one-shot and never retried.
		r.fail(&b, pe.Msg)
		res, err = ctrl.Result{}, nil
	}
	return finish(ctx, r.Client, r.Recorder, "KalamBackup", orig, &b, res, err)
}

func (r *KalamBackupReconciler) reconcile(ctx context.Context, b *kalamv1.KalamBackup) (ctrl.Result, error) {
	kc, err := getCluster(ctx, r.Client, b.Namespace, b.Spec.Cluster.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if b.Status.Phase == kalamv1.BackupPending {
		if other, err := r.runningBackup(ctx, b); err != nil {
			return ctrl.Result{}, err
		} else if other != "" {
			return ctrl.Result{}, waitFor(kalamv1.ReasonWaitingForBackup, 15*time.Second, "KalamBackup %s of cluster %s is running", other, kc.Name)
		}
	}
	dp, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		return ctrl.Result{}, err
	}
	if b.Status.Phase == kalamv1.BackupPending {
		ns := ""
		if b.Spec.Scope == kalamv1.ScopeNamespace {
			ns = b.Spec.Namespace
		}
		target := b.ResolvedTarget()
		// The status write that records the job id can fail after the data
		// plane accepted the backup; the retry then starts a second backup
		// of the same data. That is wasteful, never wrong, and rare.
		runner, pod := r.backupClient(ctx, kc, dp)
		started, err := runner.Backup(ctx, ns, target)
		if err != nil {
			r.DataPlane.forgetOnAuth(kc, err)
			return ctrl.Result{}, classifyDataPlane(err, "starting the backup")
		}
		now := metav1.Now()
		b.Status.Phase = kalamv1.BackupRunning
		b.Status.BackupID, b.Status.JobID, b.Status.StartedAt = started.BackupID, started.JobID, &now
		b.Status.Target = started.Target
		if b.Status.Target == "" {
			b.Status.Target = target
		}
		kalamv1.MarkProgressing(b, kalamv1.ReasonBackupRunning, fmt.Sprintf("backup %s running as job %s", started.BackupID, started.JobID))
		r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, "Started", "Backup", "backup %s started (job %s) on %s to %s", started.BackupID, started.JobID, pod, b.Status.Target)
		return ctrl.Result{RequeueAfter: r.poll()}, nil
	}
	job, err := dp.Job(ctx, b.Status.JobID)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{}, classifyDataPlane(err, "polling job "+b.Status.JobID)
	}
	switch {
	case job == nil:
		return ctrl.Result{}, permanent(kalamv1.ReasonBackupFailed, "job %s is unknown to the data plane (restarted?)", b.Status.JobID)
	case job.Status == "completed":
		now := metav1.Now()
		b.Status.Phase, b.Status.StoppedAt, b.Status.SizeBytes = kalamv1.BackupCompleted, &now, job.BytesWritten
		b.Status.Error = ""
		kalamv1.MarkReady(b, kalamv1.ReasonBackupCompleted, fmt.Sprintf("backup %s completed (%d bytes)", b.Status.BackupID, job.BytesWritten))
		backupLastSuccess.WithLabelValues(b.Namespace, b.Spec.Cluster.Name).Set(float64(now.Unix()))
		r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, kalamv1.ReasonBackupCompleted, "Backup", "backup %s completed", b.Status.BackupID)
		return ctrl.Result{}, nil
	case job.Status == "failed":
		return ctrl.Result{}, permanent(kalamv1.ReasonBackupFailed, "job %s failed: %s", b.Status.JobID, job.Error)
	}
	kalamv1.MarkProgressing(b, kalamv1.ReasonBackupRunning, fmt.Sprintf("job %s is %s", b.Status.JobID, job.Status))
	return ctrl.Result{RequeueAfter: r.poll()}, nil
}

// verify checks that a Completed backup is still listed at its target
// (SHOW BACKUPS): one deleted out of band turns Ready=False/BackupMissing,
// so nobody restores from it believing it is there. A cluster that cannot
// be asked leaves the status as it is.
func (r *KalamBackupReconciler) verify(ctx context.Context, b *kalamv1.KalamBackup) (ctrl.Result, error) {
	resync := resyncOr(r.Resync)
	kc, err := getCluster(ctx, r.Client, b.Namespace, b.Spec.Cluster.Name)
	if err != nil {
		return ctrl.Result{RequeueAfter: resync}, nil
	}
	dp, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		return ctrl.Result{RequeueAfter: resync}, nil
	}
	target := b.Status.Target
	if target == "" {
		target = b.ResolvedTarget()
	}
	shown, err := dp.ShowBackups(ctx, target)
	if err != nil {
		r.DataPlane.forgetOnAuth(kc, err)
		return ctrl.Result{RequeueAfter: resync}, nil
	}
	for _, s := range shown {
		if s.BackupID == b.Status.BackupID && s.Status == "completed" {
			kalamv1.MarkReady(b, kalamv1.ReasonBackupCompleted, fmt.Sprintf("backup %s completed (%d bytes) and is listed at %s", b.Status.BackupID, b.Status.SizeBytes, target))
			return ctrl.Result{RequeueAfter: resync}, nil
		}
	}
	msg := fmt.Sprintf("backup %s is no longer listed at %s (SHOW BACKUPS): its objects are gone", b.Status.BackupID, target)
	if !meta.IsStatusConditionFalse(b.Status.Conditions, kalamv1.ConditionReady) {
		r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, kalamv1.ReasonBackupMissing, "Verify", "%s", msg)
	}
	kalamv1.SetCondition(b, kalamv1.ConditionReady, metav1.ConditionFalse, kalamv1.ReasonBackupMissing, msg)
	kalamv1.SetCondition(b, kalamv1.ConditionStalled, metav1.ConditionTrue, kalamv1.ReasonBackupMissing, msg)
	return ctrl.Result{RequeueAfter: resync}, nil
}

// backupMissing reports whether b was found gone by verify.
func backupMissing(b *kalamv1.KalamBackup) bool {
	c := meta.FindStatusCondition(b.Status.Conditions, kalamv1.ConditionReady)
	return c != nil && c.Reason == kalamv1.ReasonBackupMissing
}

func (r *KalamBackupReconciler) fail(b *kalamv1.KalamBackup, msg string) {
	now := metav1.Now()
	b.Status.Phase, b.Status.StoppedAt, b.Status.Error = kalamv1.BackupFailed, &now, msg
	kalamv1.MarkStalled(b, kalamv1.ReasonBackupFailed, msg)
	reconcileErrors.WithLabelValues("KalamBackup", kalamv1.ReasonBackupFailed).Inc()
	r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, kalamv1.ReasonBackupFailed, "Backup", "%s", msg)
}

func (r *KalamBackupReconciler) poll() time.Duration {
	if r.PollInterval > 0 {
		return r.PollInterval
	}
	return backupPollInterval
}

// runningBackup returns another Running KalamBackup of the same cluster.
func (r *KalamBackupReconciler) runningBackup(ctx context.Context, b *kalamv1.KalamBackup) (string, error) {
	var list kalamv1.KalamBackupList
	if err := reader(r.APIReader, r.Client).List(ctx, &list, client.InNamespace(b.Namespace)); err != nil {
		return "", fmt.Errorf("while listing KalamBackups: %w", err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID != b.UID && o.Spec.Cluster.Name == b.Spec.Cluster.Name && o.Status.Phase == kalamv1.BackupRunning {
			return o.Name, nil
		}
	}
	return "", nil
}

// SetupWithManager registers the controller.
func (r *KalamBackupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kalamv1.KalamBackup{}).
		Watches(&kalamv1.KalamCluster{}, enqueuePendingBackupsOf(r.Client)).
		Watches(&kalamv1.KalamBackup{}, enqueuePendingBackupsOf(r.Client)).
		Named("kalambackup").
		Complete(r)
}
