package controllers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

const annSpecHash = "kalamdb.io/spec-hash"

// KalamClusterReconciler turns a KalamCluster into its ConfigMap,
// credentials Secret, Services, PodDisruptionBudget and StatefulSet, and
// reports status from the StatefulSet and from the data plane itself.
type KalamClusterReconciler struct {
	client.Client
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	DataPlane *DataPlane
	// APIReader reads PVCs and StorageClasses by name, uncached (nil: the
	// cached Client).
	APIReader client.Reader
	// Resync is the requeue interval of a healthy cluster (default 2 min).
	Resync time.Duration
}

// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamclusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kalamdb.io,resources=kalamclusters/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=core,resources=configmaps;services,verbs=get;list;watch;create;update;patch;delete
// Secrets: created and filled in, never deleted (garbage collection does
// that); the cache lists and watches only the operator's own (CacheOptions).
// +kubebuilder:rbac:groups=core,resources=secrets,verbs=get;list;watch;create;update;patch
// Pods: deleted one at a time by the rolling update of a replicated cluster
// (kalamcluster_rollout.go), after its leadership moved away.
// +kubebuilder:rbac:groups=core,resources=pods,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=core,resources=persistentvolumeclaims,verbs=get;patch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get

// Reconcile implements reconcile.Reconciler.
func (r *KalamClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var kc kalamv1.KalamCluster
	if err := r.Get(ctx, req.NamespacedName, &kc); err != nil {
		if apierrors.IsNotFound(err) {
			r.DataPlane.Forget(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !kc.DeletionTimestamp.IsZero() {
		// Owned objects go with the cluster through garbage collection;
		// PVCs stay (the StatefulSet's default retention), as data should.
		r.DataPlane.Forget(kc.Namespace, kc.Name)
		return ctrl.Result{}, nil
	}
	orig := kc.DeepCopy()
	if paused(&kc) {
		kalamv1.MarkUnknown(&kc, kalamv1.ReasonPaused, "reconciliation is paused by the kalamdb.io/reconcile annotation")
		return finish(ctx, r.Client, r.Recorder, "KalamCluster", orig, &kc, ctrl.Result{}, nil)
	}
	// observe sets the phase from what the pods do; a reconcile that ends
	// before it leaves the phase empty and it is decided here.
	kc.Status.Phase = ""
	res, err := r.reconcile(ctx, &kc)
	var pe *permanentError
	switch {
	case err != nil && asPermanent(err, &pe):
		// A refused spec change does not stop pods that already serve
		// their last applied spec: the phase says what they do, Stalled
		// says what was refused.
		kc.Status.Phase = r.servingPhase(ctx, &kc)
	case kc.Status.Phase == "" && orig.Status.Phase != "" && orig.Status.Phase != kalamv1.ClusterFailed:
		kc.Status.Phase = orig.Status.Phase
	case kc.Status.Phase == "":
		kc.Status.Phase = kalamv1.ClusterPending
	}
	return finish(ctx, r.Client, r.Recorder, "KalamCluster", orig, &kc, res, err)
}

// servingPhase is the phase of a cluster whose spec was refused: Ready when
// every pod of its StatefulSet is ready (they serve the last applied spec),
// Failed otherwise.
func (r *KalamClusterReconciler) servingPhase(ctx context.Context, kc *kalamv1.KalamCluster) kalamv1.ClusterPhase {
	var sts appsv1.StatefulSet
	if err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: statefulSetName(kc)}, &sts); err != nil {
		return kalamv1.ClusterFailed
	}
	kc.Status.ReadyReplicas = sts.Status.ReadyReplicas
	if sts.Spec.Replicas != nil && sts.Status.ReadyReplicas >= *sts.Spec.Replicas && sts.Status.ReadyReplicas > 0 {
		return kalamv1.ClusterReady
	}
	return kalamv1.ClusterFailed
}

func (r *KalamClusterReconciler) reconcile(ctx context.Context, kc *kalamv1.KalamCluster) (ctrl.Result, error) {
	// The credentials come first: they never depend on the rest of the
	// spec, and a broken config must not leave the cluster without them.
	if err := r.ensureSecret(ctx, kc); err != nil {
		return ctrl.Result{}, err
	}
	// The pods cannot start without the certificate they mount.
	if err := r.reconcileTLS(ctx, kc, time.Now()); err != nil {
		return ctrl.Result{}, err
	}
	raftCert, err := r.reconcileRaftTLS(ctx, kc, time.Now())
	if err != nil {
		return ctrl.Result{}, err
	}
	if replicated(kc) && kc.Status.DeploymentID == 0 {
		kc.Status.DeploymentID = deploymentIDFor(kc)
	}
	if err := r.gateReplicaChange(ctx, kc); err != nil {
		return ctrl.Result{}, err
	}
	step, keepJoin, err := r.observeScaleUp(ctx, kc)
	if err != nil {
		return ctrl.Result{}, err
	}
	if step.Action == scaleUpRecreate {
		return r.recreateForScaleUp(ctx, kc, step)
	}
	toml, err := renderConfig(kc)
	if err != nil {
		return ctrl.Result{}, permanent(kalamv1.ReasonInvalidSpec, "%v", err)
	}
	restore, err := r.restoreSource(ctx, kc)
	if err != nil {
		return ctrl.Result{}, err
	}
	apply := []struct {
		obj    client.Object
		mutate func(existing client.Object)
	}{
		{buildConfigMap(kc, toml), func(e client.Object) { e.(*corev1.ConfigMap).Data = buildConfigMap(kc, toml).Data }},
		{buildHeadlessService(kc), func(e client.Object) { mergeService(e.(*corev1.Service), buildHeadlessService(kc)) }},
		{buildClientService(kc), func(e client.Object) { mergeService(e.(*corev1.Service), buildClientService(kc)) }},
		{buildPDB(kc), func(e client.Object) { e.(*policyv1.PodDisruptionBudget).Spec = buildPDB(kc).Spec }},
	}
	for _, a := range apply {
		if err := r.applyOwned(ctx, kc, a.obj, a.mutate); err != nil {
			return ctrl.Result{}, err
		}
	}
	sts, err := r.applyStatefulSet(ctx, kc, hashOf(toml), raftCert, restore, step, keepJoin)
	if err != nil {
		return ctrl.Result{}, err
	}
	resizing, err := r.reconcileStorage(ctx, kc, *sts.Spec.Replicas)
	if err != nil {
		return ctrl.Result{}, err
	}
	if step.active() {
		return r.runScaleUp(ctx, kc, sts, step)
	}
	res, err := r.observe(ctx, kc, sts)
	if resizing && err == nil && (res.RequeueAfter == 0 || res.RequeueAfter > defaultWait) {
		res.RequeueAfter = defaultWait // watch the volume grow
	}
	return res, err
}

// restoreSource resolves spec.bootstrap.fromBackup. Once the StatefulSet
// exists its restore arguments are kept as they are: the server ignores
// them on a data directory that already has data (C2), and a later deletion
// of the KalamBackup must not block updates. The same holds while the
// StatefulSet is being recreated (the 1 -> 3 migration deletes it with the
// orphan policy): pod 0 still runs, and its container carries the
// arguments the deleted template had, so they are taken from it rather
// than resolved again.
func (r *KalamClusterReconciler) restoreSource(ctx context.Context, kc *kalamv1.KalamCluster) (*restoreSource, error) {
	if kc.Spec.Bootstrap == nil || kc.Spec.Bootstrap.FromBackup == nil {
		return nil, nil
	}
	var sts appsv1.StatefulSet
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: statefulSetName(kc)}, &sts)
	if err == nil {
		return restoreFromArgs(sts.Spec.Template.Spec.Containers), nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading the statefulset: %w", err)
	}
	var pod0 corev1.Pod
	err = r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: podName(kc, 0)}, &pod0)
	if err == nil && pod0.Labels[kalamv1.LabelCluster] == kc.Name {
		return restoreFromArgs(pod0.Spec.Containers), nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("while reading pod %s: %w", podName(kc, 0), err)
	}
	fb := kc.Spec.Bootstrap.FromBackup
	if fb.Path != "" {
		return &restoreSource{Target: fb.Path, BackupID: fb.BackupID}, nil
	}
	var b kalamv1.KalamBackup
	if err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: fb.BackupName}, &b); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitFor(kalamv1.ReasonProgressing, 30*time.Second, "bootstrap backup %q not found", fb.BackupName)
		}
		return nil, err
	}
	switch b.Status.Phase {
	case kalamv1.BackupCompleted:
		if backupMissing(&b) {
			return nil, permanent(kalamv1.ReasonBackupMissing, "bootstrap backup %q is missing: %s", fb.BackupName, meta.FindStatusCondition(b.Status.Conditions, kalamv1.ConditionReady).Message)
		}
		return &restoreSource{Target: b.Status.Target, BackupID: b.Status.BackupID}, nil
	case kalamv1.BackupFailed:
		return nil, permanent(kalamv1.ReasonInvalidSpec, "bootstrap backup %q failed: %s", fb.BackupName, b.Status.Error)
	}
	return nil, waitFor(kalamv1.ReasonProgressing, 15*time.Second, "bootstrap backup %q is %s", fb.BackupName, b.Status.Phase)
}

