package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Annotations understood by every controller. They are the escape hatches an
// operator of the operator needs when something goes wrong.
const (
	// AnnotationReconcile set to "paused" stops reconciliation of the object
	// (status gets Ready=Unknown with reason Paused) until it is removed.
	AnnotationReconcile = "kalamdb.io/reconcile"
	// ReconcilePaused is the value of AnnotationReconcile that pauses.
	ReconcilePaused = "paused"
	// AnnotationManaged set to "false" makes the operator let go of the
	// object: it removes its finalizer and never touches the data plane for
	// it again, so deleting the CR leaves the database object in place.
	AnnotationManaged = "kalamdb.io/managed"
	// AnnotationApprovePlan on a KalamTable approves one pending destructive
	// schema plan: its value must equal status.pendingPlan.hash.
	AnnotationApprovePlan = "kalamdb.io/approve-plan"
)

// Labels set by the operator on the objects it creates.
const (
	// LabelCluster names the KalamCluster an object belongs to.
	LabelCluster = "kalamdb.io/cluster"
	// LabelScheduledBackup names the KalamScheduledBackup that created a KalamBackup.
	LabelScheduledBackup = "kalamdb.io/scheduled-backup"
	// LabelImmediate marks the KalamBackup created by `immediate: true`.
	LabelImmediate = "kalamdb.io/immediate"
)

// ClusterReference names a KalamCluster in the same Kubernetes namespace.
type ClusterReference struct {
	// Name of the KalamCluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
}

// DeletionPolicy decides what happens to the database object when its CR is
// deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionRetain keeps the database object (the default): deleting a CR
	// never destroys data unless asked to.
	DeletionRetain DeletionPolicy = "Retain"
	// DeletionDelete drops the database object when the CR is deleted.
	DeletionDelete DeletionPolicy = "Delete"
)

// BackupScope is what a backup covers.
// +kubebuilder:validation:Enum=Database;Namespace
type BackupScope string

const (
	// ScopeDatabase backs up every namespace of the cluster.
	ScopeDatabase BackupScope = "Database"
	// ScopeNamespace backs up one KalamDB namespace.
	ScopeNamespace BackupScope = "Namespace"
)

// ConditionedObject is implemented by every kind; the condition helpers in
// conditions.go work on it.
// +kubebuilder:object:generate=false
type ConditionedObject interface {
	metav1.Object
	// GetConditions returns a pointer to the status conditions.
	GetConditions() *[]metav1.Condition
}
