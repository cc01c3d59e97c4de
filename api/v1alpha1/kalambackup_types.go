package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// KalamBackupSpec is a one-shot backup request; it is immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a KalamBackup spec is immutable; create a new KalamBackup"
// +kubebuilder:validation:XValidation:rule="self.scope == 'Namespace' ? has(self.namespace) : !has(self.namespace)",message="namespace is required for scope Namespace and only allowed there"
type KalamBackupSpec struct {
	// Cluster to back up.
	Cluster ClusterReference `json:"cluster"`
	// Scope: Database (default) or Namespace.
	// +kubebuilder:default=Database
	// +optional
	Scope BackupScope `json:"scope,omitempty"`
	// Namespace (KalamDB) to back up when scope is Namespace.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_]{0,63}$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Target is a backup target (C2): `s3://<storage-id>/<prefix>` or an
	// absolute path. Empty means a prefix of this backup's own in the
	// cluster's object store, `s3://objstore/backups/<cluster>/manual/<name>`
	// (a KalamScheduledBackup sets its own target on the backups it creates).
	// +kubebuilder:validation:Pattern=`^(s3://[A-Za-z0-9_-]+(/.*)?|file:///.+|/.+)$`
	// +optional
	Target string `json:"target,omitempty"`
}

// BackupPhase is the lifecycle of a KalamBackup.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed
type BackupPhase string

// Backup phases: Pending → Running → Completed | Failed.
const (
	BackupPending   BackupPhase = "Pending"
	BackupRunning   BackupPhase = "Running"
	BackupCompleted BackupPhase = "Completed"
	BackupFailed    BackupPhase = "Failed"
)

// KalamBackupStatus is the observed backup.
type KalamBackupStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase of the backup.
	// +optional
	Phase BackupPhase `json:"phase,omitempty"`
	// Conditions: Ready (True once Completed), Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// BackupID assigned by the data plane.
	// +optional
	BackupID string `json:"backupID,omitempty"`
	// JobID of the data plane's backup job (system.jobs).
	// +optional
	JobID string `json:"jobID,omitempty"`
	// Target the backup was written to (resolved default included).
	// +optional
	Target string `json:"target,omitempty"`
	// StartedAt is when the data plane accepted the backup.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// StoppedAt is when it completed or failed.
	// +optional
	StoppedAt *metav1.Time `json:"stoppedAt,omitempty"`
	// SizeBytes written by the backup job.
	// +optional
	SizeBytes int64 `json:"sizeBytes,omitempty"`
	// Error of a failed backup.
	// +optional
	Error string `json:"error,omitempty"`
}

// KalamBackup is one backup of a KalamCluster.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kbk
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster.name`
// +kubebuilder:printcolumn:name="Scope",type=string,JSONPath=`.spec.scope`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Backup ID",type=string,JSONPath=`.status.backupID`
// +kubebuilder:printcolumn:name="Error",type=string,JSONPath=`.status.error`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KalamBackup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KalamBackupSpec   `json:"spec"`
	Status KalamBackupStatus `json:"status,omitempty"`
}

// GetConditions implements ConditionedObject.
func (b *KalamBackup) GetConditions() *[]metav1.Condition { return &b.Status.Conditions }

// Done reports whether the backup reached a final phase.
func (b *KalamBackup) Done() bool {
	return b.Status.Phase == BackupCompleted || b.Status.Phase == BackupFailed
}

// DefaultBackupTarget is where backups of a cluster go when no target is set (C4).
func DefaultBackupTarget(cluster string) string { return "s3://objstore/backups/" + cluster }

// ManualBackupTarget is the default target of a KalamBackup created by
// hand: a prefix of its own under the cluster's default, so that no other
// backup's retention can reach it.
func ManualBackupTarget(cluster, backup string) string {
	return DefaultBackupTarget(cluster) + "/manual/" + backup
}

// ScheduledBackupTarget is the default target of the backups of one
// KalamScheduledBackup: a prefix of its own, so its retention only ever
// sees (and deletes) the backups it created.
func ScheduledBackupTarget(cluster, schedule string) string {
	return DefaultBackupTarget(cluster) + "/scheduled/" + schedule
}

// ResolvedTarget is the target with the default applied: spec.target when
// set, else a prefix owned by this backup alone (ManualBackupTarget). A
// scheduled backup always carries its schedule's target in spec.target.
func (b *KalamBackup) ResolvedTarget() string {
	if b.Spec.Target != "" {
		return b.Spec.Target
	}
	return ManualBackupTarget(b.Spec.Cluster.Name, b.Name)
}

// KalamBackupList is a list of KalamBackup.
// +kubebuilder:object:root=true
type KalamBackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalamBackup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KalamBackup{}, &KalamBackupList{})
}
