package controllers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// TestClusterRaftTLS: a replicated cluster with spec.tls gets a generated
// Raft CA and peer certificate, owned by the cluster; the files pass the
// data plane's start-up check for every pod's Raft address; the pod
// template mounts them and carries the certificate's fingerprint. A peer
// certificate that is no longer fit (here: server auth only) is issued
// again, and the new fingerprint changes the template (the pods roll).
func TestClusterRaftTLS(t *testing.T) {
	kc := newCluster("rafttls")
	kc.Spec.Replicas = 3
	kc.Spec.TLS = &kalamv1.TLSSpec{Generate: true}
	// Only the objects are checked here: no pod runs, the store is never dialled.
	kc.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "minio.default:9000", Bucket: "kalam", Prefix: "rafttls"}
	create(t, kc)

	caSec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name + "-raft-ca"}}
	peerSec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name + "-raft-tls"}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name}}
	eventually(t, 30*time.Second, "Raft secrets and statefulset", func() (bool, string) {
		return get(t, caSec) && get(t, peerSec) && get(t, sts), ""
	})
	for _, s := range []*corev1.Secret{caSec, peerSec} {
		if refs := s.OwnerReferences; len(refs) != 1 || refs[0].Name != kc.Name || s.Labels[LabelManagedBy] != managedByValue {
			t.Errorf("secret %s: owners %+v labels %v", s.Name, refs, s.Labels)
		}
	}
	files := writeRaftFiles(t, peerSec)
	for i := range replicatedReplicas {
		if err := files.Check(peerHost(kc, i) + ":9190"); err != nil {
			t.Errorf("pod %d: %v", i, err)
		}
	}
	first := raftCertFingerprint(peerSec)
	eventually(t, 30*time.Second, "fingerprint in the pod template", func() (bool, string) {
		get(t, sts)
		return sts.Spec.Template.Annotations[annRaftCert] == first, sts.Spec.Template.Annotations[annRaftCert]
	})
	vols := sts.Spec.Template.Spec.Volumes
	found := false
	for _, v := range vols {
		found = found || (v.Name == raftTLSVolume && v.Secret != nil && v.Secret.SecretName == peerSec.Name)
	}
	if !found {
		t.Fatalf("no Raft TLS volume: %+v", vols)
	}

	// Unfit certificate (server auth only, same CA): issued again.
	ca, err := pki.ParsePair(caSec.Data[keyCACert], caSec.Data[keyCAKey])
	if err != nil {
		t.Fatal(err)
	}
	serverOnly, err := ca.IssueServer("x", raftDNSNames(kc), nil, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	peerSec.Data[corev1.TLSCertKey], peerSec.Data[corev1.TLSPrivateKeyKey] = serverOnly.CertPEM, serverOnly.KeyPEM
	if err := k8s.Update(tctx(t), peerSec); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "a new peer certificate rolled into the template", func() (bool, string) {
		get(t, peerSec)
		get(t, sts)
		fp := raftCertFingerprint(peerSec)
		return fp != first && fp != raftCertFingerprint(buildServerCertSecret(kc, serverOnly, nil)) &&
			sts.Spec.Template.Annotations[annRaftCert] == fp, sts.Spec.Template.Annotations[annRaftCert]
	})
	if why := raftRenewalReason(kc, peerSec, ca, time.Now()); why != "" {
		t.Fatalf("reissued certificate: %s", why)
	}
}

// TestClusterRaftTransportSwitch: adding spec.tls to a running replicated
// cluster switches its Raft port to mutual TLS; the pods still on
// plaintext could not talk to a restarted one, so the operator restarts
// them together (and says so) instead of stalling a one-at-a-time rollout.
// The test plays the StatefulSet controller: it creates the pods from the
// template and reports the new revision.
func TestClusterRaftTransportSwitch(t *testing.T) {
	kc := newCluster("rafttlssw")
	kc.Spec.Replicas = 3
	kc.Spec.ObjectStore = &kalamv1.ObjectStoreSpec{Endpoint: "minio.default:9000", Bucket: "kalam", Prefix: "rafttlssw"}
	create(t, kc)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: kc.Name}}
	eventually(t, 30*time.Second, "statefulset", func() (bool, string) { return get(t, sts), "" })
	var uids []string
	for o := range 3 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: podName(kc, o), Labels: map[string]string{labelRevision: "r1"}},
			Spec:       *sts.Spec.Template.Spec.DeepCopy(),
		}
		for k, v := range sts.Spec.Template.Labels {
			pod.Labels[k] = v
		}
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: dataVolume,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: dataVolume + "-" + pod.Name}}})
		create(t, pod)
		uids = append(uids, string(pod.UID))
	}
	setRevisions(t, sts, "r1", "r1", 3)

	update(t, kc, func() { kc.Spec.TLS = &kalamv1.TLSSpec{Generate: true} })
	eventually(t, 30*time.Second, "template with Raft TLS", func() (bool, string) {
		get(t, sts)
		return slices.ContainsFunc(sts.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == raftTLSVolume }), ""
	})
	setRevisions(t, sts, "r1", "r2", 0)
	eventually(t, 30*time.Second, "every plaintext pod restarted", func() (bool, string) {
		left := 0
		for o := range 3 {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: kc.Namespace, Name: podName(kc, o)}}
			if get(t, p) && slices.Contains(uids, string(p.UID)) && p.DeletionTimestamp.IsZero() {
				left++
			}
		}
		return left == 0, fmt.Sprintf("%d left", left)
	})
}
