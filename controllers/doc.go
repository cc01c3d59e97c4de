// Package controllers holds one reconciler per kalamdb.io kind, the pure
// object builders they apply, and the data-plane connector through which
// KalamNamespace, KalamTable and KalamBackup act on a running KalamCluster.
//
// Every reconciler follows the same shape (CloudNativePG's database
// controller): fetch → escape hatches (paused, unmanaged) → finalizer (only
// when the deletion policy needs one) → observe → diff → apply or block →
// one status write → RequeueAfter for the periodic drift check. Errors are
// split in three (errors.go): waiting (a condition and a slow requeue),
// permanent (a Stalled condition and an event, no hot loop) and transient
// (returned to controller-runtime for its exponential backoff).
package controllers
