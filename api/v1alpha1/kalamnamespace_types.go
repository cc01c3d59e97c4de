package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// KalamNamespaceSpec is a KalamDB namespace.
// +kubebuilder:validation:XValidation:rule="has(self.name) == has(oldSelf.name) && (!has(self.name) || self.name == oldSelf.name)",message="name is immutable"
type KalamNamespaceSpec struct {
	// ClusterRef is the KalamCluster holding the namespace.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`
	// Name of the namespace in KalamDB; defaults to metadata.name (which must
	// then be a valid KalamDB identifier: no '-' or '.').
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_]{0,63}$`
	// +optional
	Name string `json:"name,omitempty"`
	// DeletionPolicy: Retain (default) keeps the namespace when the CR is
	// deleted; Delete drops it (DROP NAMESPACE ... CASCADE).
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// KalamNamespaceStatus is the observed namespace.
type KalamNamespaceStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Conflict, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// AppliedName is the namespace this CR created or adopted. It is set on
	// the first successful reconcile and used for conflict detection.
	// +optional
	AppliedName string `json:"appliedName,omitempty"`
	// LastSyncTime is the last time the namespace was observed in sync.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}

// KalamNamespace is a namespace in a KalamCluster.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kns
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.appliedName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KalamNamespace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KalamNamespaceSpec   `json:"spec"`
	Status KalamNamespaceStatus `json:"status,omitempty"`
}

// GetConditions implements ConditionedObject.
func (n *KalamNamespace) GetConditions() *[]metav1.Condition { return &n.Status.Conditions }

// DatabaseName is the namespace's name in KalamDB.
func (n *KalamNamespace) DatabaseName() string {
	if n.Spec.Name != "" {
		return n.Spec.Name
	}
	return n.Name
}

// KalamNamespaceList is a list of KalamNamespace.
// +kubebuilder:object:root=true
type KalamNamespaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalamNamespace `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KalamNamespace{}, &KalamNamespaceList{})
}
