package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KalamClusterSpec is the desired data plane.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.bootstrap) || (has(self.bootstrap) && self.bootstrap == oldSelf.bootstrap)",message="bootstrap is immutable after creation"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.bootstrap) || !has(self.bootstrap)",message="bootstrap can only be set at creation"
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.replicas == 1 || self.replicas == 3",message="replicas must be 1 (a single node, no replication) or 3 (every write replicated to a quorum of 3 pods): 2 replicas tolerate no failure and more than 3 are not supported yet"
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.replicas == 1 || has(self.objectStore)",message="replicas 3 needs spec.objectStore: flushed Parquet files on node-local storage exist on one pod only, so a replicated cluster keeps its cold tier on S3"
type KalamClusterSpec struct {
	// Image is the data-plane container image.
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`
	// ImagePullPolicy of the data-plane container.
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// ImagePullSecrets for the data-plane pods.
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// Replicas is the number of data-plane pods: 1 (a single node without
	// Raft, as before) or 3 (every Raft group replicated on all three pods;
	// a write is acknowledged once two of them have it durably; see
	// docs/high-availability.md). 3 requires spec.objectStore. A running
	// 3-replica cluster cannot go back to 1 (Stalled/ScaleDownNotSupported,
	// undone by setting replicas back); 1 -> 3 on a cluster that already
	// runs is driven by the operator: the single node adopts its data as a
	// Raft replica and two new replicas join (Reconciling/ScalingUp).
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// Resources of the data-plane container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// Storage is the Pebble data volume (one PVC per pod).
	Storage StorageSpec `json:"storage"`
	// Config overrides keys of the server's TOML file, as a nested object of
	// sections and keys (e.g. {"limits": {"max_query_limit": 5000}}). Keys
	// the operator owns (server.host, server.port, storage.data_path,
	// auth.root_password, auth.jwt_secret) are refused.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	Config *apiextensionsv1.JSON `json:"config,omitempty"`
	// ObjectStore is the S3-compatible store used for flushes and backups;
	// it is declared to the server as the storage "objstore".
	// +optional
	ObjectStore *ObjectStoreSpec `json:"objectStore,omitempty"`
	// Service configures the in-cluster SQL/WebSocket Service.
	// +optional
	Service ServiceSpec `json:"service,omitempty"`
	// Bootstrap creates the cluster's data from a backup on first start.
	// +optional
	Bootstrap *BootstrapSpec `json:"bootstrap,omitempty"`
	// PodAnnotations are added to the data-plane pods.
	// +optional
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`
	// PodLabels are added to the data-plane pods. The operator's own labels
	// (app.kubernetes.io/*, kalamdb.io/cluster) win over these: they select
	// the pods.
	// +optional
	PodLabels map[string]string `json:"podLabels,omitempty"`
	// Scheduling places the data-plane pods on nodes.
	// +optional
	Scheduling SchedulingSpec `json:"scheduling,omitempty"`
	// TLS serves the API and the PostgreSQL listener over TLS only
	// (kalamcluster_tls_types.go).
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`
}

// SchedulingSpec is copied into the data-plane pod template as it is; the
// scheduler, not the operator, interprets it.
type SchedulingSpec struct {
	// NodeSelector restricts the pods to nodes with these labels.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Affinity of the pods (node affinity, pod (anti-)affinity).
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Tolerations let the pods run on tainted nodes (e.g. dedicated
	// database nodes).
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// TopologySpreadConstraints spread the pods across zones or nodes.
	// An empty labelSelector is filled with the cluster's pod selector.
	// +optional
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// PriorityClassName of the pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
}

// StorageSpec is the persistent volume of a data-plane pod. The size may
// grow: the operator expands the existing PVCs when their StorageClass has
// allowVolumeExpansion (a StatefulSet cannot change its volume claim
// template, so the PVCs are patched). It may never shrink, and the class
// cannot change.
// +kubebuilder:validation:XValidation:rule="has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",message="storageClassName is immutable: a StatefulSet cannot change its volume claim template"
// +kubebuilder:validation:XValidation:rule="quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0",message="storage size cannot shrink: a volume can only be expanded"
type StorageSpec struct {
	// Size of the volume. Growing it expands the PVCs (see the
	// StorageResized condition).
	Size resource.Quantity `json:"size"`
	// StorageClassName of the PVC; empty uses the default class.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// ObjectStoreSpec is an S3-compatible bucket.
type ObjectStoreSpec struct {
	// Endpoint is host[:port], no scheme. Empty means AWS S3.
	// +kubebuilder:validation:Pattern=`^[^/:]+(:[0-9]+)?$`
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// Bucket must already exist.
	// +kubebuilder:validation:MinLength=3
	Bucket string `json:"bucket"`
	// Prefix is the key prefix inside the bucket.
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// Region of the bucket.
	// +kubebuilder:default=us-east-1
	// +optional
	Region string `json:"region,omitempty"`
	// PathStyle addressing (MinIO and most S3-compatible stores need it).
	// +optional
	PathStyle bool `json:"pathStyle,omitempty"`
	// Insecure talks plain HTTP instead of HTTPS. Meant for in-cluster MinIO
	// in tests; never for production.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// Credentials name the Secret keys holding the access key pair. Without
	// them the server uses its ambient credentials.
	// +optional
	Credentials *S3Credentials `json:"credentials,omitempty"`
	// CA is a PEM bundle trusted instead of the system roots.
	// +optional
	CA *corev1.SecretKeySelector `json:"ca,omitempty"`
}

// S3Credentials are Secret key references for an access key pair.
type S3Credentials struct {
	// AccessKeyID reference.
	AccessKeyID corev1.SecretKeySelector `json:"accessKeyId"`
	// SecretAccessKey reference.
	SecretAccessKey corev1.SecretKeySelector `json:"secretAccessKey"`
}

// ServiceSpec configures the client Service.
type ServiceSpec struct {
	// Type of the client Service.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +kubebuilder:default=ClusterIP
	// +optional
	Type corev1.ServiceType `json:"type,omitempty"`
	// Annotations of the client Service (load balancer settings...).
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// BootstrapSpec says where the data of a new cluster comes from.
type BootstrapSpec struct {
	// FromBackup restores a backup into the empty data volume before the
	// server starts serving (`kalamdb server --restore-from`).
	// +optional
	FromBackup *BootstrapFromBackup `json:"fromBackup,omitempty"`
}

// BootstrapFromBackup names a backup by KalamBackup or by location.
// +kubebuilder:validation:XValidation:rule="has(self.backupName) != has(self.path)",message="exactly one of backupName and path must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.backupName) || !has(self.backupID)",message="backupID comes from the KalamBackup when backupName is set"
type BootstrapFromBackup struct {
	// BackupName is a Completed KalamBackup in this namespace.
	// +optional
	BackupName string `json:"backupName,omitempty"`
	// Path is a backup target (`s3://objstore/<prefix>` on this cluster's
	// object store, or an absolute path).
	// +kubebuilder:validation:Pattern=`^(s3://[A-Za-z0-9_-]+(/.*)?|file:///.+|/.+)$`
	// +optional
	Path string `json:"path,omitempty"`
	// BackupID picks one backup at Path; empty means the newest completed.
	// +optional
	BackupID string `json:"backupID,omitempty"`
}

