package controllers

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// KalamScheduledBackupReconciler creates KalamBackups on a cron schedule,
// never two at once for a cluster, and prunes old backups through the data
// plane's retention (C2: DELETE BACKUPS ... KEEP LAST).
type KalamScheduledBackupReconciler struct {
	client.Client
	// APIReader reads the cluster's backups around the cache for the
	// concurrency guard; nil uses Client.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	DataPlane *DataPlane
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamscheduledbackups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamscheduledbackups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamscheduledbackups/finalizers,verbs=update

// Reconcile implements reconcile.Reconciler.
func (r *KalamScheduledBackupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sb kalamv1.KalamScheduledBackup
	if err := r.Get(ctx, req.NamespacedName, &sb); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sb.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	orig := sb.DeepCopy()
	if paused(&sb) {
		kalamv1.MarkUnknown(&sb, kalamv1.ReasonPaused, "reconciliation is paused by the kalamdb.io/reconcile annotation")
		return finish(ctx, r.Client, r.Recorder, "KalamScheduledBackup", orig, &sb, ctrl.Result{}, nil)
	}
	res, err := r.reconcile(ctx, &sb)
	return finish(ctx, r.Client, r.Recorder, "KalamScheduledBackup", orig, &sb, res, err)
}

func (r *KalamScheduledBackupReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *KalamScheduledBackupReconciler) reconcile(ctx context.Context, sb *kalamv1.KalamScheduledBackup) (ctrl.Result, error) {
	sched, err := parseSchedule(sb.Spec.Schedule)
	if err != nil {
		return ctrl.Result{}, permanent(kalamv1.ReasonInvalidSpec, "%v", err)
	}
	kc, err := getCluster(ctx, r.Client, sb.Namespace, sb.Spec.Cluster.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.now()
	nowT := metav1.NewTime(now)
	sb.Status.LastCheckTime = &nowT

	var children kalamv1.KalamBackupList
	if err := r.List(ctx, &children, client.InNamespace(sb.Namespace), client.MatchingLabels{kalamv1.LabelScheduledBackup: sb.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("while listing the schedule's backups: %w", err)
	}
	// Concurrency guard: nothing new while a backup of this cluster is
	// unfinished (ours or anyone's).
	var all kalamv1.KalamBackupList
	if err := reader(r.APIReader, r.Client).List(ctx, &all, client.InNamespace(sb.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("while listing KalamBackups: %w", err)
	}
	for i := range all.Items {
		b := &all.Items[i]
		if b.Spec.Cluster.Name == kc.Name && !b.Done() && b.DeletionTimestamp.IsZero() {
			kalamv1.MarkProgressing(sb, kalamv1.ReasonWaitingForBackup, "KalamBackup "+b.Name+" is not finished")
			return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
		}
	}
	// Retention runs only while no backup of the cluster is in flight: an
	// incremental backup may be reusing objects of a backup being pruned
	// before its own manifest exists.
	if err := r.applyRetention(ctx, sb, kc, children.Items); err != nil {
		return ctrl.Result{}, err
	}
	if sb.Spec.Suspend {
		sb.Status.NextScheduleTime = nil
		kalamv1.MarkReady(sb, kalamv1.ReasonSuspended, "the schedule is suspended")
		return ctrl.Result{}, nil
	}
	if sb.Spec.Immediate && sb.Status.LastScheduleTime == nil && !hasImmediate(children.Items) {
		if err := r.createChild(ctx, sb, kc, now, true); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
	}
	last := sb.CreationTimestamp.Time
	if sb.Status.LastScheduleTime != nil {
		last = sb.Status.LastScheduleTime.Time
	}
	due, ok, next := dueSlot(sched, last, now)
	if ok {
		if err := r.createChild(ctx, sb, kc, due, false); err != nil {
			return ctrl.Result{}, err
		}
	}
	nextT := metav1.NewTime(next)
	sb.Status.NextScheduleTime = &nextT
	kalamv1.MarkReady(sb, kalamv1.ReasonScheduled, "next backup at "+next.UTC().Format(time.RFC3339))
	return ctrl.Result{RequeueAfter: next.Sub(now) + time.Second}, nil
}

func hasImmediate(items []kalamv1.KalamBackup) bool {
	for _, b := range items {
		if b.Labels[kalamv1.LabelImmediate] == "true" {
			return true
		}
	}
	return false
}

// createChild creates the KalamBackup of one slot. Its deterministic name
// makes a retry after a failed status write a no-op; a same-named backup
// this schedule did not create is never adopted.
func (r *KalamScheduledBackupReconciler) createChild(ctx context.Context, sb *kalamv1.KalamScheduledBackup, kc *kalamv1.KalamCluster, slot time.Time, immediate bool) error {
	b := &kalamv1.KalamBackup{
		ObjectMeta: metav1.ObjectMeta{
			Name: childName(sb.Name, slot), Namespace: sb.Namespace,
			Labels: map[string]string{kalamv1.LabelScheduledBackup: sb.Name, kalamv1.LabelCluster: kc.Name},
		},
		Spec: kalamv1.KalamBackupSpec{Cluster: sb.Spec.Cluster, Scope: sb.Spec.Scope, Namespace: sb.Spec.Namespace, Target: scheduleTarget(sb)},
	}
	if b.Spec.Scope == "" {
		b.Spec.Scope = kalamv1.ScopeDatabase
	}
	if immediate {
		b.Labels[kalamv1.LabelImmediate] = "true"
	}
	switch sb.Spec.BackupOwnerReference {
	case kalamv1.OwnerSelf:
		if err := controllerutil.SetControllerReference(sb, b, r.Scheme); err != nil {
			return err
		}
	case kalamv1.OwnerCluster:
		if err := controllerutil.SetOwnerReference(kc, b, r.Scheme); err != nil {
			return err
		}
	}
	slotT := metav1.NewTime(slot)
	if err := r.Create(ctx, b); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("while creating KalamBackup %s: %w", b.Name, err)
		}
		var existing kalamv1.KalamBackup
		if err := r.Get(ctx, client.ObjectKeyFromObject(b), &existing); err != nil {
			return err
		}
		if existing.Labels[kalamv1.LabelScheduledBackup] != sb.Name {
			r.Recorder.Eventf(sb, nil, corev1.EventTypeWarning, "BackupAdoptionRefused", "Schedule",
				"KalamBackup %s exists and was not created by this schedule; slot skipped", b.Name)
		}
	} else {
		r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, "BackupCreated", "Schedule", "created KalamBackup %s", b.Name)
	}
	sb.Status.LastScheduleTime = &slotT
	sb.Status.LastBackupName = b.Name
	return nil
}

// scheduleTarget is where the schedule's backups go: spec.target, or a
// prefix of the schedule's own under the cluster's default target.
func scheduleTarget(sb *kalamv1.KalamScheduledBackup) string {
	if sb.Spec.Target != "" {
		return sb.Spec.Target
	}
	return kalamv1.ScheduledBackupTarget(sb.Spec.Cluster.Name, sb.Name)
}

// applyRetention runs the retention policy once per newly completed
// backup. It only ever considers the KalamBackups this schedule created
// (never DELETE BACKUPS ... KEEP LAST, which would prune every backup at a
// shared target): the newest keepLast are kept, and of the others those
// younger than maxAge; each remaining one is deleted on the data plane by
// id, then its KalamBackup.
func (r *KalamScheduledBackupReconciler) applyRetention(ctx context.Context, sb *kalamv1.KalamScheduledBackup, kc *kalamv1.KalamCluster, children []kalamv1.KalamBackup) error {
	ret := sb.Spec.Retention
	if ret == nil {
		return nil
	}
	var completed []kalamv1.KalamBackup
	for _, b := range children {
		if b.Status.Phase == kalamv1.BackupCompleted && b.Status.BackupID != "" && b.DeletionTimestamp.IsZero() {
			completed = append(completed, b)
		}
	}
	if len(completed) == 0 {
		return nil
	}
	// Child names carry their slot time, so name order is age order.
	sort.Slice(completed, func(i, j int) bool { return completed[i].Name < completed[j].Name })
	newest := completed[len(completed)-1].Name
	if sb.Status.RetentionAppliedFor == newest {
		return nil
	}
	prune, err := retentionVictims(completed, ret, r.now())
	if err != nil {
		return permanent(kalamv1.ReasonInvalidSpec, "%v", err)
	}
	var deleted []string
	if len(prune) > 0 {
		dp, err := r.DataPlane.Connect(ctx, kc)
		if err != nil {
			return err
		}
		for i := range prune {
			b := &prune[i]
			target := b.Status.Target
			if target == "" {
				target = b.ResolvedTarget()
			}
			if err := dp.DeleteBackup(ctx, target, b.Status.BackupID); err != nil {
				r.DataPlane.forgetOnAuth(kc, err)
				return classifyDataPlane(err, "deleting backup "+b.Status.BackupID)
			}
			if err := r.Delete(ctx, b); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("while deleting pruned KalamBackup %s: %w", b.Name, err)
			}
			deleted = append(deleted, b.Status.BackupID)
		}
		r.Recorder.Eventf(sb, nil, corev1.EventTypeNormal, "BackupsPruned", "Retention", "pruned %d backup(s) of this schedule", len(deleted))
	}
	sb.Status.LastPrunedBackupIDs = deleted
	sb.Status.RetentionAppliedFor = newest
	return nil
}

