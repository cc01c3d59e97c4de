package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// lastBackups is how many KalamBackups `status` lists.
const lastBackups = 5

// clusterReport is everything `status` shows, read from the API.
type clusterReport struct {
	Cluster   kalamv1.KalamCluster
	Pods      []corev1.Pod
	Tables    []kalamv1.KalamTable
	Backups   []kalamv1.KalamBackup // newest first
	Schedules []kalamv1.KalamScheduledBackup
}

func statusCommand(_ *globalOptions) command {
	return command{run: func(ctx context.Context, e *env, args []string) error {
		name, err := oneArg(args, "KalamCluster name")
		if err != nil {
			return err
		}
		r, err := gatherReport(ctx, e.client, e.namespace, name)
		if err != nil {
			return err
		}
		renderReport(e.out, r, time.Now())
		return nil
	}}
}

// gatherReport reads the cluster and what belongs to it: pods by the
// kalamdb.io/cluster label, tables, backups and schedules by their
// cluster reference.
func gatherReport(ctx context.Context, c client.Client, ns, name string) (*clusterReport, error) {
	r := &clusterReport{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &r.Cluster); err != nil {
		return nil, fmt.Errorf("while reading KalamCluster %s/%s: %w", ns, name, err)
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{kalamv1.LabelCluster: name}); err != nil {
		return nil, fmt.Errorf("while listing pods: %w", err)
	}
	r.Pods = pods.Items
	sort.Slice(r.Pods, func(i, j int) bool { return r.Pods[i].Name < r.Pods[j].Name })
	var tables kalamv1.KalamTableList
	var backups kalamv1.KalamBackupList
	var schedules kalamv1.KalamScheduledBackupList
	for kind, list := range map[string]client.ObjectList{"KalamTables": &tables, "KalamBackups": &backups, "KalamScheduledBackups": &schedules} {
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("while listing %s: %w", kind, err)
		}
	}
	r.Tables = ofCluster(tables.Items, name, func(t *kalamv1.KalamTable) string { return t.Spec.ClusterRef.Name })
	r.Backups = ofCluster(backups.Items, name, func(b *kalamv1.KalamBackup) string { return b.Spec.Cluster.Name })
	r.Schedules = ofCluster(schedules.Items, name, func(s *kalamv1.KalamScheduledBackup) string { return s.Spec.Cluster.Name })
	sort.Slice(r.Tables, func(i, j int) bool { return r.Tables[i].Name < r.Tables[j].Name })
	sort.Slice(r.Backups, func(i, j int) bool {
		ti, tj := r.Backups[i].CreationTimestamp, r.Backups[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		return r.Backups[i].Name > r.Backups[j].Name
	})
	return r, nil
}

// ofCluster keeps the items whose cluster reference is cluster.
func ofCluster[T any](items []T, cluster string, ref func(*T) string) []T {
	var out []T
	for i := range items {
		if ref(&items[i]) == cluster {
			out = append(out, items[i])
		}
	}
	return out
}

