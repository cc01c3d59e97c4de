// Package backup takes consistent, verifiable, incremental logical backups
// of a KalamDB data plane into an object store (a local directory or an
// S3-compatible bucket) and restores them into a running server.
//
// A backup is LOGICAL: catalog records as JSON, hot rows as (user, primary
// key, row) records in package rowcodec's documented encoding, and the
// cold tier's Parquet segments as they are. Nothing in it is a Pebble
// file, so a backup can be restored into a different layout (more groups,
// other nodes). The format is described in docs/backup.md.
//
// Layout under a target (every key relative to the target's prefix):
//
//	objects/<h[0:2]>/<h>             content-addressed data (h = SHA-256 hex)
//	backups/<id>/started.json        written first: scope, time, version
//	backups/<id>/failed.json         written when the backup job fails
//	backups/<id>/manifest.json       written LAST: the backup is complete
//
// Invariants:
//   - A backup is one point in time: every row, catalog record and cold
//     manifest pointer it reads comes from ONE pinned hot-tier snapshot,
//     and the cold objects it copies are those the snapshot's pointers
//     name (immutable; see package cold).
//   - The manifest is written last and lists every object with its size
//     and SHA-256. A backup without a manifest is never reported complete
//     and never restored.
//   - Data objects are content addressed and immutable: a backup reuses
//     every object already present in the target instead of uploading it
//     again (incremental by construction), and deletion only removes
//     objects no remaining manifest references.
//   - Restore verifies every object (size and SHA-256) and decodes the
//     catalog before its first write; the running server's data is untouched
//     when anything is wrong. Restored rows are proposed as engine commands
//     (the single write path), so live queries and caches stay consistent.
//   - A restore that fails after its first namespace write is rolled back
//     (rollback.go); one a crash interrupts leaves its namespaces marked
//     restoring and is rolled back the same way at the next start, before
//     the server serves (Service.RecoverInterrupted).
//   - The package knows no SQL or HTTP: the server side is reached through
//     the interfaces in service.go.
package backup
