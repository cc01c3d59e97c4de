package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LabelManagedBy marks the objects the operator creates; the Secret cache
// holds only Secrets carrying it.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	managedByValue = "kalamdb-operator"
)

// CacheOptions are the manager's cache options. With watchNamespace set the
// operator lists and watches only that namespace (the chart's namespaced
// install, with a Role instead of a ClusterRole). Whatever the scope, the
// cache holds only the Secrets the operator created (its credentials
// Secrets, by label): it never keeps a copy of the other Secrets of the
// namespaces it watches.
func CacheOptions(watchNamespace string) cache.Options {
	o := cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{LabelManagedBy: managedByValue})},
	}}
	if watchNamespace != "" {
		o.DefaultNamespaces = map[string]cache.Config{watchNamespace: {}}
	}
	return o
}

// ClientOptions make every Secret read a GET by name from the API server
// (never a cache lookup), so the operator reads exactly the Secrets it
// creates or a KalamCluster points it at, even those the label-filtered
// cache does not hold.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}
