package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types. Ready is the summary every kind has. Reconciling and
// Stalled follow the kstatus convention (Flux, kpt, cli-utils): Reconciling
// while the operator is still working or waiting on something that will
// resolve by itself, Stalled when a human must act.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionObjectStoreReachable (KalamCluster) reports the data plane's
	// STORAGE CHECK of the configured object store.
	ConditionObjectStoreReachable = "ObjectStoreReachable"
	// ConditionConflict (KalamNamespace, KalamTable) is True when another,
	// older CR already manages the same database object.
	ConditionConflict = "Conflict"
	// ConditionSchemaInSync (KalamTable) is False while a schema plan is
	// pending (blocked or awaiting approval).
	ConditionSchemaInSync = "SchemaInSync"
	// ConditionQuorumLost (KalamCluster, replicas 3) is True while a Raft
	// group has no leader or fewer than a majority of the pods report:
	// writes and linearizable reads answer NO_QUORUM (503) meanwhile.
	ConditionQuorumLost = "QuorumLost"
	// ConditionDegraded (KalamCluster, replicas 3) is True while the
	// cluster serves with less redundancy than declared: a replica does
	// not report, or lags behind its group's leader.
	ConditionDegraded = "Degraded"
)

// Reasons of QuorumLost and Degraded.
const (
	// ReasonQuorumPresent: every group has a leader and a majority reports.
	ReasonQuorumPresent = "QuorumPresent"
	// ReasonNoLeader: a group has no leader known to any reachable replica.
	ReasonNoLeader = "NoLeader"
	// ReasonMajorityUnreachable: fewer than a majority of the pods answer
	// GET /v1/cluster/status.
	ReasonMajorityUnreachable = "MajorityUnreachable"
	// ReasonFullyReplicated: every replica reports and is caught up.
	ReasonFullyReplicated = "FullyReplicated"
	// ReasonReplicaUnreachable: a pod does not answer its cluster status.
	ReasonReplicaUnreachable = "ReplicaUnreachable"
	// ReasonReplicaLagging: a replica's applied index is behind its
	// group's leader by more than the lag threshold.
	ReasonReplicaLagging = "ReplicaLagging"
	// ReasonScaleUpNotSupported was set when replicas went from 1 to 3 on a
	// running cluster; the operator now drives that change (Reconciling/
	// ScalingUp) and no longer sets it. Kept for clients that match on it.
	ReasonScaleUpNotSupported = "ScaleUpNotSupported"
	// ReasonScaleDownNotSupported: replicas went from 3 to 1 on a running
	// replicated cluster; removing Raft members is not supported, the
	// three pods keep serving.
	ReasonScaleDownNotSupported = "ScaleDownNotSupported"
)

// Condition reasons. They are API: alerts and scripts match on them.
const (
	ReasonAvailable         = "Available"
	ReasonProgressing       = "Progressing"
	ReasonPaused            = "Paused"
	ReasonUnmanaged         = "Unmanaged"
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonClusterNotFound   = "ClusterNotFound"
	ReasonClusterNotReady   = "ClusterNotReady"
	ReasonNamespaceNotFound = "NamespaceNotFound"
	ReasonDataPlaneError    = "DataPlaneError"
	ReasonConflict          = "Conflict"
	ReasonNoConflict        = "NoConflict"
	ReasonDestructiveChange = "DestructiveChangeBlocked"
	ReasonApplied           = "Applied"
	ReasonDriftCorrected    = "DriftCorrected"
	ReasonUnsupportedChange = "UnsupportedChange"
	ReasonReachable         = "Reachable"
	ReasonUnreachable       = "Unreachable"
	ReasonNotConfigured     = "NotConfigured"
	ReasonRolloutInProgress = "RolloutInProgress"
	ReasonBackupRunning     = "BackupRunning"
	ReasonBackupCompleted   = "BackupCompleted"
	ReasonBackupFailed      = "BackupFailed"
	ReasonWaitingForBackup  = "WaitingForOtherBackup"
	ReasonSuspended         = "Suspended"
	ReasonScheduled         = "Scheduled"
	ReasonDeleting          = "Deleting"
	// ReasonBackupMissing (KalamBackup): the data plane no longer lists
	// the completed backup at its target (deleted out of band or by a
	// retention policy of another tool).
	ReasonBackupMissing = "BackupMissing"
	// ReasonRestoreFailed (KalamCluster): the data plane refused to start
	// from spec.bootstrap; the message carries its own reason.
	ReasonRestoreFailed = "RestoreFailed"
)