func restoreFromArgs(cs []corev1.Container) *restoreSource {
	for _, c := range cs {
		if c.Name != containerName {
			continue
		}
		var rs *restoreSource
		for i := 0; i+1 < len(c.Command); i++ {
			switch c.Command[i] {
			case "--restore-from":
				if rs == nil {
					rs = &restoreSource{}
				}
				rs.Target = c.Command[i+1]
			case "--restore-backup-id":
				if rs == nil {
					rs = &restoreSource{}
				}
				rs.BackupID = c.Command[i+1]
			}
		}
		return rs
	}
	return nil
}

// ensureSecret creates the credentials Secret once and fills in missing
// keys; existing values are never regenerated (C4).
func (r *KalamClusterReconciler) ensureSecret(ctx context.Context, kc *kalamv1.KalamCluster) error {
	var sec corev1.Secret
	err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: credentialsSecretName(kc)}, &sec)
	if apierrors.IsNotFound(err) {
		pw, jwt, gerr := generateCredentials()
		if gerr != nil {
			return gerr
		}
		want := buildCredentialsSecret(kc, pw, jwt)
		if err := controllerutil.SetControllerReference(kc, want, r.Scheme); err != nil {
			return err
		}
		if err := r.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("while creating the credentials secret: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("while reading the credentials secret: %w", err)
	}
	if len(sec.Data[secretRootPassword]) > 0 && len(sec.Data[secretJWTSecret]) > 0 {
		return nil
	}
	pw, jwt, err := generateCredentials()
	if err != nil {
		return err
	}
	if sec.Data == nil {
		sec.Data = map[string][]byte{}
	}
	if len(sec.Data[secretRootPassword]) == 0 {
		sec.Data[secretRootPassword] = []byte(pw)
	}
	if len(sec.Data[secretJWTSecret]) == 0 {
		sec.Data[secretJWTSecret] = []byte(jwt)
	}
	return r.Update(ctx, &sec)
}

