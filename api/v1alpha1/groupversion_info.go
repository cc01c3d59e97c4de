// Package v1alpha1 holds the kalamdb.io/v1alpha1 API: KalamCluster (the
// data plane), KalamNamespace and KalamTable (database objects reconciled
// through the data plane's SQL API), KalamBackup and KalamScheduledBackup.
//
// +kubebuilder:object:generate=true
// +groupName=kalamdb.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "kalamdb.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
