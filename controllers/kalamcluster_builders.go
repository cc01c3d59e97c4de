package controllers

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	kalamv1 "github.com/kalamdb/kalamdb-k8s/api/v1alpha1"
)

// Pure builders of the objects a KalamCluster owns. They take the cluster
// (plus what was resolved from the API, e.g. the restore target) and return
// the desired object; the controller applies them. No client, no clock.

const (
	containerName      = "kalamdb"
	secretRootPassword = "root-password"
	secretJWTSecret    = "jwt-secret"
	// secretRootPasswordApplied is the root password the server has, as
	// last applied by the operator: the old credential of a rotation.
	secretRootPasswordApplied = "root-password-applied"
	annConfigHash             = "kalamdb.io/config-hash"
	dataVolume                = "data"
	portName                  = "http"
	// runAsUser is distroless' nonroot user.
	runAsUser = 65532
)

func configMapName(kc *kalamv1.KalamCluster) string         { return kc.Name + "-config" }
func credentialsSecretName(kc *kalamv1.KalamCluster) string { return kc.Name + "-credentials" }
func headlessServiceName(kc *kalamv1.KalamCluster) string   { return kc.Name + "-headless" }
func clientServiceName(kc *kalamv1.KalamCluster) string     { return kc.Name }
func statefulSetName(kc *kalamv1.KalamCluster) string       { return kc.Name }
func pdbName(kc *kalamv1.KalamCluster) string               { return kc.Name }
func podName(kc *kalamv1.KalamCluster, ordinal int) string {
	return statefulSetName(kc) + "-" + strconv.Itoa(ordinal)
}

// clusterEndpoint is the in-cluster URL of the client Service.
func clusterEndpoint(kc *kalamv1.KalamCluster) string {
	return fmt.Sprintf("%s://%s.%s.svc:%d", endpointScheme(kc), clientServiceName(kc), kc.Namespace, httpPort)
}

// selectorLabels select the cluster's pods; they never change.
func selectorLabels(kc *kalamv1.KalamCluster) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     "kalamdb",
		"app.kubernetes.io/instance": kc.Name,
		kalamv1.LabelCluster:         kc.Name,
	}
}

func objectLabels(kc *kalamv1.KalamCluster) map[string]string {
	l := selectorLabels(kc)
	l["app.kubernetes.io/managed-by"] = "kalamdb-operator"
	l["app.kubernetes.io/component"] = "dataplane"
	return l
}

func objectMeta(kc *kalamv1.KalamCluster, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: kc.Namespace, Labels: objectLabels(kc)}
}

// buildConfigMap holds server.toml.
func buildConfigMap(kc *kalamv1.KalamCluster, toml string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: objectMeta(kc, configMapName(kc)), Data: map[string]string{configFile: toml}}
}

// buildCredentialsSecret holds generated credentials. The controller
// creates it once and only ever fills in missing keys, so the root
// password and JWT secret survive operator restarts and upgrades.
func buildCredentialsSecret(kc *kalamv1.KalamCluster, rootPassword, jwtSecret string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: objectMeta(kc, credentialsSecretName(kc)),
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{secretRootPassword: []byte(rootPassword), secretRootPasswordApplied: []byte(rootPassword),
			secretJWTSecret: []byte(jwtSecret)},
	}
}

var httpServicePort = corev1.ServicePort{Name: portName, Port: httpPort, TargetPort: intstr.FromString(portName), Protocol: corev1.ProtocolTCP}

// buildHeadlessService gives the StatefulSet's pods stable DNS names; it
// publishes not-ready pods so a restoring pod is still addressable, and
// replicas of a replicated cluster find their peers before any is ready.
func buildHeadlessService(kc *kalamv1.KalamCluster) *corev1.Service {
	ports := []corev1.ServicePort{servicePort(kc)}
	if replicated(kc) {
		ports = append(ports, clusterServicePorts()...)
	}
	return &corev1.Service{
		ObjectMeta: objectMeta(kc, headlessServiceName(kc)),
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone, PublishNotReadyAddresses: true,
			Selector: selectorLabels(kc), Ports: ports,
		},
	}
}

// buildClientService serves SQL over HTTP and live queries over WebSocket
// (one port: the server upgrades /v1/ws on it).
func buildClientService(kc *kalamv1.KalamCluster) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: objectMeta(kc, clientServiceName(kc)),
		Spec: corev1.ServiceSpec{
			Type: kc.Spec.Service.Type, Selector: selectorLabels(kc), Ports: []corev1.ServicePort{servicePort(kc)},
		},
	}
	if svc.Spec.Type == "" {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if len(kc.Spec.Service.Annotations) > 0 {
		svc.Annotations = map[string]string{}
		for k, v := range kc.Spec.Service.Annotations {
			svc.Annotations[k] = v
		}
	}
	return svc
}

// buildPDB allows one voluntary disruption at a time. With a single
// replica this does not block node drains (blocking them would stall every
// node upgrade on the database's node); it becomes protective once the data
// plane replicates and replicas > 1.
func buildPDB(kc *kalamv1.KalamCluster) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: objectMeta(kc, pdbName(kc)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: selectorLabels(kc)},
		},
	}
}

