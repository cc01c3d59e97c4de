package controllers

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// Mutual TLS between the replicas of a replicated cluster, on the Raft
// port (docs/high-availability.md, "Mutual TLS on the Raft port").
//
// It is on when spec.tls is set on a replicated cluster: spec.tls secures
// the cluster's traffic, the API's and the replicas'. The Raft certificate
// always comes from a CA the operator generates for it (<cluster>-raft-ca),
// as CloudNativePG does for replication: the user's spec.tls certificate
// may be issued for the client-facing names only and for server auth only,
// and its CA key is not ours. The peer certificate (<cluster>-raft-tls)
// names every pod of the StatefulSet in the headless Service — the Raft
// addresses peers dial and verify — and is usable as server and as client.
// One certificate serves every pod (the pods share a template).
//
// dragonboat loads the listener's certificate once at start-up, so a
// renewed certificate takes effect when a pod restarts: the certificate's
// fingerprint is a pod-template annotation, and renewing it (a third of its
// year before expiry, under the same CA) rolls the pods one at a time
// through the usual leader-transferring rollout. Old and new certificates
// chain to the same CA, so restarted and not-yet-restarted pods trust each
// other throughout.

const (
	raftTLSDir    = "/etc/kalamdb-raft-tls"
	raftTLSVolume = "raft-tls"
	// annRaftCert is the pod-template annotation holding the Raft
	// certificate's fingerprint: a renewal restarts the pods.
	annRaftCert = "kalamdb.io/raft-cert"
)

// raftTLSEnabled: a replicated cluster with spec.tls. Without spec.tls
// the Raft port stays plaintext, like the API.
func raftTLSEnabled(kc *kalamv1.KalamCluster) bool { return replicated(kc) && tlsEnabled(kc) }

func raftCASecretName(kc *kalamv1.KalamCluster) string  { return kc.Name + "-raft-ca" }
func raftTLSSecretName(kc *kalamv1.KalamCluster) string { return kc.Name + "-raft-tls" }

// raftDNSNames are the names of the Raft peer certificate: each pod's
// Raft host (peerHost, the host of its cluster.raft_address), its
// cluster.local form, and the headless Service's wildcards.
func raftDNSNames(kc *kalamv1.KalamCluster) []string {
	var names []string
	for i := range replicatedReplicas {
		names = append(names, peerHost(kc, i), peerHost(kc, i)+".cluster.local")
	}
	wild := "*." + headlessServiceName(kc) + "." + kc.Namespace + ".svc"
	return append(names, wild, wild+".cluster.local")
}

// raftUsages: a replica's certificate is presented by its listener and by
// its outgoing connections.
var raftUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}

// issueRaftCert signs kc's Raft peer certificate with ca.
func issueRaftCert(kc *kalamv1.KalamCluster, ca *pki.KeyPair, now time.Time) (*pki.KeyPair, error) {
	return ca.IssuePeer(kc.Name+"."+kc.Namespace+" raft peer", raftDNSNames(kc), nil, now, generatedCertValidity)
}

// raftRenewalReason is renewalReason for the Raft peer certificate.
func raftRenewalReason(kc *kalamv1.KalamCluster, sec *corev1.Secret, ca *pki.KeyPair, now time.Time) string {
	return certRenewalReason(sec, ca, raftCASecretName(kc), raftDNSNames(kc), raftUsages, now)
}

// raftCertFingerprint identifies a Raft certificate in the pod template.
func raftCertFingerprint(sec *corev1.Secret) string {
	sum := sha256.Sum256(sec.Data[corev1.TLSCertKey])
	return hex.EncodeToString(sum[:8])
}

// applyRaftTLSToPod mounts the Raft peer Secret read-only at raftTLSDir
// and points cluster.tls at it (env: the files are per pod, like the rest
// of [cluster]).
func applyRaftTLSToPod(kc *kalamv1.KalamCluster, tmpl *corev1.PodTemplateSpec) {
	if !raftTLSEnabled(kc) {
		return
	}
	pod := &tmpl.Spec
	pod.Volumes = append(pod.Volumes, corev1.Volume{Name: raftTLSVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: raftTLSSecretName(kc), DefaultMode: ptrInt32(0o440),
		Items: []corev1.KeyToPath{{Key: keyCACert, Path: keyCACert}, {Key: corev1.TLSCertKey, Path: corev1.TLSCertKey}, {Key: corev1.TLSPrivateKeyKey, Path: corev1.TLSPrivateKeyKey}},
	}}})
	for i := range pod.Containers {
		c := &pod.Containers[i]
		if c.Name != containerName {
			continue
		}
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: raftTLSVolume, MountPath: raftTLSDir, ReadOnly: true})
		c.Env = append(c.Env,
			corev1.EnvVar{Name: "KALAMDB_CLUSTER_TLS_CA_FILE", Value: raftTLSDir + "/" + keyCACert},
			corev1.EnvVar{Name: "KALAMDB_CLUSTER_TLS_CERT_FILE", Value: raftTLSDir + "/" + corev1.TLSCertKey},
			corev1.EnvVar{Name: "KALAMDB_CLUSTER_TLS_KEY_FILE", Value: raftTLSDir + "/" + corev1.TLSPrivateKeyKey},
		)
	}
}

