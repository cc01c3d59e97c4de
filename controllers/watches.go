package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// enqueueScheduleOf maps a KalamBackup to the KalamScheduledBackup named
// by its label (whatever its owner reference policy).
func enqueueScheduleOf() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[kalamv1.LabelScheduledBackup]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	})
}

// requestsFor lists objects of one kind in a namespace and keeps those
// keep() accepts, as reconcile requests.
func requestsFor[L client.ObjectList](ctx context.Context, c client.Client, list L, namespace string, items func(L) []client.Object, keep func(client.Object) bool) []reconcile.Request {
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, o := range items(list) {
		if keep(o) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}})
		}
	}
	return out
}

func tableItems(l *kalamv1.KalamTableList) []client.Object {
	out := make([]client.Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

func namespaceItems(l *kalamv1.KalamNamespaceList) []client.Object {
	out := make([]client.Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

func backupItems(l *kalamv1.KalamBackupList) []client.Object {
	out := make([]client.Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// enqueueTablesOf wakes the KalamTables that depend on a changed
// KalamCluster or KalamNamespace, so a waiting condition resolves as soon
// as the dependency is ready instead of at the next slow requeue.
func enqueueTablesOf(c client.Client) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return requestsFor(ctx, c, &kalamv1.KalamTableList{}, o.GetNamespace(), tableItems, func(t client.Object) bool {
			kt := t.(*kalamv1.KalamTable)
			switch dep := o.(type) {
			case *kalamv1.KalamCluster:
				return kt.Spec.ClusterRef.Name == dep.Name
			case *kalamv1.KalamNamespace:
				return kt.Spec.ClusterRef.Name == dep.Spec.ClusterRef.Name && kt.Spec.Namespace == dep.DatabaseName()
			}
			return false
		})
	})
}

// enqueueNamespacesOf wakes the KalamNamespaces of a changed KalamCluster.
func enqueueNamespacesOf(c client.Client) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return requestsFor(ctx, c, &kalamv1.KalamNamespaceList{}, o.GetNamespace(), namespaceItems, func(n client.Object) bool {
			return n.(*kalamv1.KalamNamespace).Spec.ClusterRef.Name == o.GetName()
		})
	})
}

// enqueuePendingBackupsOf wakes the unfinished KalamBackups of the cluster
// a changed KalamCluster or KalamBackup belongs to: a finished backup lets
// the next one start at once.
func enqueuePendingBackupsOf(c client.Client) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		cluster := o.GetName()
		if b, ok := o.(*kalamv1.KalamBackup); ok {
			cluster = b.Spec.Cluster.Name
		}
		return requestsFor(ctx, c, &kalamv1.KalamBackupList{}, o.GetNamespace(), backupItems, func(x client.Object) bool {
			b := x.(*kalamv1.KalamBackup)
			return b.Spec.Cluster.Name == cluster && !b.Done() && b.UID != o.GetUID()
		})
	})
}
