package v1alpha1_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

func user() *kalamv1.KalamUser {
	return &kalamv1.KalamUser{
		ObjectMeta: metav1.ObjectMeta{Name: name("ku"), Namespace: "default"},
		Spec: kalamv1.KalamUserSpec{
			ClusterRef:     kalamv1.ClusterReference{Name: "c"},
			PasswordSecret: kalamv1.SecretKeySelector{Name: "pw"},
		},
	}
}

// TestUserValidation runs the KalamUser admission rules against a real
// kube-apiserver: names, roles, root refused, defaults, immutability.
func TestUserValidation(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*kalamv1.KalamUser)
		wantErr string
	}{
		{"ok", func(*kalamv1.KalamUser) {}, ""},
		{"name with e-mail characters", func(u *kalamv1.KalamUser) { u.Spec.Name = "ops.bot@example-1" }, ""},
		{"name with a space", func(u *kalamv1.KalamUser) { u.Spec.Name = "a b" }, "spec.name"},
		{"root", func(u *kalamv1.KalamUser) { u.Spec.Name = "root" }, "rootPasswordSecret"},
		{"unknown role", func(u *kalamv1.KalamUser) { u.Spec.Role = "owner" }, "spec.role"},
		{"no secret name", func(u *kalamv1.KalamUser) { u.Spec.PasswordSecret.Name = "" }, "spec.passwordSecret.name"},
		{"bad deletion policy", func(u *kalamv1.KalamUser) { u.Spec.DeletionPolicy = "Drop" }, "spec.deletionPolicy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := user()
			c.mutate(u)
			check(t, client.Object(u), c.wantErr)
		})
	}
	t.Run("defaults", func(t *testing.T) {
		u := user()
		check(t, u, "")
		if u.Spec.Role != "user" || u.Spec.PasswordSecret.Key != "password" || u.Spec.DeletionPolicy != kalamv1.DeletionRetain {
			t.Fatalf("defaults: %+v", u.Spec)
		}
	})
	t.Run("name is immutable", func(t *testing.T) {
		u := user()
		u.Spec.Name = "first"
		update(t, u, func(u *kalamv1.KalamUser) { u.Spec.Name = "second" }, "name is immutable")
	})
	t.Run("clusterRef is immutable", func(t *testing.T) {
		update(t, user(), func(u *kalamv1.KalamUser) { u.Spec.ClusterRef.Name = "other" }, "clusterRef is immutable")
	})
	t.Run("role and password secret may change", func(t *testing.T) {
		update(t, user(), func(u *kalamv1.KalamUser) { u.Spec.Role = "dba"; u.Spec.PasswordSecret.Name = "pw2" }, "")
	})
}
