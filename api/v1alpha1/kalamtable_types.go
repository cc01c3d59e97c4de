package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TableType is the KalamDB table type.
// +kubebuilder:validation:Enum=USER;SHARED;STREAM
type TableType string

// Table types.
const (
	TableUser   TableType = "USER"
	TableShared TableType = "SHARED"
	TableStream TableType = "STREAM"
)

// KalamTableSpec is a KalamDB table.
// +kubebuilder:validation:XValidation:rule="self.type == 'STREAM' || self.columns.exists_one(c, has(c.primaryKey) && c.primaryKey)",message="USER and SHARED tables need exactly one primaryKey column"
// +kubebuilder:validation:XValidation:rule="self.columns.filter(c, has(c.primaryKey) && c.primaryKey).size() <= 1",message="at most one column may be the primaryKey"
// +kubebuilder:validation:XValidation:rule="self.type != 'STREAM' || (has(self.options) && has(self.options.ttlSeconds))",message="STREAM tables need options.ttlSeconds"
// +kubebuilder:validation:XValidation:rule="!has(self.options) || !has(self.options.ttlSeconds) || self.type == 'STREAM'",message="options.ttlSeconds applies to STREAM tables only"
// +kubebuilder:validation:XValidation:rule="!has(self.options) || !has(self.options.accessLevel) || self.type == 'SHARED'",message="options.accessLevel applies to SHARED tables only"
// +kubebuilder:validation:XValidation:rule="!has(self.options) || !has(self.options.flushPolicy) || self.type != 'STREAM'",message="options.flushPolicy does not apply to STREAM tables"
type KalamTableSpec struct {
	// ClusterRef is the KalamCluster holding the table.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`
	// Namespace is the KalamDB namespace of the table.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_]{0,63}$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="namespace is immutable"
	Namespace string `json:"namespace"`
	// Name of the table in KalamDB.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_]{0,63}$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="name is immutable"
	Name string `json:"name"`
	// Type of the table.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="type is immutable: changing a table's type means dropping and recreating it"
	Type TableType `json:"type"`
	// Columns in order. Adding a column at the end is safe; dropping one or
	// changing its type is destructive (see schemaChangePolicy).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	// +listType=map
	// +listMapKey=name
	Columns []ColumnSpec `json:"columns"`
	// Options of the table.
	// +optional
	Options *TableOptions `json:"options,omitempty"`
	// DeletionPolicy: Retain (default) keeps the table when the CR is
	// deleted; Delete drops it.
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
	// SchemaChangePolicy governs destructive changes.
	// +optional
	SchemaChangePolicy SchemaChangePolicy `json:"schemaChangePolicy,omitempty"`
}

