package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Reasons of KalamUser conditions.
const (
	// ReasonPasswordSecretNotFound: the password Secret (or its key) is
	// missing; the user is left as it is until it appears.
	ReasonPasswordSecretNotFound = "PasswordSecretNotFound"
	// ReasonInvalidPassword: the data plane refused the password (too
	// short, too long, or on the common-password list).
	ReasonInvalidPassword = "InvalidPassword"
	// ReasonUserDropped: the user was dropped out of band. KalamDB keeps a
	// dropped user's name reserved until its rows are purged
	// (user_management.deletion_grace_period_days), so it cannot be created
	// again before then; the operator recreates it once the name is free.
	ReasonUserDropped = "UserDroppedOutOfBand"
)

// UserRole is a KalamDB role.
// +kubebuilder:validation:Enum=user;service;dba;system
type UserRole string

// SecretKeySelector names a key of a Secret in the CR's namespace.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key holding the password (default "password").
	// +kubebuilder:default=password
	// +optional
	Key string `json:"key,omitempty"`
}

// KalamUserSpec is a KalamDB user.
// +kubebuilder:validation:XValidation:rule="has(self.name) == has(oldSelf.name) && (!has(self.name) || self.name == oldSelf.name)",message="name is immutable"
type KalamUserSpec struct {
	// ClusterRef is the KalamCluster holding the user.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`
	// Name of the user in KalamDB (the user id); defaults to metadata.name.
	// root cannot be declared: its password is the cluster's
	// spec.rootPasswordSecret.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_.@-]{1,128}$`
	// +kubebuilder:validation:XValidation:rule="self != 'root'",message="root is managed through the KalamCluster's rootPasswordSecret"
	// +optional
	Name string `json:"name,omitempty"`
	// Role of the user: user (default), service, dba or system.
	// +kubebuilder:default=user
	// +optional
	Role UserRole `json:"role,omitempty"`
	// PasswordSecret holds the user's password. A change of the Secret is
	// applied (ALTER USER ... SET PASSWORD) at the next resync.
	PasswordSecret SecretKeySelector `json:"passwordSecret"`
	// Email of the user (optional).
	// +optional
	Email string `json:"email,omitempty"`
	// DeletionPolicy: Retain (default) keeps the user when the CR is
	// deleted; Delete drops it (DROP USER).
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// KalamUserStatus is the observed user.
type KalamUserStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Conflict, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// AppliedName is the user this CR created or adopted.
	// +optional
	AppliedName string `json:"appliedName,omitempty"`
	// PasswordSecretVersion is the resourceVersion of the password Secret
	// whose value was last applied.
	// +optional
	PasswordSecretVersion string `json:"passwordSecretVersion,omitempty"`
	// UserUpdatedAt is the user's system.users updated_at (microseconds)
	// right after the operator's last write; a different value means the
	// user was altered out of band, and the declared state is applied again.
	// +optional
	UserUpdatedAt int64 `json:"userUpdatedAt,omitempty"`
	// DriftCorrections counts out-of-band changes the operator reverted.
	// +optional
	DriftCorrections int32 `json:"driftCorrections,omitempty"`
	// LastSyncTime is the last time the user was observed in sync.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}

// KalamUser is a user of a KalamCluster, with its password in a Secret.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kuser
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.status.appliedName`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KalamUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KalamUserSpec   `json:"spec"`
	Status KalamUserStatus `json:"status,omitempty"`
}

// GetConditions implements ConditionedObject.
func (u *KalamUser) GetConditions() *[]metav1.Condition { return &u.Status.Conditions }

// SetObservedGeneration records the generation a status describes.
func (u *KalamUser) SetObservedGeneration(g int64) { u.Status.ObservedGeneration = g }

// DatabaseName is the user's id in KalamDB.
func (u *KalamUser) DatabaseName() string {
	if u.Spec.Name != "" {
		return u.Spec.Name
	}
	return u.Name
}

// RoleOrDefault is the declared role, "user" when unset.
func (u *KalamUser) RoleOrDefault() UserRole {
	if u.Spec.Role == "" {
		return "user"
	}
	return u.Spec.Role
}

// PasswordKey is the Secret key of the password, "password" when unset.
func (u *KalamUser) PasswordKey() string {
	if u.Spec.PasswordSecret.Key == "" {
		return "password"
	}
	return u.Spec.PasswordSecret.Key
}

// KalamUserList is a list of KalamUser.
// +kubebuilder:object:root=true
type KalamUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalamUser `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KalamUser{}, &KalamUserList{})
}
