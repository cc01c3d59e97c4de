package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// pollInterval of --wait.
const pollInterval = time.Second

func backupCommand(_ *globalOptions) command {
	var name, scope, kalamNS, target string
	var wait time.Duration
	return command{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "name of the KalamBackup (default CLUSTER-YYYYMMDDhhmmss)")
			fs.StringVar(&scope, "scope", string(kalamv1.ScopeDatabase), "Database or Namespace")
			fs.StringVar(&kalamNS, "kalam-namespace", "", "KalamDB namespace to back up (scope Namespace)")
			fs.StringVar(&target, "target", "", "backup target (default: the operator's, under the cluster's object store)")
			fs.DurationVar(&wait, "wait", 0, "wait up to this long for the backup to complete (0: return at once)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			cluster, err := oneArg(args, "KalamCluster name")
			if err != nil {
				return err
			}
			if err := e.client.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: cluster}, &kalamv1.KalamCluster{}); err != nil {
				return fmt.Errorf("while reading KalamCluster %s/%s: %w", e.namespace, cluster, err)
			}
			b := buildBackup(e.namespace, cluster, name, kalamv1.BackupScope(scope), kalamNS, target, time.Now())
			if err := e.client.Create(ctx, b); err != nil {
				return fmt.Errorf("while creating KalamBackup %s: %w", b.Name, err)
			}
			fmt.Fprintf(e.out, "kalambackup.kalamdb.io/%s created\n", b.Name)
			if wait <= 0 {
				return nil
			}
			return waitBackup(ctx, e, b.Name, wait)
		},
	}
}

// buildBackup is the KalamBackup `backup` creates.
func buildBackup(ns, cluster, name string, scope kalamv1.BackupScope, kalamNS, target string, now time.Time) *kalamv1.KalamBackup {
	if name == "" {
		name = cluster + "-" + now.UTC().Format("20060102150405")
	}
	return &kalamv1.KalamBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{kalamv1.LabelCluster: cluster}},
		Spec:       kalamv1.KalamBackupSpec{Cluster: kalamv1.ClusterReference{Name: cluster}, Scope: scope, Namespace: kalamNS, Target: target},
	}
}

// waitBackup polls until the backup completes (nil) or fails (its error).
func waitBackup(ctx context.Context, e *env, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var b kalamv1.KalamBackup
	for {
		if err := e.client.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: name}, &b); err != nil {
			return fmt.Errorf("while waiting for KalamBackup %s: %w", name, err)
		}
		switch b.Status.Phase {
		case kalamv1.BackupCompleted:
			fmt.Fprintf(e.out, "backup %s completed: id %s at %s\n", name, b.Status.BackupID, b.Status.Target)
			return nil
		case kalamv1.BackupFailed:
			return fmt.Errorf("backup %s failed: %s", name, b.Status.Error)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("backup %s is still %s after %s", name, orDefault(string(b.Status.Phase), "Pending"), timeout)
		case <-time.After(pollInterval):
		}
	}
}

func restoreCommand(_ *globalOptions) command {
	var backup, to string
	var wait time.Duration
	return command{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&backup, "backup", "", "a Completed KalamBackup of the cluster (required)")
			fs.StringVar(&to, "to", "", "name of the new KalamCluster (required)")
			fs.DurationVar(&wait, "wait", 0, "wait up to this long for the new cluster to be Ready (0: return at once)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			source, err := oneArg(args, "KalamCluster name")
			if err != nil {
				return err
			}
			if backup == "" || to == "" {
				return fmt.Errorf("%w: restore needs --backup and --to", errUsage)
			}
			var src kalamv1.KalamCluster
			if err := e.client.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: source}, &src); err != nil {
				return fmt.Errorf("while reading KalamCluster %s/%s: %w", e.namespace, source, err)
			}
			var b kalamv1.KalamBackup
			if err := e.client.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: backup}, &b); err != nil {
				return fmt.Errorf("while reading KalamBackup %s/%s: %w", e.namespace, backup, err)
			}
			if b.Spec.Cluster.Name != source {
				return fmt.Errorf("KalamBackup %s is a backup of cluster %q, not %q", backup, b.Spec.Cluster.Name, source)
			}
			if b.Status.Phase != kalamv1.BackupCompleted {
				return fmt.Errorf("KalamBackup %s is %s, not Completed: only a completed backup can be restored", backup, orDefault(string(b.Status.Phase), "Pending"))
			}
			kc := buildRestoreCluster(&src, to, backup)
			if err := e.client.Create(ctx, kc); err != nil {
				return fmt.Errorf("while creating KalamCluster %s: %w", to, err)
			}
			fmt.Fprintf(e.out, "kalamcluster.kalamdb.io/%s created from backup %s (%s)\n", to, backup, b.Status.BackupID)
			if wait <= 0 {
				return nil
			}
			return waitReady(ctx, e, to, wait)
		},
	}
}