func generateCredentials() (string, string, error) {
	pw := make([]byte, 24)
	jwt := make([]byte, 32)
	if _, err := rand.Read(pw); err != nil {
		return "", "", fmt.Errorf("while generating the root password: %w", err)
	}
	if _, err := rand.Read(jwt); err != nil {
		return "", "", fmt.Errorf("while generating the JWT secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(pw), hex.EncodeToString(jwt), nil
}

// applyOwned creates obj or updates the fields mutate sets on the existing
// object, writing only when something changed.
func (r *KalamClusterReconciler) applyOwned(ctx context.Context, kc *kalamv1.KalamCluster, desired client.Object, mutate func(client.Object)) error {
	existing := desired.DeepCopyObject().(client.Object)
	labels, ann := desired.GetLabels(), desired.GetAnnotations()
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, existing, func() error {
		if existing.GetResourceVersion() != "" {
			mutate(existing)
		}
		l := existing.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		for k, v := range labels {
			l[k] = v
		}
		existing.SetLabels(l)
		if ann != nil {
			a := existing.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			for k, v := range ann {
				a[k] = v
			}
			existing.SetAnnotations(a)
		}
		return controllerutil.SetControllerReference(kc, existing, r.Scheme)
	})
	if err != nil {
		return fmt.Errorf("while applying %T %s: %w", desired, desired.GetName(), err)
	}
	return nil
}

// mergeService sets the fields the operator owns and keeps what the API
// server allocated (cluster IP, node ports).
func mergeService(existing, desired *corev1.Service) {
	nodePorts := map[string]int32{}
	for _, p := range existing.Spec.Ports {
		nodePorts[p.Name] = p.NodePort
	}
	existing.Spec.Selector = desired.Spec.Selector
	existing.Spec.PublishNotReadyAddresses = desired.Spec.PublishNotReadyAddresses
	if desired.Spec.Type != "" {
		existing.Spec.Type = desired.Spec.Type
	}
	ports := make([]corev1.ServicePort, len(desired.Spec.Ports))
	for i, p := range desired.Spec.Ports {
		if existing.Spec.Type == corev1.ServiceTypeNodePort || existing.Spec.Type == corev1.ServiceTypeLoadBalancer {
			p.NodePort = nodePorts[p.Name]
		}
		ports[i] = p
	}
	existing.Spec.Ports = ports
}

// applyStatefulSet creates the StatefulSet or rolls out a changed pod
// template. The decision is taken on a hash of the desired spec stored on
// the StatefulSet, never on a field-by-field comparison with what the API
// server defaulted. Volume claim templates cannot change on a StatefulSet:
// a larger size is applied to the PVCs (reconcileStorage), any other
// difference is reported, never silently ignored.
func (r *KalamClusterReconciler) applyStatefulSet(ctx context.Context, kc *kalamv1.KalamCluster, configHash, raftCert string, restore *restoreSource, step scaleUpStep, keepJoin bool) (*appsv1.StatefulSet, error) {
	desired := buildStatefulSet(kc, configHash, restore)
	annotateRaftCert(desired, raftCert)
	applyScaleUp(kc, desired, step, keepJoin)
	specJSON, err := json.Marshal(desired.Spec)
	if err != nil {
		return nil, err
	}
	hash := hashOf(string(specJSON))
	desired.Annotations = map[string]string{annSpecHash: hash}
	if err := controllerutil.SetControllerReference(kc, desired, r.Scheme); err != nil {
		return nil, err
	}
	var sts appsv1.StatefulSet
	err = r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: desired.Name}, &sts)
	if apierrors.IsNotFound(err) {
		if err := r.Create(ctx, desired); err != nil {
			return nil, fmt.Errorf("while creating the statefulset: %w", err)
		}
		r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "Created", "Provision", "created StatefulSet %s", desired.Name)
		return desired, nil
	}
	if err != nil {
		return nil, fmt.Errorf("while reading the statefulset: %w", err)
	}
	if msg := claimTemplateDrift(&sts, desired); msg != "" {
		return nil, permanent(kalamv1.ReasonUnsupportedChange, "%s", msg)
	}
	if sts.Annotations[annSpecHash] == hash {
		return &sts, nil
	}
	sts.Spec.Template = desired.Spec.Template
	sts.Spec.Replicas = desired.Spec.Replicas
	sts.Spec.UpdateStrategy = desired.Spec.UpdateStrategy
	if sts.Annotations == nil {
		sts.Annotations = map[string]string{}
	}
	sts.Annotations[annSpecHash] = hash
	if err := r.Update(ctx, &sts); err != nil {
		return nil, fmt.Errorf("while updating the statefulset: %w", err)
	}
	r.Recorder.Eventf(kc, nil, corev1.EventTypeNormal, "RollingUpdate", "Update", "updated the pod template of StatefulSet %s", sts.Name)
	return &sts, nil
}