// retentionVictims returns the backups of completed (oldest first) that
// the policy deletes: all but the newest keepLast, except those younger
// than maxAge when it is set.
func retentionVictims(completed []kalamv1.KalamBackup, ret *kalamv1.BackupRetention, now time.Time) ([]kalamv1.KalamBackup, error) {
	extra := len(completed) - int(ret.KeepLast)
	if extra <= 0 {
		return nil, nil
	}
	var maxAge time.Duration
	if ret.MaxAge != "" {
		d, err := time.ParseDuration(ret.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("retention.maxAge %q: %w", ret.MaxAge, err)
		}
		maxAge = d
	}
	var out []kalamv1.KalamBackup
	for _, b := range completed[:extra] {
		if maxAge > 0 {
			at := b.CreationTimestamp.Time
			if b.Status.StoppedAt != nil {
				at = b.Status.StoppedAt.Time
			}
			if now.Sub(at) < maxAge {
				continue
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// SetupWithManager registers the controller; it also reconciles when one
// of its backups changes (to start the next one or apply retention).
func (r *KalamScheduledBackupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kalamv1.KalamScheduledBackup{}).
		Watches(&kalamv1.KalamBackup{}, enqueueScheduleOf()).
		Named("kalamscheduledbackup").
		Complete(r)
}
