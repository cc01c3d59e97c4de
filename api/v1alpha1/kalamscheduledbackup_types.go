package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// BackupOwnerReference decides which object owns the KalamBackups a
// schedule creates, and so when they are garbage-collected.
// +kubebuilder:validation:Enum=none;self;cluster
type BackupOwnerReference string

// Owner choices.
const (
	OwnerNone    BackupOwnerReference = "none"
	OwnerSelf    BackupOwnerReference = "self"
	OwnerCluster BackupOwnerReference = "cluster"
)

// KalamScheduledBackupSpec is a backup schedule.
// +kubebuilder:validation:XValidation:rule="self.scope == 'Namespace' ? has(self.namespace) : !has(self.namespace)",message="namespace is required for scope Namespace and only allowed there"
type KalamScheduledBackupSpec struct {
	// Cluster to back up.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cluster is immutable"
	Cluster ClusterReference `json:"cluster"`
	// Schedule in cron format: 5 fields (minute hour dom month dow), an
	// optional leading seconds field (6 fields), or a descriptor (@daily,
	// @every 1h). Times are UTC.
	// +kubebuilder:validation:MinLength=1
	Schedule string `json:"schedule"`
	// Suspend stops creating new backups.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// Immediate runs one backup as soon as the schedule is created.
	// +optional
	Immediate bool `json:"immediate,omitempty"`
	// Scope: Database (default) or Namespace.
	// +kubebuilder:default=Database
	// +optional
	Scope BackupScope `json:"scope,omitempty"`
	// Namespace (KalamDB) when scope is Namespace.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_]{0,63}$`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Target as in KalamBackup; empty means a prefix of this schedule's own
	// in the cluster's object store,
	// `s3://objstore/backups/<cluster>/scheduled/<name>`. Retention only
	// ever deletes backups this schedule created, even in a shared target.
	// +kubebuilder:validation:Pattern=`^(s3://[A-Za-z0-9_-]+(/.*)?|file:///.+|/.+)$`
	// +optional
	Target string `json:"target,omitempty"`
	// Retention prunes this schedule's old backups after each completed
	// one: the operator picks them among the KalamBackups it created and
	// deletes each through the data plane (DELETE BACKUP 'id' IN 'target').
	// +optional
	Retention *BackupRetention `json:"retention,omitempty"`
	// BackupOwnerReference: none (default; backups outlive the schedule),
	// self (deleted with the schedule) or cluster (deleted with the cluster).
	// +kubebuilder:default=none
	// +optional
	BackupOwnerReference BackupOwnerReference `json:"backupOwnerReference,omitempty"`
}

// BackupRetention is a retention policy.
type BackupRetention struct {
	// KeepLast backups are always kept.
	// +kubebuilder:validation:Minimum=1
	KeepLast int32 `json:"keepLast"`
	// MaxAge (Go duration, e.g. 720h): backups beyond keepLast are also kept
	// while younger than this.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +optional
	MaxAge string `json:"maxAge,omitempty"`
}

// KalamScheduledBackupStatus is the observed schedule.
type KalamScheduledBackupStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastCheckTime is the last time the schedule was evaluated.
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`
	// LastScheduleTime is the slot of the last backup created.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
	// NextScheduleTime is the next slot.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`
	// LastBackupName is the last KalamBackup created.
	// +optional
	LastBackupName string `json:"lastBackupName,omitempty"`
	// LastPrunedBackupIDs are the backup ids removed by the last retention run.
	// +optional
	LastPrunedBackupIDs []string `json:"lastPrunedBackupIDs,omitempty"`
	// RetentionAppliedFor is the newest completed KalamBackup the retention
	// policy ran after; it runs once per completed backup.
	// +optional
	RetentionAppliedFor string `json:"retentionAppliedFor,omitempty"`
}

// KalamScheduledBackup creates KalamBackups on a schedule. Its Next column
// is a string: kubectl prints a future time in a date column as <invalid>.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ksb
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster.name`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Suspend",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Last Backup",type=string,JSONPath=`.status.lastBackupName`
// +kubebuilder:printcolumn:name="Next",type=string,JSONPath=`.status.nextScheduleTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KalamScheduledBackup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KalamScheduledBackupSpec   `json:"spec"`
	Status KalamScheduledBackupStatus `json:"status,omitempty"`
}

// GetConditions implements ConditionedObject.
func (s *KalamScheduledBackup) GetConditions() *[]metav1.Condition { return &s.Status.Conditions }

// KalamScheduledBackupList is a list of KalamScheduledBackup.
// +kubebuilder:object:root=true
type KalamScheduledBackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalamScheduledBackup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KalamScheduledBackup{}, &KalamScheduledBackupList{})
}