// renderReport prints the report; now makes ages reproducible in tests.
func renderReport(w io.Writer, r *clusterReport, now time.Time) {
	kc := &r.Cluster
	fmt.Fprintf(w, "Cluster %s/%s\n", kc.Namespace, kc.Name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	ready := meta.FindStatusCondition(kc.Status.Conditions, kalamv1.ConditionReady)
	fmt.Fprintf(tw, "  Phase:\t%s\n", orDash(string(kc.Status.Phase)))
	if ready != nil {
		fmt.Fprintf(tw, "  Ready:\t%s (%s) %s\n", ready.Status, ready.Reason, ready.Message)
	}
	fmt.Fprintf(tw, "  Image:\t%s (running: %s)\n", kc.Spec.Image, orDash(kc.Status.CurrentImage))
	fmt.Fprintf(tw, "  Server version:\t%s\n", orDash(kc.Status.ServerVersion))
	fmt.Fprintf(tw, "  Endpoint:\t%s\n", orDash(kc.Status.Endpoint))
	fmt.Fprintf(tw, "  Replicas:\t%d/%d ready\n", kc.Status.ReadyReplicas, max(kc.Spec.Replicas, 1))
	class := "default class"
	if kc.Spec.Storage.StorageClassName != nil {
		class = "class " + *kc.Spec.Storage.StorageClassName
	}
	fmt.Fprintf(tw, "  Storage:\t%s (%s)\n", kc.Spec.Storage.Size.String(), class)
	if o := kc.Spec.ObjectStore; o != nil {
		fmt.Fprintf(tw, "  Object store:\t%s/%s\n", orDefault(o.Endpoint, "s3.amazonaws.com"), strings.TrimSuffix(o.Bucket+"/"+o.Prefix, "/"))
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nConditions")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tAGE\tMESSAGE")
	for _, c := range kc.Status.Conditions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, age(now, c.LastTransitionTime), c.Message)
	}
	_ = tw.Flush()

	if len(kc.Status.Groups) > 0 {
		renderGroups(w, kc)
	}

	fmt.Fprintln(w, "\nPods")
	if len(r.Pods) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tREADY\tSTATUS\tRESTARTS\tNODE\tIP\tAGE")
		for _, p := range r.Pods {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\n", p.Name, podReady(&p), podStatus(&p), restarts(&p),
				orDash(p.Spec.NodeName), orDash(p.Status.PodIP), age(now, p.CreationTimestamp))
		}
		_ = tw.Flush()
	}

	fmt.Fprintln(w, "\nTables")
	var pending []kalamv1.KalamTable
	if len(r.Tables) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tTABLE\tTYPE\tREADY\tREASON\tVERSION\tPLAN")
		for _, t := range r.Tables {
			st, reason := "-", "-"
			if c := meta.FindStatusCondition(t.Status.Conditions, kalamv1.ConditionReady); c != nil {
				st, reason = string(c.Status), c.Reason
			}
			plan := "-"
			if p := t.Status.PendingPlan; p != nil {
				plan = "pending " + p.Hash
				pending = append(pending, t)
			}
			fmt.Fprintf(tw, "  %s\t%s.%s\t%s\t%s\t%s\t%d\t%s\n", t.Name, t.Spec.Namespace, t.Spec.Name, t.Spec.Type, st, reason, t.Status.SchemaVersion, plan)
		}
		_ = tw.Flush()
	}

	if len(pending) > 0 {
		fmt.Fprintln(w, "\nPending plans")
		for _, t := range pending {
			renderPlan(w, &t)
		}
	}

	fmt.Fprintln(w, "\nBackups")
	if len(r.Backups) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tPHASE\tBACKUP ID\tSTARTED\tDURATION\tSIZE\tSCHEDULE")
		for i, b := range r.Backups {
			if i == lastBackups {
				fmt.Fprintf(tw, "  (%d older)\n", len(r.Backups)-lastBackups)
				break
			}
			started, dur := "-", "-"
			if b.Status.StartedAt != nil {
				started = age(now, *b.Status.StartedAt) + " ago"
				if b.Status.StoppedAt != nil {
					dur = b.Status.StoppedAt.Sub(b.Status.StartedAt.Time).Round(time.Second).String()
				}
			}
			size := "-"
			if b.Status.SizeBytes > 0 {
				size = humanBytes(b.Status.SizeBytes)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Name, orDash(string(b.Status.Phase)), orDash(b.Status.BackupID), started, dur, size,
				orDash(b.Labels[kalamv1.LabelScheduledBackup]))
			if b.Status.Phase == kalamv1.BackupFailed && b.Status.Error != "" {
				fmt.Fprintf(tw, "  \terror: %s\n", b.Status.Error)
			}
		}
		_ = tw.Flush()
	}

	if len(r.Schedules) > 0 {
		fmt.Fprintln(w, "\nScheduled backups")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tSCHEDULE\tSUSPENDED\tLAST BACKUP\tNEXT")
		for _, s := range r.Schedules {
			next := "-"
			if s.Status.NextScheduleTime != nil && !s.Spec.Suspend {
				next = "in " + s.Status.NextScheduleTime.Sub(now).Round(time.Second).String()
			}
			fmt.Fprintf(tw, "  %s\t%s\t%t\t%s\t%s\n", s.Name, s.Spec.Schedule, s.Spec.Suspend, orDash(s.Status.LastBackupName), next)
		}
		_ = tw.Flush()
	}
}

// renderPlan prints one pending plan and how to approve it.
func renderPlan(w io.Writer, t *kalamv1.KalamTable) {
	p := t.Status.PendingPlan
	fmt.Fprintf(w, "  %s (%s.%s) plan %s\n", t.Name, t.Spec.Namespace, t.Spec.Name, p.Hash)
	for _, d := range p.Destructive {
		fmt.Fprintf(w, "    destructive: %s\n", d)
	}
	for _, u := range p.Unsupported {
		fmt.Fprintf(w, "    unsupported: %s\n", u)
	}
	for _, s := range p.Statements {
		fmt.Fprintf(w, "    %s\n", s)
	}
	if len(p.Unsupported) == 0 {
		fmt.Fprintf(w, "    approve: kubectl kalam approve %s -n %s --hash %s\n", t.Name, t.Namespace, p.Hash)
	}
}

func podReady(p *corev1.Pod) string {
	ready := 0
	for _, c := range p.Status.ContainerStatuses {
		if c.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
}

func podStatus(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Waiting != nil && c.State.Waiting.Reason != "" {
			return c.State.Waiting.Reason
		}
	}
	return orDash(string(p.Status.Phase))
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

// age prints a duration the way kubectl does (2d3h, 5m10s, 12s).
func age(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t.Time)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func orDash(s string) string { return orDefault(s, "-") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// renderGroups prints status.groups of a replicated cluster: each Raft
// group's leader pod, members and every reporting replica's applied index
// and lag.
func renderGroups(w io.Writer, kc *kalamv1.KalamCluster) {
	fmt.Fprintln(w, "\nRaft groups")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  GROUP\tLEADER\tMEMBERS\tAPPLIED (LAG) PER REPLICA")
	for _, g := range kc.Status.Groups {
		leader := "none"
		if g.Leader > 0 {
			leader = fmt.Sprintf("%s-%d", kc.Name, g.Leader-1)
		}
		members := make([]string, len(g.Members))
		for i, m := range g.Members {
			members[i] = fmt.Sprint(m)
		}
		replicas := make([]string, len(g.Replicas))
		for i, r := range g.Replicas {
			replicas[i] = fmt.Sprintf("%s=%d (%d)", r.Pod, r.Applied, r.Lag)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", g.Name, leader, orDash(strings.Join(members, ",")), orDash(strings.Join(replicas, " ")))
	}
	_ = tw.Flush()
}
