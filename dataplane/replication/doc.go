// Package replication replicates the engine's groups over multi-Raft
// (dragonboat v4) for high availability (docs/high-availability.md).
//
// Every engine group belongs to one Raft shard (layout.go): the meta shard,
// the shared shard and G user shards. Each shard's state machine is an
// on-disk state machine in the node's own Pebble: it applies committed
// entries — the engine's deterministic Commands — through the executor's
// one apply path (engine.Executor.ApplyLog), so catalog changes, indexes
// and live-query events happen on every replica exactly as on a single
// node. Host is the engine.Proposer of a clustered node: a write proposes
// locally, dragonboat forwards it to the leader, and the call returns once
// a quorum has the entry durably in its Raft log and this replica applied
// it.
//
// Invariants:
//   - The only writer of a replicated group's key range is its shard's
//     state machine (Update and RecoverFromSnapshot); the executor's direct
//     Propose is not used for it.
//   - A shard's applied Raft index and replica marker (keys.ReplicaState in
//     the shard's home group) are written in the same Pebble batch as the
//     entries they count, so after a crash Open reports exactly what is in
//     storage and dragonboat replays the rest from its log (which is the
//     fsync point; state-machine batches are written without fsync and
//     Sync() fsyncs Pebble's WAL before the log is compacted).
//   - Apply is deterministic: the proposer stamps the time into the
//     command; entries that fail validation fail the same way everywhere
//     and still advance the applied index.
//   - A snapshot is the shard's groups' key ranges as absolute keys (group
//     ids are the same on every replica); installing one replaces those
//     ranges atomically and re-stamps the replica marker with the local
//     replica id.
package replication