// buildRestoreCluster is a new cluster with the source's spec, bootstrapped
// from the backup. A KalamCluster's bootstrap is set at creation only, so a
// restore is always into a new cluster; the source keeps running.
func buildRestoreCluster(src *kalamv1.KalamCluster, name, backup string) *kalamv1.KalamCluster {
	spec := *src.Spec.DeepCopy()
	spec.Bootstrap = &kalamv1.BootstrapSpec{FromBackup: &kalamv1.BootstrapFromBackup{BackupName: backup}}
	return &kalamv1.KalamCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: src.Namespace, Name: name, Labels: copyLabels(src.Labels),
			Annotations: map[string]string{"kalamdb.io/restored-from": src.Name + "/" + backup}},
		Spec: spec,
	}
}

func copyLabels(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// waitReady polls until the cluster is Ready=True.
func waitReady(ctx context.Context, e *env, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var kc kalamv1.KalamCluster
	for {
		if err := e.client.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: name}, &kc); err != nil {
			return fmt.Errorf("while waiting for KalamCluster %s: %w", name, err)
		}
		for _, c := range kc.Status.Conditions {
			if c.Type == kalamv1.ConditionReady && c.Status == metav1.ConditionTrue {
				fmt.Fprintf(e.out, "cluster %s is Ready\n", name)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster %s is not Ready after %s (phase %s)", name, timeout, orDash(string(kc.Status.Phase)))
		case <-time.After(pollInterval):
		}
	}
}

func approveCommand(_ *globalOptions) command {
	var hash string
	return command{
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&hash, "hash", "", "the plan hash you reviewed (recommended: refuses a plan that changed since)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			name, err := oneArg(args, "KalamTable name")
			if err != nil {
				return err
			}
			var t kalamv1.KalamTable
			if err := e.client.Get(ctx, types.NamespacedName{Namespace: e.namespace, Name: name}, &t); err != nil {
				return fmt.Errorf("while reading KalamTable %s/%s: %w", e.namespace, name, err)
			}
			plan, err := approvablePlan(&t, hash)
			if err != nil {
				return err
			}
			// A merge patch with the resourceVersion: the approval is of the
			// plan read above, never of one computed after it.
			patch := client.MergeFromWithOptions(t.DeepCopy(), client.MergeFromWithOptimisticLock{})
			if t.Annotations == nil {
				t.Annotations = map[string]string{}
			}
			t.Annotations[kalamv1.AnnotationApprovePlan] = plan.Hash
			if err := e.client.Patch(ctx, &t, patch); err != nil {
				if apierrors.IsConflict(err) {
					return errors.New("the KalamTable changed while approving; run status again and review the new plan")
				}
				return fmt.Errorf("while approving: %w", err)
			}
			fmt.Fprintf(e.out, "kalamtable.kalamdb.io/%s plan %s approved; the operator runs:\n", name, plan.Hash)
			for _, s := range plan.Statements {
				fmt.Fprintf(e.out, "  %s\n", s)
			}
			return nil
		},
	}
}

// approvablePlan checks that t has a pending plan that approval can apply
// and, when want is set, that it is the plan the user reviewed.
func approvablePlan(t *kalamv1.KalamTable, want string) (*kalamv1.SchemaPlan, error) {
	p := t.Status.PendingPlan
	if p == nil {
		return nil, fmt.Errorf("KalamTable %s has no pending plan", t.Name)
	}
	if len(p.Unsupported) > 0 {
		return nil, fmt.Errorf("the plan of %s cannot be approved: the operator cannot make these changes (%s); they need a new table",
			t.Name, strings.Join(p.Unsupported, "; "))
	}
	if want != "" && want != p.Hash {
		return nil, fmt.Errorf("the pending plan of %s is %s, not %s: it changed since you reviewed it", t.Name, p.Hash, want)
	}
	return p, nil
}
