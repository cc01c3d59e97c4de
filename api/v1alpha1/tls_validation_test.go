package v1alpha1_test

import (
	"testing"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// TestTLSValidation: spec.tls takes exactly one certificate source, and
// extra DNS names only for a certificate the operator generates.
func TestTLSValidation(t *testing.T) {
	for _, c := range []struct {
		name    string
		tls     kalamv1.TLSSpec
		wantErr string
	}{
		{"secret", kalamv1.TLSSpec{SecretName: "db-tls"}, ""},
		{"generate", kalamv1.TLSSpec{Generate: true, DNSNames: []string{"db.example.com"}}, ""},
		{"neither", kalamv1.TLSSpec{}, "set exactly one of secretName"},
		{"both", kalamv1.TLSSpec{SecretName: "db-tls", Generate: true}, "set exactly one of secretName"},
		{"dnsNames with a secret", kalamv1.TLSSpec{SecretName: "db-tls", DNSNames: []string{"x"}}, "dnsNames only apply"},
	} {
		t.Run(c.name, func(t *testing.T) {
			kc := cluster()
			kc.Spec.TLS = &c.tls
			check(t, kc, c.wantErr)
		})
	}
}
