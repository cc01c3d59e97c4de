package main

import (
	"context"
	"crypto/tls"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// clusterTLS is how the plugin verifies a cluster with spec.tls (nil
// without): the serving Secret's ca.crt (the user's Secret, or
// <cluster>-tls the operator generates), for the name
// <cluster>.<namespace>.svc, as the operator itself does. A port-forward
// reaches 127.0.0.1, which is not a name in the certificate.
func clusterTLS(ctx context.Context, c client.Client, ns, cluster string) (*tls.Config, error) {
	var kc kalamv1.KalamCluster
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: cluster}, &kc); err != nil {
		return nil, fmt.Errorf("while reading KalamCluster %s/%s: %w", ns, cluster, err)
	}
	if kc.Spec.TLS == nil {
		return nil, nil
	}
	name := kc.Spec.TLS.SecretName
	if name == "" {
		name = cluster + "-tls"
	}
	var sec corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &sec); err != nil {
		return nil, fmt.Errorf("while reading the TLS Secret %s: %w", name, err)
	}
	cfg, err := pki.ClientTLS(sec.Data[corev1.TLSCertKey], sec.Data["ca.crt"], cluster+"."+ns+".svc")
	if err != nil {
		return nil, fmt.Errorf("TLS Secret %s: %w", name, err)
	}
	return cfg, nil
}