func claimTemplateDrift(existing, desired *appsv1.StatefulSet) string {
	if len(existing.Spec.VolumeClaimTemplates) == 0 || len(desired.Spec.VolumeClaimTemplates) == 0 {
		return ""
	}
	e, d := existing.Spec.VolumeClaimTemplates[0].Spec, desired.Spec.VolumeClaimTemplates[0].Spec
	es, ds := e.Resources.Requests[corev1.ResourceStorage], d.Resources.Requests[corev1.ResourceStorage]
	if ds.Cmp(es) < 0 {
		return fmt.Sprintf("storage size %s is smaller than the StatefulSet's volume claim template (%s): a volume cannot shrink", ds.String(), es.String())
	}
	if d.StorageClassName != nil && (e.StorageClassName == nil || *e.StorageClassName != *d.StorageClassName) {
		return "storageClassName differs from the StatefulSet's volume claim template, which cannot change"
	}
	return ""
}

// observe fills the status from the StatefulSet and the data plane.
func (r *KalamClusterReconciler) observe(ctx context.Context, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet) (ctrl.Result, error) {
	want := *sts.Spec.Replicas
	kc.Status.ReadyReplicas = sts.Status.ReadyReplicas
	kc.Status.Endpoint = clusterEndpoint(kc)
	rolledOut := sts.Status.ObservedGeneration >= sts.Generation && sts.Status.UpdatedReplicas == want &&
		sts.Status.ReadyReplicas == want && (sts.Status.UpdateRevision == "" || sts.Status.CurrentRevision == sts.Status.UpdateRevision)
	// A cluster that has served once (status.currentImage is set when a
	// rollout completes) and is replacing its pods is Updating, even while
	// no pod is ready; only a cluster that never served is Provisioning.
	notServing := kalamv1.ClusterProvisioning
	if !rolledOut && kc.Status.CurrentImage != "" {
		notServing = kalamv1.ClusterUpdating
	}
	if rolledOut {
		kc.Status.CurrentImage = kc.Spec.Image
	}
	if !rolledOut {
		// Before anything that needs the data plane: during the switch
		// the operator's client may not reach the old pods (spec.tls also
		// changes the API scheme).
		if res, done, err := r.switchRaftTransport(ctx, kc, sts); done {
			return res, err
		}
	}
	if sts.Status.ReadyReplicas == 0 {
		kc.Status.Phase = notServing
		if msg := r.restoreFailure(ctx, kc, sts); msg != "" {
			return ctrl.Result{}, waitFor(kalamv1.ReasonRestoreFailed, defaultWait, "0/%d data-plane pods ready: %s", want, msg)
		}
		return ctrl.Result{}, waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "0/%d data-plane pods ready", want)
	}
	dp, err := r.DataPlane.Connect(ctx, kc)
	if err != nil {
		kc.Status.Phase = notServing
		if rolledOut {
			// The pods serve; only the operator's own session failed (a
			// refused root password, say).
			kc.Status.Phase = kalamv1.ClusterReady
		}
		return ctrl.Result{}, err
	}
	if !dp.Healthy(ctx) {
		kc.Status.Phase = notServing
		return ctrl.Result{}, waitFor(kalamv1.ReasonClusterNotReady, defaultWait, "the data plane's /readyz does not answer 200")
	}
	if v, err := dp.ServerVersion(ctx); err == nil {
		kc.Status.ServerVersion = v
	}
	r.observeObjectStore(ctx, kc, dp)
	resync := r.Resync
	if resync == 0 {
		resync = defaultResync
	}
	if replicated(kc) {
		rs, err := r.observeReplicas(ctx, kc, dp)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !rolledOut {
			return r.rollReplicas(ctx, kc, sts, rs, time.Now())
		}
		if rs.health.QuorumLost {
			kalamv1.MarkProgressing(kc, rs.health.QuorumReason, rs.health.QuorumMsg)
			return ctrl.Result{RequeueAfter: defaultWait}, nil
		}
	}
	if !rolledOut {
		kc.Status.Phase = kalamv1.ClusterUpdating
		kalamv1.MarkProgressing(kc, kalamv1.ReasonRolloutInProgress, fmt.Sprintf("rolling out: %d/%d pods updated and ready", sts.Status.UpdatedReplicas, want))
		return ctrl.Result{RequeueAfter: defaultWait}, nil
	}
	kc.Status.Phase = kalamv1.ClusterReady
	kalamv1.MarkReady(kc, kalamv1.ReasonAvailable, fmt.Sprintf("%d/%d pods ready; data plane answers at %s", sts.Status.ReadyReplicas, want, kc.Status.Endpoint))
	return ctrl.Result{RequeueAfter: resync}, nil
}