// ColumnSpec is one column.
type ColumnSpec struct {
	// Name of the column.
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9_]{0,63}$`
	Name string `json:"name"`
	// Type in SQL spelling (BIGINT, TEXT, DECIMAL(10,2), TIMESTAMP...): one
	// of the data plane's type names (docs/sql-reference.md), checked at
	// admission so a typo never reaches the server.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^(?i) *(TIMESTAMP +WITHOUT +TIME +ZONE|TIMESTAMP +WITH +TIME +ZONE|CHARACTER +VARYING|DOUBLE +PRECISION|SMALLSERIAL|TIMESTAMPTZ|MEDIUMINT|BIGSERIAL|CHARACTER|VARBINARY|TIMESTAMP|EMBEDDING|SMALLINT|NVARCHAR|DATETIME|BOOLEAN|TINYINT|INTEGER|DECIMAL|NUMERIC|VARCHAR|SERIAL|BIGINT|FLOAT4|DOUBLE|FLOAT8|STRING|STRUCT|BINARY|VECTOR|FLOAT|ARRAY|BYTES|BYTEA|JSONB|BOOL|INT2|INT4|INT8|REAL|TEXT|CHAR|CLOB|ENUM|BLOB|JSON|DATE|TIME|UUID|FILE|INT|SET)( *[(] *[0-9]+ *(, *[0-9]+ *)?[)])?( +UNSIGNED)? *$')",message="unknown column type: use a KalamDB SQL type such as BIGINT, TEXT, VARCHAR(20), DECIMAL(10,2), TIMESTAMP, JSON, UUID or EMBEDDING(384)"
	Type string `json:"type"`
	// Nullable; defaults to true (primary keys are never nullable).
	// +optional
	Nullable *bool `json:"nullable,omitempty"`
	// Default is an SQL default: a literal ('text', 42, true), NULL, or a
	// function call (NOW(), SNOWFLAKE_ID(), UUID_V7(), ULID(), CURRENT_USER()).
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Default *string `json:"default,omitempty"`
	// PrimaryKey marks the (single) key column.
	// +optional
	PrimaryKey bool `json:"primaryKey,omitempty"`
}

// TableOptions are the table's WITH (...) options.
type TableOptions struct {
	// FlushPolicy: 'rows:N', 'interval:S' or 'rows:N,interval:S' (USER, SHARED).
	// +kubebuilder:validation:Pattern=`^(rows:[0-9]+|interval:[0-9]+|rows:[0-9]+,interval:[0-9]+)$`
	// +optional
	FlushPolicy string `json:"flushPolicy,omitempty"`
	// TTLSeconds of STREAM rows.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TTLSeconds *int64 `json:"ttlSeconds,omitempty"`
	// AccessLevel of a SHARED table.
	// +kubebuilder:validation:Enum=PUBLIC;PRIVATE;RESTRICTED;DBA
	// +optional
	AccessLevel string `json:"accessLevel,omitempty"`
	// Storage is the storage id for cold segments ("local", "objstore"...).
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]{1,64}$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="storage is immutable"
	// +optional
	Storage string `json:"storage,omitempty"`
	// Compression of Parquet segments.
	// +kubebuilder:validation:Enum=snappy;zstd;none
	// +optional
	Compression string `json:"compression,omitempty"`
}

// SchemaChangePolicy governs changes that lose data.
type SchemaChangePolicy struct {
	// AllowDestructive applies destructive changes (drop column, type
	// change) without approval. Off by default: a destructive plan is shown
	// in status.pendingPlan and waits for the kalamdb.io/approve-plan
	// annotation set to its hash.
	// +optional
	AllowDestructive bool `json:"allowDestructive,omitempty"`
}

// SchemaPlan is a computed list of changes.
type SchemaPlan struct {
	// Hash identifies the plan; approve it by setting the annotation
	// kalamdb.io/approve-plan to this value.
	Hash string `json:"hash"`
	// Statements the plan would run, in order.
	Statements []string `json:"statements"`
	// Destructive lists the changes that lose data.
	// +optional
	Destructive []string `json:"destructive,omitempty"`
	// Unsupported lists changes the operator cannot make at all (e.g. a
	// primary key change); they need a new table.
	// +optional
	Unsupported []string `json:"unsupported,omitempty"`
}

// KalamTableStatus is the observed table.
type KalamTableStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, SchemaInSync, Conflict, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// TableID in the data plane's catalog.
	// +optional
	TableID int64 `json:"tableID,omitempty"`
	// SchemaVersion in the data plane's catalog.
	// +optional
	SchemaVersion int64 `json:"schemaVersion,omitempty"`
	// AppliedOptionsHash is the hash of the options last applied; options
	// the data plane does not expose are re-applied when it changes.
	// +optional
	AppliedOptionsHash string `json:"appliedOptionsHash,omitempty"`
	// PendingPlan is the plan waiting for approval or blocked.
	// +optional
	PendingPlan *SchemaPlan `json:"pendingPlan,omitempty"`
	// LastAppliedStatements are the statements of the last applied plan.
	// +optional
	LastAppliedStatements []string `json:"lastAppliedStatements,omitempty"`
	// LastSyncTime is the last time the table was observed in sync.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// DriftCorrections counts out-of-band changes the operator reverted.
	// +optional
	DriftCorrections int64 `json:"driftCorrections,omitempty"`
}

// KalamTable is a table in a KalamCluster.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kt
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="Table",type=string,JSONPath=`.spec.name`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.schemaVersion`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KalamTable struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KalamTableSpec   `json:"spec"`
	Status KalamTableStatus `json:"status,omitempty"`
}

// GetConditions implements ConditionedObject.
func (t *KalamTable) GetConditions() *[]metav1.Condition { return &t.Status.Conditions }

// QualifiedName is "namespace.table".
func (t *KalamTable) QualifiedName() string { return t.Spec.Namespace + "." + t.Spec.Name }

// KalamTableList is a list of KalamTable.
// +kubebuilder:object:root=true
type KalamTableList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalamTable `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KalamTable{}, &KalamTableList{})
}
