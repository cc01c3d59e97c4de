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