// ClusterPhase is a human-readable summary.
type ClusterPhase string

// Cluster phases.
const (
	ClusterPending      ClusterPhase = "Pending"
	ClusterProvisioning ClusterPhase = "Provisioning"
	ClusterReady        ClusterPhase = "Ready"
	ClusterUpdating     ClusterPhase = "Updating"
	ClusterFailed       ClusterPhase = "Failed"
)

// KalamClusterStatus is the observed data plane.
type KalamClusterStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase summarises what the data plane does: Provisioning until its
	// pods first serve, Updating while a rollout replaces them, Ready while
	// they serve (a spec change the operator refuses leaves the pods
	// serving their last applied spec: Ready, with Stalled=True saying
	// why), Failed when a refused spec leaves nothing serving.
	// +optional
	Phase ClusterPhase `json:"phase,omitempty"`
	// Conditions: Ready, ObjectStoreReachable, Reconciling, Stalled and,
	// with replicas 3, QuorumLost and Degraded.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ReadyReplicas from the StatefulSet. Always written, 0 included, so
	// the Replicas column shows 0 instead of a blank.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`
	// Endpoint is the in-cluster URL of the client Service (https:// with
	// spec.tls).
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// CurrentImage is the image every ready pod runs.
	// +optional
	CurrentImage string `json:"currentImage,omitempty"`
	// ServerVersion as reported by the data plane.
	// +optional
	ServerVersion string `json:"serverVersion,omitempty"`
	// DeploymentID is the Raft deployment id of a replicated cluster
	// (cluster.deployment_id of every pod), derived once from the
	// cluster's UID and never changed: replicas with different ids
	// refuse to talk to each other.
	// +optional
	DeploymentID int64 `json:"deploymentID,omitempty"`
	// Groups is every Raft group as the pods report it (replicas 3 only):
	// its leader, members and each replica's applied index and lag.
	// +listType=map
	// +listMapKey=name
	// +optional
	Groups []GroupStatus `json:"groups,omitempty"`
}

// GroupStatus is one Raft group (meta, shared, u0..u<G-1>) of a
// replicated cluster, merged from GET /v1/cluster/status of every pod.
type GroupStatus struct {
	// Name of the group as the data plane reports it (meta, shared, u<k>).
	Name string `json:"name"`
	// Leader is the leading replica's id (its pod is <cluster>-<id-1>); 0
	// when no reachable replica knows a leader.
	// +optional
	Leader int64 `json:"leader"`
	// Members are the group's replica ids.
	// +optional
	Members []int64 `json:"members,omitempty"`
	// Replicas are the replicas that answered, with their applied index.
	// +optional
	Replicas []GroupReplicaStatus `json:"replicas,omitempty"`
}

// GroupReplicaStatus is one replica's position in a group's log.
type GroupReplicaStatus struct {
	// ReplicaID of the replica (pod ordinal + 1).
	ReplicaID int64 `json:"replicaID"`
	// Pod that hosts the replica.
	Pod string `json:"pod"`
	// Applied is the last Raft index the replica applied.
	// +optional
	Applied int64 `json:"applied"`
	// Lag is how many entries the replica's applied index is behind the
	// leader's (or, without a reporting leader, the most advanced replica).
	// +optional
	Lag int64 `json:"lag"`
}

// KalamCluster is a KalamDB data plane: a StatefulSet, its Services,
// configuration and credentials.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kc;kalam
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.currentImage`,priority=1
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoint`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KalamCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KalamClusterSpec   `json:"spec"`
	Status KalamClusterStatus `json:"status,omitempty"`
}

// GetConditions implements ConditionedObject.
func (c *KalamCluster) GetConditions() *[]metav1.Condition { return &c.Status.Conditions }

// KalamClusterList is a list of KalamCluster.
// +kubebuilder:object:root=true
type KalamClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalamCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KalamCluster{}, &KalamClusterList{})
}