// restoreFailure returns the data plane's own reason when the first pod of
// a cluster bootstrapping from a backup keeps exiting: the container's last
// termination message (its log tail, FallbackToLogsOnError), so a failed
// restore says why in the cluster's conditions instead of only "0/1 pods
// ready".
func (r *KalamClusterReconciler) restoreFailure(ctx context.Context, kc *kalamv1.KalamCluster, sts *appsv1.StatefulSet) string {
	if restoreFromArgs(sts.Spec.Template.Spec.Containers) == nil {
		return ""
	}
	var pod corev1.Pod
	if err := r.Get(ctx, types.NamespacedName{Namespace: kc.Namespace, Name: podName(kc, 0)}, &pod); err != nil {
		return ""
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != containerName {
			continue
		}
		t := cs.LastTerminationState.Terminated
		if t == nil {
			t = cs.State.Terminated
		}
		if t == nil || t.ExitCode == 0 {
			return ""
		}
		return fmt.Sprintf("the restore from %s failed (exit code %d, %d restarts): %s",
			restoreFromArgs(sts.Spec.Template.Spec.Containers).Target, t.ExitCode, cs.RestartCount, lastLines(t.Message, 600))
	}
	return ""
}

// lastLines keeps the end of a log tail, where the error is.
func lastLines(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

func (r *KalamClusterReconciler) observeObjectStore(ctx context.Context, kc *kalamv1.KalamCluster, dp interface {
	StorageCheck(context.Context, string) (bool, string, error)
}) {
	if kc.Spec.ObjectStore == nil {
		kalamv1.SetCondition(kc, kalamv1.ConditionObjectStoreReachable, metav1.ConditionUnknown, kalamv1.ReasonNotConfigured, "spec.objectStore is not set")
		return
	}
	ok, detail, err := dp.StorageCheck(ctx, objectStoreID)
	switch {
	case err != nil:
		kalamv1.SetCondition(kc, kalamv1.ConditionObjectStoreReachable, metav1.ConditionFalse, kalamv1.ReasonUnreachable, "STORAGE CHECK objstore: "+err.Error())
	case !ok:
		kalamv1.SetCondition(kc, kalamv1.ConditionObjectStoreReachable, metav1.ConditionFalse, kalamv1.ReasonUnreachable, "STORAGE CHECK objstore: "+detail)
	default:
		kalamv1.SetCondition(kc, kalamv1.ConditionObjectStoreReachable, metav1.ConditionTrue, kalamv1.ReasonReachable, "STORAGE CHECK objstore is healthy")
	}
}

// SetupWithManager registers the controller; it watches what it owns so a
// deleted or edited child is put back at once.
func (r *KalamClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&kalamv1.KalamCluster{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Named("kalamcluster").
		Complete(r)
}
