// Package live implements live queries: a client subscribes to
// SELECT cols FROM one table [WHERE cond] and receives the current rows
// (initial data, in pages it pulls), then every change to its result, in
// commit order.
//
// Data flow:
//
//	engine commit (round leader) ──Observe──► worker queue (per group, bounded)
//	    worker: index (table, user) ─► equality index / filter groups ─► LiveMatcher (SQLite, one row)
//	         ─► encode once per projection ─► Subscription.deliver ─► Outbox (per connection, bounded)
//	    connection writer goroutine (package server) ◄── Outbox.Take
//
// Invariants:
//   - Observe never blocks: it copies the relevant row writes into a
//     worker's queue. Commands of one group always go to the same worker,
//     so a subscription (whose rows live in exactly one group) sees its
//     changes in _seq order.
//   - Nothing is dropped silently. A change that does not fit a
//     connection's outbox ends its subscription with OVERFLOW after the
//     events already queued; a worker queue overflow ends every
//     subscription it would have fed. A condition that fails to evaluate
//     ends the subscription with SUBSCRIPTION_FAILED.
//   - Gap-free handover: a subscription is indexed (buffering changes)
//     before its storage snapshot is taken; the snapshot's position is the
//     group's last _seq read from that same snapshot. Buffered or later
//     changes with _seq <= position are already in the snapshot and are
//     discarded; the others are delivered after the last initial page, so
//     each change arrives exactly once.
//   - Isolation: USER/STREAM subscriptions are indexed under their own
//     user id and changes are looked up by the user id in the row's key, so
//     a change only reaches subscriptions of the row's owner. SHARED table
//     access is checked when subscribing.
//   - Resume (options.from): every key of the scope changed after from is
//     still in the hot tier (latest version or tombstone) unless its
//     HistoryHorizon (storage/keys) says otherwise; then the resume is
//     refused with RESUME_UNAVAILABLE instead of replaying with a gap.
//   - Equality index: a group filed under (column, value) is only
//     evaluated for changes whose old or new row has that value (or whose
//     value cannot be keyed); a row with another value can never match it.
//   - Time-dependent conditions: see clock.go for how re-evaluation keeps
//     each change exactly once.
//   - Connection lifetime: a connection ends at its token's expiry
//     (TOKEN_EXPIRED) and when the token stops passing the server's
//     AuthCheck (AUTH_REVOKED).
//   - Every goroutine has an owner: workers, the janitor and the clock
//     loop belong to the Manager (stopped by Shutdown); a connection's
//     expiry timer to its Conn (stopped by Close). A connection's
//     goroutines (package server) hold a slot from Attach until Detach;
//     Shutdown closes every attached connection and waits for the slots
//     to be released.
package live