// SetCondition sets one condition, stamped with the object's generation.
func SetCondition(o ConditionedObject, typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(o.GetConditions(), metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: truncate(msg, 1024), ObservedGeneration: o.GetGeneration(),
	})
}

// MarkReady sets Ready=True and clears Reconciling and Stalled.
func MarkReady(o ConditionedObject, reason, msg string) {
	SetCondition(o, ConditionReady, metav1.ConditionTrue, reason, msg)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionReconciling)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionStalled)
}

// MarkProgressing sets Ready=False and Reconciling=True: the operator is
// working or waiting on something that resolves without a human.
func MarkProgressing(o ConditionedObject, reason, msg string) {
	SetCondition(o, ConditionReady, metav1.ConditionFalse, reason, msg)
	SetCondition(o, ConditionReconciling, metav1.ConditionTrue, reason, msg)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionStalled)
}

// MarkServingProgressing sets Ready=True and Reconciling=True: the
// operator is changing the object (a 1 -> 3 scale-up, say) while it keeps
// serving, so clients and tools that wait for Ready are not told it is
// down; Reconciling's reason and message say what is under way.
func MarkServingProgressing(o ConditionedObject, reason, msg string) {
	SetCondition(o, ConditionReady, metav1.ConditionTrue, reason, msg)
	SetCondition(o, ConditionReconciling, metav1.ConditionTrue, reason, msg)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionStalled)
}

// MarkStalled sets Ready=False and Stalled=True: a human must act (fix the
// spec, approve a plan, resolve a conflict).
func MarkStalled(o ConditionedObject, reason, msg string) {
	SetCondition(o, ConditionReady, metav1.ConditionFalse, reason, msg)
	SetCondition(o, ConditionStalled, metav1.ConditionTrue, reason, msg)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionReconciling)
}

// MarkUnknown sets Ready=Unknown (paused or unmanaged objects).
func MarkUnknown(o ConditionedObject, reason, msg string) {
	SetCondition(o, ConditionReady, metav1.ConditionUnknown, reason, msg)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionReconciling)
	meta.RemoveStatusCondition(o.GetConditions(), ConditionStalled)
}

// IsReady reports whether the Ready condition is True.
func IsReady(o ConditionedObject) bool {
	return meta.IsStatusConditionTrue(*o.GetConditions(), ConditionReady)
}

// truncate keeps status small (Atlas keeps SQL in status under 1 KiB).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// Storage expansion (KalamCluster). StorageResized is its own condition and
// never changes Ready: a volume that cannot grow does not stop the pods
// from serving, but a human must act (a class that allows expansion, or a
// manual migration).
const (
	// ConditionStorageResized is True when every data PVC has at least
	// spec.storage.size of capacity.
	ConditionStorageResized = "StorageResized"
	// ReasonResized: every PVC has the requested capacity.
	ReasonResized = "Resized"
	// ReasonResizing: a PVC's request was raised; the CSI driver and the
	// kubelet are growing the volume and its filesystem.
	ReasonResizing = "Resizing"
	// ReasonExpansionNotAllowed: the PVC's StorageClass does not set
	// allowVolumeExpansion, or the API server refused the larger request.
	ReasonExpansionNotAllowed = "VolumeExpansionNotAllowed"
)