// annotateRaftCert records the Raft certificate's fingerprint in the pod
// template ("" leaves it alone: Raft TLS is off).
func annotateRaftCert(sts *appsv1.StatefulSet, fingerprint string) {
	if fingerprint == "" {
		return
	}
	if sts.Spec.Template.Annotations == nil {
		sts.Spec.Template.Annotations = map[string]string{}
	}
	sts.Spec.Template.Annotations[annRaftCert] = fingerprint
}

// reconcileRaftTLS makes sure the Raft CA and peer certificate Secrets
// exist and are valid for a replicated cluster with spec.tls, and returns
// the certificate's fingerprint ("" when Raft TLS is off).
func (r *KalamClusterReconciler) reconcileRaftTLS(ctx context.Context, kc *kalamv1.KalamCluster, now time.Time) (string, error) {
	if !raftTLSEnabled(kc) {
		return "", nil
	}
	sec, err := r.ensureGeneratedCert(ctx, kc, generatedCert{
		caSecret: raftCASecretName(kc), caName: kc.Name + "." + kc.Namespace + " KalamDB Raft CA",
		secret: raftTLSSecretName(kc), what: "Raft peer certificate",
		renewal: func(sec *corev1.Secret, ca *pki.KeyPair) string { return raftRenewalReason(kc, sec, ca, now) },
		issue:   func(ca *pki.KeyPair) (*pki.KeyPair, error) { return issueRaftCert(kc, ca, now) },
	}, now)
	if err != nil {
		return "", fmt.Errorf("while issuing the Raft peer certificate: %w", err)
	}
	return raftCertFingerprint(sec), nil
}

// podEnvHas reports whether a pod's data-plane container sets env name.
func podEnvHas(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == containerName && slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name }) {
			return true
		}
	}
	return false
}

// raftTransportOutdated returns the pods of kc whose Raft transport
// (plaintext or mutual TLS) is not the one kc asks for. Pods of the two
// kinds cannot exchange a Raft message, so the one-at-a-time rollout
// would stall on the first restarted pod (it never catches up): such pods
// are restarted together instead (switchRaftTransport).
func raftTransportOutdated(kc *kalamv1.KalamCluster, pods []corev1.Pod) []*corev1.Pod {
	want := raftTLSEnabled(kc)
	var out []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if o, ok := podOrdinal(kc, p.Name); !ok || o >= int(kc.Spec.Replicas) || !p.DeletionTimestamp.IsZero() {
			continue
		}
		// A pod without [cluster] env is a single node being scaled up
		// (kalamcluster_scaleup.go drives it), not a Raft replica.
		if !podEnvHas(p, "KALAMDB_CLUSTER_MEMBERS") {
			continue
		}
		if podEnvHas(p, "KALAMDB_CLUSTER_TLS_CA_FILE") != want {
			out = append(out, p)
		}
	}
	return out
}

// switchRaftTransport restarts, all at once, the pods of a replicated
// cluster whose Raft transport differs from the desired one — adding or
// removing spec.tls on a running cluster. It is a brief outage (no
// acknowledged write is lost: the Raft logs are on the volumes), where a
// rolling update would stall; the Warning event says so. done is false
// when there is nothing to switch.
func (r *KalamClusterReconciler) switchRaftTransport(ctx context.Context, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet) (res ctrl.Result, done bool, err error) {
	if !replicated(kc) || sts.Status.ObservedGeneration < sts.Generation {
		return ctrl.Result{}, false, nil
	}
	var list corev1.PodList
	if err := r.List(ctx, &list, client.InNamespace(kc.Namespace), client.MatchingLabels(selectorLabels(kc))); err != nil {
		return ctrl.Result{}, true, fmt.Errorf("while listing the data-plane pods: %w", err)
	}
	outdated := raftTransportOutdated(kc, list.Items)
	if len(outdated) == 0 {
		return ctrl.Result{}, false, nil
	}
	mode := "plaintext"
	if raftTLSEnabled(kc) {
		mode = "mutual TLS"
	}
	var names []string
	for _, p := range outdated {
		if err := r.Delete(ctx, p, client.Preconditions{UID: &p.UID}); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, true, fmt.Errorf("while deleting pod %s to switch the Raft transport: %w", p.Name, err)
		}
		names = append(names, p.Name)
	}
	r.Recorder.Eventf(kc, nil, corev1.EventTypeWarning, "RaftTransportSwitch", "Update",
		"spec.tls changed the Raft port to %s: restarted pods %s together (pods with and without mutual TLS cannot talk, so a one-at-a-time rollout would stall); the cluster is unavailable until two of them serve",
		mode, strings.Join(names, ", "))
	kc.Status.Phase = kalamv1.ClusterUpdating
	kalamv1.MarkProgressing(kc, kalamv1.ReasonRolloutInProgress, fmt.Sprintf("switching the Raft port to %s: restarted %s together", mode, strings.Join(names, ", ")))
	return ctrl.Result{RequeueAfter: rolloutPoll}, true, nil
}