// restoreSource is what --restore-from needs, resolved by the controller
// from spec.bootstrap.fromBackup.
type restoreSource struct {
	Target   string
	BackupID string
}

// serverArgs is the data-plane command line (C4).
func serverArgs(restore *restoreSource) []string {
	args := []string{"/kalamdb", "server", "--config", configDir + "/" + configFile}
	if restore != nil {
		args = append(args, "--restore-from", restore.Target)
		if restore.BackupID != "" {
			args = append(args, "--restore-backup-id", restore.BackupID)
		}
	}
	return args
}

// buildStatefulSet is the data plane. configHash rolls the pods when
// server.toml changes (a ConfigMap change alone would not).
func buildStatefulSet(kc *kalamv1.KalamCluster, configHash string, restore *restoreSource) *appsv1.StatefulSet {
	replicas := kc.Spec.Replicas
	if replicas == 0 {
		replicas = 1
	}
	podAnn := copyMap(kc.Spec.PodAnnotations)
	if podAnn == nil {
		podAnn = map[string]string{}
	}
	podAnn[annConfigHash] = configHash
	secretEnv := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: credentialsSecretName(kc)}, Key: key}}}
	}
	env := []corev1.EnvVar{
		{Name: "KALAMDB_SERVER_HOST", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
		secretEnv("KALAMDB_ROOT_PASSWORD", secretRootPassword),
		secretEnv("KALAMDB_JWT_SECRET", secretJWTSecret),
	}
	mounts := []corev1.VolumeMount{
		{Name: "config", MountPath: configDir, ReadOnly: true},
		{Name: dataVolume, MountPath: dataDir},
		{Name: "tmp", MountPath: "/tmp"},
	}
	volumes := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: configMapName(kc)}}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if obj := kc.Spec.ObjectStore; obj != nil {
		if cr := obj.Credentials; cr != nil {
			env = append(env,
				corev1.EnvVar{Name: envS3AccessKey, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: cr.AccessKeyID.DeepCopy()}},
				corev1.EnvVar{Name: envS3SecretKey, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: cr.SecretAccessKey.DeepCopy()}})
		}
		if obj.CA != nil {
			mounts = append(mounts, corev1.VolumeMount{Name: "objstore-ca", MountPath: caDir, ReadOnly: true})
			volumes = append(volumes, corev1.Volume{Name: "objstore-ca", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: obj.CA.Name, Items: []corev1.KeyToPath{{Key: obj.CA.Key, Path: obj.CA.Key}}}}})
		}
	}
	probe := func(path string, period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(portName)}},
			PeriodSeconds: period, FailureThreshold: failures, TimeoutSeconds: 5,
		}
	}
	container := corev1.Container{
		Name:            containerName,
		Image:           kc.Spec.Image,
		ImagePullPolicy: kc.Spec.ImagePullPolicy,
		Command:         serverArgs(restore),
		Ports:           []corev1.ContainerPort{{Name: portName, ContainerPort: httpPort, Protocol: corev1.ProtocolTCP}},
		Env:             env,
		Resources:       *kc.Spec.Resources.DeepCopy(),
		VolumeMounts:    mounts,
		// A server that exits (a failed restore, a bad certificate) leaves
		// its last log lines in the container status, where the operator
		// reads its reason for the cluster's conditions.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		LivenessProbe:            probe("/healthz", 10, 6),
		ReadinessProbe:           probe("/readyz", 5, 3),
		// A restore or a long WAL replay must not be killed by the liveness
		// probe: the startup probe gives the server up to an hour.
		StartupProbe: probe("/healthz", 10, 360),
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: ptr.To(true), ReadOnlyRootFilesystem: ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	pvc := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: dataVolume, Labels: selectorLabels(kc)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: kc.Spec.Storage.StorageClassName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: kc.Spec.Storage.Size}},
		},
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: objectMeta(kc, statefulSetName(kc)),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         headlessServiceName(kc),
			Selector:            &metav1.LabelSelector{MatchLabels: selectorLabels(kc)},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels(kc), Annotations: podAnn},
				Spec: corev1.PodSpec{
					Containers:                    []corev1.Container{container},
					Volumes:                       volumes,
					ImagePullSecrets:              kc.Spec.ImagePullSecrets,
					NodeSelector:                  copyMap(kc.Spec.Scheduling.NodeSelector),
					Affinity:                      kc.Spec.Scheduling.Affinity.DeepCopy(),
					Tolerations:                   copyTolerations(kc.Spec.Scheduling.Tolerations),
					TopologySpreadConstraints:     topologySpread(kc),
					PriorityClassName:             kc.Spec.Scheduling.PriorityClassName,
					TerminationGracePeriodSeconds: ptr.To[int64](60),
					EnableServiceLinks:            ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](runAsUser), RunAsGroup: ptr.To[int64](runAsUser),
						FSGroup:        ptr.To[int64](runAsUser),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{pvc},
		},
	}
	applyReplication(kc, sts)
	applyTLSToPod(kc, &sts.Spec.Template)
	applyRaftTLSToPod(kc, &sts.Spec.Template)
	return sts
}
