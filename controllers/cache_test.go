package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestSecretCacheSelectsOwnSecrets: the credentials Secret the operator
// creates is one the label-filtered Secret cache holds (else the operator
// would never see its own Secret change), and a user's Secret is not.
func TestSecretCacheSelectsOwnSecrets(t *testing.T) {
	o := CacheOptions("")
	var sel labels.Selector
	for obj, by := range o.ByObject {
		if _, ok := obj.(*corev1.Secret); ok {
			sel = by.Label
		}
	}
	if sel == nil {
		t.Fatal("no label selector on the Secret cache")
	}
	own := buildCredentialsSecret(builderCluster(), "pw", "jwt")
	if !sel.Matches(labels.Set(own.Labels)) {
		t.Errorf("the cache does not select the credentials Secret (labels %v, selector %s)", own.Labels, sel)
	}
	if sel.Matches(labels.Set{"app": "user"}) {
		t.Error("the cache selects a user's Secret")
	}
	if o.DefaultNamespaces != nil {
		t.Errorf("cluster-wide install restricted to %v", o.DefaultNamespaces)
	}
	if ns := CacheOptions("apps").DefaultNamespaces; len(ns) != 1 {
		t.Errorf("namespaced install: %v", ns)
	}
	if _, ok := CacheOptions("apps").DefaultNamespaces["apps"]; !ok {
		t.Error("namespaced install does not watch its namespace")
	}
	if c := ClientOptions().Cache; c == nil || len(c.DisableFor) != 1 {
		t.Errorf("Secret reads are cached: %+v", c)
	}
}
